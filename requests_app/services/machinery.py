"""The machinery every write to a request runs through. One transaction each: lock the row, check the action
against the rule table (`guards`: a 409 first), then its timing (`occurredAt`: 400), apply it, recompute the
clock, store the clock columns, append the timeline entry and write the outbox row — or none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

import clocks
from core.api import NotFound, ValidationFailed
from core.ids import new_id
from core.models import Org
from notifications.services import event_emit

from ..clock import CLOCK_FIELDS, compute_clock, store_clock
from ..guards import refuse_unless_allowed
from ..models import DataSubjectRequest, TimelineEntry
from ..resources import request_resource
from ..timeline_chain import seal

# Clients' clocks drift; an occurredAt this far ahead of ours is still "now", not the future.
CLOCK_SKEW = timedelta(seconds=5)


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
    # The Request resource as of `now`, as the outbox event carries it: the answer reuses it.
    resource: dict[str, Any]


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


def request_lock(request_id: str, *, org_id: str | None = None) -> DataSubjectRequest:
    """The request's row, locked for this transaction (404 if it is not in `org_id`, when given). Every
    writer to a request takes this lock first, so writers never deadlock on it and its timeline."""
    rows = DataSubjectRequest.objects.select_for_update(of=("self",)).select_related(
        "org", "authority_current"
    )
    if org_id is not None:
        rows = rows.filter(org_id=org_id)
    try:
        return rows.get(pk=request_id)
    except DataSubjectRequest.DoesNotExist:
        raise NotFound("No such request in this organisation.") from None


def request_action(
    *,
    org: Org,
    request_id: str,
    actor: str,
    action: str,
    step: Callable[[DataSubjectRequest, datetime, list[TimelineEntry]], Change],
    occurred_at: datetime | None = None,
    notes: str = "",
    now: datetime | None = None,
    pack_override: Callable[[], clocks.PolicyPack] | None = None,
    occurred_at_field: str = "occurredAt",
    notice: Callable[[DataSubjectRequest, datetime], dict[str, Any]] | None = None,
) -> ActionResult:
    """The shared machinery every lifecycle action runs through (see the module docstring).

    `notice` queues the message that tells the subject (`correspondence.notices`), in this transaction
    and after the clock is recomputed (an extension's letter gives the new due date); what it returns is
    recorded in the action's timeline entry."""
    now = now or timezone.now()
    with transaction.atomic():
        dsr = request_lock(request_id, org_id=org.pk)
        entries = list(TimelineEntry.objects.filter(request=dsr).order_by("seq"))
        latest = entries[-1].at if entries else dsr.intake_received_at
        # The action's rule (guards.RULES): a 409 comes before any judgement of `occurredAt`.
        refuse_unless_allowed(dsr, action, now=now, at=occurred_at, entries=entries)
        at = _occurred_at(occurred_at, now=now, latest=latest, field_name=occurred_at_field)
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
        if "dueDateBefore" in entry.data:
            entry.data["dueDateAfter"] = result.due_date.isoformat()
        dsr.updated_at = now
        dsr.save(update_fields=["status", "updated_at", *CLOCK_FIELDS, *change.fields])
        if notice is not None:
            entry.data.update(notice(dsr, now))
        # Race-free: the request row is locked, so `entries[-1]` is still the last entry.
        seal(entry, entries[-1] if entries else None)
        entry.save(force_insert=True)
        resource = request_resource(dsr, now=now)
        event = event_emit(
            org_id=dsr.org_id,
            request_id=dsr.id,
            type=change.event_type,
            at=now,
            data={"requestId": dsr.id, "request": resource},
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
        resource=resource,
    )
