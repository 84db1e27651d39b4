"""Properties of the counting rules issue 12 added: closed periods, hours, the South African and Korean
rolls, appeal extensions, effective dates, regional calendars, the fraud suspension and product-decision
periods. Checked with hypothesis for any receipt date and time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clocks import ClockEvent, EventKind, LawNotInForce, check_in_force, compute, get_pack, jurisdiction_codes
from clocks.zones import zone

FAST = settings(max_examples=150, deadline=None)
days = st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31))
times = st.times()
E = EventKind


def received_in(code: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=zone(get_pack(code).timezone))


def run(code: str, received: datetime, types=("ACCESS",), events=(), now: datetime | None = None):
    return compute(
        get_pack(code),
        received_at=received,
        request_types=types,
        events=events,
        now=now or received + timedelta(days=1),
    )


def in_closedown(day: date) -> bool:
    return (day.month, day.day) >= (12, 25) or (day.month, day.day) <= (1, 15)


@FAST
@given(day=days, at=times)
def test_new_zealand_never_counts_or_ends_in_the_closedown(day, at) -> None:
    result = run("NZ", received_in("NZ", day, at))
    calendar = get_pack("NZ").calendar
    assert not in_closedown(result.due_date)
    assert calendar.is_working_day(result.due_date)
    # 20 working days: at least 28 calendar days (four weeks), at most four weeks plus the close-down.
    anchor = result.anchor_date
    assert 26 <= (result.due_date - anchor).days <= 28 + 22 + 14
    counted = [
        anchor + timedelta(days=i)
        for i in range(1, (result.due_date - anchor).days + 1)
        if calendar.is_working_day(anchor + timedelta(days=i))
    ]
    assert len(counted) == 20
    assert not any(in_closedown(d) for d in counted)


@FAST
@given(day=days, at=times)
def test_indonesia_is_exactly_72_hours_from_the_instant_of_receipt(day, at) -> None:
    received = received_in("ID", day, at)
    result = run("ID", received)
    assert result.due_at == received + timedelta(hours=72)
    assert result.due_date == (received + timedelta(hours=72)).astimezone(zone("Asia/Jakarta")).date()


@FAST
@given(day=days, at=times)
def test_south_africa_never_ends_on_a_sunday_or_public_holiday_but_may_on_a_saturday(day, at) -> None:
    result = run("ZA", received_in("ZA", day, at))
    calendar = get_pack("ZA").calendar
    unrolled = result.anchor_date + timedelta(days=get_pack("ZA").period_for("ACCESS").amount)
    assert result.due_date.weekday() != 6
    assert calendar.holiday(result.due_date) is None
    if unrolled.weekday() == 5 and calendar.holiday(unrolled) is None:
        assert result.due_date == unrolled  # a Saturday last day stands
    # It moves only as far as the first day that is neither a Sunday nor a public holiday.
    for between in range((result.due_date - unrolled).days):
        moved_past = unrolled + timedelta(days=between)
        assert moved_past.weekday() == 6 or calendar.holiday(moved_past) is not None


@FAST
@given(day=days, at=times)
def test_korea_rolls_past_saturdays_sundays_and_every_holiday_of_a_run(day, at) -> None:
    result = run("KR", received_in("KR", day, at))
    calendar = get_pack("KR").calendar
    unrolled = result.anchor_date + timedelta(days=get_pack("KR").period_for("ACCESS").amount)
    assert result.due_date.weekday() < 5
    assert calendar.holiday(result.due_date) is None
    for between in range((result.due_date - unrolled).days):
        moved_past = unrolled + timedelta(days=between)
        assert moved_past.weekday() >= 5 or calendar.holiday(moved_past) is not None


@FAST
@given(day=days, at=times, after=st.integers(0, 80), amount=st.integers(1, 70))
def test_an_appeal_extension_never_shortens_and_never_exceeds_60_days(day, at, after, amount) -> None:
    received = received_in("US-CO", day, at)
    refused = received + timedelta(days=10)
    appealed = refused + timedelta(days=5)
    events = [
        ClockEvent(E.STOPPED, refused, {"reason": "REFUSED"}),
        ClockEvent(E.APPEAL_RECEIVED, appealed, {}),
    ]
    plain = run("US-CO", received, events=events, now=appealed)
    extension = ClockEvent(
        E.EXTENSION,
        appealed + timedelta(days=after),
        {"amount": amount, "unit": "CALENDAR_DAYS", "reason": "r"},
    )
    extended = run("US-CO", received, events=[*events, extension], now=appealed)
    appeal_day = appealed.astimezone(zone("America/Denver")).date()
    assert plain.appeal_due_date == appeal_day + timedelta(days=45)
    assert extended.appeal_due_date >= plain.appeal_due_date
    if after <= 45 and amount <= 60:
        assert extended.appeal_due_date == appeal_day + timedelta(days=45 + amount)
    else:
        assert extended.appeal_due_date == plain.appeal_due_date  # too late, or beyond the maximum


@FAST
@given(code=st.sampled_from(jurisdiction_codes()), day=days, at=times)
def test_a_law_is_in_force_exactly_from_its_effective_date(code, day, at) -> None:
    pack = get_pack(code)
    received = received_in(code, day, at)
    if pack.effective is None or day >= pack.effective.since:
        check_in_force(pack, received)
    else:
        with pytest.raises(LawNotInForce) as raised:
            check_in_force(pack, received)
        assert pack.effective.since.isoformat() in str(raised.value)


@FAST
@given(day=days, at=times, state=st.sampled_from(["AU-NSW", "AU-ACT"]))
def test_the_national_australian_date_is_never_later_than_a_state_reading(day, at, state) -> None:
    """AU-NSW and AU-ACT share the Sydney zone with AU, so the same instant is the same local day."""
    received = received_in("AU", day, at)
    national, regional = run("AU", received), run(state, received)
    assert national.due_date <= regional.due_date
    if national.due_date < regional.due_date:
        shown = [a for a in national.adjustments if not a.relied_upon]
        assert shown and max(a.to_date for a in shown) >= national.due_date


@FAST
@given(day=days, at=times, asked=st.integers(0, 40), waited=st.integers(0, 60))
def test_utah_fraud_suspension_only_ever_moves_the_date_later(day, at, asked, waited) -> None:
    received = received_in("US-UT", day, at)
    request = received + timedelta(days=asked)
    answer = request + timedelta(days=waited)
    now = answer + timedelta(days=1)

    def with_flag(flag: dict) -> object:
        events = [
            ClockEvent(E.VERIFICATION_REQUESTED, request, flag),
            ClockEvent(E.VERIFICATION_RECEIVED, answer),
        ]
        return run("US-UT", received, events=events, now=now)

    plain, suspended = with_flag({}), with_flag({"fraudSuspected": True})
    assert plain.due_date == plain.anchor_date + timedelta(days=45)  # an ordinary verification: no effect
    assert suspended.due_date >= plain.due_date
    if asked <= 45:  # asked in time: the span, both ends included, is excluded
        request_day = request.astimezone(zone("America/Denver")).date()
        answer_day = answer.astimezone(zone("America/Denver")).date()
        assert suspended.due_date == plain.due_date + timedelta(days=(answer_day - request_day).days + 1)


@FAST
@given(code=st.sampled_from(["JP", "CN"]), day=days, at=times)
def test_a_product_decision_is_never_passed_off_as_law(code, day, at) -> None:
    result = run(code, received_in(code, day, at))
    assert all(p.basis == "PRODUCT_DECISION" for p in result.type_periods)
    assert any("Product decision" in c for c in result.citations)
    assert "Product decision" in result.segments[0].rule
