"""The exports' periodic housekeeping (the background runner calls `sweep_exports` once a minute):

- jobs REQUESTED for 24 hours and never run fail ("not run") and stop counting against the cap;
- a running job whose worker stopped heartbeating is taken over once (it starts collecting again under a
  new worker), and failed naming that worker if it stalls again;
- a job queued for a Celery worker that never picked it up is queued again, and fails when no worker has
  taken it within DSAR_EXPORT_QUEUE_TIMEOUT_SECONDS (one hour): no worker is running for exports;
- bundles past `expiresAt` are deleted: READY → EXPIRED; a DELIVERED job keeps its state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from .models import RUNNING_STATES, ExportJob, State
from .services.jobs import NOT_RUN_AFTER, job_fail
from .services.machinery import LostJob, entry_add, event_for, job_change
from .storage import bundle_delete, work_dirs_remove

log = logging.getLogger("dsar.exports")

UNHELD = ("", "queued")


@dataclass
class SweepResult:
    not_run: int = 0
    taken_over: int = 0
    stalled: int = 0
    requeued: int = 0
    unclaimed: int = 0
    expired: int = 0
    deleted: int = 0


def sweep_exports(*, now: datetime) -> SweepResult:
    result = SweepResult()
    for job_id in ExportJob.objects.filter(
        state=State.REQUESTED, created_at__lte=now - NOT_RUN_AFTER
    ).values_list("pk", flat=True):
        if job_fail(
            job_id=job_id, message="Not run within 24 hours of being requested.", worker_id=None, now=now
        ):
            result.not_run += 1
    stale_before = now - timedelta(seconds=settings.DSAR_EXPORT_STALE_SECONDS)
    stale = ExportJob.objects.filter(state__in=RUNNING_STATES, last_heartbeat_at__lt=stale_before)
    for job_id, worker_id, takeovers in stale.exclude(worker_id__in=UNHELD).values_list(
        "pk", "worker_id", "takeovers"
    ):
        if takeovers == 0:
            result.taken_over += _take_over(job_id, worker_id, now=now)
        else:
            failed = job_fail(
                job_id=job_id,
                message=f"The worker {worker_id} stopped heartbeating after a takeover; the job was failed.",
                worker_id=worker_id,
                now=now,
            )
            if failed:
                work_dirs_remove(job_id=job_id)
                result.stalled += 1
    waited_too_long = now - timedelta(seconds=settings.DSAR_EXPORT_QUEUE_TIMEOUT_SECONDS)
    minutes = settings.DSAR_EXPORT_QUEUE_TIMEOUT_SECONDS // 60
    for job_id, holder in ExportJob.objects.filter(
        state__in=RUNNING_STATES, worker_id__in=UNHELD, waiting_since__lt=waited_too_long
    ).values_list("pk", "worker_id"):
        # Fenced by the "no one holds it" value read here: a worker that claims it meanwhile keeps it.
        if job_fail(
            job_id=job_id,
            message=(
                f"No export worker took the job within {minutes} minutes: check that a background worker "
                "is running (with Celery, one that consumes the `exports` queue)."
            ),
            worker_id=holder,
            now=now,
        ):
            result.unclaimed += 1
    result.requeued = stale.filter(worker_id="queued").update(
        worker_id="", last_heartbeat_at=now, updated_at=now
    )
    result.expired, result.deleted = _expire_bundles(now=now)
    return result


def _take_over(job_id: str, worker_id: str, *, now: datetime) -> int:
    def restart(job: ExportJob) -> None:
        job.restart()
        job.worker_id = ""
        job.takeovers += 1
        job.waiting_since = now
        job.rows_collected = 0
        job.bytes_packaged = 0
        job.last_heartbeat_at = now

    try:
        job_change(
            job_id=job_id,
            now=now,
            actor="system",
            action="take-over",
            notes=f"The worker {worker_id} stopped heartbeating; another worker starts the job again.",
            apply=restart,
            worker_id=worker_id,
        )
    except LostJob:
        return 0
    work_dirs_remove(job_id=job_id)
    return 1


def _expire_bundles(*, now: datetime) -> tuple[int, int]:
    expired = deleted = 0
    due = ExportJob.objects.filter(
        state__in=(State.READY, State.DELIVERED), bundle_deleted_at__isnull=True, expires_at__lte=now
    ).values_list("pk", "bundle_key")
    for job_id, key in due:
        # The blob goes first: if the commit below fails, the next sweep deletes nothing and tries again.
        bundle_delete(key)
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            if job.bundle_deleted_at is not None:
                continue
            before = job.state
            job.bundle_deleted_at = now
            job.updated_at = now
            if job.state == State.READY:
                job.expire()
                expired += 1
            job.save()
            entry_add(
                job,
                at=now,
                actor="system",
                action="expire",
                notes="The bundle expired and was deleted.",
                from_state=before,
            )
            if before == State.READY:
                event_for(job, "export.expired", now=now)
            deleted += 1
    return expired, deleted
