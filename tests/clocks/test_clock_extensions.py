"""Extensions: recomputed from the anchor, judged at their occurredAt, bounded by the pack."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from clocks import (
    ClockEvent,
    EventKind,
    ExtensionCheck,
    Unit,
    check_extension,
    compute,
    extension_available,
    get_pack,
)
from clocks.zones import zone

E = EventKind
D = date.fromisoformat


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def ext(code: str, day: str, amount: int | None = None, unit: str | None = None, reason: str = "complex"):
    data: dict = {"reason": reason, "by": "dpo@example.org"}
    if amount is not None:
        data["amount"] = amount
    if unit is not None:
        data["unit"] = unit
    return ClockEvent(E.EXTENSION, local(code, day), data)


def check(code: str, received: str, events, at: str, **kwargs) -> ExtensionCheck:
    return check_extension(
        get_pack(code),
        received_at=local(code, received),
        request_types=kwargs.pop("types", ["ACCESS"]),
        events=events,
        at=local(code, at),
        **kwargs,
    )


def run(code: str, received: str, events, now: str, types=("ACCESS",)):
    return compute(
        get_pack(code),
        received_at=local(code, received),
        request_types=types,
        events=events,
        now=local(code, now),
    )


def test_uk_full_extension_is_three_months_from_the_start_date() -> None:
    # 31 January + 3 months = 30 April, not 28 February + 2 months = 28 April.
    result = run("GB", "2025-01-31", [ext("GB", "2025-02-10")], now="2025-02-11")

    assert result.due_date == D("2025-04-30")
    [applied] = result.extensions
    assert (applied.amount, applied.unit, applied.due_date_after) == (
        2,
        Unit.CALENDAR_MONTHS,
        D("2025-04-30"),
    )
    assert applied.by == "dpo@example.org"
    assert applied.reason == "complex"
    extended = [s for s in result.segments if s.kind == "EXTENDED"]
    assert extended[0].days == (D("2025-04-30") - D("2025-02-28")).days


def test_uk_partial_extensions_add_up_to_the_maximum() -> None:
    events = [ext("GB", "2025-09-10", 1, "CALENDAR_MONTHS"), ext("GB", "2025-09-20", 1, "MONTHS")]
    result = run("GB", "2025-09-03", events, now="2025-09-21")

    assert [e.due_date_after for e in result.extensions] == [D("2025-11-03"), D("2025-12-03")]
    assert result.due_date == D("2025-12-03")

    refused = check("GB", "2025-09-03", events, at="2025-09-25")
    assert refused.allowed is False
    assert "already been granted" in refused.reason


def test_uk_extension_window_and_due_date_move_with_excluded_days() -> None:
    events = [
        ClockEvent(E.CLARIFICATION_REQUESTED, local("GB", "2025-09-05")),
        ClockEvent(E.CLARIFICATION_RECEIVED, local("GB", "2025-09-14")),
    ]
    # Base 3 October + 10 excluded days = 13 October: an extension on the 10th is still in time.
    allowed = check("GB", "2025-09-03", events, at="2025-10-10")
    assert allowed == ExtensionCheck(True, "", D("2025-12-15"), 2, Unit.CALENDAR_MONTHS)

    result = run("GB", "2025-09-03", [*events, ext("GB", "2025-10-10")], now="2025-10-11")
    # 3 December + 10 days = Saturday 13 December -> Monday 15 December.
    assert result.due_date == D("2025-12-15")
    assert result.base_due_date == D("2025-10-03")

    late = check("GB", "2025-09-03", events, at="2025-10-14")
    assert late.allowed is False
    assert "2025-10-13" in late.reason


def test_late_extension_is_refused_with_the_rule() -> None:
    refused = check("GB", "2025-09-03", [], at="2025-10-04")

    assert refused.allowed is False
    assert refused.due_date_after is None
    assert "Too late" in refused.reason and "2025-10-03" in refused.reason
    assert "UK GDPR Art 12(3)" in refused.reason


def test_compute_ignores_an_invalid_extension_but_says_why() -> None:
    result = run("GB", "2025-09-03", [ext("GB", "2025-10-05")], now="2025-10-06")

    assert result.extensions == ()
    assert result.due_date == D("2025-10-03")
    [note] = [s for s in result.segments if s.kind == "NO_EFFECT"]
    assert note.note.startswith("extension not applied: Too late")
    assert get_pack("GB").extension.citation in result.citations


def test_us_extension_is_ninety_days_from_receipt_without_roll() -> None:
    result = run("US-CA", "2025-01-06", [ext("US-CA", "2025-02-01")], now="2025-02-02")

    assert result.due_date == D("2025-04-06")  # a Sunday, kept
    [adjustment] = result.adjustments
    assert (adjustment.from_date, adjustment.to_date, adjustment.relied_upon) == (
        D("2025-04-06"),
        D("2025-04-07"),
        False,
    )
    assert result.extensions[0].amount == 45 and result.extensions[0].unit is Unit.CALENDAR_DAYS


def test_us_extension_only_once() -> None:
    events = [ext("US-CA", "2025-01-20", 10, "CALENDAR_DAYS")]
    refused = check("US-CA", "2025-01-06", events, at="2025-01-25", amount=5, unit=Unit.CALENDAR_DAYS)

    assert refused.allowed is False
    assert "only once" in refused.reason

    result = run(
        "US-CA", "2025-01-06", [*events, ext("US-CA", "2025-01-25", 5, "CALENDAR_DAYS")], now="2025-01-26"
    )
    assert result.due_date == D("2025-03-02")
    assert len(result.extensions) == 1


def test_extension_beyond_the_maximum_is_refused() -> None:
    refused = check("GB", "2025-09-03", [], at="2025-09-10", amount=3, unit=Unit.CALENDAR_MONTHS)
    assert refused.allowed is False
    assert "beyond the maximum" in refused.reason and "2025-12-03" in refused.reason

    us = check("US-VA", "2025-09-02", [], at="2025-09-10", amount=46, unit=Unit.CALENDAR_DAYS)
    assert us.allowed is False


def test_mixed_units_are_bounded_by_dates() -> None:
    events = [ext("GB", "2025-09-05", 1, "CALENDAR_MONTHS")]

    too_far = check("GB", "2025-09-03", events, at="2025-09-06", amount=40, unit=Unit.CALENDAR_DAYS)
    assert too_far.allowed is False

    rest = check("GB", "2025-09-03", events, at="2025-09-06", amount=30, unit=Unit.CALENDAR_DAYS)
    assert rest == ExtensionCheck(True, "", D("2025-12-03"), 30, Unit.CALENDAR_DAYS)

    days_first = [ext("GB", "2025-09-05", 30, "DAYS")]
    remaining = check("GB", "2025-09-03", days_first, at="2025-09-06")
    assert (remaining.allowed, remaining.amount, remaining.unit) == (True, 31, Unit.CALENDAR_DAYS)
    assert remaining.due_date_after == D("2025-12-03")


@pytest.mark.parametrize("amount", [0, -1])
def test_non_positive_amount_is_refused(amount: int) -> None:
    refused = check("GB", "2025-09-03", [], at="2025-09-10", amount=amount, unit=Unit.CALENDAR_DAYS)
    assert refused.allowed is False
    assert "positive" in refused.reason


def test_stopped_request_cannot_be_extended() -> None:
    events = [ClockEvent(E.STOPPED, local("GB", "2025-09-08"), {"reason": "REFUSED"})]
    refused = check("GB", "2025-09-03", events, at="2025-09-10")
    assert refused.allowed is False
    assert "stopped" in refused.reason and "REFUSED" in refused.reason


@pytest.mark.parametrize("code", ["BR", "CA-QC", "CH", "AU"])
def test_packs_without_extension_refuse(code: str) -> None:
    refused = check(code, "2025-09-03", [], at="2025-09-05")
    assert refused.allowed is False
    assert "no extension" in refused.reason


def test_ccpa_opt_out_alone_cannot_be_extended_but_access_can() -> None:
    refused = check("US-CA", "2025-01-06", [], at="2025-01-10", types=["OPT_OUT_SALE"])
    assert refused.allowed is False
    assert "OPT_OUT_SALE" in refused.reason

    result = run(
        "US-CA",
        "2025-01-06",
        [ext("US-CA", "2025-01-10")],
        now="2025-01-11",
        types=("ACCESS", "OPT_OUT_SALE"),
    )
    deadlines = {d.request_type: d.due_date for d in result.deadlines if d.kind == "RESPONSE"}
    assert deadlines == {"ACCESS": D("2025-04-06"), "OPT_OUT_SALE": D("2025-01-28")}
    assert result.due_date == D("2025-01-28")


def test_pipeda_extension_once_for_thirty_days() -> None:
    assert check("CA", "2025-06-02", [], at="2025-06-30") == ExtensionCheck(
        True, "", D("2025-08-01"), 30, Unit.CALENDAR_DAYS
    )
    assert check("CA", "2025-06-02", [], at="2025-07-03").allowed is False  # after 2 July


def test_check_extension_agrees_with_compute() -> None:
    events = [
        ClockEvent(E.CLARIFICATION_REQUESTED, local("GB", "2025-09-05")),
        ClockEvent(E.CLARIFICATION_RECEIVED, local("GB", "2025-09-08")),
    ]
    verdict = check("GB", "2025-09-03", events, at="2025-09-20", amount=40, unit=Unit.CALENDAR_DAYS)
    result = run(
        "GB", "2025-09-03", [*events, ext("GB", "2025-09-20", 40, "CALENDAR_DAYS")], now="2025-09-21"
    )

    assert verdict.allowed is True
    assert result.extensions[0].due_date_after == verdict.due_date_after == result.due_date


def test_the_extension_window_is_the_unrolled_base_due_date():
    # Received Thu 4 Sep 2025: base due Sat 4 Oct, the response itself rolls to Mon 6 Oct. The extension
    # notice is judged against the base date (intermediate dates never roll): Friday is in time, Monday not.
    assert check("GB", "2025-09-04", [], "2025-10-03").allowed
    late = check("GB", "2025-09-04", [], "2025-10-06")
    assert not late.allowed
    assert "2025-10-04" in late.reason


# ---- "is extend an allowed action?" (extension_available = check_extension with amount None) --------


def available(code: str, received: str, events, at: str, types=("ACCESS",)) -> ExtensionCheck:
    return extension_available(
        get_pack(code),
        received_at=local(code, received),
        request_types=types,
        events=events,
        at=local(code, at),
    )


def test_extension_available_offers_the_remaining_extension() -> None:
    assert available("GB", "2025-09-03", [], "2025-09-10") == ExtensionCheck(
        True, "", D("2025-12-03"), 2, Unit.CALENDAR_MONTHS
    )
    partly = available("GB", "2025-09-03", [ext("GB", "2025-09-05", 1, "CALENDAR_MONTHS")], "2025-09-10")
    assert (partly.allowed, partly.amount, partly.unit) == (True, 1, Unit.CALENDAR_MONTHS)
    assert available("GB", "2025-09-03", [], "2025-09-10") == check("GB", "2025-09-03", [], at="2025-09-10")


@pytest.mark.parametrize(
    ("code", "events", "why"),
    [
        ("GB", [ext("GB", "2025-09-05")], "already been granted"),
        ("US-CA", [ext("US-CA", "2025-09-05", 10, "CALENDAR_DAYS")], "only once"),
        ("BR", [], "no extension"),
        ("GB", [ClockEvent(E.STOPPED, local("GB", "2025-09-08"), {"reason": "CLOSED"})], "stopped"),
        (
            "US-VA",
            [
                ClockEvent(E.STOPPED, local("US-VA", "2025-09-08"), {"reason": "REFUSED"}),
                ClockEvent(E.APPEAL_RECEIVED, local("US-VA", "2025-09-09")),
            ],
            "stopped",
        ),
    ],
)
def test_extension_not_available(code: str, events, why: str) -> None:
    refused = available(code, "2025-09-03", events, "2025-09-10")
    assert refused.allowed is False
    assert why in refused.reason
    assert refused == check(code, "2025-09-03", events, at="2025-09-10")


def test_extension_not_available_for_opt_outs_alone() -> None:
    refused = available("US-CA", "2025-01-06", [], "2025-01-10", types=("OPT_OUT_SALE", "LIMIT_SENSITIVE"))
    assert refused.allowed is False
    assert "OPT_OUT_SALE" in refused.reason
