"""Appeals (US state laws that grant one): a clock of their own after the answer (api-contract.md)."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest

from clocks import ClockEvent, ClockState, Deadline, EventKind, compute, get_pack
from clocks.policy import APPEAL
from clocks.types import KIND_ORDER
from clocks.zones import zone

E = EventKind
D = date.fromisoformat


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def run(code: str, received: str, *events: tuple, now: str, types=("ACCESS",), at_risk_days: int = 7):
    clock_events = [
        ClockEvent(kind, local(code, day) if isinstance(day, str) else day, data[0] if data else {})
        for kind, day, *data in events
    ]
    return compute(
        get_pack(code),
        received_at=local(code, received),
        request_types=types,
        events=clock_events,
        now=local(code, now, time(12, 0)),
        at_risk_days=at_risk_days,
    )


REFUSED = (E.STOPPED, "2026-04-01", {"reason": "REFUSED"})


def test_appeal_kinds_come_last_so_a_same_instant_appeal_follows_the_stop() -> None:
    assert list(EventKind)[-2:] == [E.APPEAL_RECEIVED, E.APPEAL_DECIDED]
    assert KIND_ORDER[E.STOPPED] < KIND_ORDER[E.APPEAL_RECEIVED] < KIND_ORDER[E.APPEAL_DECIDED]


def test_an_open_appeal_runs_its_own_clock() -> None:
    # Virginia: 60 days to decide, counted like a response period (receipt day not counted), no roll.
    result = run("US-VA", "2026-03-02", REFUSED, (E.APPEAL_RECEIVED, "2026-05-04"), now="2026-06-30")

    assert result.state is ClockState.RUNNING
    assert result.deadline_kind == "APPEAL"
    assert result.appeal_received_at == local("US-VA", "2026-05-04")
    assert result.appeal_due_date == result.due_date == D("2026-07-03")
    assert result.due_at.isoformat() == "2026-07-03T23:59:59-04:00"
    assert result.base_due_date == D("2026-04-16")  # the response's, unchanged
    assert (result.days_remaining, result.at_risk, result.overdue) == (3, True, False)
    assert result.stopped_at is None and result.answered_late is None
    assert result.response_stopped_at == local("US-VA", "2026-04-01")
    assert result.response_answered_late is False
    assert result.provisional is False
    assert result.deadlines == (
        Deadline("RESPONSE", "ACCESS", D("2026-04-16")),
        Deadline("APPEAL", None, D("2026-07-03")),
    )
    assert get_pack("US-VA").appeal_rule.citation in result.citations


def test_an_open_appeal_past_its_due_date_is_overdue() -> None:
    result = run("US-VA", "2026-03-02", REFUSED, (E.APPEAL_RECEIVED, "2026-05-04"), now="2026-07-04")
    assert (result.days_remaining, result.at_risk, result.overdue) == (-1, True, True)
    assert "has passed" in result.segments[-1].note


def test_a_decided_appeal_stops_the_clock_and_says_whether_it_was_in_time() -> None:
    on_time = run(
        "US-VA",
        "2026-03-02",
        REFUSED,
        (E.APPEAL_RECEIVED, "2026-05-04"),
        (E.APPEAL_DECIDED, "2026-06-01", {"outcome": "UPHELD"}),
        now="2026-09-01",
    )
    assert on_time.state is ClockState.STOPPED
    assert on_time.deadline_kind == "APPEAL"
    assert on_time.due_date == D("2026-07-03")
    assert on_time.stopped_at == on_time.appeal_decided_at == local("US-VA", "2026-06-01")
    assert (on_time.days_remaining, on_time.at_risk, on_time.overdue) == (None, False, False)
    assert on_time.answered_late is False
    assert on_time.appeal_outcome == "UPHELD"

    late = run(
        "US-VA",
        "2026-03-02",
        REFUSED,
        (E.APPEAL_RECEIVED, "2026-05-04"),
        (E.APPEAL_DECIDED, "2026-07-06", {"outcome": "REVERSED"}),
        now="2026-09-01",
    )
    assert late.answered_late is True
    assert "decided on 2026-07-06 (REVERSED), 3 day(s) after the due date" in late.segments[-1].note


def test_the_appeal_segment_and_explanation() -> None:
    open_ = run("US-VA", "2026-03-02", REFUSED, (E.APPEAL_RECEIVED, "2026-05-04"), now="2026-05-10")
    segment = open_.segments[-1]
    assert (segment.kind, segment.start, segment.end, segment.days) == (
        "RUNNING",
        local("US-VA", "2026-05-04"),
        None,
        6,
    )
    assert segment.note == (
        "appeal received 2026-05-04: 60 calendar days to decide, due 2026-07-03 "
        "(the day of receipt is not counted)"
    )
    assert segment.rule == get_pack("US-VA").appeal_rule.citation
    # The response's own segment is history: it ran until the refusal.
    assert "ran until the clock stopped on 2026-04-01 (REFUSED), on time" in open_.segments[0].note

    data = open_.explanation("r")
    json.dumps(data)
    assert data["deadlineKind"] == "APPEAL"
    assert data["appeal"] == {
        "receivedAt": "2026-05-04T10:00:00-04:00",
        "period": {"amount": 60, "unit": "CALENDAR_DAYS"},
        "citation": get_pack("US-VA").appeal_rule.citation,
        "dueDate": "2026-07-03",
        "dueAt": "2026-07-03T23:59:59-04:00",
        "decidedAt": None,
        "outcome": None,
        "answeredLate": None,
        "extensions": [],
    }
    assert {"kind": "APPEAL", "requestType": None, "dueDate": "2026-07-03"} in data["deadlines"]
    assert open_.clock_block()["deadlineKind"] == "APPEAL"

    decided = run(
        "US-VA",
        "2026-03-02",
        REFUSED,
        (E.APPEAL_RECEIVED, "2026-05-04"),
        (E.APPEAL_DECIDED, "2026-06-01", {"outcome": "UPHELD"}),
        now="2026-09-01",
    )
    assert decided.segments[-1].note == (
        "appeal received 2026-05-04: 60 calendar days to decide, due 2026-07-03 "
        "(the day of receipt was not counted); decided on 2026-06-01 (UPHELD), on time"
    )
    assert decided.segments[-1].end == local("US-VA", "2026-06-01")
    appeal = decided.explanation("r")["appeal"]
    assert (appeal["decidedAt"], appeal["outcome"], appeal["answeredLate"]) == (
        "2026-06-01T10:00:00-04:00",
        "UPHELD",
        False,
    )


@pytest.mark.parametrize(
    ("code", "received", "appeal", "due"),
    [
        ("US-CO", "2026-03-02", "2026-05-04", "2026-06-18"),  # 45 days
        ("US-CT", "2026-03-02", "2026-05-04", "2026-07-03"),  # 60 days
        ("US-OR", "2026-03-02", "2026-05-04", "2026-06-18"),  # 45 days
        ("US-TX", "2026-03-02", "2026-05-04", "2026-07-03"),  # 60 days (new in tdpsa 2026.2)
        ("US-TX", "2026-03-02", "2026-05-06", "2026-07-05"),  # a Sunday: no cited rule moves it
    ],
)
def test_appeal_periods_per_pack(code: str, received: str, appeal: str, due: str) -> None:
    stop = (E.STOPPED, "2026-04-01", {"reason": "CLOSED"})
    result = run(code, received, stop, (E.APPEAL_RECEIVED, appeal), now=appeal)
    assert result.appeal_due_date == D(due)
    assert all(not a.relied_upon for a in result.adjustments)


def test_appeal_received_in_the_stop_second_follows_the_stop() -> None:
    same = local("US-VA", "2026-04-01")
    result = run(
        "US-VA",
        "2026-03-02",
        (E.APPEAL_RECEIVED, same),
        (E.STOPPED, same, {"reason": "REFUSED"}),
        now="2026-04-02",
    )
    assert result.deadline_kind == "APPEAL"
    assert result.appeal_due_date == D("2026-05-31")


@pytest.mark.parametrize("code", ["US-UT", "US-CA", "GB", "DE", "BR"])
def test_no_appeal_where_the_law_grants_none(code: str) -> None:
    assert get_pack(code).appeal_rule is None
    result = run(
        code,
        "2026-03-02",
        (E.STOPPED, "2026-03-20", {"reason": "REFUSED"}),
        (E.APPEAL_RECEIVED, "2026-04-04"),
        (E.APPEAL_DECIDED, "2026-04-10", {"outcome": "UPHELD"}),
        now="2026-04-20",
    )
    assert result.state is ClockState.STOPPED
    assert result.deadline_kind == "RESPONSE"
    assert result.appeal_received_at is None and result.appeal_due_date is None
    assert [d.kind for d in result.deadlines if d.kind == APPEAL] == []
    assert result.explanation("r")["appeal"] is None


def test_appeal_events_before_the_answer_or_out_of_turn_are_ignored() -> None:
    before_stop = run(
        "US-VA",
        "2026-03-02",
        (E.APPEAL_RECEIVED, "2026-03-10"),
        (E.APPEAL_DECIDED, "2026-03-12"),
        now="2026-03-20",
    )
    assert before_stop.state is ClockState.RUNNING and before_stop.deadline_kind == "RESPONSE"
    assert before_stop.appeal_received_at is None

    decided_without_appeal = run(
        "US-VA", "2026-03-02", REFUSED, (E.APPEAL_DECIDED, "2026-04-10"), now="2026-04-20"
    )
    assert decided_without_appeal.deadline_kind == "RESPONSE"
    assert decided_without_appeal.stopped_at == local("US-VA", "2026-04-01")

    # A second appeal is not a new clock: the first receipt counts, and a decision closes it for good.
    twice = run(
        "US-VA",
        "2026-03-02",
        REFUSED,
        (E.APPEAL_RECEIVED, "2026-05-04"),
        (E.APPEAL_RECEIVED, "2026-05-20"),
        (E.APPEAL_DECIDED, "2026-06-01", {"outcome": "UPHELD"}),
        (E.APPEAL_DECIDED, "2026-06-05", {"outcome": "REVERSED"}),
        (E.APPEAL_RECEIVED, "2026-06-10"),
        now="2026-06-20",
    )
    assert twice.appeal_received_at == local("US-VA", "2026-05-04")
    assert (twice.appeal_decided_at, twice.appeal_outcome) == (local("US-VA", "2026-06-01"), "UPHELD")
    assert twice.state is ClockState.STOPPED


def test_a_stopped_request_under_appeal_still_cannot_be_extended_or_paused() -> None:
    result = run(
        "US-VA",
        "2026-03-02",
        REFUSED,
        (E.APPEAL_RECEIVED, "2026-05-04"),
        (E.EXTENSION, "2026-05-05", {"reason": "complex"}),
        (E.CLARIFICATION_REQUESTED, "2026-05-06"),
        now="2026-05-10",
    )
    assert result.extensions == () and result.pauses == ()
    assert result.appeal_due_date == D("2026-07-03")


def test_appeal_rule_and_meaningful_kinds() -> None:
    tx = get_pack("US-TX")
    assert tx.appeal_rule is not None
    assert tx.appeal_rule.kind == APPEAL
    assert "§541.053" in tx.appeal_rule.citation and "tag" in tx.appeal_rule.citation
    assert {E.APPEAL_RECEIVED, E.APPEAL_DECIDED} <= tx.meaningful_event_kinds()
    assert E.APPEAL_RECEIVED not in get_pack("US-UT").meaningful_event_kinds()
