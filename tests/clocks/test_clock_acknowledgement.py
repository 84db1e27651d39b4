"""Acknowledgement deadlines are tracked like response deadlines (CCPA: 10 business days)."""

from __future__ import annotations

from datetime import date, datetime, time

from clocks import ClockEvent, EventKind, compute, get_pack
from clocks.zones import zone

E = EventKind
D = date.fromisoformat


def at(code: str, day: str, when: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), when, tzinfo=zone(get_pack(code).timezone))


def run(code: str, events=(), now: datetime | None = None, received: str = "2025-01-06", types=("ACCESS",)):
    return compute(
        get_pack(code),
        received_at=at(code, received),
        request_types=types,
        events=list(events),
        now=now or at(code, "2025-01-22", time(12)),
    )


def test_unacknowledged_past_the_acknowledge_by_day_is_overdue() -> None:
    # CA-01: received Monday 6 January 2025, acknowledge by 21 January (MLK Day skipped).
    result = run("US-CA", now=at("US-CA", "2025-01-22", time(12)))

    assert result.acknowledge_by == D("2025-01-21")
    assert result.acknowledge_due_at.isoformat() == "2025-01-21T23:59:59-08:00"
    assert result.acknowledge_overdue is True
    assert result.clock_block()["acknowledgeOverdue"] is True
    assert result.explanation("r")["acknowledgement"] == {
        "dueDate": "2025-01-21",
        "dueAt": "2025-01-21T23:59:59-08:00",
        "at": None,
        "overdue": True,
    }


def test_not_overdue_until_the_end_of_the_local_day() -> None:
    assert run("US-CA", now=at("US-CA", "2025-01-21", time(23, 59, 59))).acknowledge_overdue is False
    assert run("US-CA", now=at("US-CA", "2025-01-22", time(0, 0, 1))).acknowledge_overdue is True


def test_acknowledged_in_time_is_not_overdue() -> None:
    result = run("US-CA", [ClockEvent(E.ACKNOWLEDGED, at("US-CA", "2025-01-20"))])
    assert result.acknowledge_overdue is False
    assert result.explanation("r")["acknowledgement"]["at"] == "2025-01-20T10:00:00-08:00"


def test_acknowledged_late_is_no_longer_overdue() -> None:
    result = run("US-CA", [ClockEvent(E.ACKNOWLEDGED, at("US-CA", "2025-01-22", time(9)))])
    assert result.acknowledge_overdue is False


def test_a_stopped_request_is_never_acknowledgement_overdue() -> None:
    stop = ClockEvent(E.STOPPED, at("US-CA", "2025-01-08"), {"reason": "CLOSED"})
    result = run("US-CA", [stop])
    assert result.acknowledge_by == D("2025-01-21")
    assert result.acknowledge_overdue is False


def test_no_acknowledgement_rule_never_overdue() -> None:
    gb = run("GB")
    assert (gb.acknowledge_by, gb.acknowledge_due_at, gb.acknowledge_overdue) == (None, None, False)
    assert gb.clock_block()["acknowledgeOverdue"] is False
    # CCPA opt-outs have no acknowledgement deadline either.
    opt_out = run("US-CA", types=("OPT_OUT_SALE",))
    assert (opt_out.acknowledge_by, opt_out.acknowledge_overdue) == (None, False)
