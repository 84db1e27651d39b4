"""Appeals (US state laws that grant one): a refused or closed request is appealed, then decided.

The appeal has its own clock: the pack's APPEAL period counted from the appeal's receipt. Where the law
grants no appeal, the rule table answers 409 naming the regulator the requestor may complain to.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

import clocks
from core.api import ValidationFailed
from core.models import Org
from correspondence.context import ActionValues
from correspondence.notices import Notify

from ..models import AppealOutcome, DataSubjectRequest, TimelineEntry
from .machinery import ActionResult, Change, request_action
from .subject_notice import subject_notice


def request_appeal(
    *,
    org: Org,
    request_id: str,
    actor: str,
    received_at: datetime,
    channel: str = "",
    raw_text: str = "",
    notes: str = "",
    now: datetime | None = None,
) -> ActionResult:
    """Record an appeal received at `received_at` (its clock starts there; the timeline's `at`)."""

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        appeal = {
            "receivedAt": at.isoformat(),
            "channel": channel or None,
            "rawText": raw_text or None,
            "decision": None,
        }
        dsr.receive_appeal(appeal)
        return Change(
            event_type="request.appeal_received",
            fields=["appeal"],
            clock_event=clocks.EventKind.APPEAL_RECEIVED,
            data={"channel": channel, "rawText": raw_text},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="appeal",
        step=step,
        occurred_at=received_at,
        notes=notes,
        now=now,
        occurred_at_field="receivedAt",
    )


def request_appeal_decide(
    *,
    org: Org,
    request_id: str,
    actor: str,
    outcome: str,
    message: str = "",
    rationale: str = "",
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> ActionResult:
    """Decide an open appeal: UPHELD (the answer stands), REVERSED or PARTIALLY_REVERSED. Terminal."""
    if outcome not in AppealOutcome.values:
        raise ValidationFailed.field("outcome", f"Must be one of {', '.join(AppealOutcome.values)}.")

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        decision = {
            "outcome": outcome,
            "message": message or None,
            "rationale": rationale or None,
            "at": at.isoformat(),
        }
        dsr.decide_appeal(decision)
        return Change(
            event_type="request.appeal_decided",
            fields=["appeal"],
            clock_event=clocks.EventKind.APPEAL_DECIDED,
            clock_data={"outcome": outcome},
            data={"outcome": outcome, "message": message, "rationale": rationale},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="appeal.decide",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now or timezone.now(),
        notice=subject_notice(
            "APPEAL_DECISION",
            notify,
            actor=actor,
            values=ActionValues(outcome=outcome, reasons=message, reason_field="message"),
        ),
    )
