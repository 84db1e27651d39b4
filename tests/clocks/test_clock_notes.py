"""Explanations that say what the rule did: segment notes, and one segment list per request type."""

from __future__ import annotations

from datetime import date, datetime, time

from clocks import ClockEvent, EventKind, compute, get_pack
from clocks.zones import zone

E = EventKind
D = date.fromisoformat
MONTH_HOW = "(the same date in the later month, or its last day; the day of receipt is day one)"


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


def notes(result) -> list[tuple[str, str]]:
    return [(s.kind, s.note) for s in result.segments]


def test_an_excluded_pause_resumes_and_says_how_far_the_due_date_moved() -> None:
    # Received 18 Nov 2026 10:00 London; clarification asked 20 Nov, received 24 Nov: 20..24 excluded.
    result = run(
        "GB",
        "2026-11-18",
        (E.CLARIFICATION_REQUESTED, "2026-11-20"),
        (E.CLARIFICATION_RECEIVED, "2026-11-24"),
        now="2026-11-26",
    )
    assert (result.base_due_date, result.due_date, result.excluded_days) == (
        D("2026-12-18"),
        D("2026-12-23"),
        5,
    )
    assert notes(result) == [
        ("RUNNING", f"1 month from 2026-11-18 {MONTH_HOW}"),
        (
            "PAUSED",
            "paused: clarification requested 2026-11-20, received 2026-11-24; 5 day(s) excluded, "
            "both days included",
        ),
        (
            "RUNNING",
            "resumed on 2026-11-25 after the clarification; with the 5 excluded day(s), "
            "due 2026-12-18 + 5 = 2026-12-23",
        ),
    ]
    after = result.segments[-1]
    assert after.start == local("GB", "2026-11-25", time(0))
    assert "restarted" not in after.note and "1 month from 2026-11-25" not in after.note


def test_two_exclusions_count_so_far_at_each_resume() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.CLARIFICATION_RECEIVED, "2025-09-06"),
        (E.CLARIFICATION_REQUESTED, "2025-09-10"),
        (E.CLARIFICATION_RECEIVED, "2025-09-12"),
        now="2025-09-15",
    )
    running = [s.note for s in result.segments if s.kind == "RUNNING"]
    assert running[1].endswith("2 excluded day(s), due 2025-10-03 + 2 = 2025-10-05")
    assert running[2].endswith("5 excluded day(s), due 2025-10-03 + 5 = 2025-10-08")
    assert result.due_date == D("2025-10-08")


def test_an_extension_granted_before_the_pause_is_in_the_resumed_due_date() -> None:
    result = run(
        "GB",
        "2026-11-18",
        (E.EXTENSION, "2026-11-19", {"reason": "complex"}),
        (E.CLARIFICATION_REQUESTED, "2026-11-20"),
        (E.CLARIFICATION_RECEIVED, "2026-11-24"),
        now="2026-11-26",
    )
    assert result.due_date == D("2027-02-23")
    assert result.segments[-1].note.endswith("5 excluded day(s), due 2027-02-18 + 5 = 2027-02-23")


def test_a_real_restart_says_restarted_and_counts_from_the_new_anchor() -> None:
    result = run(
        "GB",
        "2026-11-18",
        (E.VERIFICATION_REQUESTED, "2026-11-19"),
        (E.VERIFICATION_RECEIVED, "2026-11-25"),
        now="2026-11-26",
    )
    # 25 Nov + 1 month = Christmas Day (Friday); Boxing Day's substitute is Monday 28: due Tuesday 29.
    assert result.due_date == D("2026-12-29")
    assert notes(result) == [
        ("RUNNING", f"1 month from 2026-11-18 {MONTH_HOW}; discarded by the restart on 2026-11-25"),
        (
            "AWAITING_START",
            "awaiting start: identity information requested 2026-11-19, received 2026-11-25; the clock "
            "restarted that day and the time before it was discarded",
        ),
        (
            "RUNNING",
            "restarted on 2026-11-25 on receipt of the identity information: "
            f"1 month from 2026-11-25 {MONTH_HOW}",
        ),
    ]


def test_restart_then_exclusion_both_say_what_they_did() -> None:
    result = run(
        "GB",
        "2026-11-18",
        (E.AUTHORITY_REQUESTED, "2026-11-19"),
        (E.AUTHORITY_SUBMITTED, "2026-11-25"),
        (E.CLARIFICATION_REQUESTED, "2026-12-01"),
        (E.CLARIFICATION_RECEIVED, "2026-12-03"),
        now="2026-12-04",
    )
    running = [s.note for s in result.segments if s.kind == "RUNNING"]
    assert running == [
        f"1 month from 2026-11-18 {MONTH_HOW}; discarded by the restart on 2026-11-25",
        f"restarted on 2026-11-25 on receipt of the proof of authority: 1 month from 2026-11-25 {MONTH_HOW}",
        "resumed on 2026-12-04 after the clarification; with the 3 excluded day(s), "
        "due 2026-12-25 + 3 = 2026-12-28",
    ]
    assert result.due_date == D("2026-12-29")  # Monday 28 Dec 2026 is the Boxing Day substitute


def test_exclusion_then_restart_discards_the_exclusion() -> None:
    result = run(
        "GB",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-04"),
        (E.CLARIFICATION_RECEIVED, "2025-09-05"),
        (E.VERIFICATION_REQUESTED, "2025-09-06"),
        (E.VERIFICATION_RECEIVED, "2025-09-08"),
        now="2025-09-10",
    )
    running = [s.note for s in result.segments if s.kind == "RUNNING"]
    assert (
        running[1] == "resumed on 2025-09-06 after the clarification; discarded by the restart on 2025-09-08"
    )
    assert running[-1].startswith("restarted on 2025-09-08 on receipt of the identity information")
    assert all("restarted" not in note for note in running[:-1])


def test_a_pause_with_no_effect_leaves_the_running_note_alone() -> None:
    result = run(
        "DE",
        "2025-09-03",
        (E.CLARIFICATION_REQUESTED, "2025-09-05"),
        (E.CLARIFICATION_RECEIVED, "2025-09-20"),
        now="2025-09-21",
    )
    assert notes(result) == [
        ("RUNNING", f"1 month from 2025-09-03 {MONTH_HOW}"),
        ("NO_EFFECT", "clarification requested: no effect on the deadline under eu-gdpr"),
    ]


def test_only_a_recorded_restart_says_restarted() -> None:
    # Two restart requests overlap: the clock restarts only when the last item arrives.
    result = run(
        "GB",
        "2025-09-03",
        (E.VERIFICATION_REQUESTED, "2025-09-04"),
        (E.AUTHORITY_REQUESTED, "2025-09-05"),
        (E.VERIFICATION_RECEIVED, "2025-09-08"),
        (E.AUTHORITY_SUBMITTED, "2025-09-12"),
        now="2025-09-15",
    )
    assert result.anchor_date == D("2025-09-12")
    waits = [s.note for s in result.segments if s.kind == "AWAITING_START"]
    assert waits[0].endswith("the clock restarted only once everything asked for had arrived")
    assert waits[1].endswith("the clock restarted that day and the time before it was discarded")
    running = [s.note for s in result.segments if s.kind == "RUNNING"]
    assert [n for n in running if n.startswith("restarted")] == [
        f"restarted on 2025-09-12 on receipt of the proof of authority: 1 month from 2025-09-12 {MONTH_HOW}"
    ]


# ---- one segment list per request type ---------------------------------------------------------------


def test_segments_and_period_follow_the_primary_request_type() -> None:
    result = run("US-CA", "2025-01-06", now="2025-01-07", types=("ACCESS", "OPT_OUT_SALE"))

    assert result.due_date == D("2025-01-28")  # the opt-out, 15 business days
    assert (result.period.amount, result.period.unit) == (15, "BUSINESS_DAYS")
    [segment] = result.segments
    assert segment.note.startswith("15 business days from 2025-01-06")
    assert segment.rule == get_pack("US-CA").period_rule("OPT_OUT_SALE").citation


def test_segments_by_type_when_periods_differ() -> None:
    pack = get_pack("US-CA")
    result = run(
        "US-CA",
        "2025-01-06",
        (E.EXTENSION, "2025-01-10", {"reason": "volume"}),
        now="2025-01-11",
        types=("ACCESS", "OPT_OUT_SALE"),
    )
    assert list(result.segments_by_type) == ["ACCESS", "OPT_OUT_SALE"]
    assert result.segments == result.segments_by_type["OPT_OUT_SALE"]
    access, opt_out = result.segments_by_type["ACCESS"], result.segments_by_type["OPT_OUT_SALE"]
    assert access[0].note.startswith("45 calendar days from 2025-01-06 (the day of receipt is not counted)")
    assert access[0].rule == pack.period_rule("ACCESS").citation
    assert [s.kind for s in access] == ["RUNNING", "EXTENDED"]
    assert opt_out[0].note.startswith("15 business days from 2025-01-06")
    assert [s.kind for s in opt_out] == ["RUNNING", "NO_EFFECT"]
    assert (
        opt_out[1].note == "extended by 45 calendar days (volume) for the other request types; "
        "OPT_OUT_SALE cannot be extended"
    )

    data = result.explanation("r")
    assert set(data["segmentsByType"]) == {"ACCESS", "OPT_OUT_SALE"}
    assert data["segmentsByType"]["OPT_OUT_SALE"] == data["segments"]
    assert data["periods"] == [
        {
            "requestType": "ACCESS",
            "amount": 45,
            "unit": "CALENDAR_DAYS",
            "citation": pack.period_rule("ACCESS").citation,
            "extendable": True,
            "basis": "STATUTE",
        },
        {
            "requestType": "OPT_OUT_SALE",
            "amount": 15,
            "unit": "BUSINESS_DAYS",
            "citation": pack.period_rule("OPT_OUT_SALE").citation,
            "extendable": False,
            "basis": "STATUTE",
        },
    ]
    assert data["period"] == {"amount": 15, "unit": "BUSINESS_DAYS"}


def test_no_segments_by_type_when_every_type_has_the_same_period() -> None:
    result = run("US-CA", "2025-01-06", now="2025-01-07", types=("ACCESS", "ERASURE"))
    assert dict(result.segments_by_type) == {}
    assert result.explanation("r")["segmentsByType"] == {}
    assert [p["requestType"] for p in result.explanation("r")["periods"]] == ["ACCESS", "ERASURE"]
