"""legal-clocks.md §4: every worked example from regulator guidance, as one table."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from clocks import ClockEvent, EventKind, compute, get_pack
from clocks.zones import zone


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


E = EventKind
EXAMPLES = [
    # id, code, received, [(kind, local date, data)], expected due date, expected ack date
    ("UK-01", "GB", "2025-09-03", [], "2025-10-03", None),
    ("UK-02", "GB", "2025-01-31", [], "2025-02-28", None),
    ("UK-03", "GB", "2024-01-31", [], "2024-02-29", None),
    ("UK-05", "GB", "2024-01-01", [], "2024-02-01", None),
    ("UK-08", "GB", "2025-03-31", [], "2025-04-30", None),
    (
        "UK-14",
        "GB",
        "2025-09-03",
        [(E.EXTENSION, "2025-09-20", {"reason": "complex", "by": "officer"})],
        "2025-12-03",
        None,
    ),
    (
        "UK-17",
        "GB",
        "2020-11-14",
        [(E.CLARIFICATION_REQUESTED, "2020-11-16", {}), (E.CLARIFICATION_RECEIVED, "2020-12-16", {})],
        "2021-01-14",
        None,
    ),
    ("EU-01", "DE", "2025-01-31", [], "2025-02-28", None),
    ("EU-02", "IE", "2025-02-17", [], "2025-03-18", None),
    ("CA-01", "US-CA", "2025-01-06", [], "2025-02-20", "2025-01-21"),
    ("CA-02", "US-CA", "2025-01-06", [], "2025-02-20", "2025-01-21"),
    (
        "CA-03",
        "US-CA",
        "2025-03-03",
        [(E.VERIFICATION_REQUESTED, "2025-03-04", {}), (E.VERIFICATION_RECEIVED, "2025-03-25", {})],
        "2025-04-17",
        "2025-03-17",
    ),
    ("CT-01", "US-CT", "2025-09-02", [], "2025-10-17", None),
    ("UT-01", "US-UT", "2025-05-12", [], "2025-06-26", None),
    ("BR-01", "BR", "2025-03-10", [], "2025-03-25", None),
    (
        "CAN-01",
        "CA",
        "2025-06-02",
        [(E.EXTENSION, "2025-06-30", {"amount": 30, "unit": "CALENDAR_DAYS", "reason": "volume"})],
        "2025-08-01",
        None,
    ),
    ("QC-01", "CA-QC", "2025-06-02", [], "2025-07-02", None),
    ("AU-01", "AU", "2018-02-09", [], "2018-03-12", None),
]


@pytest.mark.parametrize(
    ("code", "received", "events", "due", "ack"),
    [pytest.param(*row[1:], id=row[0]) for row in EXAMPLES],
)
def test_worked_example(code: str, received: str, events: list, due: str, ack: str | None) -> None:
    clock_events = [ClockEvent(kind, local(code, day), data) for kind, day, data in events]
    result = compute(
        get_pack(code),
        received_at=local(code, received),
        request_types=["ACCESS"],
        events=clock_events,
        now=local(code, received, time(12, 0)),
    )

    assert result.due_date == date.fromisoformat(due)
    assert result.acknowledge_by == (date.fromisoformat(ack) if ack else None)
    assert result.anchor_date == date.fromisoformat(received)
    # Every example that carries an extension must show it applied, not silently ignored.
    if any(kind is E.EXTENSION for kind, _, _ in events):
        assert len(result.extensions) == 1
