"""Every write to a request. One transaction each: lock the row, check the action against the request's
state (its `guard`: 409 first), then its timing (`occurredAt`: 400), apply it, recompute the clock, store
the clock columns, append the timeline entry and write the outbox row — or none of it.

Views, admin actions and tasks call these functions; nothing else changes a request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import django_fsm as fsm
from django.db import transaction
from django.utils import timezone

import clocks
from authority.models import AuthorityEvidence
from authority.rules import artifacts_for_storage, authority_input_check, decision_fields
from core.api import InvalidTransition, NotFound, ValidationFailed
from core.ids import new_id
from core.models import Org
from notifications.services import event_emit

from .clock import CLOCK_FIELDS, clock_events, compute_clock, pack_for, store_clock
from .inference import infer_request_types
from .models import OPEN, DataSubjectRequest, Status, TimelineEntry, VerificationStatus
from .resources import request_resource
from .timeline_chain import seal

# Clients' clocks drift; an occurredAt this far ahead of ours is still "now", not the future.
CLOCK_SKEW = timedelta(seconds=5)

ACTIONS = (
    "acknowledge",
    "clarification.request",
    "clarification.receive",
    "extend",
    "refuse",
    "close",
    "requestor.set",
    "verification.request",
    "verification.receive",
    "authority.request",
    "authority.submit",
    "authority.approve",
    "authority.reject",
)


@dataclass
class Change:
    """What one action did, handed back by the action's step to the shared machinery."""

    event_type: str
    fields: list[str] = field(default_factory=list)
    clock_event: clocks.EventKind | None = None
    clock_data: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionResult:
    request: DataSubjectRequest
    action: str
    from_status: str
    to_status: str
    at: datetime
    actor: str
    clock: clocks.ClockResult
    entry: TimelineEntry
    event_ids: list[str]
    now: datetime


def allowed_actions(dsr: DataSubjectRequest) -> list[str]:
    """The actions the request accepts in its current state (what a 409 lists)."""
    if dsr.status not in OPEN:
        return []
    allowed = ["extend", "refuse", "close", "requestor.set", "authority.request", "authority.submit"]
    if fsm.can_proceed(dsr.acknowledge):
        allowed.append("acknowledge")
    if fsm.can_proceed(dsr.request_clarification):
        allowed.append("clarification.request")
    if fsm.can_proceed(dsr.receive_clarification):
        allowed.append("clarification.receive")
    if dsr.verification_status != VerificationStatus.REQUESTED:
        allowed.append("verification.request")
    else:
        allowed.append("verification.receive")
    current = dsr.authority_current
    if current is not None and current.status == "PENDING":
        allowed += ["authority.approve", "authority.reject"]
    return sorted(allowed)


def invalid_action(dsr: DataSubjectRequest, action: str, why: str = "") -> InvalidTransition:
    if dsr.status not in OPEN:
        why = why or f"The request is {dsr.status}; no further action is possible."
    return InvalidTransition(
        why or f"'{action}' is not allowed while the request is {dsr.status}.", allowed=allowed_actions(dsr)
    )


def _occurred_at(
    value: datetime | None, *, now: datetime, latest: datetime, field_name: str = "occurredAt"
) -> datetime:
    if value is None:
        return max(now, latest)
    if timezone.is_naive(value):
        raise ValidationFailed.field(field_name, "Must include a UTC offset.")
    if value > now + CLOCK_SKEW:
        raise ValidationFailed.field(field_name, "May not lie in the future.")
    if value < latest:
        raise ValidationFailed.field(
            field_name, f"May not be before the latest timeline entry ({latest.isoformat()})."
        )
    return value


def _lock(org: Org, request_id: str) -> DataSubjectRequest:
    try:
        return (
            DataSubjectRequest.objects.select_for_update(of=("self",))
            .select_related("org", "authority_current")
            .get(org=org, pk=request_id)
        )
    except DataSubjectRequest.DoesNotExist:
        raise NotFound("No such request in this organisation.") from None


def request_action(
    *,
    org: Org,
    request_id: str,
    actor: str,
    action: str,
    step: Callable[[DataSubjectRequest, datetime, list[TimelineEntry]], Change],
    guard: Callable[[DataSubjectRequest], None] | None = None,
    occurred_at: datetime | None = None,
    notes: str = "",
    now: datetime | None = None,
    pack_override: Callable[[], clocks.PolicyPack] | None = None,
) -> ActionResult:
    """The shared machinery every lifecycle action runs through (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        dsr = _lock(org, request_id)
        entries = list(TimelineEntry.objects.filter(request=dsr).order_by("seq"))
        latest = entries[-1].at if entries else dsr.intake_received_at
        if dsr.status not in OPEN:
            raise invalid_action(dsr, action)
        if guard is not None:
            guard(dsr)  # the action's own state rule: a 409 comes before any judgement of `occurredAt`
        at = _occurred_at(occurred_at, now=now, latest=latest)
        before = dsr.status
        change = step(dsr, at, entries)
        data = dict(change.data)
        if change.clock_event is not None:
            data["clock"] = change.clock_data
        entry = TimelineEntry(
            id=new_id("tle"),
            request=dsr,
            org_id=dsr.org_id,
            seq=(entries[-1].seq + 1) if entries else 1,
            at=at,
            recorded_at=now,
            actor=actor,
            action=action,
            from_status=before,
            to_status=dsr.status,
            notes=notes,
            data=data,
            clock_event=str(change.clock_event) if change.clock_event else "",
        )
        result = compute_clock(
            dsr, [*entries, entry], now=now, pack=pack_override() if pack_override else None
        )
        store_clock(dsr, result)
        if pack_override:
            entry.data["dueDateAfter"] = result.due_date.isoformat()
        dsr.updated_at = now
        dsr.save(update_fields=["status", "updated_at", *CLOCK_FIELDS, *change.fields])
        # Race-free: the request row is locked, so `entries[-1]` is still the last entry.
        seal(entry, entries[-1] if entries else None)
        entry.save(force_insert=True)
        event = event_emit(
            org_id=dsr.org_id,
            request_id=dsr.id,
            type=change.event_type,
            at=now,
            data={"requestId": dsr.id, "request": request_resource(dsr, now=now)},
        )
    return ActionResult(
        request=dsr,
        action=action,
        from_status=before,
        to_status=dsr.status,
        at=at,
        actor=actor,
        clock=result,
        entry=entry,
        event_ids=[event.id],
        now=now,
    )


# --- intake -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateResult:
    request: DataSubjectRequest
    clock: clocks.ClockResult
    entry: TimelineEntry
    event_ids: list[str]
    now: datetime


def request_create(
    *,
    org: Org,
    actor: str,
    jurisdiction: str,
    channel: str,
    raw_text: str,
    intake_received_at: datetime,
    contact: str = "",
    source_evidence: Sequence[dict[str, Any]] = (),
    requestor: dict[str, Any] | None = None,
    authority: dict[str, Any] | None = None,
    may_decide_authority: bool = False,
    received_at: datetime | None = None,
    request_types: Sequence[str] | None = None,
    now: datetime | None = None,
) -> CreateResult:
    """`may_decide_authority`: the caller holds the officer scope, so `authority.status` may be a decision."""
    now = now or timezone.now()
    try:
        clocks.get_pack(jurisdiction)
    except clocks.UnknownJurisdiction as exc:
        raise ValidationFailed.field("jurisdiction", str(exc)) from None
    if intake_received_at > now + CLOCK_SKEW:
        raise ValidationFailed.field("intakeSource.receivedAt", "May not lie in the future.")
    received_at = received_at or now
    if received_at < intake_received_at:
        raise ValidationFailed.field(
            "receivedAt", "When this system recorded the request may not be before intakeSource.receivedAt."
        )
    if received_at > now + CLOCK_SKEW:
        raise ValidationFailed.field("receivedAt", "May not lie in the future.")
    if authority is not None:
        authority_input_check(
            status=authority["status"],
            verified_at=authority.get("verified_at"),
            may_decide=may_decide_authority,
            not_after=now + CLOCK_SKEW,
            field_prefix="authority.",
        )
    inferred = not request_types
    types = list(request_types) if request_types else infer_request_types(raw_text)
    types = sorted(set(types), key=clocks.REQUEST_TYPES.index)

    with transaction.atomic():
        dsr = DataSubjectRequest(
            org=org,
            jurisdiction=jurisdiction,
            request_types=types,
            request_types_inferred=inferred,
            channel=channel,
            raw_text=raw_text,
            intake_received_at=intake_received_at,
            contact=contact,
            source_evidence=list(source_evidence),
            requestor=requestor,
            requestor_name=(requestor or {}).get("name") or "",
            requestor_email=(requestor or {}).get("email") or "",
            received_at=received_at,
            created_at=now,
            updated_at=now,
        )
        entry = TimelineEntry(
            id=new_id("tle"),
            request=dsr,
            org_id=org.id,
            seq=1,
            at=intake_received_at,
            recorded_at=now,
            actor=actor,
            action="create",
            from_status="",
            to_status=Status.RECEIVED,
            notes="",
            data={"channel": channel, "requestTypes": types, "requestTypesInferred": inferred},
        )
        result = compute_clock(dsr, [entry], now=now)
        store_clock(dsr, result)
        dsr.save(force_insert=True)
        seal(entry, None)
        entry.save(force_insert=True)
        if authority is not None:
            evidence = AuthorityEvidence.objects.create(
                org=org,
                request=dsr,
                evidence_artifacts=artifacts_for_storage(authority["evidence_artifacts"]),
                status=authority["status"],
                verified_at=authority.get("verified_at"),
                submitted_at=intake_received_at,
                **decision_fields(authority["status"], actor=actor, at=intake_received_at),
            )
            dsr.authority_current = evidence
            dsr.save(update_fields=["authority_current"])
        event = event_emit(
            org_id=org.id,
            request_id=dsr.id,
            type="request.created",
            at=now,
            data={"requestId": dsr.id, "request": request_resource(dsr, now=now)},
        )
    return CreateResult(request=dsr, clock=result, entry=entry, event_ids=[event.id], now=now)


# --- lifecycle ----------------------------------------------------------------------------------------------


def request_acknowledge(
    *,
    org: Org,
    request_id: str,
    actor: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def guard(dsr: DataSubjectRequest) -> None:
        if not fsm.can_proceed(dsr.acknowledge):
            raise invalid_action(dsr, "acknowledge", "Only a request in RECEIVED can be acknowledged.")

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.acknowledge()
        return Change(event_type="request.acknowledged", clock_event=clocks.EventKind.ACKNOWLEDGED)

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="acknowledge",
        step=step,
        guard=guard,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
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
) -> ActionResult:
    def guard(dsr: DataSubjectRequest) -> None:
        if not fsm.can_proceed(dsr.request_clarification):
            raise invalid_action(dsr, "clarification.request", "A clarification is already awaited.")

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
        guard=guard,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
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
    def guard(dsr: DataSubjectRequest) -> None:
        if not fsm.can_proceed(dsr.receive_clarification):
            raise invalid_action(dsr, "clarification.receive", "No clarification is awaited.")

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
        guard=guard,
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
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        pack = pack_for(dsr)
        if not pack.extendable:
            raise invalid_action(dsr, "extend", f"{pack.law} allows no extension ({pack.id}).")
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
            data={"reason": reason},
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
    )


def request_refuse(
    *,
    org: Org,
    request_id: str,
    actor: str,
    reason: str = "",
    message: str = "",
    rationale: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    if not (reason or message or rationale):
        raise ValidationFailed(
            "A refusal needs at least one of reason, message or rationale.",
            details=[{"field": "reason", "message": "reason, message or rationale is required"}],
        )

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.refuse(
            {
                "kind": "REFUSED",
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
        notes=rationale,
        now=now,
    )


def request_close(
    *,
    org: Org,
    request_id: str,
    actor: str,
    outcome: str = "FULFILLED",
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.close(
            {
                "kind": outcome,
                "reason": None,
                "message": notes or None,
                "rationale": None,
                "at": at.isoformat(),
            }
        )
        return Change(
            event_type="request.closed",
            fields=["outcome"],
            clock_event=clocks.EventKind.STOPPED,
            clock_data={"reason": "CLOSED"},
            data={"outcome": outcome},
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
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def guard(dsr: DataSubjectRequest) -> None:
        if dsr.verification_status == VerificationStatus.REQUESTED:
            raise invalid_action(dsr, "verification.request", "Identity information is already awaited.")

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
            data={"method": method},
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="verification.request",
        step=step,
        guard=guard,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
    )


def request_verification_receive(
    *,
    org: Org,
    request_id: str,
    actor: str,
    notes: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> ActionResult:
    def guard(dsr: DataSubjectRequest) -> None:
        if dsr.verification_status != VerificationStatus.REQUESTED:
            raise invalid_action(dsr, "verification.receive", "No identity information has been requested.")

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        dsr.verification_status = VerificationStatus.RECEIVED
        dsr.verification_received_at = at
        return Change(
            event_type="request.verification_received",
            fields=["verification_status", "verification_received_at"],
            clock_event=clocks.EventKind.VERIFICATION_RECEIVED,
        )

    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="verification.receive",
        step=step,
        guard=guard,
        occurred_at=occurred_at,
        notes=notes,
        now=now,
    )


def request_clock_refresh(*, request_id: str, now: datetime | None = None) -> clocks.ClockResult:
    """Recompute a request's clock columns as of `now` (no new fact, so no timeline entry).

    Open pauses and awaited restarts have a provisional due date that moves with each new day; the sweep
    calls this so the queue's columns follow.
    """
    now = now or timezone.now()
    with transaction.atomic():
        dsr = (
            DataSubjectRequest.objects.select_for_update(of=("self",))
            .select_related("org")
            .get(pk=request_id)
        )
        entries = list(TimelineEntry.objects.filter(request=dsr).order_by("seq"))
        result = compute_clock(dsr, entries, now=now)
        store_clock(dsr, result)
        dsr.save(update_fields=CLOCK_FIELDS)
    return result


def request_clock_upgrade(
    *, org: Org, request_id: str, actor: str, now: datetime | None = None
) -> ActionResult | None:
    """Recompute a request under the current version of its policy pack — the one deliberate way a new
    pack version reaches an existing request. Logged on the timeline with both versions and due dates.
    Returns None when the request is already on the current version."""
    current: dict[str, clocks.PolicyPack] = {}

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        pack = clocks.get_pack(dsr.jurisdiction)
        current["pack"] = pack
        return Change(
            event_type="request.clock_recomputed",
            data={
                "from": f"{dsr.clock_pack_id}@{dsr.clock_pack_version}",
                "to": f"{pack.id}@{pack.version}",
                "dueDateBefore": dsr.clock_due_date.isoformat(),
            },
        )

    dsr = DataSubjectRequest.objects.select_related("org").get(org=org, pk=request_id)
    latest = clocks.get_pack(dsr.jurisdiction)
    if (dsr.clock_pack_id, dsr.clock_pack_version) == (latest.id, latest.version):
        return None
    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="clock.upgrade",
        step=step,
        now=now,
        pack_override=lambda: current["pack"],
    )
