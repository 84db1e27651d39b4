"""Issue 12, rest of the world (B): the AR, MX, SG, PH, SA, IL, CA-AB, CA-BC and TW packs.

Each worked example is derived, in its docstring, from the rule the pack cites and the product rules of
legal-clocks.md §1 (rule 3: receipt date + N calendar days, the day of receipt not counted; rule 4: the
Nth weekday after receipt that is not a holiday of the pack's calendar; rule 6: an extension is counted
from the anchor; rule 10: the earliest type's date is the due date). Holidays are those of the `holidays`
package, the calendar the engine uses. None of these packs rolls a deadline off a weekend or holiday.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

import clocks
from clocks import ClockEvent, ClockResult, EventKind, Unit, check_extension, compute, get_pack, packs
from clocks.zones import zone

# code: (pack id, zone, calendar (country, subdiv), effective from)
PACKS = {
    "AR": ("ar-pdpl", "America/Argentina/Buenos_Aires", ("AR", None), "2000-11-02"),
    "MX": ("mx-lfpdppp", "America/Mexico_City", ("MX", None), "2025-03-21"),
    "SG": ("sg-pdpa", "Asia/Singapore", ("SG", None), "2014-07-02"),
    "PH": ("ph-dpa", "Asia/Manila", ("PH", None), "2016-09-09"),
    "SA": ("sa-pdpl", "Asia/Riyadh", ("SA", None), "2023-09-14"),
    "IL": ("il-ppl", "Asia/Jerusalem", ("IL", None), "1981-01-01"),
    "CA-AB": ("ab-pipa", "America/Edmonton", ("CA", "AB"), "2004-01-01"),
    "CA-BC": ("bc-pipa", "America/Vancouver", ("CA", "BC"), "2004-01-01"),
    "TW": ("tw-pdpa", "Asia/Taipei", ("TW", None), "2012-10-01"),
}


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def extension(code: str, day: str, **data: object) -> ClockEvent:
    return ClockEvent(EventKind.EXTENSION, local(code, day), {"reason": "volume", "by": "officer", **data})


def clock(code: str, received: str, types: tuple[str, ...] = ("ACCESS",), events=()) -> ClockResult:
    return compute(
        get_pack(code),
        received_at=local(code, received),
        request_types=list(types),
        events=list(events),
        now=local(code, received, time(12, 0)),
    )


def type_dues(result: ClockResult) -> dict[str, date]:
    return {d.request_type: d.due_date for d in result.deadlines if d.kind == "RESPONSE"}


def raw_pack(pack_id: str) -> dict:
    return json.loads((resources.files(packs.__name__) / f"{pack_id}.json").read_text(encoding="utf-8"))


# ---- every pack: registry, regulator, fallback rule, effective date ---------------------------------


@pytest.mark.parametrize("code", PACKS)
def test_each_code_selects_its_pack_zone_and_calendar(code: str) -> None:
    pack_id, tz, (country, subdiv), _ = PACKS[code]
    pack = get_pack(code)

    assert (pack.id, pack.version, pack.jurisdiction, pack.timezone) == (pack_id, "2026.1", code, tz)
    assert (pack.calendar_country, pack.calendar_subdiv) == (country, subdiv)
    assert pack.roll.rule == "NONE" and pack.roll.citation


@pytest.mark.parametrize("code", PACKS)
def test_each_pack_names_a_regulator_with_an_https_url(code: str) -> None:
    regulator = get_pack(code).regulator

    assert regulator is not None
    assert regulator.name and regulator.citation
    assert regulator.url.startswith("https://")


@pytest.mark.parametrize("code", PACKS)
def test_each_pack_has_a_general_response_rule_and_cites_every_rule(code: str) -> None:
    pack = get_pack(code)
    raw = raw_pack(pack.id)

    general = [p for p in raw["periods"] if p["kind"] == "RESPONSE" and "requestTypes" not in p]
    assert len(general) == 1
    assert all(rule.citation for rule in pack.periods)
    assert {rule.reason for rule in pack.effects} == {"CLARIFICATION", "VERIFICATION", "AUTHORITY"}
    assert all(rule.citation for rule in pack.effects)
    assert pack.extension is None or pack.extension.citation


@pytest.mark.parametrize("code", PACKS)
def test_each_pack_has_an_effective_date_with_a_citation(code: str) -> None:
    pack_id, _, _, effective_from = PACKS[code]
    effective = get_pack(code).effective

    assert effective is not None
    assert effective.since == date.fromisoformat(effective_from)
    assert effective.citation == raw_pack(pack_id)["effective"]["citation"]


@pytest.mark.parametrize("code", PACKS)
def test_a_request_received_before_the_law_is_in_force_is_refused(code: str) -> None:
    """Product rule 1 applies to the in-force check too: the local receipt date in the pack's zone."""
    effective_from = PACKS[code][3]
    pack = get_pack(code)
    first_day = date.fromisoformat(effective_from)
    day_before = (first_day - timedelta(days=1)).isoformat()

    with pytest.raises(clocks.LawNotInForce):
        clocks.check_in_force(pack, local(code, day_before, time(23, 59)))
    clocks.check_in_force(pack, local(code, effective_from, time(0, 1)))
    clocks.check_in_force(pack, local(code, "2026-06-01"))


def test_the_in_force_check_uses_the_local_date_not_the_utc_date() -> None:
    """MX is UTC-6: 03:00 UTC on 21 March 2025 is still 20 March in Mexico City, before the law; 06:00
    UTC is midnight local on the 21st, the first day it applies."""
    pack = get_pack("MX")
    utc = ZoneInfo("UTC")
    with pytest.raises(clocks.LawNotInForce):
        clocks.check_in_force(pack, datetime(2025, 3, 21, 3, 0, tzinfo=utc))
    clocks.check_in_force(pack, datetime(2025, 3, 21, 6, 0, tzinfo=utc))


# ---- AR: Ley 25.326 ---------------------------------------------------------------------------------


def test_ar_access_is_due_ten_calendar_days_after_receipt_even_on_a_sunday() -> None:
    """Art 14(2): 10 calendar days ("días corridos").
    Received Thu 2025-03-20; day 1 = 21 Mar ... day 10 = Sun 2025-03-30. No cited rule moves the last
    day off a Sunday, so 30 March stands; Monday 31 March is shown only as a later date not relied upon."""
    result = clock("AR", "2025-03-20")

    assert result.due_date == date(2025, 3, 30)
    assert [(a.to_date, a.relied_upon) for a in result.adjustments] == [(date(2025, 3, 31), False)]


def test_ar_erasure_is_due_in_five_business_days_skipping_a_holiday() -> None:
    """Art 16(2): 5 business days ("días hábiles").
    Received Thu 2025-03-20: Fri 21 (1); Sat 22, Sun 23 skipped; Mon 24 (Day of Remembrance for Truth and
    Justice, AR holiday) skipped; Tue 25 (2), Wed 26 (3), Thu 27 (4), Fri 28 (5) -> 2025-03-28."""
    result = clock("AR", "2025-03-20", ("ERASURE",))

    assert result.due_date == date(2025, 3, 28)
    assert date(2025, 3, 24) in dict(result.holidays_relied_on)


def test_ar_access_and_erasure_the_calendar_day_access_period_can_end_first() -> None:
    """One request, two periods (product rule 10: the earliest is the due date).
    Received Thu 2025-02-27.
    ACCESS, 10 calendar days: 27 Feb + 10 = Sun 2025-03-09.
    ERASURE, 5 business days: Fri 28 Feb (1); Mon 3 and Tue 4 Mar (Carnival) skipped; Wed 5 (2),
    Thu 6 (3), Fri 7 (4), Mon 10 (5) -> 2025-03-10.
    Due date: 2025-03-09, the access period's."""
    pack = get_pack("AR")
    result = clock("AR", "2025-02-27", ("ACCESS", "ERASURE"))

    assert type_dues(result) == {"ACCESS": date(2025, 3, 9), "ERASURE": date(2025, 3, 10)}
    assert result.due_date == date(2025, 3, 9)
    assert pack.period_rule("ERASURE").citation in result.citations
    assert pack.period_rule("ACCESS").citation in result.citations


def test_ar_access_and_erasure_the_business_day_erasure_period_usually_ends_first() -> None:
    """Received Mon 2025-07-07.
    ACCESS: 7 Jul + 10 = Thu 2025-07-17.
    ERASURE: Tue 8 (1); Wed 9 (Independence Day) skipped; Thu 10 (2), Fri 11 (3), Mon 14 (4),
    Tue 15 (5) -> 2025-07-15.
    Due date: 2025-07-15, the erasure period's."""
    result = clock("AR", "2025-07-07", ("ACCESS", "ERASURE"))

    assert type_dues(result) == {"ACCESS": date(2025, 7, 17), "ERASURE": date(2025, 7, 15)}
    assert result.due_date == date(2025, 7, 15)


def test_ar_rectification_has_the_five_business_days_and_no_extension() -> None:
    """Art 16(2) covers rectification too. Received Thu 2025-06-12: Fri 13 (1); Mon 16 (Güemes) skipped;
    Tue 17 (2), Wed 18 (3), Thu 19 (4); Fri 20 (Belgrano) skipped; Mon 23 (5) -> 2025-06-23.
    Ley 25.326 has no extension: one granted on 2025-06-13 is refused and moves nothing."""
    pack = get_pack("AR")
    received = local("AR", "2025-06-12")
    check = check_extension(
        pack, received_at=received, request_types=["RECTIFICATION"], events=[], at=local("AR", "2025-06-13")
    )
    result = clock("AR", "2025-06-12", ("RECTIFICATION",), [extension("AR", "2025-06-13")])

    assert not check.allowed
    assert result.due_date == date(2025, 6, 23)
    assert result.extensions == ()


# ---- MX: LFPDPPP 2025 -------------------------------------------------------------------------------


def test_mx_twenty_calendar_days_the_earlier_reading() -> None:
    """LFPDPPP 2025 Art 40: 20 days, day type unverified; calendar days give the earlier date.
    Received Mon 2025-06-02 + 20 = Sun 2025-06-22 (kept: no roll). Had the days been business days the
    date would be Mon 30 June, later."""
    result = clock("MX", "2025-06-02")

    assert result.due_date == date(2025, 6, 22)


def test_mx_a_last_day_on_a_public_holiday_is_not_moved() -> None:
    """Received Wed 2025-08-27 + 20 = Tue 2025-09-16, Independence Day: no cited rule moves it."""
    result = clock("MX", "2025-08-27")

    assert result.due_date == date(2025, 9, 16)
    assert [(a.to_date, a.relied_upon) for a in result.adjustments] == [(date(2025, 9, 17), False)]


def test_mx_one_extension_for_an_equal_period() -> None:
    """Art 40: extendable once by an equal period (20 days). Received 2025-06-02; extension granted
    2025-06-20, within the first 20 days (base due 22 June). Counted from the anchor (rule 6):
    2 June + (20 + 20) = Sat 2025-07-12. A second extension is refused (once only)."""
    pack = get_pack("MX")
    first = extension("MX", "2025-06-20")
    result = clock("MX", "2025-06-02", events=[first])
    again = check_extension(
        pack,
        received_at=local("MX", "2025-06-02"),
        request_types=["ACCESS"],
        events=[first],
        at=local("MX", "2025-06-21"),
    )

    assert result.due_date == date(2025, 7, 12)
    assert [(e.amount, e.unit) for e in result.extensions] == [(20, Unit.CALENDAR_DAYS)]
    assert not again.allowed


def test_mx_an_extension_after_the_first_twenty_days_is_refused() -> None:
    """Received 2025-06-02, base due 2025-06-22; an extension on 23 June comes too late."""
    check = check_extension(
        get_pack("MX"),
        received_at=local("MX", "2025-06-02"),
        request_types=["ACCESS"],
        events=[],
        at=local("MX", "2025-06-23"),
    )

    assert not check.allowed
    assert "2025-06-22" in check.reason


# ---- SG: PDPA + PDP Regulations 2021 ----------------------------------------------------------------


def test_sg_thirty_calendar_days_across_a_month_end() -> None:
    """Reg 5: respond, or say when, within 30 days after receipt.
    Received Fri 2025-01-31: 31 Jan + 30 = Sun 2025-03-02 (February 2025 has 28 days: 28 days to 28 Feb,
    then 1 and 2 March). Kept on the Sunday."""
    result = clock("SG", "2025-01-31")

    assert result.due_date == date(2025, 3, 2)


def test_sg_receipt_after_midnight_local_counts_from_the_singapore_date() -> None:
    """Rule 1: 17:30 UTC on 30 January 2025 is 01:30 on 31 January in Singapore (UTC+8), so the anchor
    is 31 January and the due date, as above, 2025-03-02."""
    result = compute(
        get_pack("SG"),
        received_at=datetime(2025, 1, 30, 17, 30, tzinfo=ZoneInfo("UTC")),
        request_types=["ACCESS"],
        events=[],
        now=local("SG", "2025-01-31", time(12, 0)),
    )

    assert result.anchor_date == date(2025, 1, 31)
    assert result.due_date == date(2025, 3, 2)


def test_sg_notice_of_a_later_response_time_is_capped_at_thirty_more_days() -> None:
    """Reg 5 notice, given on 2025-02-20 (within the first 30 days), with the product's cap of 30 further
    days: 31 Jan + (30 + 30) = Tue 2025-04-01."""
    result = clock("SG", "2025-01-31", events=[extension("SG", "2025-02-20")])

    assert result.due_date == date(2025, 4, 1)
    assert [(e.amount, e.unit) for e in result.extensions] == [(30, Unit.CALENDAR_DAYS)]


def test_sg_a_shorter_notified_time_and_a_longer_one() -> None:
    """The organisation names its own time: 14 more days gives 31 Jan + 44 = Sun 2025-03-16; 31 more
    days is beyond the product's cap (60 days from receipt, 1 April) and is refused."""
    pack = get_pack("SG")
    shorter = clock(
        "SG", "2025-01-31", events=[extension("SG", "2025-02-20", amount=14, unit="CALENDAR_DAYS")]
    )
    longer = check_extension(
        pack,
        received_at=local("SG", "2025-01-31"),
        request_types=["ACCESS"],
        events=[],
        at=local("SG", "2025-02-20"),
        amount=31,
        unit=Unit.CALENDAR_DAYS,
    )

    assert shorter.due_date == date(2025, 3, 16)
    assert not longer.allowed


# ---- PH: Data Privacy Act 2012 + NPC ----------------------------------------------------------------


def test_ph_thirty_working_days_across_holy_week_and_the_elections() -> None:
    """30 working days (business days of the PH calendar). Received Mon 2025-04-07.
    Skipped weekdays: Wed 9 Apr (Day of Valor), Thu 17 and Fri 18 Apr (Maundy Thursday, Good Friday),
    Thu 1 May (Labor Day), Mon 12 May (elections special non-working day).
    Count: Apr 8 (1), 10 (2), 11 (3), 14-16 (4-6), 21-25 (7-11), 28-30 (12-14), May 2 (15), 5-9 (16-20),
    13-16 (21-24), 19-23 (25-29), Mon 26 May (30) -> 2025-05-26."""
    result = clock("PH", "2025-04-07")

    assert result.due_date == date(2025, 5, 26)
    assert [day for day, _ in result.holidays_relied_on] == [
        date(2025, 4, 9),
        date(2025, 4, 17),
        date(2025, 4, 18),
        date(2025, 5, 1),
        date(2025, 5, 12),
    ]


def test_ph_thirty_working_days_in_august() -> None:
    """Received Mon 2025-08-18. Skipped: Thu 21 Aug (Ninoy Aquino Day), Mon 25 Aug (National Heroes Day).
    Count: Aug 19 (1), 20 (2), 22 (3), 26-29 (4-7), Sep 1-5 (8-12), 8-12 (13-17), 15-19 (18-22),
    22-26 (23-27), 29 (28), 30 (29), Wed 1 Oct (30) -> 2025-10-01. No extension under this pack."""
    result = clock("PH", "2025-08-18", ("ACCESS", "ERASURE"))

    assert result.due_date == date(2025, 10, 1)
    assert type_dues(result) == {"ACCESS": date(2025, 10, 1), "ERASURE": date(2025, 10, 1)}
    assert get_pack("PH").extension is None


# ---- SA: PDPL ---------------------------------------------------------------------------------------


def test_sa_thirty_calendar_days_ending_on_eid() -> None:
    """30 days (tag S, calendar days). Received Sat 2025-03-01 + 30 = Mon 2025-03-31, an Eid al-Fitr
    holiday: no cited rule moves it, so 31 March stands."""
    result = clock("SA", "2025-03-01")

    assert result.due_date == date(2025, 3, 31)


def test_sa_the_first_day_in_force_and_a_leap_february() -> None:
    """Received Thu 2023-09-14 (the day the PDPL came into force) + 30 = Sat 2023-10-14.
    Received Thu 2024-02-29 + 30 = Sat 2024-03-30 (March has 31 days: 29 Feb + 1 = 1 Mar, + 29 = 30 Mar).
    No extension is modelled: the conditions were not verified."""
    assert clock("SA", "2023-09-14").due_date == date(2023, 10, 14)
    assert clock("SA", "2024-02-29").due_date == date(2024, 3, 30)
    assert get_pack("SA").extension is None


# ---- IL: Privacy Protection Law ---------------------------------------------------------------------


def test_il_thirty_days_ending_on_yom_kippur() -> None:
    """Inspection Regulations: 30 days (tag R). Received Tue 2025-09-02 + 30 = Thu 2025-10-02, Yom Kippur:
    kept, no roll."""
    result = clock("IL", "2025-09-02")

    assert result.due_date == date(2025, 10, 2)


def test_il_the_first_day_of_amendment_13() -> None:
    """Received Thu 2025-08-14 (Amendment 13 in force) + 30 = Sat 2025-09-13 (August has 31 days:
    17 days to 31 Aug, then 13 in September). A correction request has the same 30 days."""
    result = clock("IL", "2025-08-14", ("ACCESS", "RECTIFICATION"))

    assert result.due_date == date(2025, 9, 13)
    assert type_dues(result) == {"ACCESS": date(2025, 9, 13), "RECTIFICATION": date(2025, 9, 13)}


# ---- CA-AB: Alberta PIPA ----------------------------------------------------------------------------


def test_ab_forty_five_days_ending_on_a_sunday_before_family_day() -> None:
    """s.28(1): 45 days. Received Thu 2025-01-02: 29 days to 31 Jan, then 16 in February -> Sun
    2025-02-16. Neither the Sunday nor Family Day (Mon 17 Feb) moves it."""
    result = clock("CA-AB", "2025-01-02")

    assert result.due_date == date(2025, 2, 16)
    assert [(a.to_date, a.relied_upon) for a in result.adjustments] == [(date(2025, 2, 18), False)]


def test_ab_extension_of_thirty_days_counted_from_receipt() -> None:
    """Received Fri 2025-05-16 + 45 = Mon 2025-06-30 (15 days to 31 May, 30 in June).
    s.31 extension of 30 days granted on 2025-06-20: 16 May + 75 = Wed 2025-07-30."""
    plain = clock("CA-AB", "2025-05-16")
    extended = clock("CA-AB", "2025-05-16", events=[extension("CA-AB", "2025-06-20")])

    assert plain.due_date == date(2025, 6, 30)
    assert extended.due_date == date(2025, 7, 30)
    assert extended.base_due_date == date(2025, 6, 30)


# ---- CA-BC: BC PIPA ---------------------------------------------------------------------------------


def test_bc_thirty_days_that_exclude_saturdays_and_holidays() -> None:
    """s.29(1) with the s.1 'day' definition: 30 business days of the CA-BC calendar.
    Received Tue 2025-09-02. Skipped: Tue 30 Sep (National Day for Truth and Reconciliation), Mon 13 Oct
    (Thanksgiving). Count: Sep 3-5 (1-3), 8-12 (4-8), 15-19 (9-13), 22-26 (14-18), 29 (19), Oct 1-3
    (20-22), 6-10 (23-27), 14 (28), 15 (29), Thu 16 Oct (30) -> 2025-10-16."""
    result = clock("CA-BC", "2025-09-02")

    assert result.due_date == date(2025, 10, 16)
    assert [day for day, _ in result.holidays_relied_on] == [date(2025, 9, 30), date(2025, 10, 13)]


def test_bc_extension_of_thirty_more_days_over_christmas() -> None:
    """Received Mon 2025-11-03. Base: Nov 4-7 (1-4); Tue 11 Nov (Remembrance Day) skipped; Nov 10, 12-14
    (5-8), 17-21 (9-13), 24-28 (14-18), Dec 1-5 (19-23), 8-12 (24-28), 15 (29), Tue 16 Dec (30).
    s.31 extension (+30 days of the same kind) granted 2025-12-10, counted from the anchor: 60 business
    days. Dec 17-19 (31-33), 22-24 (34-36); Thu 25 Dec skipped; Fri 26 Dec (37: Boxing Day is not in the
    CA-BC calendar, counted, the earlier date); 29-31 (38-40); Thu 1 Jan skipped; Jan 2 (41), 5-9
    (42-46), 12-16 (47-51), 19-23 (52-56), 26-28 (57-59), Thu 29 Jan (60) -> 2026-01-29."""
    result = clock("CA-BC", "2025-11-03", events=[extension("CA-BC", "2025-12-10")])

    assert result.base_due_date == date(2025, 12, 16)
    assert result.due_date == date(2026, 1, 29)
    assert [(e.amount, e.unit) for e in result.extensions] == [(30, Unit.BUSINESS_DAYS)]


# ---- TW: PDPA Art 13 --------------------------------------------------------------------------------


def test_tw_access_fifteen_days_and_erasure_thirty_days() -> None:
    """Art 13: Art 10 requests 15 days, Art 11 requests 30 days. Received Fri 2025-01-24 (before the
    Lunar New Year holidays, which calendar days do not skip).
    ACCESS: 24 Jan + 15 = Sat 2025-02-08. ERASURE: 24 Jan + 30 = Sun 2025-02-23 (7 days to 31 Jan, 23 in
    February)."""
    assert clock("TW", "2025-01-24").due_date == date(2025, 2, 8)
    assert clock("TW", "2025-01-24", ("ERASURE",)).due_date == date(2025, 2, 23)


def test_tw_both_types_and_the_shorter_extension_for_all() -> None:
    """Received Mon 2025-09-01 for ACCESS and ERASURE.
    Without extension: ACCESS 1 Sep + 15 = 2025-09-16, ERASURE 1 Sep + 30 = 2025-10-01; due 09-16.
    Extension on 2025-09-10 (within the first 15 days), +15 days for every type (the shorter of Art 13's
    +15 / +30): ACCESS 1 Sep + 30 = 2025-10-01, ERASURE 1 Sep + 45 = 2025-10-16; due 2025-10-01."""
    plain = clock("TW", "2025-09-01", ("ACCESS", "ERASURE"))
    extended = clock("TW", "2025-09-01", ("ACCESS", "ERASURE"), [extension("TW", "2025-09-10")])

    assert type_dues(plain) == {"ACCESS": date(2025, 9, 16), "ERASURE": date(2025, 10, 1)}
    assert plain.due_date == date(2025, 9, 16)
    assert type_dues(extended) == {"ACCESS": date(2025, 10, 1), "ERASURE": date(2025, 10, 16)}
    assert extended.due_date == date(2025, 10, 1)


def test_tw_a_correction_extended_is_due_forty_five_days_after_receipt() -> None:
    """RECTIFICATION received Mon 2025-09-01, extended on 2025-09-25 (within its 30 days, due 1 Oct):
    1 Sep + 30 + 15 = Thu 2025-10-16 (the product's shorter +15, not Art 13's +30). Only once."""
    first = extension("TW", "2025-09-25")
    result = clock("TW", "2025-09-01", ("RECTIFICATION",), [first])
    again = check_extension(
        get_pack("TW"),
        received_at=local("TW", "2025-09-01"),
        request_types=["RECTIFICATION"],
        events=[first],
        at=local("TW", "2025-09-26"),
    )

    assert result.due_date == date(2025, 10, 16)
    assert not again.allowed
