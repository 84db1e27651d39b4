"""Celery tasks: thin wrappers over `periodic`. Every one is idempotent, so `acks_late` redelivery is safe.

- `dsar.dispatch` (sent by name by `core.wakeup` after commits, and by beat every 2 s): relay the outbox and
  start the due deliveries on this worker process's dispatcher. It returns at once: the dispatcher's
  threads send, record, and keep pumping while work is due.
- `dsar.sweeps` (beat, every 60 s): every app's housekeeping.
- `dsar.mail` (beat, every 5 s, and sent by the dispatch task when mail is waiting): send the messages to
  data subjects that are due; each is claimed first, so overlapping runs never send one twice.
- `dsar.heartbeat` (beat, every 30 s): a worker reports in for `/healthz`.
- `dsar.exports.run` (sent by the dispatch task for each export job handed to the background, on the
  `exports` queue: `celery -A dsar_project worker -Q exports`): claims the job and runs it.
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


EXPORT_RUN_TASK = "dsar.exports.run"
MAIL_TASK = "dsar.mail"


@shared_task(name=DISPATCH_TASK, acks_late=True, ignore_result=True, bind=True)
def dispatch_task(self: Any) -> int:
    from exports.background import exports_enqueue

    # Export jobs handed to the background go to their own queue (CELERY_TASK_ROUTES).
    exports_enqueue(lambda job_id: self.app.send_task(EXPORT_RUN_TASK, args=[job_id]))
    if periodic.mail_waiting():
        self.app.send_task(MAIL_TASK)
    return periodic.dispatch_pass()


@shared_task(name=MAIL_TASK, acks_late=True, ignore_result=True)
def mail_task() -> int:
    return periodic.mail_pass()


@shared_task(name=EXPORT_RUN_TASK, acks_late=True, ignore_result=True)
def export_run_task(job_id: str) -> bool:
    """Claim and run one export job. No autoretry: a worker that dies leaves a stale job, which the sweep
    takes over once; a task for a job another worker holds does nothing."""
    from exports.background import export_take_and_run

    return export_take_and_run(job_id)


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
