"""Delivery settings, read from Django settings at call time (so tests can override them), with defaults.

- DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS (False): allow loopback/private/link-local targets (never metadata).
- DSAR_WEBHOOK_CONNECT_TIMEOUT (5 s) and DSAR_WEBHOOK_READ_TIMEOUT (10 s); a whole exchange is capped at
  their sum.
- DSAR_WEBHOOK_RETRY_SCHEDULE (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): the delay before each
  attempt, with full jitter; DEAD after the last.
- DSAR_WEBHOOK_LEASE_SECONDS (connect + read + 30): how long a claimed delivery is its worker's before
  it is due again.
- DSAR_WEBHOOK_WORKER_THREADS (32): concurrent attempts in one worker process (they wait on the network,
  not the CPU).
- DSAR_WEBHOOK_MAX_IN_FLIGHT (2): attempts in flight to one endpoint, across every worker process.
- DSAR_WEBHOOK_ORG_MAX_IN_FLIGHT (8): attempts in flight for one org, so its slow receivers leave the
  other orgs' threads alone.
- DSAR_WEBHOOK_BREAKER_THRESHOLD (5): failed attempts in a row after which an endpoint is backed off as a
  whole; DSAR_WEBHOOK_BREAKER_BACKOFF (60 s) doubling each time it opens again, up to
  DSAR_WEBHOOK_BREAKER_BACKOFF_MAX (1 h). Then one probe at a time: a success closes it.
- DSAR_WEBHOOK_MAX_ENDPOINTS (20): live endpoints per org.
- DSAR_WEBHOOK_REPLAYS_PER_HOUR (10): replays of one event in any hour.
- DSAR_WEBHOOK_ROTATION_OVERLAP_HOURS (24): how long the previous secret still signs after a rotation.
"""

from __future__ import annotations

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
    return max(1, int(getattr(settings, "DSAR_WEBHOOK_WORKER_THREADS", 32)))


def max_in_flight() -> int:
    return max(1, int(getattr(settings, "DSAR_WEBHOOK_MAX_IN_FLIGHT", 2)))


def org_max_in_flight() -> int:
    return max(1, int(getattr(settings, "DSAR_WEBHOOK_ORG_MAX_IN_FLIGHT", 8)))


def breaker_threshold() -> int:
    return max(1, int(getattr(settings, "DSAR_WEBHOOK_BREAKER_THRESHOLD", 5)))


def breaker_backoff() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "DSAR_WEBHOOK_BREAKER_BACKOFF", 60)))


def breaker_backoff_max() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "DSAR_WEBHOOK_BREAKER_BACKOFF_MAX", 3600)))


def max_endpoints() -> int:
    return int(getattr(settings, "DSAR_WEBHOOK_MAX_ENDPOINTS", 20))


def replays_per_hour() -> int:
    return int(getattr(settings, "DSAR_WEBHOOK_REPLAYS_PER_HOUR", 10))


def rotation_overlap() -> timedelta:
    return timedelta(hours=float(getattr(settings, "DSAR_WEBHOOK_ROTATION_OVERLAP_HOURS", 24)))


def broker_configured() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", ""))
