"""Stopped clocks are over (api-contract.md, Status lifecycle): nothing remains, and the story is past."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from clocks import ClockEvent, ClockState, EventKind, compute, get_pack
from clocks.zones import zone

E = EventKind
D = date.fromisoformat
FORBIDDEN = ("provisional", "still open", "not yet", "frozen", "today", "up to today")


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def run(code: str, received: str, *events: tuple, now: str, types=("ACCESS",)):
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
    )


def assert_past_tense(result) -> None:
    for segment in result.segments:
        for word in FORBIDDEN:
            assert word not in segment.note, (word, segment.note)
        assert segment.end is not None or segment.kind == "EXTENDED", segment


@pytest.mark.parametrize(
    ("stop", "late"),
    [
        (local("GB", "2026-12-18", time(23, 59, 59)), False),  # the last second of the due day
        (local("GB", "2026-12-19", time(0, 0, 1)), True),
    ],
)
def test_answered_late_compares_the_stop_with_due_at(stop: datetime, late: bool) -> None:
    result = run("GB", "2026-11-18", (E.STOPPED, stop, {"reason": "CLOSED"}), now="2027-02-01")

    assert result.state is ClockState.STOPPED
    assert result.due_date == D("2026-12-18")
    assert result.answered_late is late
    assert (result.days_remaining, result.at_risk, result.overdue, result.provisional) == (
        None,
        False,
        False,
        False,
    )
    block = result.clock_block()
    assert (block["daysRemaining"], block["answeredLate"], block["atRisk"], block["overdue"]) == (
        None,
        late,
        False,
        False,
    )
    assert result.explanation("r")["answeredLate"] is late


def test_answered_late_is_none_while_the_clock_runs() -> None:
    result = run("GB", "2026-11-18", now="2027-01-05")
    assert result.overdue is True
    assert result.answered_late is None
    assert result.days_remaining == -18


def test_the_last_running_segment_says_when_and_whether_in_time() -> None:
    on_time = run("GB", "2026-11-18", (E.STOPPED, "2026-11-30", {"reason": "REFUSED"}), now="2027-01-05")
    assert on_time.segments[-1].note.endswith(
        "; ran until the clock stopped on 2026-11-30 (REFUSED), on time: due 2026-12-18"
    )
    late = run("GB", "2026-11-18", (E.STOPPED, "2026-12-28", {"reason": "CLOSED"}), now="2027-01-05")
    assert late.segments[-1].note.endswith(
        "; ran until the clock stopped on 2026-12-28 (CLOSED), 10 day(s) after the due date 2026-12-18"
    )
    assert late.answered_late is True
    assert_past_tense(on_time)
    assert_past_tense(late)


def test_a_pause_open_at_the_stop_is_told_in_the_past_tense() -> None:
    result = run(
        "GB",
        "2026-11-18",
        (E.CLARIFICATION_REQUESTED, "2026-11-20"),
        (E.STOPPED, "2026-11-30", {"reason": "REFUSED"}),
        now="2027-01-05",
    )
    paused = [s for s in result.segments if s.kind == "PAUSED"]
    assert [s.note for s in paused] == [
        "paused: clarification requested on 2026-11-20, not received before the clock stopped on "
        "2026-11-30; 11 day(s) excluded"
    ]
    assert paused[0].end == local("GB", "2026-11-30")
    assert result.excluded_days == 11
    assert result.due_date == D("2026-12-29")  # 18 December + 11
    assert result.answered_late is False
    assert_past_tense(result)


def test_a_restart_open_at_the_stop_never_restarted() -> None:
    result = run(
        "GB",
        "2026-11-18",
        (E.VERIFICATION_REQUESTED, "2026-11-19"),
        (E.STOPPED, "2026-11-30", {"reason": "CLOSED"}),
        now="2027-01-05",
    )
    awaiting = [s for s in result.segments if s.kind == "AWAITING_START"]
    assert awaiting[0].note == (
        "awaiting start: identity information requested on 2026-11-19, not received before the clock "
        "stopped on 2026-11-30; the clock never restarted"
    )
    assert awaiting[0].end == local("GB", "2026-11-30")
    assert "discarded" not in result.segments[0].note
    assert result.answered_late is False
    assert_past_tense(result)


def test_a_no_effect_request_open_at_the_stop_ends_at_the_stop() -> None:
    result = run(
        "US-CA",
        "2026-11-18",
        (E.VERIFICATION_REQUESTED, "2026-11-19"),
        (E.STOPPED, "2026-11-30", {"reason": "CLOSED"}),
        now="2027-01-05",
    )
    [no_effect] = [s for s in result.segments if s.kind == "NO_EFFECT"]
    assert no_effect.end == local("US-CA", "2026-11-30")
    assert no_effect.days == 11
    assert_past_tense(result)


def test_the_open_versions_still_say_provisional() -> None:
    # The past tense is for stopped clocks only: a live pause still warns that its due date will move.
    result = run("GB", "2026-11-18", (E.CLARIFICATION_REQUESTED, "2026-11-20"), now="2026-11-25")
    assert result.provisional is True
    assert "provisional" in next(s for s in result.segments if s.kind == "PAUSED").note
