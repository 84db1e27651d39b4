"""Celery tasks: thin wrappers over `periodic`. Every one is idempotent, so `acks_late` redelivery is safe.

- `dsar.dispatch` (sent by name by `core.wakeup` after commits, and by beat every 2 s): relay the outbox and
  start the due deliveries on this worker process's dispatcher. It returns at once: the dispatcher's
  threads send, record, and keep pumping while work is due.
- `dsar.sweeps` (beat, every 60 s): every app's housekeeping.
- `dsar.heartbeat` (beat, every 30 s): a worker reports in for `/healthz`.
Long retry delays live in `Delivery.next_attempt_at`, never in broker countdowns.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown
from django.utils import timezone

from core.health import heartbeat
from core.wakeup import DISPATCH_TASK

from . import periodic

log = logging.getLogger("dsar.background")


@shared_task(name=DISPATCH_TASK, acks_late=True, ignore_result=True)
def dispatch_task() -> int:
    return periodic.dispatch_pass()


@shared_task(name="dsar.sweeps", acks_late=True, ignore_result=True)
def sweeps_task() -> dict[str, int]:
    counts = periodic.sweeps(now=timezone.now())
    if any(counts.values()):
        log.info("Sweeps: %s", ", ".join(f"{name} {count}" for name, count in counts.items() if count))
    return counts


@shared_task(name="dsar.heartbeat", acks_late=False, ignore_result=True)
def heartbeat_task() -> None:
    heartbeat("worker", every_seconds=0)


@worker_process_shutdown.connect
def _drain_dispatcher(**kwargs: Any) -> None:
    # A worker process that stops lets its attempts in flight finish and be recorded.
    from notifications.dispatcher import dispatcher_shutdown

    dispatcher_shutdown()
