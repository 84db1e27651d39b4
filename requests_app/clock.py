"""The one seam between the database and the pure `clocks` engine: rows in, values out."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import clocks

from .models import OPEN, ClockState, DataSubjectRequest, TimelineEntry


@functools.cache
def zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps only 8 zones strongly cached; the queue touches dozens, so keep them all.
    return ZoneInfo(name)


@functools.lru_cache(maxsize=256)
def _local_today(now: datetime, tz: str) -> date:
    # A page renders 50 rows at one `now` in a handful of zones: each date is worked out once.
    return now.astimezone(zone(tz)).date()


def clock_events(entries: Iterable[TimelineEntry]) -> list[clocks.ClockEvent]:
    return [
        clocks.ClockEvent(
            kind=clocks.EventKind(e.clock_event), occurred_at=e.at, data=e.data.get("clock", {})
        )
        for e in entries
        if e.clock_event
    ]


def pack_for(dsr: DataSubjectRequest) -> clocks.PolicyPack:
    """The pack a request is computed under: the version it was first computed with, never a newer one
    by accident (legal-clocks §1.11). New requests get the current version."""
    if not dsr.clock_pack_version:
        return clocks.get_pack(dsr.jurisdiction)
    return clocks.get_pack(dsr.jurisdiction, pack_id=dsr.clock_pack_id, version=dsr.clock_pack_version)


def compute_clock(
    dsr: DataSubjectRequest,
    entries: Iterable[TimelineEntry],
    *,
    now: datetime,
    pack: clocks.PolicyPack | None = None,
) -> clocks.ClockResult:
    return clocks.compute(
        pack or pack_for(dsr),
        received_at=dsr.intake_received_at,
        request_types=dsr.request_types,
        events=clock_events(entries),
        now=now,
        timezone=dsr.org.timezone_override or None,
        at_risk_days=dsr.org.at_risk_days,
    )


CLOCK_FIELDS = [
    "clock_pack_id",
    "clock_pack_version",
    "clock_timezone",
    "clock_state",
    "clock_started_at",
    "clock_base_due_date",
    "clock_due_date",
    "clock_due_at",
    "clock_acknowledge_by",
    "clock_acknowledged_at",
    "clock_acknowledge_due_at",
    "clock_deadline_kind",
    "clock_stopped_at",
    "clock_answered_late",
    "clock_computed_at",
    "clock_days_remaining",
]


def store_clock(dsr: DataSubjectRequest, result: clocks.ClockResult) -> None:
    """Copy the result into the indexed columns (in memory; the caller saves with CLOCK_FIELDS)."""
    dsr.clock_pack_id = result.pack_id
    dsr.clock_pack_version = result.pack_version
    dsr.clock_timezone = result.timezone
    dsr.clock_state = str(result.state)
    dsr.clock_started_at = result.clock_starts_at
    dsr.clock_base_due_date = result.base_due_date
    dsr.clock_due_date = result.due_date
    dsr.clock_due_at = result.due_at
    dsr.clock_acknowledge_by = result.acknowledge_by
    dsr.clock_acknowledged_at = result.acknowledged_at
    dsr.clock_acknowledge_due_at = result.acknowledge_due_at
    dsr.clock_deadline_kind = result.deadline_kind
    dsr.clock_stopped_at = result.stopped_at
    dsr.clock_answered_late = result.answered_late
    dsr.clock_computed_at = result.computed_at
    dsr.clock_days_remaining = result.days_remaining


# The stored clock columns the contract's clock block is rendered from, in the order `clock_block` reads:
# all of them but when it stopped and when it was computed.
BLOCK_COLUMNS = tuple(f for f in CLOCK_FIELDS if f not in ("clock_stopped_at", "clock_computed_at"))


def clock_block(columns: Sequence[Any], *, status: str, now: datetime, at_risk_days: int) -> dict[str, Any]:
    """The contract's clock block — the one rendering of it, used by the Request resource, the lifecycle
    envelope and the outbox — from the stored columns (`BLOCK_COLUMNS`), as they are: only what depends on
    the time (`daysRemaining`, `atRisk`, `overdue`, `acknowledgeOverdue`) is worked out, as of `now`."""
    (
        pack_id,
        pack_version,
        tz,
        state,
        started_at,
        base_due_date,
        due_date,
        due_at,
        acknowledge_by,
        acknowledged_at,
        acknowledge_due_at,
        deadline_kind,
        answered_late,
        frozen_days_remaining,
    ) = columns
    stopped = state == ClockState.STOPPED
    days_remaining: int | None
    if stopped:
        days_remaining, at_risk, overdue = None, False, False
    else:
        if state == ClockState.RUNNING:
            days_remaining = (due_date - _local_today(now, tz)).days
            overdue = now > due_at
        else:  # paused or awaiting start: frozen where the pause found it
            days_remaining = frozen_days_remaining or 0
            overdue = days_remaining < 0
        at_risk = days_remaining <= at_risk_days
    local = zone(tz)
    return {
        "policyPack": pack_id,
        "policyVersion": pack_version,
        "timezone": tz,
        "state": state,
        "startedAt": started_at.astimezone(local).isoformat() if started_at else None,
        "baseDueDate": base_due_date.isoformat(),
        "dueDate": due_date.isoformat(),
        "dueAt": due_at.astimezone(local).isoformat() if due_at else None,
        "acknowledgeBy": acknowledge_by.isoformat() if acknowledge_by else None,
        "acknowledgedAt": acknowledged_at.astimezone(local).isoformat() if acknowledged_at else None,
        "acknowledgeOverdue": _acknowledge_overdue(acknowledge_due_at, acknowledged_at, status, now),
        "daysRemaining": days_remaining,
        "atRisk": at_risk,
        "overdue": overdue,
        "answeredLate": answered_late if stopped else None,
        "deadlineKind": deadline_kind,
    }


def _acknowledge_overdue(
    due_at: datetime | None, acknowledged_at: datetime | None, status: str, now: datetime
) -> bool:
    """Open, owed an acknowledgement, not acknowledged, and the end of the acknowledgement day has passed."""
    return due_at is not None and acknowledged_at is None and status in OPEN and now > due_at
