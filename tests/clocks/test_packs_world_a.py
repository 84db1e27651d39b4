"""Issue 12, rest of world (batch A): worked examples for the KR, NZ, ZA, ID, JP, CN, TH, TR, VN and IN packs.

Each example is derived by hand in its docstring from the rule its pack cites. Holiday dates are those of the
`holidays` package's national tables (`holidays.country_holidays(code, years=...)`), which the packs name as
their calendars. Day periods count from the day after the local day of receipt (legal-clocks.md §1 rule 3).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

import clocks
from clocks import ClockEvent, EventKind, compute, get_pack
from clocks.zones import zone

E = EventKind


def local(code: str, day: str, at: time = time(12, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def clock(code: str, received: str, *, types=("ACCESS",), events=(), at: time = time(12, 0)):
    return compute(
        get_pack(code),
        received_at=local(code, received, at),
        request_types=list(types),
        events=[ClockEvent(kind, local(code, day), data) for kind, day, data in events],
        now=local(code, received, at),
    )


def due(code: str, received: str, **kwargs) -> date:
    return clock(code, received, **kwargs).due_date


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- the registry -------------------------------------------------------------------------------------------

PACKS = [
    ("KR", "kr-pipa", "Asia/Seoul", "2011-09-30"),
    ("NZ", "nz-privacy-2020", "Pacific/Auckland", "2020-12-01"),
    ("ZA", "za-popia", "Africa/Johannesburg", "2020-07-01"),
    ("ID", "id-pdp", "Asia/Jakarta", "2024-10-17"),
    ("JP", "jp-appi", "Asia/Tokyo", "2005-04-01"),
    ("CN", "cn-pipl", "Asia/Shanghai", "2021-11-01"),
    ("TH", "th-pdpa", "Asia/Bangkok", "2022-06-01"),
    ("TR", "tr-kvkk", "Europe/Istanbul", "2016-04-07"),
    ("VN", "vn-pdpl", "Asia/Ho_Chi_Minh", "2026-01-01"),
    ("IN", "in-dpdp", "Asia/Kolkata", "2027-05-13"),
]


@pytest.mark.parametrize(("code", "pack_id", "tz", "effective"), PACKS, ids=[p[0] for p in PACKS])
def test_it_registers_the_pack_with_its_zone_calendar_and_regulator(code, pack_id, tz, effective) -> None:
    pack = get_pack(code)

    assert (pack.id, pack.version, pack.timezone, pack.calendar_country) == (pack_id, "2026.1", tz, code)
    assert pack.regulator is not None and pack.regulator.url.startswith("https://")
    assert pack.period_rule("ACCESS").citation and pack.roll.citation
    # Received on the effective date (local) is in force; the day before is not.
    clocks.check_in_force(pack, local(code, effective))
    with pytest.raises(clocks.LawNotInForce):
        clocks.check_in_force(pack, local(code, effective) - timedelta(days=1))


# --- KR: PIPA, 10 days; Civil Act Art 157 (first day out), Art 161 (Saturday / holiday -> next day) ---------


def test_kr_last_day_in_the_chuseok_2025_run_moves_past_the_whole_run() -> None:
    """Received Tue 2025-09-23 (Seoul). Enforcement Decree Art 41(4)/43(3): 10 days; Civil Act Art 157: day 1
    is 09-24, day 10 is Fri 2025-10-03 - National Foundation Day, a public holiday. Civil Act Art 161 moves
    the end to the following day, chained (holidays package, KR 2025): Sat 10-04; Sun 10-05 (also the day
    before Chuseok); Mon 10-06 Chuseok; Tue 10-07 second day of Chuseok; Wed 10-08 alternative holiday for
    Chuseok (the day before fell on a Sunday); Thu 10-09 Hangul Day. Fri 2025-10-10 is neither
    -> due 2025-10-10."""
    assert due("KR", "2025-09-23") == d("2025-10-10")


def test_kr_saturday_last_day_moves_to_monday() -> None:
    """Received Wed 2025-11-05. 10 days -> Sat 2025-11-15. Art 161: a Saturday last day moves to the next
    day, Sun 11-16, a public holiday (Sundays are, Regulation on Holidays of Government Offices Art 2), so on
    to Mon 2025-11-17 (no KR holiday) -> due 2025-11-17."""
    assert due("KR", "2025-11-05") == d("2025-11-17")


def test_kr_weekday_last_day_stands() -> None:
    """Received Mon 2025-06-02. 10 days -> Thu 2025-06-12, a working day (Memorial Day is 06-06) -> due
    2025-06-12."""
    assert due("KR", "2025-06-02") == d("2025-06-12")


# --- NZ: Privacy Act 2020 s.44, 20 working days; s.7 closes 25 Dec - 15 Jan ---------------------------------


def test_nz_count_skips_the_christmas_close_down() -> None:
    """Received Wed 2025-12-10 (Auckland). s.44(1): 20 working days after the day of receipt. Working days:
    Dec 11, 12 (2), 15-19 (7), 22, 23, 24 (10); 25 Dec 2025 - 15 Jan 2026 are not working days (s.7(b),
    which also covers Christmas, Boxing Day, 1 and 2 January); Fri Jan 16 (11), 19-23 (16), 26-29 (20).
    (Auckland Anniversary, Mon 26 Jan, is a regional day s.7 does not list: counted.) -> due 2026-01-29."""
    assert due("NZ", "2025-12-10") == d("2026-01-29")


def test_nz_waitangi_day_is_not_a_working_day() -> None:
    """Received Tue 2026-01-20. Working days: Jan 21-23 (3), 26-30 (8), Feb 2-5 (12); Fri Feb 6 is Waitangi
    Day (s.7(a)), skipped; Feb 9-13 (17), 16, 17, 18 (20) -> due 2026-02-18 (02-17 without Waitangi Day)."""
    assert due("NZ", "2026-01-20") == d("2026-02-18")


def test_nz_request_received_inside_the_close_down_counts_from_16_january() -> None:
    """Received Sun 2025-12-28, inside the close-down. The first working day after it is Fri 2026-01-16 (1);
    Jan 19-23 (6), 26-30 (11), Feb 2-5 (15), Feb 6 Waitangi Day skipped, Feb 9-13 (20) -> due 2026-02-13."""
    assert due("NZ", "2025-12-28") == d("2026-02-13")


# --- ZA: PAIA s.56, 30 days; Interpretation Act s.4 (Sunday / public holiday last day excluded) -------------


def test_za_saturday_last_day_stands() -> None:
    """Received Thu 2025-10-02 (Johannesburg). PAIA s.56(1): 30 days; Interpretation Act s.4: first day out
    -> Sat 2025-11-01, not a public holiday. s.4 excludes only a Sunday or public holiday
    -> due 2025-11-01."""
    assert due("ZA", "2025-10-02") == d("2025-11-01")


def test_za_sunday_last_day_moves_to_monday() -> None:
    """Received Fri 2025-07-11. 30 days -> Sun 2025-08-10, excluded (s.4) -> Mon 2025-08-11, not a public
    holiday (Women's Day, Sat 08-09, has no Monday in lieu: Public Holidays Act s.2(1) moves only a Sunday
    holiday) -> due 2025-08-11."""
    assert due("ZA", "2025-07-11") == d("2025-08-11")


def test_za_sunday_before_a_public_holiday_monday_moves_to_tuesday() -> None:
    """Received Fri 2025-05-16. 30 days -> Sun 2025-06-15, excluded; Mon 06-16 is Youth Day, a public
    holiday, excluded too; Tue 2025-06-17 is neither -> due 2025-06-17."""
    assert due("ZA", "2025-05-16") == d("2025-06-17")


def test_za_saturday_public_holiday_moves_past_the_sunday() -> None:
    """Received Thu 2025-07-10. 30 days -> Sat 2025-08-09, National Women's Day: a public holiday, excluded;
    Sun 08-10 excluded; Mon 2025-08-11 -> due 2025-08-11."""
    assert due("ZA", "2025-07-10") == d("2025-08-11")


def test_za_one_extension_of_30_days_is_counted_from_receipt() -> None:
    """Received Thu 2025-10-02; extension granted 2025-10-20 (within the first 30 days, PAIA s.57(2)). Product
    rule 6: anchor + (30 + 30) = 2025-10-02 + 60 days = Mon 2025-12-01, not a Sunday or public holiday ->
    due 2025-12-01."""
    result = clock(
        "ZA",
        "2025-10-02",
        events=[(E.EXTENSION, "2025-10-20", {"amount": 30, "unit": "CALENDAR_DAYS", "reason": "volume"})],
    )
    assert result.due_date == d("2025-12-01")
    assert len(result.extensions) == 1


# --- ID: UU PDP Art 32(2), 3 x 24 hours, no roll ------------------------------------------------------------


def test_id_72_hours_from_15_00_is_the_same_time_three_days_later() -> None:
    """Received Tue 2025-03-04 15:00 WIB (Asia/Jakarta, UTC+7). Art 32(2): at the latest 3 x 24 hours from
    receipt -> Fri 2025-03-07 15:00 WIB (08:00 UTC), the exact instant; dueDate is its local date,
    2025-03-07."""
    received = local("ID", "2025-03-04", time(15, 0))
    result = clock("ID", "2025-03-04", at=time(15, 0))

    assert result.due_date == d("2025-03-07")
    assert result.due_at == received + timedelta(hours=72)
    assert result.due_at == datetime(2025, 3, 7, 8, 0, tzinfo=UTC)


def test_id_72_hours_run_through_a_weekend_and_a_holiday_and_date_locally() -> None:
    """Received 2025-05-29 20:00 UTC = Fri 2025-05-30 03:00 WIB. + 72 hours -> Mon 2025-06-02 03:00 WIB
    (2025-06-01 20:00 UTC). The hours run through Sat, Sun and Pancasila Day (Sun 06-01): no roll (the pack
    cites none). dueDate is the local date 2025-06-02, not the UTC date 06-01."""
    received = datetime(2025, 5, 29, 20, 0, tzinfo=UTC)
    result = compute(get_pack("ID"), received_at=received, request_types=["ACCESS"], events=[], now=received)

    assert result.anchor_date == d("2025-05-30")
    assert result.due_date == d("2025-06-02")
    assert result.due_at == datetime(2025, 6, 1, 20, 0, tzinfo=UTC)


# --- JP: APPI, product decision 14 calendar days (Art 39(1) two-week bar) -----------------------------------


def test_jp_product_decision_14_days_across_golden_week() -> None:
    """Received Wed 2025-04-30 (Tokyo). No statutory period (Art 33(2) 'without delay'); product decision:
    14 calendar days, the Art 39(1) two weeks; Civil Code Art 140: first day out -> Wed 2025-05-14 (Golden
    Week holidays inside the count do not matter for calendar days) -> due 2025-05-14."""
    result = clock("JP", "2025-04-30")

    assert result.due_date == d("2025-05-14")
    assert any("Product decision (no statutory period)" in c for c in result.citations), result.citations


def test_jp_holiday_last_day_is_kept() -> None:
    """Received Mon 2025-09-01. 14 days -> Mon 2025-09-15, Respect for the Aged Day. The pack rolls nothing
    (a product decision, Civil Code Art 142 not relied upon): the earlier date stands -> due 2025-09-15."""
    result = clock("JP", "2025-09-01", types=("ERASURE",))

    assert result.due_date == d("2025-09-15")
    assert any("Product decision" in c and "Art 39(1)" in c for c in result.citations), result.citations


# --- CN: PIPL Art 50, product decision 15 working days ------------------------------------------------------


def test_cn_product_decision_15_working_days_skip_qingming() -> None:
    """Received Mon 2025-03-24 (Shanghai). Product decision (no statutory period, PIPL Art 50): 15 working
    days (2021 draft NDSMR). Mar 25-28 (4), Mar 31, Apr 1-3 (8); Fri Apr 4 Tomb-Sweeping Day skipped;
    Apr 7-11 (13), 14, 15 (15) -> due 2025-04-15. (No adjusted weekend working day falls in this span.)"""
    result = clock("CN", "2025-03-24")

    assert result.due_date == d("2025-04-15")
    assert any("Product decision (no statutory period)" in c for c in result.citations), result.citations


def test_cn_labour_day_holidays_are_skipped() -> None:
    """Received Mon 2025-04-28. Apr 29, 30 (2); May 1, 2 Labor Day and Mon May 5 (day off in lieu of Sun
    Apr 27) skipped; May 6-9 (6), 12-16 (11), 19-22 (15) -> due 2025-05-22. (The adjusted working Sunday,
    Apr 27, is before receipt.)"""
    result = clock("CN", "2025-04-28", types=("RECTIFICATION",))

    assert result.due_date == d("2025-05-22")
    assert any("Product decision" in c and "15 working days" in c for c in result.citations)


# --- TH: PDPA s.30, 30 days; CCC s.193/8 next working day ---------------------------------------------------


def test_th_sunday_last_day_moves_to_monday() -> None:
    """Received Fri 2025-06-06 (Bangkok). s.30: 30 days; CCC s.193/3: first day out -> Sun 2025-07-06; CCC
    s.193/8: next working day, Mon 2025-07-07 (no TH holiday; Asarnha Bucha is 07-10) -> due 2025-07-07."""
    assert due("TH", "2025-06-06") == d("2025-07-07")


def test_th_songkran_run_moves_to_the_next_working_day() -> None:
    """Received Sat 2025-03-15. 30 days -> Mon 2025-04-14, Songkran; Tue 04-15 Songkran; Wed 04-16 Songkran
    (in lieu of Sun 04-13); Thu 2025-04-17 is a working day -> due 2025-04-17."""
    assert due("TH", "2025-03-15") == d("2025-04-17")


# --- TR: KVKK Art 13(2), 30 days, no roll -------------------------------------------------------------------


def test_tr_thirty_days() -> None:
    """Received Mon 2025-03-03 (Istanbul). Art 13(2): within 30 days at the latest -> Wed 2025-04-02 (the
    Ramadan Feast, 03-30 to 04-01, lies inside the count) -> due 2025-04-02."""
    assert due("TR", "2025-03-03") == d("2025-04-02")


def test_tr_holiday_last_day_is_kept() -> None:
    """Received Wed 2025-05-07. 30 days -> Fri 2025-06-06, first day of the Feast of Sacrifice. No rule is
    relied on to move it (TBK Art 93 not relied upon): the earlier date stands -> due 2025-06-06."""
    assert due("TR", "2025-05-07") == d("2025-06-06")


# --- VN: PDPL + Decree 356/2025: withdrawal 15 days, others 10 days (S), acknowledgement 2 working days -----


def test_vn_consent_withdrawal_has_its_own_15_days() -> None:
    """Received Wed 2026-06-10 (Ho Chi Minh City). Decree 356: withdrawal of consent completed within 15
    days -> Thu 2026-06-25 -> due 2026-06-25. Acknowledgement: 2 working days -> Thu 06-11 (1), Fri 06-12 (2)
    -> 2026-06-12."""
    result = clock("VN", "2026-06-10", types=("WITHDRAW_CONSENT",))

    assert result.due_date == d("2026-06-25")
    assert result.acknowledge_by == d("2026-06-12")


def test_vn_withdrawal_is_15_days_and_acknowledgement_skips_hung_kings_day() -> None:
    """Received Fri 2026-04-24. Withdrawal: 15 days -> Sat 2026-05-09; no roll (Civil Code Art 148 not relied
    upon) -> due 2026-05-09. Acknowledgement, 2 working days: Sat 04-25, Sun 04-26 (Hung Kings' day) and Mon
    04-27 (its day in lieu) are not working days; Tue 04-28 (1), Wed 04-29 (2) -> 2026-04-29."""
    result = clock("VN", "2026-04-24", types=("WITHDRAW_CONSENT",))

    assert result.due_date == d("2026-05-09")
    assert result.acknowledge_by == d("2026-04-29")


def test_vn_access_takes_the_general_10_days() -> None:
    """Received Mon 2026-03-02. Access has no rule of its own: the general rule's 10 days (tag S, the shortest
    reported) -> Thu 2026-03-12 -> due 2026-03-12. Acknowledgement: Tue 03-03 (1), Wed 03-04 (2)."""
    result = clock("VN", "2026-03-02")

    assert result.due_date == d("2026-03-12")
    assert result.acknowledge_by == d("2026-03-04")


def test_vn_withdrawal_and_access_together_are_due_at_the_earlier() -> None:
    """Received Mon 2026-03-02 with access (10 days -> 03-12) and withdrawal (15 days -> 03-17). Product
    rule 10: one deadline per type, the earliest is the due date -> 2026-03-12."""
    result = clock("VN", "2026-03-02", types=("ACCESS", "WITHDRAW_CONSENT"))

    assert result.due_date == d("2026-03-12")
    by_type = {(dl.kind, dl.request_type): dl.due_date for dl in result.deadlines}
    assert by_type[("RESPONSE", "WITHDRAW_CONSENT")] == d("2026-03-17")
    assert by_type[("RESPONSE", "ACCESS")] == d("2026-03-12")


# --- IN: DPDP, rights from 2027-05-13; 30 days taken (tag ?) ------------------------------------------------


def test_in_request_before_13_may_2027_is_not_in_force() -> None:
    """DPDP Rules 2025: the rights and grievance rules apply from 2027-05-13. Received Wed 2027-05-12 23:30
    IST (18:00 UTC) -> local date 05-12, before -> LawNotInForce. Received 2027-05-12 19:00 UTC = 2027-05-13
    00:30 IST -> local date 05-13: in force (the local date decides, product rule 1)."""
    pack = get_pack("IN")
    with pytest.raises(clocks.LawNotInForce) as caught:
        clocks.check_in_force(pack, datetime(2027, 5, 12, 18, 0, tzinfo=UTC))
    assert "2027-05-13" in str(caught.value)
    clocks.check_in_force(pack, datetime(2027, 5, 12, 19, 0, tzinfo=UTC))


def test_in_first_day_in_force_30_days_saturday_kept() -> None:
    """Received Thu 2027-05-13 (Kolkata), the first day in force. 30 days (the shorter of the 30 and 90
    given) -> Sat 2027-06-12; no roll relied upon -> due 2027-06-12."""
    assert due("IN", "2027-05-13") == d("2027-06-12")


def test_in_thirty_days() -> None:
    """Received Tue 2027-06-01. 30 days -> Thu 2027-07-01 -> due 2027-07-01."""
    assert due("IN", "2027-06-01", types=("ERASURE",)) == d("2027-07-01")


def test_nz_extension_is_counted_in_working_days_and_capped_by_the_product() -> None:
    """Privacy Act 2020 s.48 sets no maximum; the product lets an officer record up to 20 more working days.

    Received Mon 2026-11-02. 20 working days (s.44): Nov 3-6 (4), 9-13 (9), 16-20 (14), 23-27 (19),
    Mon Nov 30 (20) -> due 2026-11-30. Extended on 2026-11-20 by 10 working days, counted from the
    receipt (product rule 6): Dec 1-4 (24), 7-11 (29), Mon Dec 14 (30) -> 2026-12-14. The full 20 would
    be 40 working days: Dec 15-18 (34), 21-24 (38), then the close-down 25 Dec - 15 Jan and the weekend
    of 16-17 Jan, Mon Jan 18 (39), Tue Jan 19 (40) -> 2027-01-19. More than 20 is refused."""
    from clocks import check_extension

    tz = zone("Pacific/Auckland")
    received = datetime(2026, 11, 2, 10, tzinfo=tz)
    granted = datetime(2026, 11, 20, 10, tzinfo=tz)
    pack = get_pack("NZ")

    def extended(amount: int):
        event = ClockEvent(
            EventKind.EXTENSION,
            granted,
            {"amount": amount, "unit": "BUSINESS_DAYS", "reason": "large quantity"},
        )
        return compute(pack, received_at=received, request_types=["ACCESS"], events=[event], now=granted)

    assert compute(
        pack, received_at=received, request_types=["ACCESS"], events=[], now=granted
    ).due_date == date(2026, 11, 30)
    assert extended(10).due_date == date(2026, 12, 14)
    assert extended(20).due_date == date(2027, 1, 19)
    too_long = check_extension(
        pack,
        received_at=received,
        request_types=["ACCESS"],
        events=[],
        at=granted,
        amount=21,
        unit="BUSINESS_DAYS",
    )
    assert not too_long.allowed and "Product decision" in too_long.reason


def test_cn_counts_the_weekend_days_china_makes_working_days() -> None:
    """China moves working days onto weekends around its long holidays; a business-day count follows the
    official calendar (the `holidays` package's weekend workdays).

    Received Mon 2025-09-22; 15 working days (product decision). Sep 23-26 (4), Sun Sep 28, a working
    day (5), Sep 29-30 (7); Oct 1-8 National Day and Mid-Autumn holidays; Oct 9-10 (9), Sat Oct 11, a
    working day (10); Oct 13-17 (15) -> due 2025-10-17. Counting only Monday to Friday would give 10-21."""
    tz = zone("Asia/Shanghai")
    received = datetime(2025, 9, 22, 10, tzinfo=tz)
    result = compute(get_pack("CN"), received_at=received, request_types=["ACCESS"], events=[], now=received)
    assert result.due_date == date(2025, 10, 17)
    assert get_pack("CN").calendar.is_working_day(date(2025, 9, 28))
    assert not get_pack("CN").calendar.is_working_day(date(2025, 10, 1))


def test_saudi_and_israeli_weekends_are_friday_and_saturday() -> None:
    """Neither pack moves its last day (no cited rule), but the explanation's later arguable date must
    follow the local weekend: Friday and Saturday, with Sunday a working day."""
    for code in ("SA", "IL"):
        calendar = get_pack(code).calendar
        assert not calendar.is_working_day(date(2026, 3, 6))  # a Friday
        assert not calendar.is_working_day(date(2026, 3, 7))  # a Saturday
        assert calendar.is_working_day(date(2026, 3, 8)) or calendar.holiday(date(2026, 3, 8))  # a Sunday
