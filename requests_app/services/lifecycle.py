"""The lifecycle actions on an open request: each one a `step` run by `machinery.request_action`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import clocks
from core.api import ValidationFailed
from core.models import Org
from correspondence.context import ActionValues
from correspondence.notices import Notify

from ..clock import clock_events, pack_for
from ..guards import check_closure_input, check_refusal_input, check_refusal_reason, invalid_action
from ..models import DataSubjectRequest, OutcomeKind, TimelineEntry, VerificationStatus
from .machinery import ActionResult, Change, request_action
from .subject_notice import Notice, subject_notice


def request_acknowledge(
    *,
    org: Org,
    request_id: str,
    actor: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.acknowledge()
        return Change(event_type="request.acknowledged", clock_event=clocks.EventKind.ACKNOWLEDGED)

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="acknowledge",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=subject_notice("ACKNOWLEDGEMENT", notify, actor=actor, values=ActionValues()),
    )


def request_clarification_request(
    *,
    org: Org,
    request_id: str,
    actor: str,
    message: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.request_clarification()
        return Change(
            event_type="request.clarification_requested",
            fields=["status_before_clarification"],
            clock_event=clocks.EventKind.CLARIFICATION_REQUESTED,
            data={"message": message},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="clarification.request",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=subject_notice(
            "CLARIFICATION", notify, actor=actor, values=ActionValues(clarification=message)
        ),
    )


def request_clarification_receive(
    *,
    org: Org,
    request_id: str,
    actor: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.receive_clarification()
        return Change(
            event_type="request.clarification_received",
            fields=["status_before_clarification"],
            clock_event=clocks.EventKind.CLARIFICATION_RECEIVED,
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="clarification.receive",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
    )


def request_extend(
    *,
    org: Org,
    request_id: str,
    actor: str,
    reason: str,
    amount: int | None = None,
    unit: clocks.Unit | None = None,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        pack = pack_for(dsr)
        # The rule table judged "extendable now"; the amount asked for and `occurredAt` are judged here.
        # No amount: whatever is left of the pack's maximum (all of it, the first time).
        check = clocks.check_extension(
            pack,
            received_at=dsr.intake_received_at,
            request_types=dsr.request_types,
            events=clock_events(entries),
            at=at,
            amount=amount,
            unit=unit,
            timezone=dsr.org.timezone_override or None,
        )
        if not check.allowed:
            raise invalid_action(dsr, "extend", check.reason)
        return Change(
            event_type="request.extended",
            clock_event=clocks.EventKind.EXTENSION,
            clock_data={"amount": check.amount, "unit": str(check.unit), "reason": reason, "by": actor},
            data={"reason": reason, "dueDateBefore": dsr.clock_due_date.isoformat()},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="extend",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=subject_notice("EXTENSION", notify, actor=actor, values=ActionValues(reasons=reason)),
    )


def request_refuse(
    *,
    org: Org,
    request_id: str,
    actor: str,
    reason: str = "",
    message: str = "",
    rationale: str = "",
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> ActionResult:
    """`message` is what the requestor is told; `reason` and `rationale` are the record; `notes` internal.
    The letter's reasons are `reason` (else `message`); with both, `message` follows as the officer's own
    words."""
    check_refusal_input(reason=reason, message=message, rationale=rationale)

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        check_refusal_reason(pack_for(dsr), reason=reason)
        dsr.refuse(
            {
                "kind": OutcomeKind.REFUSED,
                "reason": reason or None,
                "message": message or None,
                "rationale": rationale or None,
                "at": at.isoformat(),
            }
        )
        return Change(
            event_type="request.refused",
            fields=["outcome"],
            clock_event=clocks.EventKind.STOPPED,
            clock_data={"reason": "REFUSED"},
            data={"reason": reason, "message": message, "rationale": rationale},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="refuse",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=subject_notice(
            "REFUSAL",
            notify,
            actor=actor,
            values=ActionValues(reasons=reason or message, extra_text=message if reason else ""),
        ),
    )


def request_close(
    *,
    org: Org,
    request_id: str,
    actor: str,
    outcome: str,
    message: str = "",
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> ActionResult:
    """`message` is what the requestor is told (kept in the outcome); `notes` stay internal (the timeline)."""
    check_closure_input(outcome=outcome)

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.close(
            {
                "kind": outcome,
                "reason": None,
                "message": message or None,
                "rationale": None,
                "at": at.isoformat(),
            }
        )
        return Change(
            event_type="request.closed",
            fields=["outcome"],
            clock_event=clocks.EventKind.STOPPED,
            clock_data={"reason": "CLOSED"},
            data={"outcome": outcome, "message": message},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="close",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=subject_notice(
            "CLOSURE", notify, actor=actor, values=ActionValues(outcome=outcome, extra_text=message)
        ),
    )


def request_requestor_set(
    *,
    org: Org,
    request_id: str,
    actor: str,
    requestor: dict[str, Any],
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        previous = dsr.requestor
        dsr.requestor = requestor
        dsr.requestor_name = requestor.get("name") or ""
        dsr.requestor_email = requestor.get("email") or ""
        return Change(
            event_type="request.requestor_changed",
            fields=["requestor", "requestor_name", "requestor_email"],
            data={"previous": previous, "requestor": requestor},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="requestor.set",
        step=step,
        occurred_at=occurred_at,
        now=now,
    )


def request_verification_request(
    *,
    org: Org,
    request_id: str,
    actor: str,
    method: str = "",
    fraud_suspected: bool = False,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notice: Notice | None = None,
) -> ActionResult:
    """`fraud_suspected`: the request cannot be authenticated and fraud is suspected; the pack decides
    whether that suspends the clock (it does under Utah's law, and under no other pack today). `notice`:
    what else happens in the action's transaction (a verification challenge and its message)."""

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.verification_status = VerificationStatus.REQUESTED
        dsr.verification_method = method
        dsr.verification_requested_at = at
        dsr.verification_received_at = None
        return Change(
            event_type="request.verification_requested",
            fields=[
                "verification_status",
                "verification_method",
                "verification_requested_at",
                "verification_received_at",
            ],
            clock_event=clocks.EventKind.VERIFICATION_REQUESTED,
            clock_data={"fraudSuspected": True} if fraud_suspected else {},
            data={"method": method, **({"fraudSuspected": True} if fraud_suspected else {})},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="verification.request",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=notice,
    )


def request_verification_receive(
    *,
    org: Org,
    request_id: str,
    actor: str,
    method: str = "",
    checked: list[dict[str, Any]] | None = None,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    notice: Notice | None = None,
) -> ActionResult:
    """`method`: how the identity was verified (MANUAL, KNOWN_FACTS, ..., or the challenge's method);
    `checked`: what was checked (`[{kind, matched}]`), never a document. `notice`: what else happens in the
    action's transaction (the pending challenge is ended)."""

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.verification_status = VerificationStatus.RECEIVED
        dsr.verification_received_at = at
        fields = ["verification_status", "verification_received_at"]
        if method:
            dsr.verification_method = method
            fields.append("verification_method")
        data: dict[str, Any] = {"method": method} if method else {}
        if checked is not None:
            data["checked"] = checked
        return Change(
            event_type="request.verification_received",
            fields=fields,
            clock_event=clocks.EventKind.VERIFICATION_RECEIVED,
            data=data,
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="verification.receive",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
        notice=notice,
    )


def request_types_set(
    *,
    org: Org,
    request_id: str,
    actor: str,
    request_types: list[str],
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """Correct inferred or mistaken request types: every per-type deadline is recomputed from receipt."""
    types = _canonical_types(request_types)

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        previous = list(dsr.request_types)
        dsr.request_types = types
        dsr.request_types_inferred = False
        return Change(
            event_type="request.types_changed",
            fields=["request_types", "request_types_inferred"],
            data={
                "previous": previous,
                "requestTypes": types,
                "dueDateBefore": dsr.clock_due_date.isoformat(),
            },
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="types.set",
        step=step,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
    )


def _canonical_types(request_types: list[str]) -> list[str]:
    unknown = [t for t in request_types if t not in clocks.REQUEST_TYPES]
    if unknown:
        raise ValidationFailed.field(
            "requestTypes",
            f"Unknown request type(s) {', '.join(map(repr, unknown))}; expected "
            f"{', '.join(clocks.REQUEST_TYPES)}.",
        )
    if not request_types:
        raise ValidationFailed.field("requestTypes", "At least one request type is required.")
    return sorted(set(request_types), key=clocks.REQUEST_TYPES.index)
