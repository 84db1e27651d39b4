"""Queue at scale: 1,000,000 requests in PostgreSQL, then the at-risk queue
`GET /v1/requests?atRiskDays=7&sortBy=dueDate&limit=50`.

    .venv/bin/python bench/queue_bench.py [--rows 1000000] [--samples 200] [--reuse]

Loads rows with COPY (realistic mix: most requests closed, the open ones due from 5 days ago to 45 days
ahead, several jurisdictions), VACUUM ANALYZEs (autovacuum may be off: the visibility map is what keeps
index-only scans index-only), then times the list endpoint in-process (Django test client: routing, auth,
filters, serialization, the envelope — everything but the socket) and prints p50/p95 (target p95 ≤ 25 ms),
the server time of its two queries (the exact `total` count, then the page), and the EXPLAIN (ANALYZE,
BUFFERS) of exactly the SQL the endpoint ran.

It checks the plans and exits non-zero when
  - the count is not an index-only scan on the expected index (--count-index), or its heap fetches
    exceed --max-heap-fetches (the visibility map is not set: the table needs a VACUUM);
  - the page is not an index scan on the expected index (--page-index) feeding the LIMIT without a sort;
  - p95 is over the target (--target-p95).
A benchmark, not a test: timings depend on the machine.

--reuse keeps the loaded database (`dsar_queue_bench`) for the next run and reuses it when it was loaded
today with the same --rows/--open-share/--open-due-days: the load (about a minute for 1M rows) is skipped,
`migrate` still runs (a new index migration is built on the loaded rows) and the table is VACUUM ANALYZEd.
Without --reuse (or --keep) the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._pg import PG, percentile  # noqa: E402

DB = "dsar_queue_bench"
TABLE = "requests_app_datasubjectrequest"
# The indexes the queue's at-risk view is meant to use (requests_app.models.DataSubjectRequest.Meta).
COUNT_INDEX = "dsr_open_due_zone"
PAGE_INDEX = "dsr_open_due"

ZONES = {
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "US-CA": "America/Los_Angeles",
    "FR": "Europe/Paris",
    "BR": "America/Sao_Paulo",
    "AU": "Australia/Sydney",
}
PACKS = {"GB": "uk-gdpr", "DE": "eu-gdpr", "FR": "eu-gdpr", "US-CA": "ccpa", "BR": "lgpd", "AU": "au-app12"}


def load(url: str, org_id: str, rows: int, open_share: float, open_due: tuple[int, int]) -> float:
    import psycopg

    rnd = random.Random(1)
    now = datetime.now(UTC)
    today = now.date()
    cols = [
        "id",
        "org_id",
        "status",
        "status_before_clarification",
        "jurisdiction",
        "request_types",
        "request_types_inferred",
        "channel",
        "raw_text",
        "intake_received_at",
        "contact",
        "source_evidence",
        "requestor",
        "requestor_name",
        "requestor_email",
        "verification_status",
        "verification_method",
        "outcome",
        "received_at",
        "created_at",
        "updated_at",
        "clock_pack_id",
        "clock_pack_version",
        "clock_timezone",
        "clock_state",
        "clock_started_at",
        "clock_base_due_date",
        "clock_due_date",
        "clock_due_at",
        "clock_computed_at",
        "clock_days_remaining",
        "clock_deadline_kind",
    ]
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {TABLE} ({', '.join(cols)}) FROM STDIN") as copy:
            buf = io.StringIO()
            for i in range(rows):
                code = rnd.choice(list(ZONES))
                open_ = rnd.random() < open_share
                due = today + timedelta(days=rnd.randint(*open_due) if open_ else rnd.randint(-900, -30))
                received = datetime.combine(due - timedelta(days=30), datetime.min.time(), UTC)
                status = (
                    rnd.choice(["RECEIVED", "ACKNOWLEDGED", "AWAITING_CLARIFICATION"]) if open_ else "CLOSED"
                )
                row = [
                    f"req_bench{i:012d}",
                    org_id,
                    status,
                    "",
                    code,
                    '["ACCESS"]',
                    "f",
                    "EMAIL",
                    "copy of my data",
                    received.isoformat(),
                    f"p{i}@example.org",
                    "[]",
                    "null",
                    "",
                    "",
                    "NOT_REQUESTED",
                    "",
                    "null",
                    received.isoformat(),
                    received.isoformat(),
                    received.isoformat(),
                    PACKS[code],
                    "2026.1",
                    ZONES[code],
                    "RUNNING" if open_ else "STOPPED",
                    received.isoformat(),
                    due.isoformat(),
                    due.isoformat(),
                    datetime.combine(due, datetime.max.time(), UTC).isoformat(),
                    now.isoformat(),
                    str((due - today).days),
                    "RESPONSE",
                ]
                buf.write("\t".join(row) + "\n")
                if i % 20000 == 19999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        conn.commit()
    return time.perf_counter() - started


def vacuum_analyze(url: str) -> float:
    """Autovacuum may be off (it is on the bench machine): without a VACUUM the visibility map is empty
    and every "index-only" scan visits the heap for each row."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {TABLE}")
    return time.perf_counter() - started


def _marker(rows: int, open_share: float, open_due: tuple[int, int], org_id: str = "") -> dict[str, Any]:
    return {
        "rows": rows,
        "open_share": open_share,
        "open_due": list(open_due),
        "date": datetime.now(UTC).date().isoformat(),
        "org": org_id,
    }


def _loaded_marker(url: str) -> dict[str, Any] | None:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            (comment,) = conn.execute(
                "SELECT obj_description(to_regclass(%s), 'pg_class')", [TABLE]
            ).fetchone()
    except psycopg.Error:
        return None
    if not comment or not comment.startswith("queue_bench "):
        return None
    return json.loads(comment.removeprefix("queue_bench "))


@contextlib.contextmanager
def queue_database(marker: dict[str, Any], *, reuse: bool, keep: bool) -> Iterator[tuple[str, str | None]]:
    """Yield (url, org id of the loaded rows, or None when they still have to be loaded)."""
    import psycopg

    url = f"{PG}/{DB}"
    org_id = None
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone()
    if reuse and exists:
        loaded = _loaded_marker(url)
        if loaded and {k: v for k, v in loaded.items() if k != "org"} == {
            k: v for k, v in marker.items() if k != "org"
        }:
            org_id = loaded["org"]
            print(f"reusing database {DB} (loaded {loaded['date']}, {loaded['rows']:,} rows)")
        else:
            print(f"database {DB} holds another load ({loaded}): reloading")
    if org_id is None:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    try:
        yield url, org_id
    finally:
        if keep or reuse:
            print(f"kept database {DB} (drop it with: DROP DATABASE {DB})")
        else:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def reference_total(cur, org_id: str, days: int) -> int:
    """The at-risk count the slow, obvious way (each row's own zone turns now into its local today), to
    check that the endpoint's fast `total` is still exact."""
    from requests_app.models import ACTIVE

    cur.execute(
        f"SELECT count(*) FROM {TABLE} WHERE org_id = %s AND status = ANY(%s) "
        "AND clock_due_date <= (now() AT TIME ZONE clock_timezone)::date + %s",
        [org_id, [str(s) for s in ACTIVE], days],
    )
    return cur.fetchone()[0]


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def explain(cur, sql: str, params) -> tuple[list[str], dict[str, Any]]:
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    text = [line for (line,) in cur.fetchall()]
    cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    (doc,) = cur.fetchone()
    if isinstance(doc, str):
        doc = json.loads(doc)
    return text, doc[0]


def node_label(node: dict[str, Any]) -> str:
    label = node["Node Type"]
    if node.get("Join Type", "Inner") != "Inner":
        label = f"{label.removesuffix(' Join')} {node['Join Type']} Join"
    if node.get("Index Name"):
        label += f" on {node['Index Name']}"
    elif node.get("Relation Name"):
        label += f" on {node['Relation Name']}"
    return label


def table_scans(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in nodes if n.get("Relation Name") == TABLE]


def check_count(nodes: list[dict[str, Any]], index: str, max_heap_fetches: int) -> list[str]:
    scans = table_scans(nodes)
    wanted = [n for n in scans if n["Node Type"] == "Index Only Scan" and n.get("Index Name") == index]
    problems = []
    if not wanted or len(scans) != 1:
        found = ", ".join(node_label(n) for n in scans) or "no scan of the table"
        problems.append(f"count: expected one Index Only Scan on {index}, got {found}")
    for n in wanted:
        if n.get("Heap Fetches", 0) > max_heap_fetches:
            problems.append(
                f"count: {n['Heap Fetches']:,} heap fetches (> {max_heap_fetches}): the visibility map is "
                "not set; VACUUM the table"
            )
    return problems


def check_page(nodes: list[dict[str, Any]], index: str) -> list[str]:
    scans = table_scans(nodes)
    problems = []
    if nodes[0]["Node Type"] != "Limit":
        problems.append(f"page: expected a Limit at the top, got {nodes[0]['Node Type']}")
    if (
        not any(
            n["Node Type"] in {"Index Scan", "Index Only Scan"} and n.get("Index Name") == index
            for n in scans
        )
        or len(scans) != 1
    ):
        found = ", ".join(node_label(n) for n in scans) or "no scan of the table"
        problems.append(f"page: expected one Index Scan on {index}, got {found}")
    sorts = [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]]
    if sorts:
        problems.append(f"page: the index should deliver the order, but the plan has {', '.join(sorts)}")
    return problems


def plan_summary(doc: dict[str, Any]) -> list[str]:
    nodes = list(plan_nodes(doc["Plan"]))
    lines = [
        " > ".join(node_label(n) for n in nodes)
        + f"  (planning {doc['Planning Time']:.2f} ms, execution {doc['Execution Time']:.2f} ms)"
    ]
    for n in table_scans(nodes):
        bits = [f"{node_label(n)}: rows {n.get('Actual Rows', 0):,}"]
        if "Rows Removed by Filter" in n:
            bits.append(f"removed by filter {n['Rows Removed by Filter']:,}")
        if n["Node Type"] == "Index Only Scan":
            bits.append(f"heap fetches {n.get('Heap Fetches', 0):,}")
        bits.append(f"buffers {n.get('Shared Hit Blocks', 0) + n.get('Shared Read Blocks', 0):,}")
        lines.append(", ".join(bits))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--open-share", type=float, default=0.05, help="share of requests still open")
    parser.add_argument("--open-due-days", default="-5,45", help="range of open requests' due dates vs today")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 20 list calls")
    parser.add_argument("--path", default="/v1/requests?atRiskDays=7&sortBy=dueDate&sortOrder=asc&limit=50")
    parser.add_argument("--target-p95", type=float, default=25.0, help="ms; exit non-zero above it")
    parser.add_argument("--count-index", default=COUNT_INDEX, help="index the count must scan index-only")
    parser.add_argument("--page-index", default=PAGE_INDEX, help="index the page query must scan")
    parser.add_argument(
        "--max-heap-fetches", type=int, default=0, help="of the count's index-only scan (after VACUUM: 0)"
    )
    parser.add_argument("--reuse", action="store_true", help=f"keep {DB} and reuse a matching load")
    parser.add_argument("--keep", action="store_true", help=f"keep {DB} at the end (without reusing it)")
    args = parser.parse_args()

    low, high = (int(x) for x in args.open_due_days.split(","))
    marker = _marker(args.rows, args.open_share, (low, high))
    with queue_database(marker, reuse=args.reuse, keep=args.keep) as (url, org_id):
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_project.settings")
        import django

        django.setup()
        from django.db import connection
        from django.test import Client

        from core.models import Org
        from core.services import api_key_create, org_create

        if org_id is None:
            org = org_create(name="Bench")
            seconds = load(url, org.id, args.rows, args.open_share, (low, high))
            print(
                f"loaded {args.rows:,} requests with COPY in {seconds:.1f} s "
                f"({args.rows / seconds:,.0f} rows/s)"
            )
            with connection.cursor() as cur:
                comment = "queue_bench " + json.dumps({**marker, "org": org.id})
                # A utility statement takes no bound parameter (the app binds on the server): a literal.
                cur.execute(f"COMMENT ON TABLE {TABLE} IS '{comment.replace(chr(39), chr(39) * 2)}'")
        else:
            org = Org.objects.get(pk=org_id)
        print(f"VACUUM (ANALYZE) in {vacuum_analyze(url):.1f} s")
        print(f"open share {args.open_share:.0%}, open due dates {low:+d}..{high:+d} days from today")
        _, raw = api_key_create(org=org, scopes=["officer"])

        # Every query the endpoint runs, with its server round trip, classified as the count or the page.
        current: list[tuple[str, Any, float]] = []

        def record(execute, sql, params, many, context):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                current.append((sql, params, (time.perf_counter() - t0) * 1000))

        def kind(sql: str) -> str:
            if f'"{TABLE}"' not in sql:
                return "other"
            return "count" if sql.lstrip().upper().startswith("SELECT COUNT(") else "page"

        client = Client()
        path = args.path
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        for _ in range(10):
            client.get(path, **headers)
        timings: list[float] = []
        by_kind: dict[str, list[float]] = {"count": [], "page": [], "other": []}
        with connection.execute_wrapper(record):
            for _ in range(args.samples):
                current.clear()
                t0 = time.perf_counter()
                response = client.get(path, **headers)
                timings.append((time.perf_counter() - t0) * 1000)
                spent = {"count": 0.0, "page": 0.0, "other": 0.0}
                for sql, _params, ms in current:
                    spent[kind(sql)] += ms
                for k, ms in spent.items():
                    by_kind[k].append(ms)
            queries = {kind(sql): (sql, params) for sql, params, _ in current}
        body = json.loads(response.content)
        assert response.status_code == 200, body
        total = body["data"]["total"]
        p50, p95, p99 = (percentile(timings, q) for q in (50, 95, 99))
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(path, **headers)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

        problems: list[str] = []
        exact = "not checked (the path has filters besides atRiskDays)"
        query = parse_qs(urlsplit(path).query)
        if "atRiskDays" in query and set(query) <= {"atRiskDays", "sortBy", "sortOrder", "limit", "offset"}:
            days = int(query["atRiskDays"][0])
            with connection.cursor() as cur:
                before = reference_total(cur, org.id, days)
                checked = json.loads(client.get(path, **headers).content)["data"]["total"]
                after = reference_total(cur, org.id, days)
            if before != after:
                exact = "not checked (a zone's midnight passed meanwhile)"
            elif checked != before:
                exact = f"total {checked:,} != {before:,}"
                problems.append(f"count: the endpoint's total {checked:,} is not the exact count {before:,}")
            else:
                exact = f"total {checked:,} = the per-row-zone reference count"
        plans: dict[str, dict[str, Any]] = {}
        with connection.cursor() as cur:
            cur.execute(
                "SELECT c.relname, pg_relation_size(c.oid), pg_get_indexdef(c.oid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass ORDER BY 1",
                [TABLE],
            )
            indexes = cur.fetchall()
            for name in ("count", "page"):
                if name not in queries:
                    problems.append(f"{name}: the endpoint ran no such query")
                    continue
                sql, params = queries[name]
                text, plans[name] = explain(cur, sql, params)
                print(f"EXPLAIN (ANALYZE, BUFFERS) of the {name} query, as the endpoint ran it:")
                for line in text:
                    print("  " + line)
        connection.close()
        if "count" in plans:
            nodes = list(plan_nodes(plans["count"]["Plan"]))
            problems += check_count(nodes, args.count_index, args.max_heap_fetches)
        if "page" in plans:
            problems += check_page(list(plan_nodes(plans["page"]["Plan"])), args.page_index)
        if p95 > args.target_p95:
            problems.append(f"p95 {p95:.1f} ms is over the target {args.target_p95:g} ms")

        print(f"\nindexes on {TABLE}:")
        for name, size, definition in indexes:
            print(f"  {name:<22} {size / 1024 / 1024:7.1f} MB  {definition.split(' USING ', 1)[1]}")
        print("\nsummary")
        page = len(body["data"]["requests"])
        print(f"  rows       {args.rows:,} ({args.open_share:.0%} open), total={total:,}, page={page}")
        print(f"  GET        {path}")
        print(
            f"  latency    p50 {p50:.1f} ms  p95 {p95:.1f} ms  p99 {p99:.1f} ms  "
            f"({args.samples} samples, target p95 <= {args.target_p95:g} ms)"
        )
        print(f"  exact      {exact}")
        for k in ("count", "page", "other"):
            print(
                f"  {k + ' sql':<10} p50 {statistics.median(by_kind[k]):.2f} ms  "
                f"p95 {percentile(by_kind[k], 95):.2f} ms  (client round trips)"
            )
        for name in ("count", "page"):
            if name in plans:
                first, *rest = plan_summary(plans[name])
                print(f"  {name + ' plan':<10} {first}")
                for line in rest:
                    print(f"  {'':<10}   {line}")
        if problems:
            print("\nFAILED")
            for problem in problems:
                print(f"  - {problem}")
            sys.exit(1)
        print("\nOK: count index-only on", args.count_index, "| page index scan on", args.page_index)


if __name__ == "__main__":
    main()
