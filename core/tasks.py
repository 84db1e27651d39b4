"""Celery's side of `/healthz` (beat sends this task every 30 s and a worker runs it, so both report in),
and the housekeeping of ended rate-limit windows."""

from __future__ import annotations

from celery import shared_task

from . import ratelimit
from .health import heartbeat


@shared_task(name="core.heartbeat", acks_late=False, ignore_result=True)
def heartbeat_task() -> None:
    # Beat sent it within the task's expiry (60 s), and a worker is running it now.
    heartbeat("beat", every_seconds=0)
    heartbeat("worker", every_seconds=0)
    ratelimit.purge_ended()
