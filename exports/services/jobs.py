"""Export jobs: create, run, download, revoke links. Views, admin actions, tasks and sweeps all call these.

Guards have one source each: `RUNNABLE` for run, `DOWNLOADABLE` (resources) for download, the active cap
in `job_create`. A refused action raises the contract's error (409, 429, 404, 401) for every caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import wakeup
from core.api import ApiError, InvalidTransition, NotFound, RateLimited, ValidationFailed
from core.models import Org

from ..models import ACTIVE_STATES, FORMAT_VALUES, ExportJob, State
from ..resources import bundle_available
from ..tokens import TokenRefused, token_read
from .machinery import LostJob, entry_add, event_for, heartbeat, job_change, new_worker_id
from .substrates import substrate_keys_enabled

NOT_RUN_AFTER = timedelta(hours=24)


class Unauthenticated(ApiError):
    status_code = 401
    code = "unauthenticated"


@dataclass(frozen=True)
class Created:
    job: ExportJob
    active_limit: int


def _allowed_now(job: ExportJob) -> list[str]:
    allowed = ["revoke-link"]
    if job.state == State.REQUESTED:
        allowed.append("run")
    if job.state in (State.READY, State.DELIVERED):
        allowed.append("download")
    return allowed


def job_get(*, org: Org, job_id: str) -> ExportJob:
    try:
        return ExportJob.objects.get(org=org, pk=job_id)
    except ExportJob.DoesNotExist:
        raise NotFound("No such export job in this organisation.") from None


def _identities_from_request(org: Org, request_id: str) -> tuple[Any, dict[str, str]]:
    from requests_app.models import DataSubjectRequest

    try:
        dsr = DataSubjectRequest.objects.get(org=org, pk=request_id)
    except DataSubjectRequest.DoesNotExist:
        raise ValidationFailed.field("requestId", "No such request in this organisation.") from None
    found: dict[str, str] = {}
    email = (dsr.requestor_email or "").strip()
    contact = (dsr.contact or "").strip()
    if email:
        found["email"] = email
    if contact:
        if "@" in contact:
            found.setdefault("email", contact)
        elif sum(c.isdigit() for c in contact) >= 6:
            found["phone"] = contact
    return dsr, found


def job_create(
    *,
    org: Org,
    actor: str,
    scope: dict[str, Any],
    format: str | None = None,
    requested_by: str | None = None,
    request_notes: str | None = None,
    request_id: str | None = None,
    notify: bool | None = None,
    now: datetime | None = None,
) -> Created:
    """A new job in REQUESTED. `scope` is the API's (validated shape); its substrates are checked here
    against the org's enabled ones. Over the active cap → 429, checked and inserted under the org's lock.
    `notify` (None: the org's `notify_subject`): tell a linked request's subject when the bundle is ready."""
    now = now or timezone.now()
    scope = dict(scope)
    enabled = substrate_keys_enabled(org)
    wanted = scope.get("substrates") or []
    problems = [
        {"field": f"scope.substrates.{i}", "message": f"No enabled substrate {key!r} in this organisation."}
        for i, key in enumerate(wanted)
        if key not in enabled
    ]
    if problems:
        raise ValidationFailed("Unknown or disabled substrate.", details=problems)
    notes: list[str] = []
    dsr = None
    if request_id is not None:
        dsr, found = _identities_from_request(org, request_id)
        identities = dict(scope.get("subjectIdentities") or {})
        filled = {k: v for k, v in found.items() if not identities.get(k)}
        if filled:
            identities.update(filled)
            scope["subjectIdentities"] = identities
            notes.append(f"Identities taken from request {request_id}: {', '.join(sorted(filled))}.")
    chosen = (format or "JSON").upper() if isinstance(format, str) else "JSON"
    fallback = ""
    if format is not None and chosen not in FORMAT_VALUES:
        fallback, chosen = format[:100], "JSON"
        notes.append(f"Format {fallback!r} is not one of JSON, CSV, NDJSON, PARQUET: JSON is used.")
    limit = settings.DSAR_EXPORT_ACTIVE_LIMIT
    with transaction.atomic():
        Org.objects.select_for_update().filter(pk=org.pk).first()  # the cap's lock: one create at a time
        active = ExportJob.objects.filter(org=org, state__in=ACTIVE_STATES).count()
        if active >= limit:
            raise RateLimited(
                f"This organisation already has {active} active export jobs (the limit is {limit}); "
                "run or wait for one to finish.",
                retry_after=60,
            )
        job = ExportJob(
            org=org,
            format=chosen,
            format_requested=fallback,
            scope=scope,
            requested_by=requested_by or actor.partition(":")[2] or actor,
            request_notes=request_notes,
            request=dsr,
            notify=org.notify_subject if notify is None else bool(notify),
            created_at=now,
            updated_at=now,
        )
        job.save(force_insert=True)
        entry_add(
            job,
            at=now,
            actor=actor,
            action="request",
            notes=" ".join(["Export requested.", *notes]),
        )
        event_for(job, "export.requested", now=now)
    return Created(job=job, active_limit=limit)


@dataclass
class RunOutcome:
    job: ExportJob
    finished: bool  # True: the job reached its end state in this call (the API answers 200)
    notes: list[str] = field(default_factory=list)


def job_run(*, org: Org, job_id: str, actor: str, now: datetime | None = None) -> RunOutcome:
    """REQUESTED → COLLECTING, claimed by this call (of two concurrent runs exactly one wins; the other gets
    409). Then count what the sources hold: at most DSAR_EXPORT_INLINE_ROWS → finish here; more, or a
    source that cannot count → hand the job to the background worker."""
    from ..pipeline import job_count, job_execute

    now = now or timezone.now()
    worker = new_worker_id("api")
    job = job_get(org=org, job_id=job_id)
    if job.state != State.REQUESTED:
        raise InvalidTransition(
            f"The job is {job.state}; only a REQUESTED job can run.", allowed=_allowed_now(job)
        )

    def claim(j: ExportJob) -> None:
        if j.state != State.REQUESTED:
            raise InvalidTransition(
                f"The job is {j.state}; only a REQUESTED job can run.", allowed=_allowed_now(j)
            )
        j.collect()
        j.worker_id = worker
        j.last_heartbeat_at = now

    job = job_change(
        job_id=job.pk, now=now, actor=actor, action="run", notes="Collection started.", apply=claim
    )
    try:
        expected = job_count(job, worker_id=worker)
    except LostJob:  # a source failed (the job is FAILED now), or another worker holds it
        job = ExportJob.objects.get(pk=job.pk)
        return RunOutcome(job=job, finished=job.state not in ACTIVE_STATES)
    if expected is not None and expected <= settings.DSAR_EXPORT_INLINE_ROWS:
        job_execute(job.pk, worker_id=worker)
        return RunOutcome(job=ExportJob.objects.get(pk=job.pk), finished=True)
    job_hand_off(job_id=job.pk, worker_id=worker, expected=expected)
    job.refresh_from_db()
    return RunOutcome(job=job, finished=job.state not in ACTIVE_STATES)


def job_hand_off(*, job_id: str, worker_id: str, expected: int | None) -> None:
    """Give a running job to the background worker (worker id ""): it claims it with `job_claim`."""
    now = timezone.now()
    reason = (
        f"{expected:,} rows expected: finishing in the background."
        if expected is not None
        else "A source cannot count its rows in advance: finishing in the background."
    )
    try:
        job_change(
            job_id=job_id,
            now=now,
            actor="system",
            action="hand-off",
            notes=reason,
            worker_id=worker_id,
            apply=_wait_for_a_worker,
        )
    except LostJob:
        return
    transaction.on_commit(wakeup.work_waiting)


def _wait_for_a_worker(job: ExportJob) -> None:
    job.worker_id = ""
    job.waiting_since = timezone.now()


def job_claim(*, job_id: str, worker_id: str, now: datetime | None = None) -> bool:
    """A background worker takes an unheld running job: one conditional UPDATE, so one worker wins."""
    now = now or timezone.now()
    return (
        ExportJob.objects.filter(pk=job_id, worker_id__in=("", "queued"), state=State.COLLECTING).update(
            worker_id=worker_id, last_heartbeat_at=now, updated_at=now, waiting_since=None
        )
        == 1
    )


def job_fail(
    *, job_id: str, message: str, worker_id: str | None, now: datetime | None = None, actor: str = "system"
) -> ExportJob | None:
    """→ FAILED with `failure`; fenced by `worker_id` when a worker reports it. None if it lost the job."""
    now = now or timezone.now()

    def apply(job: ExportJob) -> None:
        failing_worker = worker_id or job.worker_id
        job.fail()
        job.failure_message = message
        job.failed_at = now
        job.failure_worker_id = failing_worker
        job.worker_id = ""

    try:
        return job_change(
            job_id=job_id,
            now=now,
            actor=actor,
            action="fail",
            notes=message,
            apply=apply,
            worker_id=worker_id,
            event_type="export.failed",
        )
    except LostJob:
        return None


# --- delivery -------------------------------------------------------------------------------------------


def job_for_download(
    *, job_id: str, org: Org | None, token: str | None, now: datetime | None = None
) -> ExportJob:
    """The job whose bundle may be served: to a key of its org (`org`), or to a valid `token` alone.
    A bad, tampered, expired or revoked token → 401 whatever the job; no bundle now → 409."""
    now = now or timezone.now()
    if org is None:
        try:
            org_id, nonce = token_read(token or "", job_id=job_id, now=now)
        except TokenRefused:
            raise Unauthenticated("This download link is not valid (tampered, expired or revoked).") from None
        job = ExportJob.objects.filter(pk=job_id, org_id=org_id).first()
        if job is None or job.link_nonce != nonce:
            raise Unauthenticated("This download link is not valid (tampered, expired or revoked).")
        if job.expires_at is not None and now >= job.expires_at:
            raise Unauthenticated("This download link has expired.")
    else:
        job = job_get(org=org, job_id=job_id)
    if not bundle_available(job, now=now):
        if job.state in (State.READY, State.DELIVERED):
            raise InvalidTransition("The bundle has expired and was deleted.", allowed=[])
        raise InvalidTransition(
            f"The job is {job.state}: there is no bundle to download.", allowed=_allowed_now(job)
        )
    return job


def job_downloaded(
    *, job: ExportJob, downloaded_by: str, actor: str | None = None, now: datetime | None = None
) -> ExportJob:
    """Record a download: the first moves READY → DELIVERED (its event, and the linked request's timeline);
    later ones are logged on the job's timeline. Decided under the job's lock, so two first downloads at
    once deliver it once. `actor`: who the timelines name, when more precise than `downloaded_by` (the
    subject's delivery, `subject:<deliveryId>`)."""
    from requests_app.services import request_record

    now = now or timezone.now()
    actor = actor or _actor_for(downloaded_by)
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=job.pk)
        if locked.state != State.READY:
            entry_add(
                locked, at=now, actor=actor, action="download", notes=f"Downloaded again by {downloaded_by}."
            )
            return locked
        locked.deliver()
        locked.downloaded_at = now
        locked.downloaded_by = downloaded_by
        locked.updated_at = now
        locked.save()
        entry_add(
            locked,
            at=now,
            actor=actor,
            action="deliver",
            notes=f"Bundle downloaded by {downloaded_by}: delivered.",
            from_state=State.READY,
        )
        event_for(locked, "export.delivered", now=now)
        if locked.request_id:
            request_record(
                request_id=locked.request_id,
                action="export.delivered",
                actor=actor,
                notes=f"Export {locked.pk} delivered (downloaded by {downloaded_by}).",
                data={"jobId": locked.pk},
                now=now,
            )
    return locked


def _actor_for(downloaded_by: str) -> str:
    """`downloadedBy` is a key's id, `link`, `subject` (the portal) or `user:<name>` (an officer in the
    admin)."""
    if downloaded_by in ("link", "subject") or downloaded_by.startswith(("user:", "subject:")):
        return downloaded_by
    return f"apikey:{downloaded_by}"


def job_revoke_link(*, org: Org, job_id: str, actor: str, now: datetime | None = None) -> ExportJob:
    """Every bundleUrl issued so far stops working: the job draws a new link nonce. The subject's portal
    links (deliveries) are revoked with them."""
    from ..models import _nonce
    from .deliveries import deliveries_revoke

    now = now or timezone.now()
    job = job_get(org=org, job_id=job_id)

    def rotate(j: ExportJob) -> None:
        j.link_nonce = _nonce()
        deliveries_revoke(j, now=now, reason=f"Download links revoked by {actor}.")

    return job_change(
        job_id=job.pk,
        now=now,
        actor=actor,
        action="revoke-link",
        notes="Download links revoked; a new link replaces them.",
        apply=rotate,
    )


__all__ = [
    "Created",
    "LostJob",
    "RunOutcome",
    "Unauthenticated",
    "heartbeat",
    "job_claim",
    "job_create",
    "job_downloaded",
    "job_fail",
    "job_for_download",
    "job_get",
    "job_hand_off",
    "job_revoke_link",
    "job_run",
]
