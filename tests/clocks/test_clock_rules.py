"""The rules of legal-clocks.md §1-§3 beyond the worked examples: rolls, calendars, pauses, stops."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from clocks import (
    ClockEvent,
    ClockState,
    Effect,
    EventKind,
    compute,
    get_pack,
)
from clocks.zones import zone

E = EventKind


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def run(code: str, received: str, *events: tuple, now: str | None = None, types=("ACCESS",), **kwargs):
    clock_events = [
        ClockEvent(kind, local(code, day) if isinstance(day, str) else day, data[0] if data else {})
        for kind, day, *data in events
    ]
    return compute(
        get_pack(code),
        received_at=local(code, received),
        request_types=types,
        events=clock_events,
        now=local(code, now or received, time(12, 0)),
        **kwargs,
    )


D = date.fromisoformat


# ---- roll-forward and calendars ---------------------------------------------------------------


def test_month_end_clamp_then_weekend_roll_moves_only_the_final_date() -> None:
    result = run("GB", "2026-01-31")

    assert result.base_due_date == D("2026-02-28")  # clamped to the month's last day: a Saturday
    assert result.due_date == D("2026-03-02")
    [adjustment] = result.adjustments
    assert (adjustment.from_date, adjustment.to_date) == (D("2026-02-28"), D("2026-03-02"))
    assert adjustment.why == "Saturday; Sunday"
    assert adjustment.relied_upon is True


@pytest.mark.parametrize(
    ("code", "received", "due", "holiday"),
    [
        # 2 January is a bank holiday in Scotland only.
        ("GB", "2025-12-02", "2026-01-02", None),
        ("GB-SCT", "2025-12-02", "2026-01-05", (D("2026-01-02"), "New Year Holiday (GB-SCT)")),
        # St Andrew's Day 2025 is a Sunday; its substitute Monday is Scottish only.
        ("GB", "2025-10-30", "2025-12-01", None),
        ("GB-SCT", "2025-10-30", "2025-12-02", (D("2025-12-01"), "Saint Andrew's Day (observed) (GB-SCT)")),
        # Easter Monday is an English (and Northern Irish) bank holiday, not a Scottish one.
        ("GB", "2026-03-06", "2026-04-07", (D("2026-04-06"), "Easter Monday (GB-ENG)")),
        ("GB-SCT", "2026-03-06", "2026-04-06", None),
        ("GB-NIR", "2026-03-06", "2026-04-07", (D("2026-04-06"), "Easter Monday (GB-NIR)")),
        # The August bank holiday is the first Monday in Scotland, the last one in England.
        ("GB", "2026-07-03", "2026-08-03", None),
        ("GB-SCT", "2026-07-03", "2026-08-04", (D("2026-08-03"), "Summer Bank Holiday (GB-SCT)")),
        ("GB", "2026-07-31", "2026-09-01", (D("2026-08-31"), "Late Summer Bank Holiday (GB-ENG)")),
        ("GB-SCT", "2026-07-31", "2026-08-31", None),
        # St Patrick's Day: Northern Ireland only. Wales uses the England and Wales calendar.
        ("GB-NIR", "2025-02-17", "2025-03-18", (D("2025-03-17"), "Saint Patrick's Day (GB-NIR)")),
        ("GB", "2025-02-17", "2025-03-17", None),
        ("GB-WLS", "2026-07-31", "2026-09-01", (D("2026-08-31"), "Late Summer Bank Holiday (GB-ENG)")),
    ],
)
def test_uk_nations_roll_on_their_own_bank_holidays(code, received, due, holiday) -> None:
    result = run(code, received)

    assert result.due_date == D(due)
    if holiday is None:
        assert result.holidays_relied_on == ()
    else:
        assert holiday in result.holidays_relied_on
        assert any(holiday[1] in a.why and a.relied_upon for a in result.adjustments)


def test_eu_alone_rolls_on_weekends_only_but_a_member_state_on_its_holidays() -> None:
    # 3 October 2025 is German Unity Day, a Friday.
    assert run("EU", "2025-09-03").due_date == D("2025-10-03")
    germany = run("DE", "2025-09-03")
    assert germany.due_date == D("2025-10-06")
    assert germany.adjustments[0].why == "German Unity Day (DE); Saturday; Sunday"


def test_eu_weekend_roll() -> None:
    saturday = run("EU", "2026-01-31")  # clamped to Saturday 28 February
    assert saturday.due_date == D("2026-03-02")
    assert saturday.adjustments[0].relied_upon is True
    sunday = run("EU", "2025-10-30")  # Sunday 30 November
    assert sunday.due_date == D("2025-12-01")
    weekday = run("EU", "2025-12-27")  # Tuesday 27 January: no adjustment at all
    assert (weekday.due_date, weekday.adjustments) == (D("2026-01-27"), ())


def test_brazil_keeps_a_saturday_but_rolls_a_public_holiday() -> None:
    saturday = run("BR", "2025-03-28")  # + 15 days = Saturday 12 April
    assert saturday.due_date == D("2025-04-12")
    [kept] = saturday.adjustments
    assert kept.relied_upon is False
    assert kept.to_date == D("2025-04-14")
    assert "not a public holiday" in kept.why

    holiday = run("BR", "2025-11-05")  # + 15 days = 20 November, Black Awareness Day
    assert holiday.due_date == D("2025-11-21")
    assert holiday.adjustments[0].relied_upon is True
    assert holiday.holidays_relied_on == (
        (D("2025-11-20"), "National Day of Zumbi and Black Awareness (BR)"),
    )


def test_brazil_keeps_a_sunday_too() -> None:
    # Decision: Art 132 §1 names holidays; a plain Sunday is kept (the earlier date is never a breach).
    result = run("BR", "2025-03-22")
    assert result.due_date == D("2025-04-06")
    assert result.adjustments[0].relied_upon is False


def test_us_never_rolls_but_shows_the_later_arguable_date() -> None:
    result = run("US-CA", "2025-02-20")  # + 45 days = Sunday 6 April

    assert result.due_date == D("2025-04-06")
    [adjustment] = result.adjustments
    assert adjustment == adjustment.__class__(
        D("2025-04-06"),
        D("2025-04-07"),
        "Sunday: no cited rule moves this deadline; the earlier date is kept",
        relied_upon=False,
    )
    assert get_pack("US-CA").roll.citation in result.citations


@pytest.mark.parametrize("code", ["US-VA", "US-CO", "US-CT", "US-TX", "US-OR", "US-UT", "CA", "CA-QC", "CH"])
def test_no_roll_packs_keep_a_weekend_date(code: str) -> None:
    received = {"CA": "2025-05-01", "CA-QC": "2025-05-01", "CH": "2025-05-01"}.get(code, "2025-04-16")
    result = run(code, received)
    period = get_pack(code).period_for("ACCESS").amount
    expected = D(received) + timedelta(days=period)
    assert expected.weekday() >= 5
    assert result.due_date == expected
    assert all(not a.relied_upon for a in result.adjustments)


def test_receipt_late_evening_utc_is_next_day_in_london() -> None:
    received = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    result = compute(get_pack("GB"), received_at=received, request_types=["ACCESS"], events=[], now=received)

    assert result.anchor_date == D("2026-04-01")
    assert result.clock_starts_at.isoformat() == "2026-04-01T00:00:00+01:00"
    assert result.due_date == D("2026-05-01")


def test_timezone_override_changes_the_anchor_not_the_calendar() -> None:
    received = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    result = compute(
        get_pack("GB-SCT"), received_at=received, request_types=[], events=[], now=received, timezone="UTC"
    )

    assert result.anchor_date == D("2026-03-31")
    assert result.timezone == "UTC"
    assert result.due_date == D("2026-04-30")
    assert result.clock_block()["dueAt"] == "2026-04-30T23:59:59+00:00"


# ---- request types and acknowledgement ----------------------------------------------------------


def test_ccpa_opt_out_counts_business_days_around_thanksgiving() -> None:
    result = run("US-CA", "2025-11-15", types=("OPT_OUT_SALE",))

    assert result.due_date == D("2025-12-08")
    assert result.period.unit == "BUSINESS_DAYS"
    # Thanksgiving is a holiday of both candidate calendars (US federal, California): skipped. The day after
    # Thanksgiving is a California holiday only: counted as a business day (rule 4).
    assert result.holidays_relied_on == ((D("2025-11-27"), "Thanksgiving Day (US and US-CA)"),)
    assert result.holidays_counted == ((D("2025-11-28"), "Day After Thanksgiving", "US-CA"),)
    assert result.acknowledge_by is None  # no acknowledgement rule for opt-outs


def test_ccpa_several_types_one_deadline_each_earliest_is_due() -> None:
    result = run("US-CA", "2025-01-06", types=("ACCESS", "OPT_OUT_SALE", "ERASURE"))

    response = {d.request_type: d.due_date for d in result.deadlines if d.kind == "RESPONSE"}
    acks = {d.request_type: d.due_date for d in result.deadlines if d.kind == "ACKNOWLEDGEMENT"}
    assert response == {
        "ACCESS": D("2025-02-20"),
        "OPT_OUT_SALE": D("2025-01-28"),  # 15 business days, MLK Day skipped
        "ERASURE": D("2025-02-20"),
    }
    assert acks == {"ACCESS": D("2025-01-21"), "ERASURE": D("2025-01-21")}
    assert result.due_date == D("2025-01-28")
    assert result.period.amount == 15
    assert result.acknowledge_by == D("2025-01-21")


def test_empty_request_types_mean_access() -> None:
    result = run("GB", "2025-09-03", types=())
    assert result.request_types == ("ACCESS",)
    assert [d.request_type for d in result.deadlines] == ["ACCESS"]


def test_acknowledged_at_is_the_first_acknowledgement() -> None:
    result = run(
        "US-CA",
        "2025-01-06",
        (E.ACKNOWLEDGED, local("US-CA", "2025-01-09", time(15))),
        (E.ACKNOWLEDGED, local("US-CA", "2025-01-08", time(9))),
    )
    assert result.acknowledged_at == local("US-CA", "2025-01-08", time(9))
    assert result.explanation("r")["acknowledgement"] == {
        "dueDate": "2025-01-21",
        "dueAt": "2025-01-21T23:59:59-08:00",
        "at": "2025-01-08T09:00:00-08:00",
        "overdue": False,
    }


# ---- exclusion pauses (UK clarification) ---------------------------------------------------------


def test_uk_two_clarifications_add_up() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.CLARIFICATION_RECEIVED, "2025-09-06"),
        (E.CLARIFICATION_REQUESTED, "2025-09-10"),
        (E.CLARIFICATION_RECEIVED, "2025-09-12"),
        now="2025-09-15",
    )
    assert result.excluded_days == 5  # 5-6 and 10-12, both ends included
    assert result.due_date == D("2025-10-08")
    assert [s.kind for s in result.segments] == ["RUNNING", "PAUSED", "RUNNING", "PAUSED", "RUNNING"]
    assert [s.days for s in result.segments if s.kind == "PAUSED"] == [2, 3]


def test_uk_clarifications_sharing_a_day_count_it_once() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.CLARIFICATION_RECEIVED, local("GB", "2025-09-10", time(9))),
        (E.CLARIFICATION_REQUESTED, local("GB", "2025-09-10", time(16))),
        (E.CLARIFICATION_RECEIVED, "2025-09-12"),
        now="2025-09-15",
    )
    assert result.excluded_days == 8  # 5 to 12 September, the 10th once
    assert result.due_date == D("2025-10-13")  # 11 October is a Saturday
    assert [s.days for s in result.segments if s.kind == "PAUSED"] == [6, 2]
    assert get_pack("GB").rule_citations["overlap"] in result.citations


def test_uk_asking_again_while_waiting_does_not_double_count() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.CLARIFICATION_REQUESTED, "2025-09-07"),
        (E.CLARIFICATION_RECEIVED, "2025-09-10"),
        now="2025-09-15",
    )
    assert result.excluded_days == 6
    assert len(result.pauses) == 1


def test_open_clarification_pauses_and_freezes_days_remaining() -> None:
    first = run("GB", "2025-09-03", (E.CLARIFICATION_REQUESTED, "2025-09-05"), now="2025-09-08")
    later = run("GB", "2025-09-03", (E.CLARIFICATION_REQUESTED, "2025-09-05"), now="2025-09-09")

    assert first.state is later.state is ClockState.PAUSED
    assert (first.due_date, later.due_date) == (D("2025-10-07"), D("2025-10-08"))
    assert first.days_remaining == later.days_remaining == 29
    paused = [s for s in first.segments if s.kind == "PAUSED"]
    assert paused[0].end is None
    assert "provisional" in paused[0].note
    assert first.pauses[0].resumed_at is None
    assert first.pauses[0].effect is Effect.EXCLUDE
    assert first.provisional is True
    assert first.explanation("r")["pauses"][0]["resumedAt"] is None


def test_clarification_asked_after_the_due_date_has_no_effect() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-10-10"),
        (E.CLARIFICATION_RECEIVED, "2025-10-20"),
        now="2025-10-21",
    )
    assert result.due_date == D("2025-10-03")
    assert result.overdue is True
    assert result.pauses[0].effect is Effect.NONE
    [no_effect] = [s for s in result.segments if s.kind == "NO_EFFECT"]
    assert "after the due date" in no_effect.note


def test_unmatched_receipts_are_ignored() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_RECEIVED, "2025-09-05"),
        (E.VERIFICATION_RECEIVED, "2025-09-06"),
        (E.AUTHORITY_SUBMITTED, "2025-09-07"),
    )
    assert result.due_date == D("2025-10-03")
    assert result.pauses == ()
    assert result.state is ClockState.RUNNING


# ---- restarts (UK identity / authority) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "answered"),
    [(E.VERIFICATION_REQUESTED, E.VERIFICATION_RECEIVED), (E.AUTHORITY_REQUESTED, E.AUTHORITY_SUBMITTED)],
)
def test_uk_restart_moves_the_anchor_to_receipt(asked, answered) -> None:
    result = run("GB", "2025-09-03", (asked, "2025-09-04"), (answered, "2025-09-15"), now="2025-09-20")

    assert result.anchor_date == D("2025-09-15")
    assert result.clock_starts_at.isoformat() == "2025-09-15T00:00:00+01:00"
    assert result.base_due_date == result.due_date == D("2025-10-15")
    assert result.state is ClockState.RUNNING
    assert [s.kind for s in result.segments] == ["RUNNING", "AWAITING_START", "RUNNING"]
    assert "discarded" in result.segments[0].note
    assert result.segments[1].days == 11
    assert result.pauses[0].effect is Effect.RESTART
    assert any("s.54(3A)" in c for c in result.citations)


def test_uk_open_restart_waits_and_is_evaluated_as_if_received_today() -> None:
    result = run("GB", "2025-09-03", (E.VERIFICATION_REQUESTED, "2025-09-04"), now="2025-09-10")

    assert result.state is ClockState.AWAITING_START
    assert result.anchor_date == D("2025-09-10")
    assert result.due_date == D("2025-10-10")
    assert result.days_remaining == 30
    assert result.provisional is True
    assert result.segments[-1].kind == "AWAITING_START"
    assert result.segments[-1].end is None
    assert "provisional" in result.segments[-1].note


def test_uk_restart_discards_earlier_exclusions() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-04"),
        (E.CLARIFICATION_RECEIVED, "2025-09-05"),
        (E.VERIFICATION_REQUESTED, "2025-09-06"),
        (E.VERIFICATION_RECEIVED, "2025-09-08"),
        now="2025-09-10",
    )
    assert result.excluded_days == 0
    assert result.due_date == D("2025-10-08")
    discarded = [s for s in result.segments if s.kind == "PAUSED"]
    assert discarded[0].days == 0
    assert "discarded" in discarded[0].note


def test_eu_clarification_is_shown_with_no_effect() -> None:
    result = run(
        "DE",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.CLARIFICATION_RECEIVED, "2025-09-20"),
        now="2025-09-21",
    )
    assert result.due_date == D("2025-10-06")
    assert result.pauses[0].effect is Effect.NONE
    [segment] = [s for s in result.segments if s.kind == "NO_EFFECT"]
    assert segment.days == 15
    assert "no effect" in segment.note
    assert segment.rule == get_pack("DE").effect_rule("CLARIFICATION").citation


def test_ccpa_verification_is_shown_with_no_effect_and_its_citation() -> None:
    result = run(
        "US-CA",
        "2025-03-03",
        (E.VERIFICATION_REQUESTED, "2025-03-04"),
        now="2025-03-20",
    )
    assert result.state is ClockState.RUNNING
    assert result.due_date == D("2025-04-17")
    [segment] = [s for s in result.segments if s.kind == "NO_EFFECT"]
    assert "regardless of time required to verify" in segment.rule
    assert segment.end is None


# ---- stop -----------------------------------------------------------------------------------------


def test_stopped_clock_freezes_and_ignores_later_events() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.STOPPED, "2025-09-20", {"reason": "REFUSED"}),
        (E.EXTENSION, "2025-09-25", {"reason": "late"}),
        (E.CLARIFICATION_REQUESTED, "2025-09-26"),
        now="2025-11-01",
    )
    assert result.state is ClockState.STOPPED
    assert result.days_remaining is None  # a stopped clock has nothing remaining (was: frozen at 13)
    assert (result.at_risk, result.overdue) == (False, False)
    assert result.answered_late is False  # refused on 20 September, due 3 October
    assert result.extensions == () and result.pauses == ()
    assert result.stopped_at == local("GB", "2025-09-20")
    assert result.segments[-1].end == local("GB", "2025-09-20")
    assert "REFUSED" in result.segments[-1].note


def test_stop_while_paused_ends_the_pause_evaluation_at_the_stop() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.STOPPED, "2025-09-09", {"reason": "CLOSED"}),
        now="2025-12-01",
    )
    assert result.state is ClockState.STOPPED
    assert result.excluded_days == 5
    assert result.due_date == D("2025-10-08")


# ---- at risk, overdue -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "days", "at_risk", "overdue"),
    [
        (local("GB", "2025-09-25"), 8, False, False),
        (local("GB", "2025-09-26"), 7, True, False),
        (local("GB", "2025-10-03", time(23, 59, 59)), 0, True, False),
        (local("GB", "2025-10-04", time(0, 0, 1)), -1, True, True),
    ],
)
def test_at_risk_and_overdue_follow_the_local_end_of_the_due_day(now, days, at_risk, overdue) -> None:
    result = compute(
        get_pack("GB"), received_at=local("GB", "2025-09-03"), request_types=[], events=[], now=now
    )
    assert (result.days_remaining, result.at_risk, result.overdue) == (days, at_risk, overdue)


def test_at_risk_window_is_a_parameter() -> None:
    now = local("GB", "2025-09-20")
    result = compute(
        get_pack("GB"),
        received_at=local("GB", "2025-09-03"),
        request_types=[],
        events=[],
        now=now,
        at_risk_days=14,
    )
    assert (result.days_remaining, result.at_risk) == (13, True)


# ---- inputs -----------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    pack = get_pack("GB")
    aware = local("GB", "2025-09-03")
    naive = datetime(2025, 9, 3, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute(pack, received_at=naive, request_types=[], events=[], now=aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute(pack, received_at=aware, request_types=[], events=[], now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        ClockEvent(EventKind.ACKNOWLEDGED, naive)


def test_unknown_request_type_and_zone_are_refused() -> None:
    pack = get_pack("GB")
    at = local("GB", "2025-09-03")
    with pytest.raises(ValueError, match="request type"):
        compute(pack, received_at=at, request_types=["SUBJECT_ACCESS"], events=[], now=at)
    with pytest.raises(ValueError, match="time zone"):
        compute(pack, received_at=at, request_types=[], events=[], now=at, timezone="Mars/Olympus")


def test_event_data_is_a_read_only_copy() -> None:
    data = {"reason": "complex"}
    event = ClockEvent(EventKind.EXTENSION, local("GB", "2025-09-05"), data)
    data["reason"] = "changed"
    assert event.data["reason"] == "complex"
    with pytest.raises(TypeError):
        event.data["reason"] = "x"  # type: ignore[index]
    assert hash(event) == hash(
        ClockEvent(EventKind.EXTENSION, local("GB", "2025-09-05"), {"reason": "complex"})
    )


def test_event_order_and_duplicates_at_one_instant_do_not_change_the_result() -> None:
    same = local("GB", "2025-09-10")
    events = [
        ClockEvent(E.CLARIFICATION_REQUESTED, local("GB", "2025-09-05")),
        ClockEvent(E.CLARIFICATION_RECEIVED, same),
        ClockEvent(E.ACKNOWLEDGED, same, {"by": "b"}),
        ClockEvent(E.ACKNOWLEDGED, same, {"by": "a"}),
        ClockEvent(E.EXTENSION, same, {"amount": 1, "unit": "CALENDAR_MONTHS", "reason": "r", "by": "x"}),
        ClockEvent(E.EXTENSION, same, {"amount": 1, "unit": "CALENDAR_MONTHS", "reason": "q", "by": "y"}),
    ]
    kwargs = {
        "received_at": local("GB", "2025-09-03"),
        "request_types": ["ACCESS"],
        "now": local("GB", "2025-09-12"),
    }
    expected = compute(get_pack("GB"), events=events, **kwargs)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = events[:]
        rng.shuffle(shuffled)
        assert compute(get_pack("GB"), events=shuffled, **kwargs) == expected
    assert [e.reason for e in expected.extensions] == ["q", "r"]  # canonical data order decides
