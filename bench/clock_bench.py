"""Clock engine benchmark (pure Python, one core).

    .venv/bin/python bench/clock_bench.py            # full run: 1,000,000 deadlines
    .venv/bin/python bench/clock_bench.py --n 50000  # quick run
    .venv/bin/python bench/clock_bench.py --codes AT,AU,GB,US-CA  # only these codes in the workload

Prints (1) the median time to compute the explanation of one request carrying 50 events
(target <= 1 ms) and (2) the time to recompute N deadlines (target <= 60 s for 1,000,000).
Record the machine with every figure; never compare figures across machines.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clocks import ClockEvent, EventKind, compute, get_pack, jurisdiction_codes
from clocks.zones import zone

TARGET_EXPLAIN_MS = 1.0
TARGET_MILLION_S = 60.0


def fifty_events() -> tuple[datetime, list[ClockEvent]]:
    """A busy UK request: clarifications, an ID restart, acknowledgements, two extensions, a stop."""
    tz = zone("Europe/London")
    received = datetime(2026, 1, 5, 9, 30, tzinfo=tz)
    events: list[ClockEvent] = [
        ClockEvent(EventKind.VERIFICATION_REQUESTED, received + timedelta(hours=2)),
        ClockEvent(EventKind.VERIFICATION_RECEIVED, received + timedelta(days=2)),
    ]
    start = received + timedelta(days=3)
    for i in range(20):
        asked = start + timedelta(days=i, hours=1)
        events.append(ClockEvent(EventKind.CLARIFICATION_REQUESTED, asked, {"message": f"q{i}"}))
        events.append(ClockEvent(EventKind.CLARIFICATION_RECEIVED, asked + timedelta(hours=5)))
    for i in range(5):
        events.append(ClockEvent(EventKind.ACKNOWLEDGED, received + timedelta(days=1, minutes=i)))
    events.append(
        ClockEvent(
            EventKind.EXTENSION,
            received + timedelta(days=25),
            {"amount": 1, "unit": "CALENDAR_MONTHS", "reason": "complex", "by": "dpo"},
        )
    )
    events.append(
        ClockEvent(
            EventKind.EXTENSION,
            received + timedelta(days=26),
            {"amount": 1, "unit": "CALENDAR_MONTHS", "reason": "numerous", "by": "dpo"},
        )
    )
    events.append(ClockEvent(EventKind.STOPPED, received + timedelta(days=70), {"reason": "CLOSED"}))
    assert len(events) == 50
    return received, events


def bench_explanation(repeats: int) -> float:
    pack = get_pack("GB")
    received, events = fifty_events()
    now = received + timedelta(days=80)
    timings = []
    kwargs = {"received_at": received, "request_types": ["ACCESS"], "events": events, "now": now}
    for _ in range(repeats):
        started = time.perf_counter()
        compute(pack, **kwargs).explanation("req")
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


# The 44 codes the packs covered before issue 12: `--codes legacy` repeats the earlier workload exactly, so
# figures from before and after new packs compare like with like.
LEGACY_CODES = (
    "AT", "AU", "BE", "BG", "BR", "CA", "CA-QC", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "EU", "FI",
    "FR", "GB", "GB-NIR", "GB-SCT", "GB-WLS", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL",
    "PL", "PT", "RO", "SE", "SI", "SK", "US-CA", "US-CO", "US-CT", "US-OR", "US-TX", "US-UT", "US-VA",
)  # fmt: skip


def workload(n: int, codes: tuple[str, ...] = ()) -> list[tuple[object, datetime, tuple[str, ...], datetime]]:
    """N requests spread over every pack (or `codes`), 2024-2027, at varied local hours."""
    codes = codes or jurisdiction_codes()
    type_sets = [("ACCESS",), ("ERASURE",), ("ACCESS", "OPT_OUT_SALE"), ("RECTIFICATION",)]
    items = []
    for i in range(n):
        pack = get_pack(codes[i % len(codes)])
        day = date(2024, 1, 1) + timedelta(days=(i * 7) % 1400)
        received = datetime.combine(day, clock_time(i % 24, (i * 13) % 60), tzinfo=zone(pack.timezone))
        items.append((pack, received, type_sets[i % len(type_sets)], received + timedelta(days=10)))
    return items


def bench_deadlines(n: int, codes: tuple[str, ...] = ()) -> float:
    items = workload(n, codes)
    started = time.perf_counter()
    for pack, received, types, now in items:
        compute(pack, received_at=received, request_types=types, events=(), now=now)
    return time.perf_counter() - started


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--n", type=int, default=1_000_000, help="deadlines to recompute (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=2000, help="explanation samples (default 2000)")
    parser.add_argument(
        "--codes", default="", help="comma-separated codes for the workload, or 'legacy' (default: all)"
    )
    args = parser.parse_args()
    codes = LEGACY_CODES if args.codes == "legacy" else tuple(c for c in args.codes.split(",") if c)

    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}")
    print(f"python {platform.python_version()}, {datetime.now(UTC).isoformat(timespec='seconds')}")
    # Warm the caches (pack files, holiday tables) so the figures measure the steady state.
    bench_deadlines(2000)
    bench_explanation(50)

    median_ms = bench_explanation(args.repeats)
    verdict = "OK" if median_ms <= TARGET_EXPLAIN_MS else "OVER TARGET"
    print(f"explanation, 50 events: median {median_ms:.3f} ms (target <= {TARGET_EXPLAIN_MS} ms) {verdict}")

    seconds = bench_deadlines(args.n, codes)
    per = seconds / args.n * 1e6
    projected = per * 1_000_000 / 1e6
    verdict = "OK" if projected <= TARGET_MILLION_S else "OVER TARGET"
    print(
        f"recompute {args.n:,} deadlines ({len(codes) or len(jurisdiction_codes())} codes): {seconds:.2f} s "
        f"({per:.1f} us each; "
        f"1,000,000 -> {projected:.1f} s, target <= {TARGET_MILLION_S:.0f} s) {verdict}"
    )


if __name__ == "__main__":
    main()
