"""The engine's answer: a frozen value that renders itself into the contract's shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from clocks import explain
from clocks.types import Adjustment, ClockState, Deadline, ExtensionApplied, Pause, Period, Segment


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
    period: Period
    base_due_date: date
    due_date: date
    due_at: datetime
    acknowledge_by: date | None
    acknowledged_at: datetime | None
    state: ClockState
    days_remaining: int
    at_risk: bool
    overdue: bool
    deadlines: tuple[Deadline, ...]
    segments: tuple[Segment, ...]
    pauses: tuple[Pause, ...]
    extensions: tuple[ExtensionApplied, ...]
    adjustments: tuple[Adjustment, ...]
    holidays_relied_on: tuple[tuple[date, str], ...]
    citations: tuple[str, ...]
    computed_at: datetime
    excluded_days: int
    stopped_at: datetime | None = None
    provisional: bool = False  # a pause or restart is still open: the due date will move

    def clock_block(self) -> dict[str, Any]:
        return explain.clock_block(self)

    def explanation(self, request_id: str) -> dict[str, Any]:
        return explain.explanation(self, request_id)
