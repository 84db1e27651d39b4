"""Webhook delivery with Redis and 2 Celery workers: commit → received latency, and deliveries per second,
with and without another org's hanging receivers.

    .venv/bin/python bench/delivery_bench.py [--latency-events 600] [--rate 40] [--backlog 6000]
                                             [--healthy-orgs 4] [--endpoints-per-org 2] [--hanging 20]
                                             [--pool prefork] [--concurrency 2]

Everything is local and throwaway: a `redis-server` on a spare port of 127.0.0.1 (never 6379), a fresh
PostgreSQL database on BENCH_PG (default postgres://postgres@127.0.0.1:5432, dropped afterwards), two
`celery -A dsar_project worker` processes plus `celery beat`, a receiver process on 127.0.0.1 that
checks every signature (each endpoint has its own secret) and records when each (webhook-id, endpoint)
arrived, and with `--hanging N` a second receiver that reads each request and never answers.

The healthy side is `--healthy-orgs` orgs with `--endpoints-per-org` endpoints each (every event goes to
its org's endpoints). With `--hanging N`, one more org has N endpoints on the hanging receiver and commits
one event for every ten healthy ones throughout, so its attempts always fill every slot it may hold.

1. Latency: real transitions (`request_create`, then `request_acknowledge`) committed one by one at
   `--rate` per second, round-robin over the healthy orgs; latency = arrival at the receiver minus return
   of the committing service call, per delivery. Target: p99 ≤ 1 s.
2. Throughput: `--backlog` events committed in batches of 200 (as fast as the database takes them),
   spread over the healthy orgs, while the workers drain them; healthy deliveries per second over the
   middle 80 % of arrivals, and end to end. Target: ≥ 300/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._pg import ROOT, bench_database, percentile


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the receiver (runs as `delivery_bench.py --receiver PORT SECRET OUT`) --------------------------------


def serve_receiver(port: int, secrets_path: str, out_path: str) -> None:
    import json

    from notifications.signing import verify

    secrets: dict[str, str] = json.loads(Path(secrets_path).read_text())  # path -> whsec_ secret

    out = open(out_path, "w", buffering=1)  # noqa: SIM115 - lives as long as the process

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode("latin-1")
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            arrived = time.time()
            ok = verify(
                secret=secrets.get(path, secrets["*"]) if path in secrets else secrets["*"],
                msg_id=headers.get("webhook-id", ""),
                timestamp=int(headers.get("webhook-timestamp", "0")),
                body=body,
                signature_header=headers.get("webhook-signature", ""),
            )
            out.write(f"{headers.get('webhook-id')}\t{path}\t{arrived:.6f}\t{int(ok)}\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # a sender that gave up mid-request is the sender's attempt to record, not ours
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(main())


def serve_hanging(port: int) -> None:
    """Reads every request and never answers: the sender's watchdog is what ends each exchange."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read(65536)
            await asyncio.sleep(3600)

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(main())


def read_arrivals(path: Path) -> dict[tuple[str, str], tuple[float, bool]]:
    """(webhook-id, endpoint path) -> (first arrival, signature ok)."""
    arrivals: dict[tuple[str, str], tuple[float, bool]] = {}
    if not path.exists():
        return arrivals
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            arrivals.setdefault((parts[0], parts[1]), (float(parts[2]), parts[3] == "1"))
    return arrivals


def count_lines(path: Path) -> int:
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        return sum(1 for _ in f)
    return 0


def wait_for_arrivals(path: Path, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while count_lines(path) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {count_lines(path)} of {count} deliveries arrived")
        time.sleep(0.1)


# --- orchestration ------------------------------------------------------------------------------------------


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def wait_for(self, name: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in (self.log_dir / f"{name}.log").read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not print {text!r}; see {self.log_dir / name}.log")
            time.sleep(0.1)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def run(args: argparse.Namespace) -> None:
    log_dir = ROOT / "bench" / "out" / f"delivery-{time.strftime('%Y%m%d-%H%M%S')}"
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = Processes(log_dir)
    redis_port, receiver_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    try:
        procs.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--maxmemory-policy",
                "noeviction",
            ],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        procs.wait_for("redis", "Ready to accept connections")
        with bench_database(f"dsar_bench_delivery_{os.getpid()}") as db_url:
            env = {
                **os.environ,
                "DATABASE_URL": db_url,
                "CELERY_BROKER_URL": redis_url,
                "DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
                "DJANGO_SETTINGS_MODULE": "dsar_project.settings",
                "LOG_LEVEL": "WARNING",
            }
            os.environ.update(env)
            import django

            django.setup()
            measure(args, procs, env, log_dir, receiver_port)
            from django.db import connections

            connections.close_all()
            procs.stop_all()  # the workers hold connections to the database about to be dropped
    finally:
        procs.stop_all()
    print(f"logs: {log_dir}")


def stage_breakdown(
    committed: dict[str, float], arrivals: dict[tuple[str, str], tuple[float, bool]]
) -> dict[str, list]:
    """Commit -> relayed (delivery row created) -> claimed (attempt started) -> received, per delivery."""
    from notifications.models import DeliveryAttempt

    rows = DeliveryAttempt.objects.filter(delivery__event_id__in=list(committed), number=1).values_list(
        "delivery__event_id", "delivery__endpoint__url", "delivery__created_at", "attempted_at"
    )
    stages: dict[str, list] = {"relay": [], "dispatch": [], "http": []}
    for event_id, url, relayed, attempted in rows:
        arrival = arrivals.get((event_id, "/" + url.split("/", 3)[3]))
        if arrival is None:
            continue
        stages["relay"].append((relayed.timestamp() - committed[event_id]) * 1000)
        stages["dispatch"].append((attempted.timestamp() - relayed.timestamp()) * 1000)
        stages["http"].append((arrival[0] - attempted.timestamp()) * 1000)
    return stages


def _start_receivers(
    args: argparse.Namespace, procs: Processes, env: dict[str, str], log_dir: Path, port: int, secrets: dict
) -> int:
    import json

    secrets_path = log_dir / "secrets.json"
    secrets_path.write_text(json.dumps(secrets))
    procs.start(
        "receiver",
        [sys.executable, __file__, "--receiver", str(port), str(secrets_path), str(log_dir / "arrivals.tsv")],
        env,
    )
    hanging_port = free_port()
    if args.hanging:
        procs.start("hanging", [sys.executable, __file__, "--hanging-receiver", str(hanging_port)], env)
    for p in (port, hanging_port) if args.hanging else (port,):
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", p), timeout=1):
                break
            if time.monotonic() > deadline:
                raise SystemExit("a receiver did not start")
            time.sleep(0.05)
    return hanging_port


def _start_workers(args: argparse.Namespace, procs: Processes, env: dict[str, str], log_dir: Path) -> None:
    for name in ("w1", "w2"):
        procs.start(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dsar_project",
                "worker",
                "-n",
                f"{name}@%h",
                "--pool",
                args.pool,
                "--concurrency",
                str(args.concurrency),
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ],
            env,
        )
    procs.start(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dsar_project",
            "beat",
            "-s",
            str(log_dir / "beat-schedule"),
            "--loglevel",
            "INFO",
        ],
        env,
    )
    procs.wait_for("beat", "beat: Starting")
    time.sleep(4)  # the workers' startup (Django setup, broker connection)


def measure(
    args: argparse.Namespace, procs: Processes, env: dict[str, str], log_dir: Path, port: int
) -> None:
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from core.services import org_create
    from notifications.models import Delivery
    from notifications.services import endpoint_create, event_emit
    from requests_app.resources import request_resource
    from requests_app.services import request_acknowledge, request_create

    orgs = [org_create(name=f"Bench {i} Ltd") for i in range(args.healthy_orgs)]
    secrets: dict[str, str] = {}
    for i, org in enumerate(orgs):
        for j in range(args.endpoints_per_org):
            path = f"/o{i}/e{j}"
            endpoint = endpoint_create(org=org, url=f"http://127.0.0.1:{port}{path}", event_types=["*"])
            secrets[path] = endpoint.secret
    secrets["*"] = next(iter(secrets.values()))
    hanging_port = _start_receivers(args, procs, env, log_dir, port, secrets)
    hanging_org = None
    if args.hanging:
        hanging_org = org_create(name="Hanging Ltd")
        for k in range(args.hanging):
            endpoint_create(org=hanging_org, url=f"http://127.0.0.1:{hanging_port}/h{k}", event_types=["*"])
    _start_workers(args, procs, env, log_dir)
    arrivals_path = log_dir / "arrivals.tsv"
    per_event = args.endpoints_per_org

    def hang_some(n: int = 1) -> None:
        if hanging_org is not None:
            with transaction.atomic():
                for _ in range(n):
                    event_emit(org_id=hanging_org.id, type="request.created", data={}, at=timezone.now())

    hang_some(5)  # C's slots are full before the first healthy commit

    # 1. Latency of real transitions, one commit at a time.
    committed: dict[str, float] = {}
    interval = 1.0 / args.rate
    next_at = time.monotonic()
    pending_ack: dict[str, list[str]] = {org.id: [] for org in orgs}
    for i in range(args.latency_events):
        next_at += interval
        org = orgs[i % len(orgs)]
        if (i // len(orgs)) % 2 == 0 or not pending_ack[org.id]:
            result = request_create(
                org=org,
                actor="bench",
                jurisdiction="GB",
                channel="EMAIL",
                raw_text=f"copy of my data {i}",
                intake_received_at=timezone.now(),
            )
            pending_ack[org.id].append(result.request.id)
        else:
            result = request_acknowledge(org=org, request_id=pending_ack[org.id].pop(0), actor="bench")
        committed[result.event_ids[0]] = time.time()
        if i % 10 == 9:
            hang_some()
        time.sleep(max(0.0, next_at - time.monotonic()))
    wait_for_arrivals(arrivals_path, len(committed) * per_event, timeout=120)
    arrivals = read_arrivals(arrivals_path)
    latencies = [(t - committed[e]) * 1000 for (e, _), (t, _) in arrivals.items() if e in committed]
    bad = sum(1 for (e, _), (_, ok) in arrivals.items() if e in committed and not ok)
    print(
        f"latency: {len(committed)} transitions at {args.rate}/s over {len(orgs)} orgs, {len(latencies)} "
        f"deliveries, commit -> received (ms): p50 {percentile(latencies, 50):.1f}  "
        f"p90 {percentile(latencies, 90):.1f}  p99 {percentile(latencies, 99):.1f}  "
        f"max {max(latencies):.1f}  bad signatures {bad}"
    )
    stages = stage_breakdown(committed, arrivals)
    print(
        "  where the time goes (p50 / p99 ms): "
        + ", ".join(f"{name} {percentile(v, 50):.1f} / {percentile(v, 99):.1f}" for name, v in stages.items())
    )

    # 2. Throughput: a backlog committed in batches of 200 while the workers drain it.
    samples = {}
    for org in orgs:
        sample = request_create(
            org=org,
            actor="bench",
            jurisdiction="GB",
            channel="EMAIL",
            raw_text="copy of my data",
            intake_received_at=timezone.now(),
        ).request
        samples[org.id] = (
            sample,
            {"requestId": sample.id, "request": request_resource(sample, now=timezone.now())},
        )
    already = count_lines(arrivals_path) + len(orgs) * per_event  # + the samples' own events
    started = time.time()
    for start in range(0, args.backlog, 200):
        with transaction.atomic():
            for k in range(min(200, args.backlog - start)):
                org = orgs[(start + k) % len(orgs)]
                sample, data = samples[org.id]
                event_emit(
                    org_id=org.id,
                    request_id=sample.id,
                    type="request.acknowledged",
                    data=data,
                    at=timezone.now(),
                )
        hang_some(20)
    produced = time.time()
    wait_for_arrivals(arrivals_path, already + args.backlog * per_event, timeout=600)
    arrivals = read_arrivals(arrivals_path)
    times = sorted(t for t, _ in arrivals.values() if t >= started)
    lo, hi = times[len(times) // 10], times[(len(times) * 9) // 10]
    middle = sum(1 for t in times if lo <= t <= hi)
    steady = middle / (hi - lo) if hi > lo else float("nan")
    overall = len(times) / (times[-1] - started)
    bad = sum(1 for _, ok in arrivals.values() if not ok)
    print(
        f"throughput: {args.backlog} events ({args.backlog * per_event} deliveries) committed in "
        f"{produced - started:.1f} s; delivered {len(times)} in {times[-1] - started:.1f} s: "
        f"{overall:.0f}/s end to end, {steady:.0f}/s steady (middle 80 %)  bad signatures {bad}"
    )
    healthy = Delivery.objects.filter(org_id__in=[o.id for o in orgs])
    deadline = time.monotonic() + 30  # the last batch's outcome is recorded just after its requests arrive
    while healthy.exclude(status="DELIVERED").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    statuses = dict(healthy.values_list("status").annotate(n=Count("id")))
    print(f"healthy deliveries by status: {statuses}")
    if hanging_org is not None:
        hanging = dict(Delivery.objects.filter(org=hanging_org).values_list("status").annotate(n=Count("id")))
        print(f"hanging org ({args.hanging} endpoints) deliveries by status: {hanging}")
    print(f"workers: 2 x celery --pool {args.pool} --concurrency {args.concurrency}; {os.cpu_count()} CPUs")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--receiver":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_project.settings")
        serve_receiver(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--hanging-receiver":
        serve_hanging(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-events", type=int, default=600)
    parser.add_argument(
        "--rate", type=float, default=40.0, help="transitions per second in the latency phase"
    )
    parser.add_argument("--backlog", type=int, default=6000)
    parser.add_argument("--healthy-orgs", type=int, default=4)
    parser.add_argument("--endpoints-per-org", type=int, default=2)
    parser.add_argument("--hanging", type=int, default=0, help="endpoints of an org whose receiver hangs")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--concurrency", type=int, default=2)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
