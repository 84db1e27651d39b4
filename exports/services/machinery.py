"""What every change to a job runs through: one transaction that locks the job, checks that the caller
still holds it (a worker's writes are fenced by its worker id), applies the FSM transition, appends the
timeline entry, writes the `export.*` outbox event and, for a job linked to a request, the request's own
timeline entry — or none of it."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from notifications.services import event_emit

from ..models import RUNNING_STATES, ExportJob, ExportJobEntry
from ..resources import job_resource


class LostJob(Exception):
    """This worker no longer holds the job: another took it over, or it ended. Stop without writing."""


def new_worker_id(role: str) -> str:
    """Unique per run attempt: host, process, role and a random suffix."""
    return f"{socket.gethostname()[:40]}/{os.getpid()}/{role}-{secrets.token_hex(3)}"


def entry_add(
    job: ExportJob, *, at: datetime, actor: str, action: str, notes: str, from_state: str = ""
) -> ExportJobEntry:
    """Append to the job's timeline. The caller holds the job's row lock, so `seq` cannot race."""
    last = ExportJobEntry.objects.filter(job=job).aggregate(m=Max("seq"))["m"] or 0
    return ExportJobEntry.objects.create(
        job=job,
        seq=last + 1,
        at=at,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=job.state,
        notes=notes,
    )


def event_for(job: ExportJob, event_type: str, *, now: datetime) -> None:
    # Events carry the job without a bundle URL: a download link is handed out by the API only.
    event_emit(
        org_id=job.org_id,
        request_id=job.request_id,
        type=event_type,
        at=now,
        data={"jobId": job.id, "job": job_resource(job, now=now)},
    )


def job_change(
    *,
    job_id: str,
    now: datetime,
    actor: str,
    action: str,
    notes: str,
    apply: Callable[[ExportJob], None],
    worker_id: str | None = None,
    event_type: str | None = None,
    request_note: tuple[str, str, dict[str, Any]] | None = None,
    then: Callable[[ExportJob], dict[str, Any]] | None = None,
) -> ExportJob:
    """Lock the job; with `worker_id`, refuse (LostJob) unless that worker still holds a running job; run
    `apply` (which calls an FSM transition and sets fields); save; append the entry; emit the event; run
    `then` (what goes with the change, such as the subject's delivery; it returns data for the request's
    entry); and with `request_note` = (action, notes, data) add an entry to the linked request's
    timeline."""
    from requests_app.services import request_record

    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if worker_id is not None and (job.worker_id != worker_id or job.state not in RUNNING_STATES):
            raise LostJob(job_id)
        before = job.state
        apply(job)
        job.updated_at = now
        job.save()
        entry_add(job, at=now, actor=actor, action=action, notes=notes, from_state=before)
        if event_type:
            event_for(job, event_type, now=now)
        extra = then(job) if then is not None else {}
        if request_note and job.request_id:
            note_action, note_text, data = request_note
            data = {**data, **extra}
            request_record(
                request_id=job.request_id,
                action=note_action,
                actor=actor,
                notes=note_text,
                data={"jobId": job.id, **data},
                now=now,
            )
    return job


def heartbeat(*, job_id: str, worker_id: str, now: datetime, **progress: Any) -> None:
    """Record progress outside any collection transaction; LostJob if this worker no longer holds it."""
    held = ExportJob.objects.filter(pk=job_id, worker_id=worker_id, state__in=RUNNING_STATES).update(
        last_heartbeat_at=now, updated_at=now, **progress
    )
    if held != 1:
        raise LostJob(job_id)
