"""Identity verification: challenges sent to the data subject, and the subject's answer.

- `challenge_create` (officer): with the request's row locked, refuse a request that is not open (409
  `invalid_transition`), one with a pending challenge (409 `conflict`) and one whose types need no
  verification (409 `invalid_transition`, with the pack's citation); then run the `verification/request`
  step, whose notice writes the challenge and queues its message in the step's transaction. When identity
  information is already awaited (an earlier challenge expired, or it was asked another way), the step is
  not run again — the clock must not move twice — and a `verification.challenge` entry is recorded instead.
- `challenge_resend` (officer): a new secret (the previous one stops working) in a new message; at most
  MAX_SENDS sends per challenge, one per RESEND_EVERY (429 otherwise).
- `subject_verify` (no key): a code with its challenge id, or a link's token. Every refusal is the same
  `VerificationFailed` (401, one message). A right answer runs the `verification/receive` step exactly once:
  the conditional UPDATE `… WHERE status = 'PENDING' AND attempts < 5 AND expires_at > now` picks the one
  winner, in the same transaction as the step.
- `challenge_cancel_notice`: the officer's own `verification/receive` ends a pending challenge.

The secret itself is never stored, logged or returned: the challenge keeps its keyed hash, the queued
message its seed (`core.subject_secrets`). Lock order everywhere: the request's row, then the challenge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.api import ApiError, Conflict, InvalidTransition, NotFound, RateLimited, ValidationFailed
from core.models import Org
from core.subject_secrets import (
    SECRET_MARK,
    keyed_hash,
    keyed_hash_matches,
    mask_email,
    new_seed,
    secret_code,
    secret_token,
)
from correspondence.context import ActionValues
from correspondence.models import Message
from correspondence.notices import Notify, message_queue, message_summary, subject_address
from notifications.services import event_emit
from requests_app.clock import pack_for
from requests_app.guards import refuse_unless_allowed
from requests_app.models import OPEN, DataSubjectRequest, TimelineEntry, VerificationStatus
from requests_app.resources import request_resource
from requests_app.services import (
    ActionResult,
    invalid_action,
    request_record,
    request_verification_receive,
    request_verification_request,
)
from requests_app.services.machinery import request_lock
from requests_app.services.subject_notice import Notice

from .models import MAX_ATTEMPTS, MAX_SENDS, ChallengeStatus, Method, VerificationChallenge

CODE_TTL = timedelta(minutes=15)
LINK_TTL = timedelta(hours=72)
RESEND_EVERY = timedelta(seconds=60)
REMINDER_AFTER = timedelta(hours=24)
CODE_PURPOSE = "vch-code"
TOKEN_PURPOSE = "vch-token"
LOOKUP_PURPOSE = "vch-lookup"
SYSTEM_ACTOR = "system:verification"
# The one answer to every refusal of a subject's code or link: nothing tells a guesser which part was wrong.
NOT_VALID = "This code or link is not valid: it may be mistyped, expired, already used or withdrawn."


class VerificationFailed(ApiError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self) -> None:
        super().__init__(NOT_VALID)


@dataclass(frozen=True)
class Issued:
    challenge: VerificationChallenge
    # The `verification/request` step, when it ran; None when identity information was already awaited.
    result: ActionResult | None
    entry: TimelineEntry
    resource: dict[str, Any]
    now: datetime


@dataclass(frozen=True)
class Verified:
    challenge_id: str
    request_ref: str
    org_name: str


def challenge_resource(challenge: VerificationChallenge) -> dict[str, Any]:
    """The challenge as the API and the request's `verification.challenge` show it: never a secret, never
    the address."""
    return {
        "id": challenge.id,
        "method": challenge.method,
        "status": challenge.status,
        "expiresAt": challenge.expires_at.isoformat(),
        "destinationMasked": challenge.destination_masked,
        "attemptsLeft": challenge.attempts_left,
    }


def _show(dsr: DataSubjectRequest, challenge: VerificationChallenge, now: datetime) -> None:
    """Copy the challenge's summary onto the request row (in memory too), in the caller's transaction."""
    dsr.verification_challenge = challenge_resource(challenge)
    dsr.updated_at = max(dsr.updated_at, now) if dsr.updated_at else now
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(
        verification_challenge=dsr.verification_challenge, updated_at=dsr.updated_at
    )


def _refuse_unless_open(dsr: DataSubjectRequest) -> None:
    """The guard table's rule (`requests_app.guards`): the same 409, listing what is allowed now."""
    refuse_unless_allowed(dsr, "verification.challenge")


# --- sending a secret -------------------------------------------------------------------------------------


def _send(
    dsr: DataSubjectRequest, challenge: VerificationChallenge, *, to: str, actor: str, now: datetime
) -> Message:
    """A new secret for the challenge: its keyed hash replaces the previous one (which stops working), its
    seed goes to a newly queued message, and the challenge's lifetime starts again. The caller saves."""
    seed = new_seed()
    if challenge.method == Method.EMAIL_CODE:
        challenge.secret_hash = keyed_hash(CODE_PURPOSE, secret_code(seed))
        challenge.token_lookup = None
        challenge.expires_at = now + CODE_TTL
        kind, secret_kind = "VERIFICATION_CODE", "code"
        values = ActionValues(code=SECRET_MARK, expires_at=challenge.expires_at)
    else:
        token = secret_token(seed)
        challenge.secret_hash = keyed_hash(TOKEN_PURPOSE, token)
        challenge.token_lookup = keyed_hash(LOOKUP_PURPOSE, token)
        challenge.expires_at = now + LINK_TTL
        kind, secret_kind = "VERIFICATION_LINK", "token"
        values = ActionValues(
            link=f"{settings.DSAR_SUBJECT_BASE_URL}/s/verify/{SECRET_MARK}", expires_at=challenge.expires_at
        )
    message = message_queue(
        dsr=dsr,
        kind=kind,
        notify=Notify(locale=challenge.locale or None),
        values=values,
        actor=actor,
        now=now,
        always=True,
        to_address=to,
        secret_seed=seed,
        secret_kind=secret_kind,
        ref=challenge.id,
    )
    assert message is not None  # always=True
    challenge.message_id = message.id
    challenge.last_sent_at = now
    return message


def _destination(dsr: DataSubjectRequest, destination: str, reason: str) -> tuple[str, str]:
    """Where the secret goes, and why there when it is not the request's own address. The refusals never
    name the request's address."""
    own = subject_address(dsr)
    if not destination:
        if not own:
            raise ValidationFailed.field(
                "destination",
                "The request has no e-mail address: give `destination` and `destinationReason`.",
            )
        return own, ""
    if own and destination.strip().casefold() == own.casefold():
        return own, ""
    if not reason.strip():
        raise ValidationFailed.field(
            "destinationReason",
            "Required when `destination` is not the request's own e-mail address: say why the secret goes "
            "there.",
        )
    return destination.strip(), reason.strip()


# --- the officer's actions --------------------------------------------------------------------------------


def challenge_create(
    *,
    org: Org,
    request_id: str,
    actor: str,
    method: str,
    destination: str = "",
    destination_reason: str = "",
    locale: str = "",
    now: datetime | None = None,
) -> Issued:
    now = now or timezone.now()
    with transaction.atomic():
        dsr = request_lock(request_id, org_id=org.pk)
        _refuse_unless_open(dsr)
        pending = VerificationChallenge.objects.filter(request=dsr, status=ChallengeStatus.PENDING).first()
        if pending is not None and pending.open_at(now):
            raise Conflict(
                f"Challenge {pending.id} is still pending for this request: resend it, or wait until it "
                f"expires ({pending.expires_at.isoformat()}).",
                details=[{"field": "method", "message": f"pending: {pending.id}"}],
            )
        if pending is not None:  # past its expiry, not yet swept: it ends now, as the sweep would end it
            _expire(dsr, pending, now)
        pack = pack_for(dsr)
        if not pack.verification_required(dsr.request_types):
            policy = pack.verification_policy
            raise invalid_action(
                dsr,
                "verification.request",
                f"Under {pack.law} a request of these types ({', '.join(dsr.request_types)}) needs no "
                "identity verification" + (f" ({policy.citation})." if policy else "."),
            )
        to, reason = _destination(dsr, destination, destination_reason)
        challenge = VerificationChallenge(
            org_id=dsr.org_id,
            request=dsr,
            method=method,
            destination_masked=mask_email(to),
            destination_reason=reason,
            locale=locale,
            created_at=now,
            created_by=actor,
            last_sent_at=now,
            expires_at=now,
        )

        def issue(target: DataSubjectRequest, at: datetime) -> dict[str, Any]:
            challenge.request = target
            message = _send(target, challenge, to=to, actor=actor, now=at)
            challenge.save(force_insert=True)
            _show(target, challenge, at)
            shown = {"challenge": challenge_resource(challenge), **message_summary(message)}
            return {**shown, "destinationReason": reason} if reason else shown

        if dsr.verification_status == VerificationStatus.REQUESTED:
            # Already asked: a new challenge does not restart or pause the clock a second time.
            data = issue(dsr, now)
            entry = request_record(
                request_id=dsr.pk,
                action="verification.challenge",
                actor=actor,
                notes=f"A new {_noun(method)} was sent to {challenge.destination_masked}.",
                data={"method": method, **data},
                now=now,
            )
            return Issued(
                challenge=challenge,
                result=None,
                entry=entry,
                resource=request_resource(dsr, now=now),
                now=now,
            )
        result = request_verification_request(
            org=org, request_id=dsr.pk, actor=actor, method=method, now=now, notice=issue
        )
        return Issued(
            challenge=challenge, result=result, entry=result.entry, resource=result.resource, now=now
        )


def challenge_resend(
    *, org: Org, request_id: str, challenge_id: str, actor: str, now: datetime | None = None
) -> VerificationChallenge:
    now = now or timezone.now()
    with transaction.atomic():
        dsr = request_lock(request_id, org_id=org.pk)
        challenge = VerificationChallenge.objects.filter(request=dsr, pk=challenge_id).first()
        if challenge is None:
            raise NotFound("No such challenge on this request.")
        _refuse_unless_open(dsr)
        if not challenge.open_at(now):
            status = (
                ChallengeStatus.EXPIRED if challenge.status == ChallengeStatus.PENDING else challenge.status
            )
            raise invalid_action(
                dsr, "verification.request", f"The challenge is {status}: start a new one instead."
            )
        if challenge.sends >= MAX_SENDS:
            raise RateLimited(
                f"This challenge was sent {MAX_SENDS} times, the most allowed; start a new one once it "
                f"expires ({challenge.expires_at.isoformat()}).",
                retry_after=math.ceil((challenge.expires_at - now).total_seconds()),
            )
        wait = (challenge.last_sent_at + RESEND_EVERY - now).total_seconds()
        if wait > 0:
            raise RateLimited("A challenge may be sent again once a minute.", retry_after=math.ceil(wait))
        message = _send(dsr, challenge, to=_address(challenge), actor=actor, now=now)
        challenge.sends += 1
        challenge.save()
        _show(dsr, challenge, now)
        request_record(
            request_id=dsr.pk,
            action="verification.resend",
            actor=actor,
            notes=f"The {_noun(challenge.method)} was sent again to {challenge.destination_masked}; the "
            "previous one no longer works.",
            data={"challenge": challenge_resource(challenge), **message_summary(message)},
            now=now,
        )
    return challenge


def _address(challenge: VerificationChallenge) -> str:
    # The address is kept by the message that carried the first secret, not a second time here.
    return Message.objects.values_list("to_address", flat=True).get(pk=challenge.message_id)


def _noun(method: str) -> str:
    return "code" if method == Method.EMAIL_CODE else "link"


def challenge_cancel_notice() -> Notice:
    """For the officer's `verification/receive`: a pending challenge is no longer needed (CANCELLED)."""

    def cancel(dsr: DataSubjectRequest, now: datetime) -> dict[str, Any]:
        challenge = VerificationChallenge.objects.filter(request=dsr, status=ChallengeStatus.PENDING).first()
        if challenge is None:
            return {}
        _end(dsr, challenge, ChallengeStatus.CANCELLED, now)
        return {"challengeCancelled": challenge.id}

    return cancel


def _end(
    dsr: DataSubjectRequest, challenge: VerificationChallenge, status: ChallengeStatus, now: datetime
) -> bool:
    ended = VerificationChallenge.objects.filter(pk=challenge.pk, status=ChallengeStatus.PENDING).update(
        status=status, ended_at=now
    )
    if ended:
        challenge.status, challenge.ended_at = status, now
        _show(dsr, challenge, now)
    return bool(ended)


# --- the subject's answer ---------------------------------------------------------------------------------


def subject_verify(
    *,
    challenge_id: str | None = None,
    code: str | None = None,
    token: str | None = None,
    now: datetime | None = None,
) -> Verified:
    """A normalised `code` with its `challenge_id`, or a link's `token`. Raises VerificationFailed for a
    wrong, expired, locked, used, cancelled or unknown challenge alike."""
    now = now or timezone.now()
    rows = VerificationChallenge.objects.select_related("org")
    if token is not None:
        purpose, secret = TOKEN_PURPOSE, token
        challenge = rows.filter(token_lookup=keyed_hash(LOOKUP_PURPOSE, token)).first()
    else:
        assert challenge_id is not None and code is not None
        purpose, secret = CODE_PURPOSE, code
        challenge = rows.filter(pk=challenge_id).first()
    if challenge is None:
        keyed_hash(purpose, secret)  # the same work as a comparison
        raise VerificationFailed()
    kind_fits = (challenge.method == Method.EMAIL_CODE) == (token is None)
    right = keyed_hash_matches(purpose, secret, challenge.secret_hash) and kind_fits
    if not challenge.open_at(now):
        raise VerificationFailed()
    if not right:
        if challenge.method == Method.EMAIL_CODE and token is None:
            _count_wrong_code(challenge, now)
        raise VerificationFailed()
    if not _claim(challenge, now):
        raise VerificationFailed()
    return Verified(challenge_id=challenge.id, request_ref=challenge.request_id, org_name=challenge.org.name)


def _claim(challenge: VerificationChallenge, now: datetime) -> bool:
    """The one winner among concurrent right answers: the conditional UPDATE, then the receive step, in one
    transaction. The request's row is locked first, as every other writer locks it."""
    try:
        with transaction.atomic():
            list(
                DataSubjectRequest.objects.select_for_update(of=("self",))
                .filter(pk=challenge.request_id)
                .values_list("pk", flat=True)
            )
            won = VerificationChallenge.objects.filter(
                pk=challenge.pk,
                status=ChallengeStatus.PENDING,
                attempts__lt=MAX_ATTEMPTS,
                expires_at__gt=now,
                secret_hash=challenge.secret_hash,  # a resend in between replaced the secret
            ).update(status=ChallengeStatus.VERIFIED, ended_at=now)
            if won != 1:
                return False
            challenge.status, challenge.ended_at = ChallengeStatus.VERIFIED, now

            def verified(dsr: DataSubjectRequest, at: datetime) -> dict[str, Any]:
                _show(dsr, challenge, at)
                return {"challenge": challenge_resource(challenge)}

            request_verification_receive(
                org=challenge.org,
                request_id=challenge.request_id,
                actor=f"subject:{challenge.id}",
                method=challenge.method,
                now=now,
                notice=verified,
            )
    except InvalidTransition:
        # The request no longer awaits this identity (closed, or verified another way): the challenge ends.
        with transaction.atomic():
            dsr = request_lock(challenge.request_id)
            _end(dsr, challenge, ChallengeStatus.CANCELLED, now)
        return False
    return True


def _count_wrong_code(challenge: VerificationChallenge, now: datetime) -> None:
    """One more wrong code; the fifth locks the challenge (a right code then fails like any other)."""
    with transaction.atomic():
        dsr = request_lock(challenge.request_id)
        counted = VerificationChallenge.objects.filter(
            pk=challenge.pk, status=ChallengeStatus.PENDING, attempts__lt=MAX_ATTEMPTS, expires_at__gt=now
        ).update(attempts=F("attempts") + 1)
        if not counted:
            return
        challenge.refresh_from_db(fields=["attempts", "status"])
        if challenge.attempts >= MAX_ATTEMPTS and _end(dsr, challenge, ChallengeStatus.LOCKED, now):
            request_record(
                request_id=dsr.pk,
                action="verification.locked",
                actor=f"subject:{challenge.id}",
                notes=f"{MAX_ATTEMPTS} wrong codes: the challenge is locked. Start a new one to try again.",
                data={"challenge": challenge_resource(challenge)},
                now=now,
            )
        else:
            _show(dsr, challenge, now)


def challenge_for_page(token: str, *, now: datetime | None = None) -> VerificationChallenge | None:
    """The open link challenge a token leads to, for the confirm page (which changes nothing); None for
    any token that would not verify now."""
    now = now or timezone.now()
    challenge = (
        VerificationChallenge.objects.select_related("org", "request")
        .filter(token_lookup=keyed_hash(LOOKUP_PURPOSE, token))
        .first()
    )
    if challenge is None or not challenge.open_at(now):
        return None
    if not keyed_hash_matches(TOKEN_PURPOSE, token, challenge.secret_hash):
        return None
    return challenge


# --- the sweep's steps ------------------------------------------------------------------------------------


def _expire(dsr: DataSubjectRequest, challenge: VerificationChallenge, now: datetime) -> bool:
    """PENDING past its expiry → EXPIRED, with its event and timeline entry (request row locked)."""
    ended = VerificationChallenge.objects.filter(
        pk=challenge.pk, status=ChallengeStatus.PENDING, expires_at__lte=now
    ).update(status=ChallengeStatus.EXPIRED, ended_at=now)
    if not ended:
        return False
    challenge.status, challenge.ended_at = ChallengeStatus.EXPIRED, now
    _show(dsr, challenge, now)
    shown = challenge_resource(challenge)
    event_emit(
        org_id=dsr.org_id,
        request_id=dsr.pk,
        type="request.verification_expired",
        at=now,
        data={"requestId": dsr.pk, "request": request_resource(dsr, now=now), "challenge": shown},
    )
    request_record(
        request_id=dsr.pk,
        action="verification.expired",
        actor=SYSTEM_ACTOR,
        notes=f"The {_noun(challenge.method)} sent to {challenge.destination_masked} expired unanswered.",
        data={"challenge": shown},
        now=now,
    )
    return True


def challenge_expire(challenge_id: str, *, now: datetime) -> bool:
    with transaction.atomic():
        request_id = (
            VerificationChallenge.objects.filter(pk=challenge_id).values_list("request_id", flat=True).first()
        )
        if request_id is None:
            return False
        dsr = request_lock(request_id)
        challenge = VerificationChallenge.objects.get(pk=challenge_id)
        return _expire(dsr, challenge, now)


def challenge_remind(challenge_id: str, *, now: datetime) -> bool:
    """The one reminder of a link still unanswered REMINDER_AFTER its last send: a new link (the previous
    one stops working), not counted against MAX_SENDS."""
    with transaction.atomic():
        request_id = (
            VerificationChallenge.objects.filter(pk=challenge_id).values_list("request_id", flat=True).first()
        )
        if request_id is None:
            return False
        dsr = request_lock(request_id)
        challenge = VerificationChallenge.objects.filter(
            pk=challenge_id,
            method=Method.EMAIL_LINK,
            status=ChallengeStatus.PENDING,
            reminded_at__isnull=True,
            last_sent_at__lte=now - REMINDER_AFTER,
            expires_at__gt=now,
        ).first()
        if challenge is None or dsr.status not in OPEN:
            return False
        message = _send(dsr, challenge, to=_address(challenge), actor=SYSTEM_ACTOR, now=now)
        challenge.reminded_at = now
        challenge.save()
        _show(dsr, challenge, now)
        request_record(
            request_id=dsr.pk,
            action="verification.reminder",
            actor=SYSTEM_ACTOR,
            notes=f"Reminder: a new link was sent to {challenge.destination_masked}; the previous one no "
            "longer works.",
            data={"challenge": challenge_resource(challenge), **message_summary(message)},
            now=now,
        )
    return True


def request_flag_unverified(request_id: str, *, now: datetime) -> bool:
    """Once per request: still unverified `denyAfterDays` after receipt (CCPA: 45), the request may be
    refused as unverifiable. Records it on the timeline and on the row (`mayRefuseUnverifiedFrom`)."""
    from requests_app.clock import zone

    with transaction.atomic():
        dsr = request_lock(request_id)
        if (
            dsr.verification_status != VerificationStatus.REQUESTED
            or dsr.verification_may_refuse_from is not None
            or dsr.status not in OPEN
        ):
            return False
        pack = pack_for(dsr)
        policy = pack.verification_policy
        if (
            policy is None
            or policy.deny_after_days is None
            or not pack.verification_required(dsr.request_types)
        ):
            return False
        tz = zone(dsr.clock_timezone or pack.timezone)
        received = dsr.intake_received_at.astimezone(tz).date()
        from_day = received + timedelta(days=policy.deny_after_days)
        if now.astimezone(tz).date() < from_day:
            return False
        dsr.verification_may_refuse_from = from_day
        dsr.updated_at = now
        DataSubjectRequest.objects.filter(pk=dsr.pk).update(
            verification_may_refuse_from=from_day, updated_at=now
        )
        request_record(
            request_id=dsr.pk,
            action="verification.overdue",
            actor=SYSTEM_ACTOR,
            notes=f"The identity is still not verified {policy.deny_after_days} days after receipt: under "
            f"{pack.law} the request may be refused as unverifiable ({policy.citation}).",
            data={
                "mayRefuseUnverifiedFrom": from_day.isoformat(),
                "denyAfterDays": policy.deny_after_days,
                "citation": policy.citation,
            },
            now=now,
        )
    return True
