"""Export jobs end to end: one subject's rows in a PostgreSQL substrate → a verified bundle, per format.

    .venv/bin/python bench/export_bench.py [--sizes 100000,1000000] [--formats JSON,CSV,NDJSON,PARQUET]
                                           [--small-reps 20] [--reuse | --keep] [--quick]
    .venv/bin/python bench/export_bench.py --sizes 200000 --formats CSV --profile   # where the time goes

The source: a scratch PostgreSQL database (`dsar_export_bench_src`) with `customers` (one row per
customer) and `events` (7 columns: bigint id, customer_id, occurred_at timestamptz, event_type,
description, amount numeric (NULL for most), campaign_id (NULL for most)), loaded with COPY, indexed on
`customer_id`, VACUUM ANALYZEd. Customer 1 has the first size's rows, customer 2 the second's, and so on;
`--noise` rows of 1,000 other customers are shuffled in between (the table is in time order, as an
append-only events table is). Plus 20 small tables (`small_01`..`small_20`, 10 rows of customer 1 each,
90 of others) for the common case.

DSAR Core's own database is a fresh migrated PostgreSQL database (`dsar_export_bench`, as the other
benches), with one org and two `sql` substrates whose DSN is in DSAR_EXPORT_BENCH_SRC_URL:
  - `bench`: `customers` and `events`, both matched *directly* by `subject_id` (`customers.id`,
    `events.customer_id`; with `--via`, `events` is reached through `customers` instead);
  - `small`: the 20 small tables, matched directly by `subject_id`.

1. Big exports. Each (format, size) runs in a fresh child process, so its peak RSS (`ru_maxrss`, the
   VmHWM) is that run's alone, the way the worker runs it:
      `job_create` → `job_run` (the API's run: claims the job, counts the rows and, since they are more
      than DSAR_EXPORT_INLINE_ROWS — set to 0 here, the default 100,000 gives the same path for these
      sizes — hands it to the background) → `exports.background.export_take_and_run` (what the embedded
      runner's export thread and the Celery task call: claim, collect, package, store, READY).
   Wall = create to READY; rows/s = rows collected / wall. "before MB" is the child's RSS just before
   `job_create` (Django set up, the export modules imported); "job +MB" what the job added to it.
   The stored bundle is then checked with
   `verify_bundle` (every data file's size and sha256 against the manifest) and its row counts.
   Targets: ≥ 100,000 rows/s for NDJSON and CSV; peak RSS ≤ 80 MB for JSON/CSV/NDJSON, ≤ 200 MB for
   Parquet; flat from the smallest to the largest size (≤ 10 % or 8 MB more).
2. The common case: a job of 20 sections x 10 rows, `job_create` then `job_run` inline (as
   `POST /v1/compliance/dsar/{id}/run` does), in one warm child process, --small-reps times per format
   after 3 warm-up runs: p50/p95 of `job_run` and of create + run. Target: job_run p95 ≤ 300 ms (each).

`--profile` runs each child under cProfile and prints its top functions (cProfile slows Python code
~1.5-2x and not C code: read the shares, not the speed). `--stages` adds a breakdown of the largest
size per format without the profiler: fetch only; + redaction; + the writer into a null sink; + the
ZIP entry (the full pipeline minus the job's bookkeeping), each the best of --stage-reps passes.

--reuse keeps the source database and reuses it when it holds the same load (skipping COPY); --keep
keeps it without reusing. DSAR Core's database is always fresh and dropped at the end. A benchmark, not a
test: exits non-zero when a target is missed. Timings depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._pg import PG, bench_database, percentile  # noqa: E402

SRC_DB = "dsar_export_bench_src"
CORE_DB = "dsar_export_bench"
DSN_ENV = "DSAR_EXPORT_BENCH_SRC_URL"
FORMATS = ("JSON", "CSV", "NDJSON", "PARQUET")
NOISE_CUSTOMERS = 1000
SMALL_TABLES = 20
SMALL_ROWS = 10  # of the subject, per small table
SMALL_OTHERS = 90  # of other customers, per small table
ACTOR = "apikey:bench"

TARGET_ROWS_PER_S = 100_000  # NDJSON and CSV, end to end
RATE_FORMATS = ("NDJSON", "CSV")
RATE_MIN_ROWS = 100_000
TARGET_RSS_MB = {"JSON": 80.0, "CSV": 80.0, "NDJSON": 80.0, "PARQUET": 200.0}
FLAT_SHARE, FLAT_MB = 0.10, 8.0  # "flat": the largest size's peak within +10 % or +8 MB of the smallest's
TARGET_SMALL_MS = 300.0

EVENT_COLUMNS = ["id", "customer_id", "occurred_at", "event_type", "description", "amount", "campaign_id"]
EVENT_TYPES = [
    ("page_view", 0.55),
    ("email_open", 0.15),
    ("login", 0.12),
    ("purchase", 0.10),
    ("support_contact", 0.05),
    ("refund", 0.03),
]
PAGES = ["/pricing", "/features", "/account/settings", "/blog/gdpr-rights", "/checkout", "/help/billing"]
PRODUCTS = ["Starter plan", "Pro plan", "Add-on storage", "Support pack", "Annual renewal"]
CAMPAIGNS = ["spring_sale_2024", "newsletter_2024_06", "winback_q3", "black_friday_2024", "referral"]


def mapping_big(via: bool) -> dict[str, Any]:
    events_subject: dict[str, Any] = (
        {"via": {"parent": "customers", "parentColumn": "id", "column": "customer_id"}}
        if via
        else {"column": "customer_id", "identity": "subject_id"}
    )
    return {
        "key": "bench",
        "kind": "sql",
        "dsnEnv": DSN_ENV,
        "description": "Export bench: a customer's events",
        "tables": [
            {
                "name": "customers",
                "subject": {"column": "id", "identity": "subject_id"},
                "timeColumn": "created_at",
                "columns": ["id", "email", "name", "country", "created_at"],
                "types": {"id": "int64", "created_at": "timestamp"},
            },
            {
                "name": "events",
                "subject": events_subject,
                "timeColumn": "occurred_at",
                "campaignColumn": "campaign_id",
                "columns": EVENT_COLUMNS,
                "types": {
                    "id": "int64",
                    "customer_id": "int64",
                    "occurred_at": "timestamp",
                    "amount": "decimal",
                },
            },
        ],
    }


def mapping_small() -> dict[str, Any]:
    return {
        "key": "small",
        "kind": "sql",
        "dsnEnv": DSN_ENV,
        "description": "Export bench: 20 small tables",
        "tables": [
            {
                "name": f"small_{i:02d}",
                "subject": {"column": "customer_id", "identity": "subject_id"},
                "timeColumn": "created_at",
                "columns": ["id", "customer_id", "created_at", "label", "value", "note"],
                "types": {
                    "id": "int64",
                    "customer_id": "int64",
                    "created_at": "timestamp",
                    "value": "decimal",
                },
            }
            for i in range(1, SMALL_TABLES + 1)
        ],
    }


# --- the source database ----------------------------------------------------------------------------------


def _marker(sizes: list[int], noise: int) -> dict[str, Any]:
    return {"v": 1, "sizes": sizes, "noise": noise, "small": [SMALL_TABLES, SMALL_ROWS, SMALL_OTHERS]}


def _loaded_marker(url: str) -> dict[str, Any] | None:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT obj_description(to_regclass('events'), 'pg_class')").fetchone()
    except psycopg.Error:
        return None
    comment = row[0] if row else None
    if not comment or not comment.startswith("export_bench "):
        return None
    return json.loads(comment.removeprefix("export_bench "))


def _copy(conn: Any, table: str, columns: list[str], lines: Iterator[str], every: int = 20000) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buf = io.StringIO()
        for i, line in enumerate(lines, 1):
            buf.write(line)
            if i % every == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


def _event_lines(owners: list[int], rnd: random.Random) -> Iterator[str]:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    step = (3 * 365 * 86400) / max(1, len(owners))  # three years of events, in time order
    kinds = [k for k, _ in EVENT_TYPES]
    weights = [w for _, w in EVENT_TYPES]
    picks = rnd.choices(kinds, weights, k=len(owners))
    for i, (customer, kind) in enumerate(zip(owners, picks, strict=True), 1):
        at = (start + timedelta(seconds=int(i * step), microseconds=rnd.randrange(1_000_000))).isoformat()
        amount = "\\N"
        if kind == "page_view":
            text = f"Viewed {PAGES[i % len(PAGES)]}"
        elif kind == "purchase":
            text = f"Bought {PRODUCTS[i % len(PRODUCTS)]}"
            amount = f"{rnd.randrange(500, 50000) / 100:.2f}"
        elif kind == "refund":
            text = f"Refund of order {i // 7}"
            amount = f"-{rnd.randrange(500, 20000) / 100:.2f}"
        elif kind == "email_open":
            text = "Opened the newsletter"
        elif kind == "login":
            text = "Signed in from a new device" if i % 13 == 0 else "Signed in"
        else:
            text = f"Contacted support about ticket {i // 3}"
        campaign = CAMPAIGNS[i % len(CAMPAIGNS)] if i % 10 < 3 else "\\N"
        yield f"{i}\t{customer}\t{at}\t{kind}\t{text}\t{amount}\t{campaign}\n"


def load_source(url: str, sizes: list[int], noise: int) -> float:
    import psycopg

    started = time.perf_counter()
    rnd = random.Random(1)
    owners: list[int] = []
    for subject, size in enumerate(sizes, 1):
        owners.extend([subject] * size)
    owners.extend(1000 + rnd.randrange(NOISE_CUSTOMERS) for _ in range(noise))
    rnd.shuffle(owners)  # the subjects' rows interleaved with everyone else's, as they happened
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,"
            " country text, created_at timestamptz NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE events (id bigint NOT NULL, customer_id bigint NOT NULL,"
            " occurred_at timestamptz NOT NULL, event_type text NOT NULL, description text,"
            " amount numeric(12, 2), campaign_id text)"
        )
        people = list(range(1, len(sizes) + 1)) + list(range(1000, 1000 + NOISE_CUSTOMERS))
        _copy(
            conn,
            "customers",
            ["id", "email", "name", "country", "created_at"],
            (
                f"{c}\tcustomer{c}@example.org\tCustomer {c}\t{['GB', 'DE', 'FR', 'US'][c % 4]}"
                f"\t2022-{1 + c % 12:02d}-{1 + c % 28:02d} 10:00:00+00\n"
                for c in people
            ),
        )
        _copy(conn, "events", EVENT_COLUMNS, _event_lines(owners, rnd))
        conn.execute("ALTER TABLE events ADD PRIMARY KEY (id)")
        conn.execute("CREATE INDEX events_customer ON events (customer_id)")
        for t in range(1, SMALL_TABLES + 1):
            name = f"small_{t:02d}"
            conn.execute(
                f"CREATE TABLE {name} (id bigint PRIMARY KEY, customer_id bigint NOT NULL,"
                " created_at timestamptz NOT NULL, label text, value numeric(12, 2), note text)"
            )
            rows = [1] * SMALL_ROWS + [1000 + rnd.randrange(NOISE_CUSTOMERS) for _ in range(SMALL_OTHERS)]
            rnd.shuffle(rows)
            _copy(
                conn,
                name,
                ["id", "customer_id", "created_at", "label", "value", "note"],
                (
                    f"{i}\t{c}\t2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:15:00+00"
                    f"\t{name} item {i}\t{rnd.randrange(100, 99999) / 100:.2f}\t"
                    + ("\\N" if i % 3 else f"Note {i} about this customer")
                    + "\n"
                    for i, c in enumerate(rows, 1)
                ),
            )
            conn.execute(f"CREATE INDEX {name}_customer ON {name} (customer_id)")
        comment = "export_bench " + json.dumps(_marker(sizes, noise))
        conn.execute(f"COMMENT ON TABLE events IS '{comment}'")
        conn.commit()
    return time.perf_counter() - started


def vacuum_analyze(url: str) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")  # every table: this database holds nothing else
    return time.perf_counter() - started


@contextlib.contextmanager
def source_database(sizes: list[int], noise: int, *, reuse: bool, keep: bool) -> Iterator[str]:
    import psycopg

    url = f"{PG}/{SRC_DB}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [SRC_DB]).fetchone()
    loaded = _loaded_marker(url) if reuse and exists else None
    if loaded == _marker(sizes, noise):
        print(f"reusing source database {SRC_DB} (sizes {sizes}, noise {noise:,})")
    else:
        if reuse and exists:
            print(f"source database {SRC_DB} holds another load ({loaded}): reloading")
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SRC_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{SRC_DB}"')
        seconds = load_source(url, sizes, noise)
        total = sum(sizes) + noise
        print(f"loaded {total:,} events + {SMALL_TABLES} small tables with COPY in {seconds:.1f} s")
        print(f"VACUUM (ANALYZE) in {vacuum_analyze(url):.1f} s")
    try:
        yield url
    finally:
        if keep or reuse:
            print(f"kept source database {SRC_DB} (drop it with: DROP DATABASE {SRC_DB})")
        else:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SRC_DB}" WITH (FORCE)')


# --- the child process: one run, its own peak RSS -------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _vm(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _print_profile(profiler: Any, top: int) -> None:
    import pstats

    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(stream.getvalue())


def child_job(spec: dict[str, Any]) -> dict[str, Any]:
    """One export job, create → READY, the worker's path. Runs in its own process."""
    from core.models import Org
    from exports.background import export_take_and_run
    from exports.bundle import verify_bundle
    from exports.models import ExportJob, State
    from exports.services.jobs import job_create, job_run
    from exports.storage import bundle_delete, export_storage

    org = Org.objects.get(pk=spec["org"])
    baseline = _peak_mb()
    cpu_before = _cpu_s()
    started = time.perf_counter()
    created = job_create(
        org=org,
        actor=ACTOR,
        scope={"dataSubjectId": spec["subject"], "substrates": [spec["substrate"]]},
        format=spec["format"],
    )
    outcome = job_run(org=org, job_id=created.job.pk, actor=ACTOR)
    counted = time.perf_counter()
    if outcome.finished or outcome.job.state != State.COLLECTING or outcome.job.worker_id:
        raise SystemExit(
            f"expected a hand-off to the background, got {outcome.job.state} {outcome.job.worker_id}"
        )
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    taken = export_take_and_run(created.job.pk)
    if profiler is not None:
        profiler.disable()
    done = time.perf_counter()
    cpu = _cpu_s() - cpu_before
    peak, hwm = _peak_mb(), _vm("VmHWM")
    job = ExportJob.objects.get(pk=created.job.pk)
    result: dict[str, Any] = {
        "format": spec["format"],
        "size": spec["size"],
        "taken": taken,
        "state": job.state,
        "failure": job.failure_message,
        "rows": job.rows_collected,
        "rows_expected": job.rows_expected,
        "wall": done - started,
        "count_s": counted - started,
        "execute_s": done - counted,
        "cpu_s": cpu,
        "peak_mb": peak,
        "hwm_mb": hwm,
        "baseline_mb": baseline,
        "bundle_bytes": job.bundle_size or 0,
        "problems": [],
    }
    if job.state == State.READY:
        path = export_storage().path(job.bundle_key)
        problems = verify_bundle(path)
        import zipfile

        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            by_section = {f["section"]: f["rows"] for f in manifest["files"]}
            biggest = max(archive.infolist(), key=lambda i: i.file_size)
            result["data_mb"] = biggest.file_size / 1e6
        if by_section.get("bench.events") != spec["size"]:
            problems.append(f"bench.events holds {by_section.get('bench.events')} rows, not {spec['size']}")
        if manifest["totalRecords"] != job.rows_collected:
            problems.append("the manifest's totalRecords is not the job's rows collected")
        result["problems"] = problems
        bundle_delete(job.bundle_key)
    else:
        result["problems"] = [f"job ended {job.state}: {job.failure_message}"]
    if profiler is not None:
        _print_profile(profiler, spec.get("top", 30))
    return result


def child_small(spec: dict[str, Any]) -> dict[str, Any]:
    """The common case: 20 sections x 10 rows, run inline by `job_run`, warm, many times."""
    from core.models import Org
    from exports.bundle import verify_bundle
    from exports.models import State
    from exports.services.jobs import job_create, job_run
    from exports.storage import bundle_delete, export_storage

    org = Org.objects.get(pk=spec["org"])
    runs: list[float] = []
    totals: list[float] = []
    problems: list[str] = []
    first_ms = 0.0
    profiler = None
    for rep in range(spec["warmup"] + spec["reps"]):
        if spec.get("profile") and rep == spec["warmup"]:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        created = job_create(
            org=org,
            actor=ACTOR,
            scope={"dataSubjectId": "1", "substrates": ["small"]},
            format=spec["format"],
        )
        t1 = time.perf_counter()
        outcome = job_run(org=org, job_id=created.job.pk, actor=ACTOR)
        t2 = time.perf_counter()
        job = outcome.job
        if not outcome.finished or job.state != State.READY:
            problems.append(f"run {rep}: {job.state} {job.failure_message}")
            break
        if job.rows_collected != SMALL_TABLES * SMALL_ROWS:
            problems.append(f"run {rep}: {job.rows_collected} rows, not {SMALL_TABLES * SMALL_ROWS}")
        if rep == 0:
            first_ms = (t2 - t0) * 1000
        if rep == spec["warmup"] + spec["reps"] - 1:
            problems += verify_bundle(export_storage().path(job.bundle_key))
        bundle_delete(job.bundle_key)
        if rep >= spec["warmup"]:
            runs.append((t2 - t1) * 1000)
            totals.append((t2 - t0) * 1000)
    if profiler is not None:
        profiler.disable()
        _print_profile(profiler, spec.get("top", 30))
    return {
        "format": spec["format"],
        "run_ms": runs,
        "total_ms": totals,
        "first_ms": first_ms,
        "peak_mb": _peak_mb(),
        "problems": problems,
    }


def child_stages(spec: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's stages for the events section, each measured on its own pass over the source,
    without the profiler: fetch; + redaction; + the writer into a null sink; + the ZIP entry."""
    from core.models import Org
    from exports import pipeline
    from exports.bundle import BundleWriter
    from exports.redaction import Redactor
    from exports.scope import subject_scope
    from exports.services.substrates import mappings_for
    from exports.writers import HashingSink, open_writer

    class Null:
        def write(self, data: Any) -> int:
            return len(data)

        def flush(self) -> None:
            """Nothing is buffered: the bench discards what the writer writes."""

    org = Org.objects.get(pk=spec["org"])
    (mapping,) = mappings_for(org, ["bench"])
    scope = subject_scope({"dataSubjectId": spec["subject"]})
    table, plan = next((t, p) for t, p in pipeline._sections(mapping, scope) if t.name == "events")
    out: dict[str, Any] = {"format": spec["format"], "size": spec["size"]}
    work = Path(spec["work"])

    def one(stage: str) -> None:
        redactor = Redactor(table)
        rows = 0
        bundle = None
        started = time.perf_counter()
        with pipeline._open(mapping, org.pk) as source:
            source.check()
            if stage == "fetch":
                for chunk in pipeline._chunks(source.rows(plan, scope)):
                    rows += len(chunk)
            elif stage == "redact":
                for chunk in pipeline._chunks(source.rows(plan, scope)):
                    rows += len(list(redactor.apply_rows(chunk)))
            elif stage == "write":
                sink = HashingSink(Null())
                writer = open_writer(spec["format"], sink, redactor.output_columns, redactor.output_types)
                for chunk in pipeline._chunks(source.rows(plan, scope)):
                    writer.write_rows(redactor.apply_rows(chunk))
                    rows += len(chunk)
                writer.close()
            else:
                bundle = BundleWriter(str(work / "stage.zip"), compresslevel=pipeline.COMPRESS_LEVEL)
                with bundle.section("data/bench/events.x", section="bench.events") as sink:
                    writer = open_writer(spec["format"], sink, redactor.output_columns, redactor.output_types)
                    for chunk in pipeline._chunks(source.rows(plan, scope)):
                        writer.write_rows(redactor.apply_rows(chunk))
                        rows += len(chunk)
                    writer.close()
                bundle.set_rows("data/bench/events.x", rows)
                bundle.close()
        seconds = time.perf_counter() - started
        if bundle is not None:
            (work / "stage.zip").unlink()
        assert rows == spec["size"], (stage, rows)
        out[stage] = min(seconds, out.get(stage, seconds))

    for _ in range(spec["reps"]):  # interleaved, the best of each: this machine's noise is ±10-30 %
        for stage in ("fetch", "redact", "write", "zip"):
            one(stage)
    return out


def child_main(spec: dict[str, Any]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_project.settings")
    import django

    django.setup()
    mode = spec["mode"]
    result = {"job": child_job, "small": child_small, "stages": child_stages}[mode](spec)
    print("RESULT " + json.dumps(result), flush=True)


def run_child(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = proc.stdout.splitlines()
    results = [line for line in lines if line.startswith("RESULT ")]
    others = [line for line in lines if not line.startswith("RESULT ")]
    if others:
        print("\n".join(others))
    if proc.returncode != 0 or not results:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child {spec['mode']} {spec.get('format')} failed (exit {proc.returncode})")
    result = json.loads(results[-1].removeprefix("RESULT "))
    result["process_s"] = time.perf_counter() - started
    return result


# --- the parent -----------------------------------------------------------------------------------------


def machine_notes(src_url: str) -> str:
    import psycopg

    with psycopg.connect(src_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        shared = conn.execute("SHOW shared_buffers").fetchone()[0]
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{datetime.now(UTC).isoformat(timespec='seconds')}, {cpu or platform.machine()}, "
        f"{os.cpu_count()} cpus, Python {platform.python_version()}, PostgreSQL {version} "
        f"(shared_buffers {shared}) on the same machine"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="rows of the subject, one job per size")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--noise", type=int, default=200_000, help="events of other customers in the table")
    parser.add_argument("--small-reps", type=int, default=20, help="timed runs of the 20x10 job per format")
    parser.add_argument("--small-formats", default=",".join(FORMATS))
    parser.add_argument("--via", action="store_true", help="match events through customers (a `via` hop)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 rows, 5 small reps")
    parser.add_argument("--profile", action="store_true", help="cProfile each child and print its top")
    parser.add_argument("--top", type=int, default=30, help="functions per --profile listing")
    parser.add_argument("--stages", action="store_true", help="time each pipeline stage on the largest size")
    parser.add_argument("--stage-reps", type=int, default=2, help="passes per stage (the best is kept)")
    parser.add_argument("--skip-small", action="store_true", help="do not run the 20x10 common case")
    parser.add_argument("--reuse", action="store_true", help=f"keep {SRC_DB} and reuse a matching load")
    parser.add_argument("--keep", action="store_true", help=f"keep {SRC_DB} at the end (without reusing it)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return
    if args.quick:
        args.sizes, args.noise, args.small_reps = "20000", 5000, 5
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip().upper() for f in args.formats.split(",") if f.strip()]
    small_formats = [f.strip().upper() for f in args.small_formats.split(",") if f.strip()]

    problems: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="export_bench_"))
    try:
        with (
            source_database(sizes, args.noise, reuse=args.reuse, keep=args.keep) as src_url,
            bench_database(CORE_DB) as core_url,
        ):
            env = {
                **os.environ,
                "DATABASE_URL": core_url,
                "DJANGO_SETTINGS_MODULE": "dsar_project.settings",
                "DEBUG": "0",
                DSN_ENV: src_url,
                "DSAR_EXPORT_DIR": str(work / "bundles"),
                "DSAR_EXPORT_WORK_DIR": str(work / "work"),
                "DSAR_EXPORT_INLINE_ROWS": "0",  # big jobs: always handed to the background worker
            }
            os.environ.update(env)
            import django

            django.setup()
            from django.db import connection

            from core.services import org_create
            from exports.services.substrates import substrate_register

            org = org_create(name="Export bench")
            substrate_register(org=org, data=mapping_big(args.via))
            substrate_register(org=org, data=mapping_small())
            connection.close()
            print(machine_notes(src_url))
            match = "events through customers (via)" if args.via else "events directly by subject_id"
            print(f"sizes {sizes}, noise {args.noise:,} other customers' events, {match}")

            results: list[dict[str, Any]] = []
            print(
                f"\n{'format':<8} {'rows':>10} {'wall s':>7} {'rows/s':>9} {'count s':>7} {'exec s':>7} "
                f"{'cpu s':>6} {'peak RSS MB':>11} {'before MB':>9} {'job +MB':>7} {'bundle MB':>9} "
                f"{'data MB':>8}  verify"
            )
            for fmt in formats:
                for subject, size in enumerate(sizes, 1):
                    spec = {
                        "mode": "job",
                        "org": org.pk,
                        "format": fmt,
                        "subject": str(subject),
                        "size": size,
                        "substrate": "bench",
                        "profile": args.profile,
                        "top": args.top,
                    }
                    r = run_child(spec, env)
                    results.append(r)
                    r["rate"] = r["rows"] / r["wall"] if r["wall"] else 0.0
                    verdict = "OK" if not r["problems"] else "; ".join(r["problems"])
                    print(
                        f"{fmt:<8} {r['rows']:>10,} {r['wall']:>7.2f} {r['rate']:>9,.0f} "
                        f"{r['count_s']:>7.2f} {r['execute_s']:>7.2f} {r['cpu_s']:>6.2f} "
                        f"{r['peak_mb']:>11.1f} {r['baseline_mb']:>9.1f} "
                        f"{r['peak_mb'] - r['baseline_mb']:>7.1f} "
                        f"{r['bundle_bytes'] / 1e6:>9.1f} {r.get('data_mb', 0):>8.1f}  {verdict}",
                        flush=True,
                    )
                    problems += [f"{fmt} {size:,}: {p}" for p in r["problems"]]

            stages: list[dict[str, Any]] = []
            if args.stages:
                size = max(sizes)
                subject = sizes.index(size) + 1
                print(
                    f"\nstages on {size:,} rows (each a full pass over the source, "
                    f"best of {args.stage_reps}; seconds, rows/s):"
                )
                for fmt in formats:
                    spec = {
                        "mode": "stages",
                        "org": org.pk,
                        "format": fmt,
                        "subject": str(subject),
                        "size": size,
                        "work": str(work),
                        "reps": args.stage_reps,
                    }
                    s = run_child(spec, env)
                    stages.append(s)
                    cells = "  ".join(
                        f"{k} {s[k]:.2f} s ({size / s[k]:,.0f}/s)"
                        for k in ("fetch", "redact", "write", "zip")
                    )
                    print(f"  {fmt:<8} {cells}")
                    full = s["zip"]
                    print(
                        f"  {'':<8} shares of the full pass: fetch {s['fetch'] / full:.0%}, "
                        f"redaction {(s['redact'] - s['fetch']) / full:.0%}, "
                        f"writer {(s['write'] - s['redact']) / full:.0%}, "
                        f"ZIP entry {(s['zip'] - s['write']) / full:.0%}"
                    )

            small: list[dict[str, Any]] = []
            if not args.skip_small:
                print(
                    f"\ncommon case: {SMALL_TABLES} sections x {SMALL_ROWS} rows, job_run inline, "
                    f"{args.small_reps} runs after 3 warm-up runs (ms)"
                )
                print(
                    f"{'format':<8} {'run p50':>8} {'run p95':>8} {'create+run p50':>14} {'p95':>7} "
                    f"{'first':>7}  verify"
                )
                small_env = {**env, "DSAR_EXPORT_INLINE_ROWS": "100000"}  # the default: inline
                for fmt in small_formats:
                    spec = {
                        "mode": "small",
                        "org": org.pk,
                        "format": fmt,
                        "reps": args.small_reps,
                        "warmup": 3,
                        "profile": args.profile,
                        "top": args.top,
                    }
                    s = run_child(spec, small_env)
                    small.append(s)
                    verdict = "OK" if not s["problems"] else "; ".join(s["problems"])
                    print(
                        f"{fmt:<8} {percentile(s['run_ms'], 50):>8.1f} {percentile(s['run_ms'], 95):>8.1f} "
                        f"{percentile(s['total_ms'], 50):>14.1f} {percentile(s['total_ms'], 95):>7.1f} "
                        f"{s['first_ms']:>7.1f}  {verdict}",
                        flush=True,
                    )
                    problems += [f"small {fmt}: {p}" for p in s["problems"]]

            problems += check_targets(results, small, sizes)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if problems:
        print("\nFAILED")
        for problem in problems:
            print(f"  - {problem}")
        sys.exit(1)
    print("\nOK: every target met")


def check_targets(results: list[dict[str, Any]], small: list[dict[str, Any]], sizes: list[int]) -> list[str]:
    print("\ntargets")
    missed: list[str] = []

    def verdict(ok: bool, text: str) -> None:
        print(f"  {'met   ' if ok else 'MISSED'} {text}")
        if not ok:
            missed.append(text)

    for r in results:
        # The targets are for 100k-1M rows; below that the job's fixed ~0.1 s (count, bookkeeping) dominates.
        if r["format"] in RATE_FORMATS and r["size"] < RATE_MIN_ROWS:
            print(
                f"  n/a    {r['format']} {r['size']:,} rows: {r['rate']:,.0f} rows/s "
                "(the rate targets are for 100k rows and more)"
            )
        elif r["format"] in RATE_FORMATS:
            verdict(
                r["rate"] >= TARGET_ROWS_PER_S,
                f"{r['format']} {r['size']:,} rows: {r['rate']:,.0f} rows/s (≥ {TARGET_ROWS_PER_S:,})",
            )
    for r in results:
        limit = TARGET_RSS_MB[r["format"]]
        verdict(
            r["peak_mb"] <= limit,
            f"{r['format']} {r['size']:,} rows: peak RSS {r['peak_mb']:.1f} MB (≤ {limit:g}; the process "
            f"held {r['baseline_mb']:.1f} MB before the job, the job added "
            f"{r['peak_mb'] - r['baseline_mb']:.1f} MB)",
        )
    if len(sizes) > 1:
        for fmt in dict.fromkeys(r["format"] for r in results):
            by_size = {r["size"]: r["peak_mb"] for r in results if r["format"] == fmt}
            low, high = by_size[min(sizes)], by_size[max(sizes)]
            verdict(
                high <= max(low * (1 + FLAT_SHARE), low + FLAT_MB),
                f"{fmt} peak RSS flat: {low:.1f} MB at {min(sizes):,} → {high:.1f} MB at {max(sizes):,} rows",
            )
    for s in small:
        p95 = percentile(s["run_ms"], 95)
        verdict(
            p95 <= TARGET_SMALL_MS,
            f"20x10 job_run inline, {s['format']}: p95 {p95:.1f} ms (≤ {TARGET_SMALL_MS:g})",
        )
    return missed


if __name__ == "__main__":
    main()
