"""Delivery settings, read from Django settings at call time (so tests can override them), with defaults.

- DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS (False): allow loopback/private/link-local targets (never metadata).
- DSAR_WEBHOOK_CONNECT_TIMEOUT (5 s) and DSAR_WEBHOOK_READ_TIMEOUT (10 s); a whole exchange is capped at
  their sum.
- DSAR_WEBHOOK_RETRY_SCHEDULE (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): the delay before each
  attempt, with full jitter; DEAD after the last.
- DSAR_WEBHOOK_LEASE_SECONDS (connect + read + 30): how long a claimed delivery is its worker's before
  it is due again.
- DSAR_WEBHOOK_WORKER_THREADS (8): concurrent attempts in one worker process.
- DSAR_WORKER_WAKE_PORT (unset): UDP port on 127.0.0.1 the embedded worker listens on for commit kicks
  (also read from the environment, so `manage.py serve` can hand it to both of its processes).
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings

# Standard Webhooks' schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (≈ 27.6 h), then DEAD.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
# A receiver's Retry-After is honoured up to this, so one header cannot park a delivery for months.
MAX_RETRY_AFTER = timedelta(hours=24)


def allow_private_networks() -> bool:
    return bool(getattr(settings, "DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS", False))


def connect_timeout() -> float:
    return float(getattr(settings, "DSAR_WEBHOOK_CONNECT_TIMEOUT", 5.0))


def read_timeout() -> float:
    return float(getattr(settings, "DSAR_WEBHOOK_READ_TIMEOUT", 10.0))


def retry_schedule() -> tuple[float, ...]:
    return tuple(float(s) for s in getattr(settings, "DSAR_WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE))


def lease() -> timedelta:
    seconds = getattr(settings, "DSAR_WEBHOOK_LEASE_SECONDS", None)
    if seconds is None:
        # Longer than the longest possible attempt (the transport's watchdog enforces connect + read).
        seconds = connect_timeout() + read_timeout() + 30
    return timedelta(seconds=float(seconds))


def worker_threads() -> int:
    return int(getattr(settings, "DSAR_WEBHOOK_WORKER_THREADS", 8))


def wake_port() -> int | None:
    value = getattr(settings, "DSAR_WORKER_WAKE_PORT", None) or os.environ.get("DSAR_WORKER_WAKE_PORT")
    return int(value) if value else None


def broker_configured() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", ""))
