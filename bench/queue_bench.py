"""Queue at scale: 1,000,000 requests in PostgreSQL, then the at-risk queue
`GET /v1/requests?atRiskDays=7&sortBy=dueDate&limit=50`.

    .venv/bin/python bench/queue_bench.py [--rows 1000000] [--samples 200]

Loads rows with COPY (realistic mix: most requests closed, the open ones due from 60 days ago to 60 days
ahead, several jurisdictions), then times the list endpoint in-process (Django test client: routing, auth,
filters, serialization, the envelope — everything but the socket) and prints p50/p95 (target p95 ≤ 25 ms)
and the EXPLAIN of the page query (expect an index scan on the partial `dsr_open_due` index).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._pg import bench_database, percentile

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
    ]
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY requests_app_datasubjectrequest ({', '.join(cols)}) FROM STDIN") as copy:
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
                ]
                buf.write("\t".join(row) + "\n")
                if i % 20000 == 19999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE requests_app_datasubjectrequest")
        conn.commit()
    return time.perf_counter() - started


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
    args = parser.parse_args()

    with bench_database("dsar_queue_bench") as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_project.settings")
        import django

        django.setup()
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from core.services import api_key_create, org_create
        from requests_app.filters import due_within
        from requests_app.models import DataSubjectRequest

        org = org_create(name="Bench")
        _, raw = api_key_create(org=org, scopes=["officer"])
        low, high = (int(x) for x in args.open_due_days.split(","))
        seconds = load(url, org.id, args.rows, args.open_share, (low, high))
        print(f"open share {args.open_share:.0%}, open due dates {low:+d}..{high:+d} days from today")
        print(
            f"loaded {args.rows:,} requests with COPY in {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s)"
        )

        client = Client()
        path = args.path
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        for _ in range(10):
            client.get(path, **headers)
        timings = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            response = client.get(path, **headers)
            timings.append((time.perf_counter() - t0) * 1000)
        body = json.loads(response.content)
        assert response.status_code == 200, body
        print(f"GET {path}: total={body['data']['total']:,} rows={len(body['data']['requests'])}")
        print(
            f"  p50 {statistics.median(timings):.1f} ms  p95 {percentile(timings, 95):.1f} ms  "
            f"p99 {percentile(timings, 99):.1f} ms  (target p95 <= 25 ms)"
        )
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(20):
                client.get(path, **headers)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

        qs = (
            DataSubjectRequest.objects.filter(org=org)
            .filter(due_within(7, now=timezone.now()))
            .order_by("clock_due_date", "id")[:50]
        )
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("EXPLAIN ANALYZE (page query):")
            for (line,) in cur.fetchall():
                print("  " + line)
            count_sql, count_params = (
                DataSubjectRequest.objects.filter(org=org)
                .filter(due_within(7, now=timezone.now()))
                .values("id")
                .query.sql_with_params()
            )
            cur.execute("EXPLAIN (ANALYZE) SELECT count(*) FROM (" + count_sql + ") t", count_params)
            print("EXPLAIN ANALYZE (count):")
            for (line,) in cur.fetchall():
                print("  " + line)
        connection.close()


if __name__ == "__main__":
    main()
