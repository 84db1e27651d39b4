"""The engine's answer: a frozen value that renders itself into the contract's shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from clocks import explain
from clocks.types import (
    Adjustment,
    ClockState,
    Deadline,
    ExtensionApplied,
    Pause,
    Period,
    Segment,
    TypePeriod,
)


def _no_segments() -> Mapping[str, tuple[Segment, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ClockResult:
    pack_id: str
    pack_version: str
    law: str
    citation: str
    jurisdiction: str
    timezone: str
    request_types: tuple[str, ...]
    received_at: datetime
    clock_starts_at: datetime
    anchor_date: date
    period: Period  # the primary (earliest-due) request type's response period
    base_due_date: date  # the response's, even while an appeal is open
    due_date: date  # what is due now: the response's, or the appeal's (see deadline_kind)
    due_at: datetime
    acknowledge_by: date | None
    acknowledged_at: datetime | None
    state: ClockState
    days_remaining: int | None  # None once STOPPED: a stopped clock has nothing remaining
    at_risk: bool
    overdue: bool
    deadlines: tuple[Deadline, ...]
    segments: tuple[Segment, ...]  # the primary request type's
    pauses: tuple[Pause, ...]
    extensions: tuple[ExtensionApplied, ...]
    adjustments: tuple[Adjustment, ...]
    holidays_relied_on: tuple[tuple[date, str], ...]
    citations: tuple[str, ...]
    computed_at: datetime
    excluded_days: int
    stopped_at: datetime | None = None  # the response's stop, or the appeal's decision; None while open
    provisional: bool = False  # a pause or restart is still open: the due date will move
    # Stopped after due_at as it stood at the stop (the appeal's once decided); None while not stopped.
    answered_late: bool | None = None
    acknowledge_due_at: datetime | None = None  # end of the local acknowledge_by day
    acknowledge_overdue: bool = False  # not stopped, acknowledge_by passed, not acknowledged
    deadline_kind: str = "RESPONSE"  # "APPEAL" while an appeal is open or once decided
    appeal_received_at: datetime | None = None
    appeal_due_date: date | None = None
    appeal_decided_at: datetime | None = None
    appeal_outcome: str | None = None
    appeal_period: Period | None = None
    appeal_citation: str = ""
    appeal_extensions: tuple[ExtensionApplied, ...] = ()
    # The response clock's own stop and verdict, kept when an appeal takes over due_date / stopped_at.
    response_stopped_at: datetime | None = None
    response_answered_late: bool | None = None
    # Every request type's segments, when the types' periods differ ({} when they are all alike).
    segments_by_type: Mapping[str, tuple[Segment, ...]] = field(default_factory=_no_segments, hash=False)
    type_periods: tuple[TypePeriod, ...] = ()
    # Holidays of only some candidate calendars that fell inside a business-day count and were counted.
    holidays_counted: tuple[tuple[date, str, str], ...] = ()  # (date, name, observed by)

    def clock_block(self) -> dict[str, Any]:
        return explain.clock_block(self)

    def explanation(self, request_id: str) -> dict[str, Any]:
        return explain.explanation(self, request_id)
