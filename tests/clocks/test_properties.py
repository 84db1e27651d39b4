"""Properties of the clock that must hold for any input, checked with hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from clocks import REQUEST_TYPES, ClockEvent, EventKind, Unit, compute, get_pack, jurisdiction_codes
from clocks.calendar import add_months, get_calendar
from clocks.zones import zone

FAST = settings(max_examples=200, deadline=None)

codes = st.sampled_from(jurisdiction_codes())
rolling_codes = st.sampled_from(
    [c for c in jurisdiction_codes() if get_pack(c).roll.rule == "NEXT_WORKING_DAY"]
)
non_rolling_codes = st.sampled_from([c for c in jurisdiction_codes() if get_pack(c).roll.rule == "NONE"])
uk_codes = st.sampled_from(["GB", "GB-WLS", "GB-SCT", "GB-NIR"])
days = st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31))
times = st.times()
request_types = st.lists(st.sampled_from(REQUEST_TYPES), max_size=3)
offsets = st.integers(min_value=0, max_value=150)


def received_in(code: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=zone(get_pack(code).timezone))


def run(code, received, types=(), events=(), now=None):
    return compute(
        get_pack(code),
        received_at=received,
        request_types=types,
        events=events,
        now=now or received + timedelta(days=3),
    )


@st.composite
def any_events(draw, received: datetime, max_size: int = 12) -> list[ClockEvent]:
    """Any kinds in any order, including nonsense (unanswered answers, odd extension data)."""
    data = st.one_of(
        st.just({}),
        st.fixed_dictionaries(
            {
                "amount": st.one_of(st.none(), st.integers(-2, 100), st.just("x")),
                "unit": st.sampled_from(
                    [None, "CALENDAR_DAYS", "CALENDAR_MONTHS", "BUSINESS_DAYS", "DAYS", "?"]
                ),
                "reason": st.text(max_size=5),
            }
        ),
        st.fixed_dictionaries({"reason": st.sampled_from(["REFUSED", "CLOSED"])}),
    )
    items = draw(
        st.lists(
            st.tuples(st.sampled_from(list(EventKind)), offsets, st.integers(0, 23), data), max_size=max_size
        )
    )
    return [
        ClockEvent(kind, received + timedelta(days=day, hours=hour), payload)
        for kind, day, hour, payload in items
    ]


@FAST
@given(code=codes, day=days, at=times, types=request_types, data=st.data())
def test_due_is_never_before_the_anchor_and_nothing_crashes(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    events = data.draw(any_events(received))
    now = received + timedelta(days=data.draw(offsets))

    result = run(code, received, types, events, now)

    assert result.due_date >= result.anchor_date >= received.astimezone(zone(result.timezone)).date()
    assert all(d.due_date >= result.anchor_date for d in result.deadlines)
    if result.deadline_kind == "RESPONSE":
        assert result.due_date == min(d.due_date for d in result.deadlines if d.kind == "RESPONSE")
    else:  # an appeal against the answer was received: its own deadline is what is due
        assert [result.due_date] == [d.due_date for d in result.deadlines if d.kind == "APPEAL"]
    result.explanation("r")


@FAST
@given(code=codes, day=days, at=times, types=request_types, data=st.data())
def test_results_are_pure_and_independent_of_event_order(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    events = data.draw(any_events(received))
    shuffled = data.draw(st.permutations(events))
    now = received + timedelta(days=data.draw(offsets))

    first = run(code, received, types, events, now)
    assert run(code, received, types, events, now) == first
    assert run(code, received, types, shuffled, now) == first
    assert first.explanation("r") == run(code, received, types, shuffled, now).explanation("r")


@FAST
@given(code=codes, day=days, at=times, types=request_types, data=st.data())
def test_adding_a_pause_never_moves_the_due_date_earlier(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    base: list[ClockEvent] = []
    if data.draw(st.booleans()):
        base.append(ClockEvent(EventKind.EXTENSION, received + timedelta(days=data.draw(st.integers(0, 20)))))
    reason = data.draw(st.sampled_from(["CLARIFICATION", "VERIFICATION", "AUTHORITY"]))
    asked_kind, answered_kind = {
        "CLARIFICATION": (EventKind.CLARIFICATION_REQUESTED, EventKind.CLARIFICATION_RECEIVED),
        "VERIFICATION": (EventKind.VERIFICATION_REQUESTED, EventKind.VERIFICATION_RECEIVED),
        "AUTHORITY": (EventKind.AUTHORITY_REQUESTED, EventKind.AUTHORITY_SUBMITTED),
    }[reason]
    asked = received + timedelta(hours=data.draw(st.integers(0, 24 * 60)))
    pause = [ClockEvent(asked_kind, asked)]
    if data.draw(st.booleans()):
        pause.append(ClockEvent(answered_kind, asked + timedelta(hours=data.draw(st.integers(0, 24 * 40)))))
    now = asked + timedelta(days=data.draw(st.integers(0, 60)))

    without = run(code, received, types, base, now)
    with_pause = run(code, received, types, base + pause, now)

    assert with_pause.due_date >= without.due_date


@FAST
@given(code=codes, day=days, at=times, types=request_types, data=st.data())
def test_an_extension_never_moves_the_due_date_earlier(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    base = data.draw(any_events(received, max_size=6))
    last = max((e.occurred_at for e in base), default=received)
    # Strictly after everything else: an extension slipped in *before* an earlier grant would use up
    # the budget that grant relied on, which is a different (and legitimate) outcome.
    granted = last + timedelta(hours=data.draw(st.integers(1, 24 * 60)))
    amount = data.draw(st.one_of(st.none(), st.integers(1, 90)))
    unit = data.draw(st.sampled_from(list(Unit)))
    extension = ClockEvent(
        EventKind.EXTENSION, granted, {} if amount is None else {"amount": amount, "unit": unit}
    )
    now = granted + timedelta(days=data.draw(st.integers(0, 30)))

    before = run(code, received, types, base, now)
    after = run(code, received, types, [*base, extension], now)

    assert after.due_date >= before.due_date
    for old, new in zip(before.deadlines, after.deadlines, strict=True):
        assert new.due_date >= old.due_date


@FAST
@given(code=rolling_codes, day=days, at=times, types=request_types, data=st.data())
def test_where_the_pack_rolls_the_due_date_is_a_working_day(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    events = data.draw(any_events(received, max_size=6))
    pack = get_pack(code)
    calendar = get_calendar(pack.calendar_country, pack.calendar_subdiv, pack.calendar_label)

    result = run(code, received, types, events)

    assert calendar.is_working_day(result.due_date)
    assert all(calendar.is_working_day(d.due_date) for d in result.deadlines)


@FAST
@given(day=days, at=times)
def test_brazil_never_ends_on_a_public_holiday(day, at) -> None:
    result = run("BR", received_in("BR", day, at))
    assert get_calendar("BR", None, "BR").holiday(result.due_date) is None


@FAST
@given(code=non_rolling_codes, day=days, at=times, types=request_types)
def test_where_the_pack_does_not_roll_the_earlier_candidate_is_kept(code, day, at, types) -> None:
    received = received_in(code, day, at)
    pack = get_pack(code)
    calendar = pack.calendar  # every candidate calendar (US-CA: federal and California, rule 4)
    anchor = received.astimezone(zone(pack.timezone)).date()

    result = run(code, received, types)

    candidates = []
    for request_type in types or ["ACCESS"]:
        period = pack.period_for(request_type)
        if period.unit is Unit.BUSINESS_DAYS:
            candidates.append(calendar.add_business_days(anchor, period.amount)[0])
        elif period.unit is Unit.HOURS:
            later = received + timedelta(hours=period.amount)
            candidates.append(later.astimezone(zone(pack.timezone)).date())
        else:
            assert period.unit is Unit.CALENDAR_DAYS
            candidates.append(anchor + timedelta(days=period.amount))
    assert result.due_date == min(candidates)
    assert all(not a.relied_upon for a in result.adjustments)


@FAST
@given(code=uk_codes, day=days, at=times, start=st.integers(0, 25), length=st.integers(0, 40))
def test_a_uk_pause_of_n_days_moves_the_unrolled_date_by_n(code, day, at, start, length) -> None:
    received = received_in(code, day, at)
    anchor = received.astimezone(zone("Europe/London")).date()
    asked = datetime.combine(anchor + timedelta(days=start), time(12), tzinfo=zone("Europe/London"))
    answered = asked + timedelta(days=length)
    pack = get_pack(code)
    calendar = get_calendar(pack.calendar_country, pack.calendar_subdiv, pack.calendar_label)
    events = [
        ClockEvent(EventKind.CLARIFICATION_REQUESTED, asked),
        ClockEvent(EventKind.CLARIFICATION_RECEIVED, answered),
    ]

    result = run(code, received, ["ACCESS"], events, answered)

    base = add_months(anchor, 1)
    if asked.date() > calendar.next_working_day(base):
        assert result.excluded_days == 0  # asked after the deadline had passed: no effect
    else:
        assert result.excluded_days == length + 1
        assert result.due_date == calendar.next_working_day(base + timedelta(days=length + 1))


@FAST
@given(code=codes, instant=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31)))
@example(code="US-CA", instant=datetime(2024, 11, 3, 8, 0))  # 01:00 at the LA fold: found by hypothesis
def test_the_anchor_is_the_local_date_of_receipt_whatever_the_input_offset(code, instant) -> None:
    received_utc = instant.replace(tzinfo=UTC)
    local = received_utc.astimezone(zone(get_pack(code).timezone))

    now = received_utc + timedelta(days=3)  # the same instant for both, whatever DST does to walls

    assert run(code, received_utc, now=now).anchor_date == local.date()
    assert run(code, received_utc, now=now) == run(code, local, now=now)


# ---- stopped clocks and appeals ----------------------------------------------------------------------

PAST_TENSE_FORBIDDEN = ("provisional", "still open", "not yet", "frozen", "today")
LIFECYCLE_KINDS = [
    kind
    for kind in EventKind
    if kind not in (EventKind.STOPPED, EventKind.APPEAL_RECEIVED, EventKind.APPEAL_DECIDED)
]
appeal_codes = st.sampled_from([c for c in jurisdiction_codes() if get_pack(c).appeal_rule is not None])


@st.composite
def lifecycle_events(draw, received: datetime, max_size: int = 10) -> list[ClockEvent]:
    """Pauses, answers, extensions and acknowledgements in any order, with fixed (word-free) data."""
    data = st.sampled_from(
        [{}, {"reason": "complex"}, {"amount": 1, "unit": "CALENDAR_MONTHS"}, {"amount": 20, "unit": "DAYS"}]
    )
    items = draw(
        st.lists(
            st.tuples(st.sampled_from(LIFECYCLE_KINDS), offsets, st.integers(0, 23), data), max_size=max_size
        )
    )
    return [
        ClockEvent(kind, received + timedelta(days=day, hours=hour), payload)
        for kind, day, hour, payload in items
    ]


@FAST
@given(code=codes, day=days, at=times, types=request_types, data=st.data())
def test_a_stopped_clock_is_over_and_told_in_the_past_tense(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    events = data.draw(lifecycle_events(received))
    last = max((e.occurred_at for e in events), default=received)
    stop = last + timedelta(hours=data.draw(st.integers(0, 24 * 60)))
    events.append(
        ClockEvent(EventKind.STOPPED, stop, {"reason": data.draw(st.sampled_from(["REFUSED", "CLOSED"]))})
    )
    if data.draw(st.booleans()):  # an appeal, decided: the clock ends STOPPED again
        appealed = stop + timedelta(hours=data.draw(st.integers(0, 24 * 30)))
        decided = appealed + timedelta(hours=data.draw(st.integers(0, 24 * 90)))
        events += [
            ClockEvent(EventKind.APPEAL_RECEIVED, appealed),
            ClockEvent(EventKind.APPEAL_DECIDED, decided, {"outcome": "UPHELD"}),
        ]
    now = stop + timedelta(days=data.draw(st.integers(0, 200)))

    result = run(code, received, types, events, now)

    assert result.state.value == "STOPPED"
    assert result.days_remaining is None
    assert (result.at_risk, result.overdue, result.provisional) == (False, False, False)
    assert isinstance(result.answered_late, bool)
    assert result.answered_late == (result.stopped_at > result.due_at)
    assert result.acknowledge_overdue is False
    for segments in (result.segments, *result.segments_by_type.values()):
        for segment in segments:
            for word in PAST_TENSE_FORBIDDEN:
                assert word not in segment.note, (word, segment.note)
    explained = result.explanation("r")
    assert explained["daysRemaining"] is None and explained["answeredLate"] is result.answered_late


@FAST
@given(code=appeal_codes, day=days, at=times, types=request_types, data=st.data())
def test_an_open_appeal_is_due_its_period_after_receipt(code, day, at, types, data) -> None:
    received = received_in(code, day, at)
    events = data.draw(lifecycle_events(received, max_size=6))
    last = max((e.occurred_at for e in events), default=received)
    stop = last + timedelta(hours=data.draw(st.integers(0, 24 * 60)))
    appealed = stop + timedelta(hours=data.draw(st.integers(0, 24 * 60)))
    events += [
        ClockEvent(EventKind.STOPPED, stop, {"reason": "REFUSED"}),
        ClockEvent(EventKind.APPEAL_RECEIVED, appealed),
    ]
    now = appealed + timedelta(days=data.draw(st.integers(0, 90)))
    shuffled = data.draw(st.permutations(events))

    result = run(code, received, types, shuffled, now)

    pack = get_pack(code)
    receipt = appealed.astimezone(zone(pack.timezone)).date()
    assert pack.appeal_period is not None and pack.appeal_period.unit is Unit.CALENDAR_DAYS
    assert result.appeal_due_date == receipt + timedelta(days=pack.appeal_period.amount)  # US packs: no roll
    assert (result.state.value, result.deadline_kind, result.due_date) == (
        "RUNNING",
        "APPEAL",
        result.appeal_due_date,
    )
    assert result.days_remaining == (result.due_date - now.astimezone(zone(pack.timezone)).date()).days
    assert result.response_stopped_at == stop and result.stopped_at is None
