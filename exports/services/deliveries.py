"""Delivery of a bundle to the data subject through the portal (api-contract.md, "Delivery to the subject").

When a job linked to a request becomes READY and its `notify` is on, `delivery_offer` (inside the READY
transaction) creates a `SubjectDelivery` and queues the DELIVERY_READY message whose link is
`/s/d/{deliveryId}?t=<token>`. The token is `secret_token(seed)`: the seed lives on the queued message
alone (the mailer derives the token into the mail it sends, then erases the seed); the delivery keeps only
`keyed_hash("dlv-token", token)`. Nothing here ever writes or logs the token or a code.

The portal page (GET, `delivery_for_page`) changes nothing. A download (`delivery_download`, the HTML form
and `POST /v1/subject/deliveries/{id}/download` alike) checks the token, the optional e-mailed step-up code
(DSAR_DELIVERY_STEP_UP=email) and hands back the job whose bundle to stream, recorded by `job_downloaded`
(`downloadedBy: "subject"`). Every refusal of the link itself — unknown id, wrong token, another delivery's
token, revoked, expired — is the same 401 with the same words (`BAD_LINK`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import ratelimit
from core.api import ApiError, InvalidTransition, RateLimited
from core.subject_secrets import (
    SECRET_MARK,
    keyed_hash,
    keyed_hash_matches,
    new_seed,
    normalise_code,
    secret_code,
    secret_token,
)

from ..models import DeliveryStatus, ExportJob, SubjectDelivery
from ..resources import bundle_available
from ..storage import bundle_open
from .jobs import Unauthenticated, job_downloaded

log = logging.getLogger("dsar.exports")

TOKEN_PURPOSE = "dlv-token"
CODE_PURPOSE = "dlv-code"
MAX_FAILURES = 5
CODE_TTL = timedelta(minutes=15)
CODE_EVERY = timedelta(seconds=60)
# Anonymous calls per delivery (a leaked link cannot be used to hammer the storage or guess codes).
DELIVERY_RATE = "30/min"
MAX_TOKEN_LENGTH = 128
MAX_ID_LENGTH = 40
# One answer for every refusal of the link itself: nothing tells a guesser which part was wrong.
BAD_LINK = "This download link is not valid: it may be mistyped, expired or withdrawn."


class WrongCode(ApiError):
    """The link is good but the step-up code is wrong, or no code works now (none sent, or expired): 401,
    with how many attempts are left (not the link's body: the token was right)."""

    status_code = 401
    code = "unauthenticated"

    def __init__(self, *, left: int, pending: bool):
        attempts = f"{left} attempt{'s' if left != 1 else ''} left"
        if pending:
            message = f"That code is not right ({attempts})."
        else:
            message = (
                "No code works for this link now (none was sent, or it expired): ask for a new one "
                f"({attempts})."
            )
        super().__init__(message)
        self.left, self.pending = left, pending


def step_up_on() -> bool:
    return (settings.DSAR_DELIVERY_STEP_UP or "none").strip().lower() == "email"


# --- the offer ------------------------------------------------------------------------------------------


def delivery_offer(job: ExportJob, *, actor: str, now: datetime) -> dict[str, Any]:
    """In the transaction that makes `job` READY (its row locked): for a job linked to a request, queue the
    DELIVERY_READY message and create the delivery it links to. What the request's `export.ready` entry
    records of it (the message summary, the delivery id); {} when nothing was offered (no request, notify
    off, no address). A message that cannot be rendered (an org template missing an element) offers
    nothing and says so in the entry: the bundle stays READY for the officer."""
    if job.request_id is None:
        return {}
    from correspondence.context import ActionValues
    from correspondence.models import MessageStatus
    from correspondence.notices import Notify, message_queue, message_summary
    from requests_app.models import DataSubjectRequest

    dsr = DataSubjectRequest.objects.select_related("org").get(pk=job.request_id)
    seed = new_seed()
    delivery = SubjectDelivery(
        org_id=job.org_id,
        job=job,
        request=dsr,
        token_lookup=keyed_hash(TOKEN_PURPOSE, secret_token(seed)),
        created_at=now,
        expires_at=job.expires_at or now,
    )
    values = ActionValues(
        link=f"{settings.DSAR_SUBJECT_BASE_URL}/s/d/{delivery.id}?t={SECRET_MARK}",
        bundle_size=job.bundle_size,
        bundle_sha256=job.bundle_sha256,
        expires_at=job.expires_at,
    )
    try:
        with transaction.atomic():
            message = message_queue(
                dsr=dsr,
                kind="DELIVERY_READY",
                notify=Notify(enabled=job.notify),
                values=values,
                actor=actor,
                now=now,
                secret_seed=seed,
                secret_kind="token",
                ref=delivery.id,
            )
    except ApiError as error:
        log.warning("Export %s: the DELIVERY_READY message could not be queued (%s)", job.pk, error.message)
        return {"deliveryProblem": error.message}
    if message is None:
        return {}
    summary = message_summary(message)
    if message.status == MessageStatus.SUPPRESSED:
        return summary  # no address: the token can never reach anyone, so no delivery
    delivery.message_id = message.id
    delivery.save(force_insert=True)
    return {**summary, "deliveryId": delivery.id}


def deliveries_revoke(job: ExportJob, *, now: datetime, reason: str) -> int:
    """Every active delivery of the job stops working (its links were revoked). In the caller's
    transaction."""
    return SubjectDelivery.objects.filter(job=job, status=DeliveryStatus.ACTIVE).update(
        status=DeliveryStatus.REVOKED, revoked_at=now, revoked_reason=reason[:200]
    )


# --- the link -------------------------------------------------------------------------------------------


def _refuse() -> Unauthenticated:
    return Unauthenticated(BAD_LINK)


def _usable(delivery_id: object, token: object) -> bool:
    return (
        isinstance(delivery_id, str)
        and 0 < len(delivery_id) <= MAX_ID_LENGTH
        and isinstance(token, str)
        and 0 < len(token) <= MAX_TOKEN_LENGTH
    )


def _check(delivery: SubjectDelivery | None, token: str, *, now: datetime) -> SubjectDelivery:
    """The delivery if `token` is its own and it is still good; the one 401 otherwise."""
    if delivery is None:
        keyed_hash(TOKEN_PURPOSE, token)  # the same work whether the id exists or not
        raise _refuse()
    if not keyed_hash_matches(TOKEN_PURPOSE, token, delivery.token_lookup):
        raise _refuse()
    if delivery.status != DeliveryStatus.ACTIVE or now >= delivery.expires_at:
        raise _refuse()
    job = delivery.job
    if job.expires_at is None or now >= job.expires_at or job.bundle_deleted_at is not None:
        raise _refuse()  # the bundle's time is over: the link with it
    return delivery


def delivery_find(delivery_id: object, token: object, *, now: datetime | None = None) -> SubjectDelivery:
    """The delivery a link names, with its job and org; the one 401 for any bad link. Reads only."""
    now = now or timezone.now()
    if not _usable(delivery_id, token):
        raise _refuse()
    assert isinstance(delivery_id, str) and isinstance(token, str)
    delivery = SubjectDelivery.objects.select_related("job", "org", "request").filter(pk=delivery_id).first()
    return _check(delivery, token, now=now)


@dataclass(frozen=True)
class PageView:
    delivery: SubjectDelivery
    job: ExportJob
    step_up: bool
    code_pending: bool  # a code was sent and still works: the page asks for it


def delivery_for_page(delivery_id: object, token: object, *, now: datetime | None = None) -> PageView:
    """What the portal page shows. Changes nothing (mail scanners open links)."""
    now = now or timezone.now()
    delivery = delivery_find(delivery_id, token, now=now)
    return PageView(
        delivery=delivery,
        job=delivery.job,
        step_up=step_up_on(),
        code_pending=_code_pending(delivery, now=now),
    )


def _code_pending(delivery: SubjectDelivery, *, now: datetime) -> bool:
    return (
        bool(delivery.code_lookup) and delivery.code_expires_at is not None and now < delivery.code_expires_at
    )


# --- the download ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeSent:
    """The step-up code went out: the download needs it (202 `{codeSent: true}`)."""

    delivery: SubjectDelivery
    to_masked: str
    expires_at: datetime


@dataclass(frozen=True)
class Download:
    """The bundle to stream (already recorded as downloaded)."""

    delivery: SubjectDelivery
    job: ExportJob
    handle: IO[bytes]


def delivery_download(
    delivery_id: object, token: object, code: object = None, *, now: datetime | None = None
) -> CodeSent | Download:
    """A download by the subject: the link (401 `BAD_LINK`), the rate per delivery (429), the step-up code
    when DSAR_DELIVERY_STEP_UP=email (none given: send one → CodeSent; wrong: 401, the fifth revokes the
    link), then the bundle (gone from storage: 409), recorded with `job_downloaded` (`subject`)."""
    now = now or timezone.now()
    if not _usable(delivery_id, token):
        raise _refuse()
    assert isinstance(delivery_id, str) and isinstance(token, str)
    decision = ratelimit.hit(f"subject-delivery:{delivery_id}", ratelimit.Rate.parse(DELIVERY_RATE))
    if not decision.allowed:
        raise RateLimited("Too many attempts on this download link.", retry_after=decision.retry_after)
    delivery = delivery_find(delivery_id, token, now=now)
    if not bundle_available(delivery.job, now=now):
        raise _refuse()
    if step_up_on():
        if code is None or code == "":
            return _code_send(delivery, now=now)
        _code_check(delivery, code, now=now)
    job = delivery.job
    try:
        handle = bundle_open(job.bundle_key)
    except FileNotFoundError:
        raise InvalidTransition("The bundle is no longer in storage.", allowed=[]) from None
    try:
        with transaction.atomic():
            job = job_downloaded(job=job, downloaded_by="subject", actor=f"subject:{delivery.pk}", now=now)
            # The job is locked now, and revoking its links locks it too: a delivery revoked since it was
            # read updates no row here, and the download is undone.
            counted = SubjectDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.ACTIVE).update(
                downloads=F("downloads") + 1,
                first_downloaded_at=Coalesce(F("first_downloaded_at"), Value(now)),
                last_downloaded_at=now,
            )
            if counted != 1:
                raise _refuse()
    except BaseException:
        handle.close()
        raise
    return Download(delivery=delivery, job=job, handle=handle)


def _code_send(delivery: SubjectDelivery, *, now: datetime) -> CodeSent:
    """Send a new step-up code (at most one a minute; it replaces the one before)."""
    from correspondence.context import ActionValues
    from correspondence.notices import message_queue

    with transaction.atomic():
        locked = (
            SubjectDelivery.objects.select_for_update().select_related("request__org").get(pk=delivery.pk)
        )
        if locked.status != DeliveryStatus.ACTIVE:
            raise _refuse()
        if locked.code_sent_at is not None and now < locked.code_sent_at + CODE_EVERY:
            wait = int((locked.code_sent_at + CODE_EVERY - now).total_seconds()) + 1
            raise RateLimited("A code was sent less than a minute ago; check your mailbox.", retry_after=wait)
        seed = new_seed()
        expires_at = now + CODE_TTL
        message = message_queue(
            dsr=locked.request,
            kind="VERIFICATION_CODE",
            notify=None,
            always=True,
            values=ActionValues(code=SECRET_MARK, expires_at=expires_at),
            actor=f"subject:{locked.pk}",
            now=now,
            secret_seed=seed,
            secret_kind="code",
            ref=locked.pk,
        )
        assert message is not None  # always=True
        locked.code_lookup = keyed_hash(CODE_PURPOSE, secret_code(seed))
        locked.code_sent_at = now
        locked.code_expires_at = expires_at
        locked.codes_sent += 1
        locked.save(update_fields=["code_lookup", "code_sent_at", "code_expires_at", "codes_sent"])
    return CodeSent(delivery=locked, to_masked=message.to_masked, expires_at=expires_at)


def _code_check(delivery: SubjectDelivery, raw: object, *, now: datetime) -> None:
    """The code is right (it is used up: the next download needs a new one), or a 401 — the fifth wrong
    code revokes the link (and the request's timeline says so). Counted under the delivery's lock, so
    concurrent guesses cannot get past five."""
    from requests_app.services import request_record

    code = normalise_code(raw)
    revoked = False
    with transaction.atomic():
        locked = SubjectDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != DeliveryStatus.ACTIVE:
            raise _refuse()
        pending = _code_pending(locked, now=now)
        if pending and code is not None and keyed_hash_matches(CODE_PURPOSE, code, locked.code_lookup):
            locked.code_lookup = ""
            locked.code_expires_at = None
            locked.save(update_fields=["code_lookup", "code_expires_at"])
            return
        locked.failures += 1
        fields = ["failures"]
        if locked.failures >= MAX_FAILURES:
            revoked = True
            locked.status = DeliveryStatus.REVOKED
            locked.revoked_at = now
            locked.revoked_reason = f"{MAX_FAILURES} wrong codes."
            locked.code_lookup = ""
            locked.code_expires_at = None
            fields += ["status", "revoked_at", "revoked_reason", "code_lookup", "code_expires_at"]
        locked.save(update_fields=fields)
        if revoked:
            request_record(
                request_id=locked.request_id,
                action="export.delivery_revoked",
                actor=f"subject:{locked.pk}",
                notes=f"Delivery {locked.pk} of export {locked.job_id} revoked: {MAX_FAILURES} wrong codes.",
                data={"jobId": locked.job_id, "deliveryId": locked.pk, "reason": "wrong codes"},
                now=now,
            )
    if revoked:
        raise _refuse()
    raise WrongCode(left=MAX_FAILURES - locked.failures, pending=pending)
