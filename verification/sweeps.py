"""The verification sweep (the background runner calls `sweep_verification` once a minute):

- PENDING challenges past their expiry become EXPIRED: event `request.verification_expired` and a timeline
  entry each;
- a link challenge still pending REMINDER_AFTER (24 h) after its last send gets one reminder: a new link,
  the previous one stops working, not counted against the challenge's send cap;
- a request still unverified `denyAfterDays` after receipt (CCPA: 45) is flagged once as one that may be
  refused as unverifiable (`verification.overdue` on its timeline, `mayRefuseUnverifiedFrom` on the
  resource).

Each step claims its row under the request's lock and re-checks it, so two sweeps at once do each thing once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import clocks
from requests_app.models import OPEN, DataSubjectRequest, VerificationStatus

from .models import ChallengeStatus, Method, VerificationChallenge
from .services import REMINDER_AFTER, challenge_expire, challenge_remind, request_flag_unverified


@dataclass
class VerificationSweep:
    expired: int = 0
    reminded: int = 0
    flagged: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "verificationsExpired": self.expired,
            "verificationsReminded": self.reminded,
            "verificationsFlaggedUnverified": self.flagged,
        }


def sweep_verification(*, now: datetime, batch: int = 500) -> VerificationSweep:
    result = VerificationSweep()
    pending = VerificationChallenge.objects.filter(status=ChallengeStatus.PENDING)
    for challenge_id in (
        pending.filter(expires_at__lte=now).order_by("expires_at").values_list("pk", flat=True)[:batch]
    ):
        result.expired += challenge_expire(challenge_id, now=now)
    due = pending.filter(
        method=Method.EMAIL_LINK,
        reminded_at__isnull=True,
        last_sent_at__lte=now - REMINDER_AFTER,
        expires_at__gt=now,
    )
    for challenge_id in due.order_by("last_sent_at").values_list("pk", flat=True)[:batch]:
        result.reminded += challenge_remind(challenge_id, now=now)
    for request_id in _unverified_candidates(now, batch):
        result.flagged += request_flag_unverified(request_id, now=now)
    return result


def _unverified_candidates(now: datetime, batch: int) -> list[str]:
    """Requests that may have reached their pack's deny-after day (the local day is judged per request)."""
    days = {
        pack.id: pack.verification_policy.deny_after_days
        for pack in clocks.list_packs()
        if pack.verification_policy is not None and pack.verification_policy.deny_after_days is not None
    }
    if not days:
        return []
    # A day's margin for time zones; `request_flag_unverified` decides on the local date.
    received_before = now - timedelta(days=min(days.values()) - 1)
    return list(
        DataSubjectRequest.objects.filter(
            verification_status=VerificationStatus.REQUESTED,
            verification_may_refuse_from__isnull=True,
            status__in=OPEN,
            clock_pack_id__in=list(days),
            intake_received_at__lte=received_before,
        )
        .order_by("intake_received_at")
        .values_list("pk", flat=True)[:batch]
    )
