"""API throughput and latency over HTTP: gunicorn + PostgreSQL, 8 concurrent clients.

    .venv/bin/python bench/api_bench.py [--seconds 30] [--clients 8] [--workers 3]

Scenarios, each for --seconds: create (POST /v1/requests), detail, list (limit 50), search (`q=` a
substring of one contact; `email=` one address, in another case), a transition
(clarification request/receive, alternating on one request per client), and the baseline: a bare
DRF ModelViewSet create of a similar row on the same stack. Prints req/s and p50/p95/p99 and the
ratio our create / bare create (target ≥ 0.6, p99 ≤ 100 ms). Load generator, server and PostgreSQL
share this machine's cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._pg import bench_database, percentile  # noqa: E402

BODY = {
    "jurisdiction": "GB",
    "intakeSource": {
        "channel": "EMAIL",
        "rawText": "Please send me a copy of my data.",
        "receivedAt": "2026-11-01T09:12:00Z",
        "contact": "bench@example.org",
    },
    "requestor": {"type": "DATA_SUBJECT", "name": "Bench", "email": "bench@example.org"},
    "requestTypes": ["ACCESS"],
}
POOL = 50
BARE = {
    "jurisdiction": "GB",
    "channel": "EMAIL",
    "raw_text": "Please send me a copy of my data.",
    "intake_received_at": "2026-11-01T09:12:00Z",
    "contact": "bench@example.org",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(port: int, key: str, seconds: float, clients: int, make_call) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        state: dict = {"i": index}
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            method, path, body, ok = make_call(state)
            headers = {"Authorization": f"Bearer {key}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            t0 = time.perf_counter()
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status != ok:
                bad += 1
                if bad < 3:
                    print(f"  unexpected {response.status}: {payload[:200]!r}", file=sys.stderr)
            else:
                state["last"] = payload
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors


def report(name: str, rate: float, latencies: list[float], errors: int) -> None:
    print(
        f"{name:<12} {rate:7.0f} req/s  p50 {statistics.median(latencies):6.1f} ms  "
        f"p95 {percentile(latencies, 95):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms  errors {errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    with bench_database("dsar_api_bench") as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "DEBUG": "0",
            "DSAR_API_RATE": "100000000/min",
            "SECRET_KEY": "bench-" + "k" * 50,
            "DSAR_CONN_MAX_AGE": "600",
            "LOG_LEVEL": "WARNING",
        }
        setup = subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import django; django.setup();"
                    "from core.services import org_create, api_key_create;"
                    "org = org_create(name='Bench'); print(api_key_create(org=org, scopes=['officer'])[1])"
                ),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = setup.stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "bench.bench_wsgi:application",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            for _ in range(100):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                        "GET", "/v1/openapi.json"
                    )
                    break
                except OSError:
                    time.sleep(0.1)
            print(
                f"gunicorn -w {args.workers} + PostgreSQL; {args.clients} clients x {args.seconds:.0f} s"
                f" each; {os.cpu_count()} cores shared with the load generator"
            )

            def create(state):
                return "POST", "/v1/requests", BODY, 202

            def bare(state):
                return "POST", "/bare/requests", BARE, 201

            # Warm up, and make one request per client for detail/transition.
            run(port, key, 2, args.clients, create)
            ids: list[str] = []
            conn = http.client.HTTPConnection("127.0.0.1", port)
            # A pool of requests per client, so no request's timeline grows past a realistic length (~30).
            for n in range(args.clients * POOL):
                # Each with its own contact, so that a search finds one request (and a prefix, several).
                source = {**BODY["intakeSource"], "contact": f"subject-{n}@example.org"}
                body = {**BODY, "intakeSource": source}
                conn.request(
                    "POST",
                    "/v1/requests",
                    json.dumps(body),
                    {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                ids.append(json.loads(conn.getresponse().read())["data"]["request"]["id"])

            # As autovacuum would have by now (this machine's cluster runs without it): the visibility map
            # is what lets a count scan an index alone.
            import psycopg

            with psycopg.connect(url, autocommit=True) as vacuum:
                vacuum.execute("VACUUM (ANALYZE) requests_app_datasubjectrequest")

            def detail(state):
                return "GET", f"/v1/requests/{ids[state['i'] * POOL]}", None, 200

            def listing(state):
                return "GET", "/v1/requests?limit=50", None, 200

            def search(state):
                # A substring of one contact, as an officer types it (Fides' fuzzy search: the local part).
                state["n"] = state.get("n", 0) + 1
                n = (state["i"] * 7919 + state["n"]) % len(ids)
                return "GET", f"/v1/requests?q=subject-{n}@", None, 200

            def search_email(state):
                state["n"] = state.get("n", 0) + 1
                n = (state["i"] * 7919 + state["n"]) % len(ids)
                return "GET", f"/v1/requests?email=Subject-{n}@Example.org", None, 200

            def transition(state):
                state["n"] = state.get("n", 0) + 1
                action = "clarifications/request" if state["n"] % 2 else "clarifications/receive"
                body = {"message": "Which account?"} if state["n"] % 2 else {}
                # A request/receive pair on one request, then the next request in this client's pool.
                rid = ids[state["i"] * POOL + (state["n"] - 1) // 2 % POOL]
                return "POST", f"/v1/requests/{rid}/{action}", body, 202

            results = {}
            for name, call in (
                ("create", create),
                ("bare create", bare),
                ("detail", detail),
                ("list 50", listing),
                ("search q", search),
                ("search email", search_email),
                ("transition", transition),
            ):
                results[name] = run(port, key, args.seconds, args.clients, call)
                report(name, *results[name])
            ratio = results["create"][0] / results["bare create"][0]
            print(
                f"our create / bare create = {ratio:.2f} (target >= 0.6); "
                f"create p99 {percentile(results['create'][1], 99):.1f} ms (target <= 100 ms)"
            )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
