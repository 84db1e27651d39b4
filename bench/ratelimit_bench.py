"""Cost of one rate-limit decision (core.ratelimit.hit), per store, at any rate.

    .venv/bin/python bench/ratelimit_bench.py                       # SQLite file in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/ratelimit_bench.py
    REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/ratelimit_bench.py

The counter is one statement per call whatever the limit, so 1,200/min and 18,000/min cost the same
(the old limiter re-pickled its whole window of timestamps: ~0.5 ms at 1,200/min, ~4 ms at 18,000).
Prints the median and p99 in microseconds for each rate. Record the machine with every figure.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_project.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/dsar-ratelimit-bench.sqlite3")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from core import ratelimit  # noqa: E402


def main(calls: int = 5000) -> None:
    call_command("migrate", verbosity=0)
    store = "redis" if ratelimit._uses_redis() else os.environ["DATABASE_URL"].split(":")[0]
    print(f"store: {store}")
    for text in ("1200/min", "18000/min"):
        rate = ratelimit.Rate.parse(text)
        timings = []
        for _ in range(calls):
            start = time.perf_counter()
            ratelimit.hit("bench", rate)
            timings.append((time.perf_counter() - start) * 1e6)
        timings.sort()
        p99 = timings[int(len(timings) * 0.99)]
        print(
            f"{text:>10}: median {statistics.median(timings):7.1f} µs, p99 {p99:7.1f} µs over {calls} calls"
        )
    ratelimit.purge_ended(now=time.time() + 10**6)


if __name__ == "__main__":
    main()
