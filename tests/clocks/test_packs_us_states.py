"""Issue 12: the US state packs (NJ, TN, IN, MD, MN, KY, IA, NE, NH, DE, MT, RI, FL, OK, LA, AL, VT, NV).

Every expected date below is worked out by hand from the pack's cited rule and legal-clocks.md §1:
rule 3, calendar days: receipt date + N, the day of receipt not counted; rule 5, no cited rule moves a US
state deadline off a weekend or holiday, so the earlier date stands ("no roll"); rule 6, an extension is
recomputed from the receipt date (base + extension) and is valid only if granted on or before the base
due date. An appeal is counted the same way from the appeal's receipt.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

import clocks
from clocks import ClockEvent, EventKind, compute, get_pack
from clocks.policy import APPEAL, RESPONSE
from clocks.zones import zone

E = EventKind
D = date.fromisoformat
PACK_DIR = Path(clocks.__file__).resolve().parent / "packs"

# code: (pack id, effective from, zone, response days, extension days, appeal days or None)
PACKS = {
    "US-NJ": ("njdpa", "2025-01-15", "America/New_York", 45, 45, 45),
    "US-TN": ("tipa", "2025-07-01", "America/Chicago", 45, 45, 60),
    "US-IN": ("indiana-cdpa", "2026-01-01", "America/Indiana/Indianapolis", 45, 45, 60),
    "US-MD": ("modpa", "2025-10-01", "America/New_York", 45, 45, 60),
    "US-MN": ("mn-cdpa", "2025-07-31", "America/Chicago", 45, 45, 45),
    "US-KY": ("kcdpa", "2026-01-01", "America/New_York", 45, 45, 60),
    "US-IA": ("iowa-cdpa", "2025-01-01", "America/Chicago", 90, 45, 60),
    "US-NE": ("ndpa", "2025-01-01", "America/Chicago", 45, 45, 60),
    "US-NH": ("nhpa", "2025-01-01", "America/New_York", 45, 45, 60),
    "US-DE": ("dpdpa-de", "2025-01-01", "America/New_York", 45, 45, 60),
    "US-MT": ("mcdpa-mt", "2024-10-01", "America/Denver", 45, 45, 60),
    "US-RI": ("ridtppa", "2026-01-01", "America/New_York", 45, 45, 60),
    "US-FL": ("fdbr", "2024-07-01", "America/New_York", 45, 15, 60),
    "US-OK": ("ok-dpa", "2027-01-01", "America/Chicago", 45, 45, 60),
    "US-LA": ("ldpa", "2027-01-01", "America/Chicago", 45, 45, 45),
    "US-AL": ("apdpa", "2027-05-01", "America/Chicago", 45, 45, 45),
    "US-VT": ("vdposa", "2028-01-01", "America/New_York", 45, 45, 45),
    "US-NV": ("nrs-603a", "2021-10-01", "America/Los_Angeles", 45, 30, None),
}
EXISTING_IDS = {
    "ccpa", "cpa", "ctdpa", "vcdpa", "tdpsa", "ocpa", "ucpa", "lgpd", "pipeda", "quebec-p39", "ch-fadp",
    "au-app12", "eu-gdpr", "uk-gdpr",
}  # fmt: skip


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(D(day), at, tzinfo=zone(get_pack(code).timezone))


def run(code: str, received: str, *events: tuple, now: str, types: tuple[str, ...] = ("ACCESS",)):
    """`events`: (kind, local day) or (kind, local day, data), each at 10:00 local; `now` at noon."""
    clock_events = [
        ClockEvent(kind, local(code, day), data[0] if data else {}) for kind, day, *data in events
    ]
    return compute(
        get_pack(code),
        received_at=local(code, received),
        request_types=list(types),
        events=clock_events,
        now=local(code, now, time(12, 0)),
    )


def response_due(result, request_type: str = "ACCESS") -> date:
    return next(d.due_date for d in result.deadlines if d.kind == RESPONSE and d.request_type == request_type)


EXTEND = {"reason": "records held by a processor", "by": "officer"}
REFUSED = {"reason": "REFUSED"}

# id, code, received, events, now, expected response due, expected appeal due (None: no appeal).
# Each row's comment is its derivation.
EXAMPLES = [
    # Received Fri 2025-01-17; 45 calendar days, receipt day not counted -> Mon 2025-03-03
    # (14 days left in January + 28 in February + 3).
    ("NJ-01", "US-NJ", "2025-01-17", [], "2025-01-17", "2025-03-03", None),
    # Received Mon 2025-03-31; base Thu 2025-05-15; extension granted on that last day (in time) ->
    # 90 days from receipt = Sun 2025-06-29; no roll (product rule 5).
    ("NJ-02", "US-NJ", "2025-03-31", [(E.EXTENSION, "2025-05-15", EXTEND)], "2025-05-15", "2025-06-29", None),
    # Received Mon 2025-03-31, refused Thu 2025-04-10; appeal received Fri 2025-05-30; NJ appeal 45 days
    # (tag S/?, the shorter reading) -> Mon 2025-07-14. The response's own due date stays Thu 2025-05-15.
    (
        "NJ-03",
        "US-NJ",
        "2025-03-31",
        [(E.STOPPED, "2025-04-10", REFUSED), (E.APPEAL_RECEIVED, "2025-05-30")],
        "2025-06-02",
        "2025-05-15",
        "2025-07-14",
    ),
    # Received Tue 2025-07-01 (the effective day itself); +45 -> Fri 2025-08-15.
    ("TN-01", "US-TN", "2025-07-01", [], "2025-07-01", "2025-08-15", None),
    # Received Fri 2025-10-31 (base Mon 2025-12-15), closed 2025-11-20; appeal received Mon 2025-12-01;
    # 60 days -> Fri 2026-01-30 (Dec 30 + Jan 30).
    (
        "TN-02",
        "US-TN",
        "2025-10-31",
        [(E.STOPPED, "2025-11-20", REFUSED), (E.APPEAL_RECEIVED, "2025-12-01")],
        "2025-12-01",
        "2025-12-15",
        "2026-01-30",
    ),
    # Received Thu 2026-01-01 (New Year's Day, still day 0); +45 -> Sun 2026-02-15; no roll off the Sunday.
    ("IN-01", "US-IN", "2026-01-01", [], "2026-01-01", "2026-02-15", None),
    # Received Thu 2026-01-15; base Sun 2026-03-01 (Jan 16 + Feb 28 + 1); extension granted Sun 2026-03-01,
    # the last day -> 90 days from receipt = Wed 2026-04-15.
    ("IN-02", "US-IN", "2026-01-15", [(E.EXTENSION, "2026-03-01", EXTEND)], "2026-03-01", "2026-04-15", None),
    # Received Wed 2025-10-01 (effective day); +45 -> Sat 2025-11-15; no roll.
    ("MD-01", "US-MD", "2025-10-01", [], "2025-10-01", "2025-11-15", None),
    # Received Fri 2026-01-30 (base Mon 2026-03-16), refused 2026-02-20, appeal received Fri 2026-02-27;
    # 60 days -> Tue 2026-04-28 (Feb 1 + Mar 31 + Apr 28).
    (
        "MD-02",
        "US-MD",
        "2026-01-30",
        [(E.STOPPED, "2026-02-20", REFUSED), (E.APPEAL_RECEIVED, "2026-02-27")],
        "2026-02-27",
        "2026-03-16",
        "2026-04-28",
    ),
    # Received Thu 2025-07-31 (effective day, a month end); +45 -> Sun 2025-09-14 (Aug 31 + Sep 14).
    ("MN-01", "US-MN", "2025-07-31", [], "2025-07-31", "2025-09-14", None),
    # Received Thu 2025-07-31; extension 2025-09-01 (before base Sun 2025-09-14) -> 90 days = Wed 2025-10-29.
    ("MN-02", "US-MN", "2025-07-31", [(E.EXTENSION, "2025-09-01", EXTEND)], "2025-09-01", "2025-10-29", None),
    # Received Fri 2025-08-29 (base Mon 2025-10-13), refused 2025-09-15, appeal received Tue 2025-09-30;
    # 45 days -> Fri 2025-11-14.
    (
        "MN-03",
        "US-MN",
        "2025-08-29",
        [(E.STOPPED, "2025-09-15", REFUSED), (E.APPEAL_RECEIVED, "2025-09-30")],
        "2025-09-30",
        "2025-10-13",
        "2025-11-14",
    ),
    # Received Thu 2026-01-01 (effective day); +45 -> Sun 2026-02-15 (Jan 30 + Feb 15); no roll.
    ("KY-01", "US-KY", "2026-01-01", [], "2026-01-01", "2026-02-15", None),
    # Received Mon 2026-06-01; base Thu 2026-07-16; extension granted that day -> 90 days = Sun 2026-08-30
    # (Jun 29 + Jul 31 + Aug 30).
    ("KY-02", "US-KY", "2026-06-01", [(E.EXTENSION, "2026-07-16", EXTEND)], "2026-07-16", "2026-08-30", None),
    # Received Wed 2025-01-01; Iowa's period is 90 days -> Tue 2025-04-01 (Jan 30 + Feb 28 + Mar 31 + 1).
    ("IA-01", "US-IA", "2025-01-01", [], "2025-01-01", "2025-04-01", None),
    # Received Fri 2025-11-28; base Thu 2026-02-26 (90 days); extension 2026-02-20, within the initial 90
    # days -> 90 + 45 = 135 days from receipt = Sun 2026-04-12; no roll.
    ("IA-02", "US-IA", "2025-11-28", [(E.EXTENSION, "2026-02-20", EXTEND)], "2026-02-20", "2026-04-12", None),
    # Received Wed 2025-01-01 (base Tue 2025-04-01), refused 2025-03-03, appeal received Tue 2025-04-15;
    # 60 days -> Sat 2025-06-14 (Apr 15 + May 31 + Jun 14); no roll.
    (
        "IA-03",
        "US-IA",
        "2025-01-01",
        [(E.STOPPED, "2025-03-03", REFUSED), (E.APPEAL_RECEIVED, "2025-04-15")],
        "2025-04-15",
        "2025-04-01",
        "2025-06-14",
    ),
    # Received Wed 2025-01-01; +45 -> Sat 2025-02-15.
    ("NE-01", "US-NE", "2025-01-01", [], "2025-01-01", "2025-02-15", None),
    # Received Wed 2025-12-31 (year end); base Sat 2026-02-14; extension Tue 2026-01-20 -> 90 days =
    # Tue 2026-03-31 (Jan 31 + Feb 28 + Mar 31).
    ("NE-02", "US-NE", "2025-12-31", [(E.EXTENSION, "2026-01-20", EXTEND)], "2026-01-20", "2026-03-31", None),
    # Received Wed 2025-01-15; +45 crosses a 28-day February -> Sat 2025-03-01.
    ("NH-01", "US-NH", "2025-01-15", [], "2025-01-15", "2025-03-01", None),
    # Received Mon 2025-06-02 (base Thu 2025-07-17), refused 2025-06-30, appeal received Tue 2025-07-01;
    # 60 days -> Sat 2025-08-30; no roll.
    (
        "NH-02",
        "US-NH",
        "2025-06-02",
        [(E.STOPPED, "2025-06-30", REFUSED), (E.APPEAL_RECEIVED, "2025-07-01")],
        "2025-07-01",
        "2025-07-17",
        "2025-08-30",
    ),
    # Received Fri 2025-01-31 (month end); +45 -> Mon 2025-03-17 (Feb 28 + Mar 17).
    ("DE-01", "US-DE", "2025-01-31", [], "2025-01-31", "2025-03-17", None),
    # Received Thu 2028-01-20, a leap year: Jan 11 + Feb 29 + Mar 5 -> Sun 2028-03-05; no roll.
    ("DE-02", "US-DE", "2028-01-20", [], "2028-01-20", "2028-03-05", None),
    # Received Fri 2025-01-31 (base Mon 2025-03-17), refused 2025-02-20, appeal received Thu 2025-03-20;
    # 60 days (tag R) -> Mon 2025-05-19 (Mar 11 + Apr 30 + May 19).
    (
        "DE-03",
        "US-DE",
        "2025-01-31",
        [(E.STOPPED, "2025-02-20", REFUSED), (E.APPEAL_RECEIVED, "2025-03-20")],
        "2025-03-20",
        "2025-03-17",
        "2025-05-19",
    ),
    # Received Tue 2024-10-01 (effective day); +45 -> Fri 2024-11-15.
    ("MT-01", "US-MT", "2024-10-01", [], "2024-10-01", "2024-11-15", None),
    # Received Fri 2024-12-20; base Mon 2025-02-03; extension Fri 2025-01-10 -> 90 days = Thu 2025-03-20.
    ("MT-02", "US-MT", "2024-12-20", [(E.EXTENSION, "2025-01-10", EXTEND)], "2025-01-10", "2025-03-20", None),
    # Received Thu 2026-01-01 (effective day); +45 -> Sun 2026-02-15.
    ("RI-01", "US-RI", "2026-01-01", [], "2026-01-01", "2026-02-15", None),
    # Received Wed 2026-01-28 (base Sat 2026-03-14), refused 2026-02-10, appeal received Mon 2026-03-02;
    # 60 days (tag R) -> Fri 2026-05-01.
    (
        "RI-02",
        "US-RI",
        "2026-01-28",
        [(E.STOPPED, "2026-02-10", REFUSED), (E.APPEAL_RECEIVED, "2026-03-02")],
        "2026-03-02",
        "2026-03-14",
        "2026-05-01",
    ),
    # Received Mon 2024-07-01 (effective day); +45 -> Thu 2024-08-15.
    ("FL-01", "US-FL", "2024-07-01", [], "2024-07-01", "2024-08-15", None),
    # Received Thu 2025-02-13; base Sun 2025-03-30; Florida's extension is +15 only: granted Fri 2025-03-28
    # -> 45 + 15 = 60 days from receipt = Mon 2025-04-14 (not the 90-day Wed 2025-05-14 of other states).
    ("FL-02", "US-FL", "2025-02-13", [(E.EXTENSION, "2025-03-28", EXTEND)], "2025-03-28", "2025-04-14", None),
    # Received Fri 2027-01-01 (effective day, a holiday: still day 0); +45 -> Mon 2027-02-15 (Presidents'
    # Day: a holiday last day stands, no roll).
    ("OK-01", "US-OK", "2027-01-01", [], "2027-01-01", "2027-02-15", None),
    # Received Fri 2027-01-29 (base Mon 2027-03-15), refused 2027-02-10, appeal received Mon 2027-03-01;
    # 60 days (tag S) -> Fri 2027-04-30.
    (
        "OK-02",
        "US-OK",
        "2027-01-29",
        [(E.STOPPED, "2027-02-10", REFUSED), (E.APPEAL_RECEIVED, "2027-03-01")],
        "2027-03-01",
        "2027-03-15",
        "2027-04-30",
    ),
    # Received Mon 2027-01-04; +45 -> Thu 2027-02-18.
    ("LA-01", "US-LA", "2027-01-04", [], "2027-01-04", "2027-02-18", None),
    # Received Mon 2027-02-01 (base Thu 2027-03-18), refused 2027-03-01, appeal received Mon 2027-03-15;
    # period not found, 45 days taken (the shortest) -> Thu 2027-04-29.
    (
        "LA-02",
        "US-LA",
        "2027-02-01",
        [(E.STOPPED, "2027-03-01", REFUSED), (E.APPEAL_RECEIVED, "2027-03-15")],
        "2027-03-15",
        "2027-03-18",
        "2027-04-29",
    ),
    # Received Sat 2027-05-01 (effective day, a Saturday still starts the count); +45 -> Tue 2027-06-15.
    ("AL-01", "US-AL", "2027-05-01", [], "2027-05-01", "2027-06-15", None),
    # Received Mon 2027-05-17 (base Thu 2027-07-01), refused 2027-06-01, appeal received Wed 2027-06-30;
    # appeal tag ?: offered, 45 days -> Sat 2027-08-14; no roll.
    (
        "AL-02",
        "US-AL",
        "2027-05-17",
        [(E.STOPPED, "2027-06-01", REFUSED), (E.APPEAL_RECEIVED, "2027-06-30")],
        "2027-06-30",
        "2027-07-01",
        "2027-08-14",
    ),
    # Received Mon 2027-05-17; extension Thu 2027-07-01 (the base due date) -> 90 days = Sun 2027-08-15.
    ("AL-03", "US-AL", "2027-05-17", [(E.EXTENSION, "2027-07-01", EXTEND)], "2027-07-01", "2027-08-15", None),
    # Received Sat 2028-01-01 (effective day); +45 -> Tue 2028-02-15.
    ("VT-01", "US-VT", "2028-01-01", [], "2028-01-01", "2028-02-15", None),
    # Received Tue 2028-02-29 (leap day); base Fri 2028-04-14; extension Sat 2028-04-01 -> 90 days =
    # Mon 2028-05-29, Memorial Day: a holiday last day stands, no roll.
    ("VT-02", "US-VT", "2028-02-29", [(E.EXTENSION, "2028-04-01", EXTEND)], "2028-04-01", "2028-05-29", None),
    # Received Tue 2028-02-29 (base Fri 2028-04-14), refused 2028-03-10, appeal received Fri 2028-03-31;
    # 45 days taken -> Mon 2028-05-15.
    (
        "VT-03",
        "US-VT",
        "2028-02-29",
        [(E.STOPPED, "2028-03-10", REFUSED), (E.APPEAL_RECEIVED, "2028-03-31")],
        "2028-03-31",
        "2028-04-14",
        "2028-05-15",
    ),
    # Received Mon 2025-11-03, ACCESS: no statutory period; the product's 45 days from receipt ->
    # Thu 2025-12-18.
    ("NV-01", "US-NV", "2025-11-03", [], "2025-11-03", "2025-12-18", None),
]

# The same, for request types other than ACCESS: id, code, types, received, events, now, {type: due}.
TYPED_EXAMPLES = [
    # RI: a revocation of consent has its own 15 days (tag S). Received Wed 2026-01-28 -> Thu 2026-02-12.
    (
        "RI-03",
        "US-RI",
        ("WITHDRAW_CONSENT",),
        "2026-01-28",
        [],
        "2026-01-28",
        {"WITHDRAW_CONSENT": "2026-02-12"},
    ),
    # RI: access and revocation in one request: one deadline each (rule 10); the due date is the earliest.
    (
        "RI-04",
        "US-RI",
        ("ACCESS", "WITHDRAW_CONSENT"),
        "2026-01-28",
        [],
        "2026-01-28",
        {"ACCESS": "2026-03-14", "WITHDRAW_CONSENT": "2026-02-12"},
    ),
    # RI: the +45 extends access (Wed 2026-01-28 + 90 = Tue 2026-04-28) but never the revocation's 15 days.
    (
        "RI-05",
        "US-RI",
        ("ACCESS", "WITHDRAW_CONSENT"),
        "2026-01-28",
        [(E.EXTENSION, "2026-02-05", EXTEND)],
        "2026-02-05",
        {"ACCESS": "2026-04-28", "WITHDRAW_CONSENT": "2026-02-12"},
    ),
    # NV opt-out of sale: NRS 603A.345(4), 60 days. Received Mon 2025-11-03 -> Fri 2026-01-02.
    ("NV-02", "US-NV", ("OPT_OUT_SALE",), "2025-11-03", [], "2025-11-03", {"OPT_OUT_SALE": "2026-01-02"}),
    # NV opt-out extended by +30, granted Mon 2025-12-15 (before Fri 2026-01-02) -> 90 days from receipt =
    # Sun 2026-02-01; no roll.
    (
        "NV-03",
        "US-NV",
        ("OPT_OUT_SALE",),
        "2025-11-03",
        [(E.EXTENSION, "2025-12-15", EXTEND)],
        "2025-12-15",
        {"OPT_OUT_SALE": "2026-02-01"},
    ),
    # NV opt-out and access together: the extension reaches the opt-out only; access keeps Thu 2025-12-18.
    (
        "NV-04",
        "US-NV",
        ("ACCESS", "OPT_OUT_SALE"),
        "2025-11-03",
        [(E.EXTENSION, "2025-12-15", EXTEND)],
        "2025-12-15",
        {"ACCESS": "2025-12-18", "OPT_OUT_SALE": "2026-02-01"},
    ),
]


def test_every_pack_has_at_least_two_worked_examples() -> None:
    per_code = {code: 0 for code in PACKS}
    for row in EXAMPLES + TYPED_EXAMPLES:
        per_code[row[1]] += 1
    assert min(per_code.values()) >= 2, per_code


@pytest.mark.parametrize(
    ("code", "received", "events", "now", "due", "appeal_due"),
    [pytest.param(*row[1:], id=row[0]) for row in EXAMPLES],
)
def test_worked_example(code, received, events, now, due, appeal_due) -> None:
    result = run(code, received, *events, now=now)

    assert result.pack_id == PACKS[code][0]
    assert result.anchor_date == D(received)
    assert response_due(result) == D(due)
    assert len(result.extensions) == sum(kind is E.EXTENSION for kind, *_ in events)
    assert result.adjustments == () or all(not a.relied_upon for a in result.adjustments)  # never rolled
    if appeal_due is None:
        assert result.due_date == D(due)
        assert result.appeal_due_date is None
    else:
        assert result.deadline_kind == "APPEAL"
        assert result.appeal_due_date == result.due_date == D(appeal_due)
        assert get_pack(code).appeal_rule.citation in result.citations


@pytest.mark.parametrize(
    ("code", "types", "received", "events", "now", "dues"),
    [pytest.param(*row[1:], id=row[0]) for row in TYPED_EXAMPLES],
)
def test_worked_example_by_request_type(code, types, received, events, now, dues) -> None:
    result = run(code, received, *events, now=now, types=types)

    assert {t: response_due(result, t) for t in types} == {t: D(day) for t, day in dues.items()}
    assert result.due_date == min(D(day) for day in dues.values())


# --- extensions: lengths and limits ------------------------------------------------------------------------


def test_an_extension_after_the_base_due_date_is_refused() -> None:
    # NJ: received Mon 2025-03-31, base Thu 2025-05-15; an extension on Fri 2025-05-16 is one day too late.
    result = run("US-NJ", "2025-03-31", (E.EXTENSION, "2025-05-16", EXTEND), now="2025-05-16")
    assert result.extensions == ()
    assert result.due_date == D("2025-05-15")


def test_iowa_extends_by_45_on_90_and_judges_it_against_the_90th_day() -> None:
    # Received Fri 2025-11-28; base Thu 2026-02-26 (90 days). On the 90th day: still in time, +45 -> 135 days.
    in_time = run("US-IA", "2025-11-28", (E.EXTENSION, "2026-02-26", EXTEND), now="2026-02-26")
    assert in_time.due_date == D("2026-04-12")
    assert (in_time.extensions[0].amount, in_time.extensions[0].unit) == (45, "CALENDAR_DAYS")
    # The day after the 90th: too late (a 45-day reading would have closed the window on Mon 2026-01-12).
    late = run("US-IA", "2025-11-28", (E.EXTENSION, "2026-02-27", EXTEND), now="2026-02-27")
    assert late.extensions == () and late.due_date == D("2026-02-26")
    # More than 45 days is beyond the maximum.
    too_long = run(
        "US-IA",
        "2025-11-28",
        (E.EXTENSION, "2026-01-05", {**EXTEND, "amount": 46, "unit": "CALENDAR_DAYS"}),
        now="2026-01-05",
    )
    assert too_long.extensions == () and too_long.due_date == D("2026-02-26")


def test_florida_extends_by_15_days_only() -> None:
    # Received Thu 2025-02-13, base Sun 2025-03-30: the default extension is the whole +15 -> Mon 2025-04-14.
    result = run("US-FL", "2025-02-13", (E.EXTENSION, "2025-03-01", EXTEND), now="2025-03-01")
    assert (result.extensions[0].amount, result.extensions[0].unit) == (15, "CALENDAR_DAYS")
    assert result.due_date == D("2025-04-14")
    # +16 (or the +45 of other states) is beyond Florida's maximum: refused, the base date stands.
    for amount in (16, 45):
        refused = run(
            "US-FL",
            "2025-02-13",
            (E.EXTENSION, "2025-03-01", {**EXTEND, "amount": amount, "unit": "CALENDAR_DAYS"}),
            now="2025-03-01",
        )
        assert refused.extensions == () and refused.due_date == D("2025-03-30")


def test_an_extension_is_granted_once() -> None:
    # DE: received Fri 2025-01-31, base Mon 2025-03-17; +20 then +25 would be two extensions: only the
    # first counts.
    result = run(
        "US-DE",
        "2025-01-31",
        (E.EXTENSION, "2025-02-10", {**EXTEND, "amount": 20, "unit": "CALENDAR_DAYS"}),
        (E.EXTENSION, "2025-02-20", {**EXTEND, "amount": 25, "unit": "CALENDAR_DAYS"}),
        now="2025-02-20",
    )
    assert len(result.extensions) == 1
    assert result.due_date == D("2025-04-06")  # Fri 2025-01-31 + 65 days = Sun 2025-04-06, no roll


def test_rhode_island_revocation_of_consent_cannot_be_extended() -> None:
    # Received Wed 2026-01-28: the revocation's 15 days end Thu 2026-02-12, and no extension reaches them.
    result = run(
        "US-RI",
        "2026-01-28",
        (E.EXTENSION, "2026-02-02", EXTEND),
        now="2026-02-02",
        types=("WITHDRAW_CONSENT",),
    )
    assert result.extensions == ()
    assert result.due_date == D("2026-02-12")


def test_nevada_opt_out_extends_by_30_at_most_and_other_types_not_at_all() -> None:
    # Opt-out received Mon 2025-11-03, base Fri 2026-01-02: +31 is beyond NRS 603A.345(4)'s 30 days.
    too_long = run(
        "US-NV",
        "2025-11-03",
        (E.EXTENSION, "2025-12-15", {**EXTEND, "amount": 31, "unit": "CALENDAR_DAYS"}),
        now="2025-12-15",
        types=("OPT_OUT_SALE",),
    )
    assert too_long.extensions == () and too_long.due_date == D("2026-01-02")
    # After the 60th day: too late.
    late = run(
        "US-NV", "2025-11-03", (E.EXTENSION, "2026-01-03", EXTEND), now="2026-01-03", types=("OPT_OUT_SALE",)
    )
    assert late.extensions == () and late.due_date == D("2026-01-02")
    # Access alone (the product-decision period) is never extended.
    access = run("US-NV", "2025-11-03", (E.EXTENSION, "2025-11-20", EXTEND), now="2025-11-20")
    assert access.extensions == () and access.due_date == D("2025-12-18")


# --- appeals ----------------------------------------------------------------------------------------------

MN_APPEAL = (
    (E.STOPPED, "2025-09-15", REFUSED),
    (E.APPEAL_RECEIVED, "2025-09-30"),  # Tue 2025-09-30 + 45 = Fri 2025-11-14
)


def test_minnesota_extends_an_appeal_once_by_up_to_60_days() -> None:
    # Extension granted on the appeal's due date, Fri 2025-11-14 (in time): 45 + 60 = 105 days from the
    # appeal's receipt, Tue 2025-09-30 -> Tue 2026-01-13.
    result = run("US-MN", "2025-08-29", *MN_APPEAL, (E.EXTENSION, "2025-11-14", EXTEND), now="2025-11-14")
    assert result.deadline_kind == "APPEAL"
    assert result.appeal_due_date == result.due_date == D("2026-01-13")
    assert response_due(result) == D("2025-10-13")  # the response's own date is history, unchanged


def test_minnesota_appeal_extension_after_the_appeal_due_date_is_refused() -> None:
    # Sat 2025-11-15 is after the appeal's due date, Fri 2025-11-14: no extension.
    result = run("US-MN", "2025-08-29", *MN_APPEAL, (E.EXTENSION, "2025-11-15", EXTEND), now="2025-11-15")
    assert result.appeal_due_date == D("2025-11-14")


def test_minnesota_appeal_is_extended_only_once() -> None:
    # +30 on Mon 2025-10-06 (Tue 2025-09-30 + 75 = Sun 2025-12-14); a second +30 is refused (maxCount 1).
    thirty = {**EXTEND, "amount": 30, "unit": "CALENDAR_DAYS"}
    result = run(
        "US-MN",
        "2025-08-29",
        *MN_APPEAL,
        (E.EXTENSION, "2025-10-06", thirty),
        (E.EXTENSION, "2025-10-20", thirty),
        now="2025-10-20",
    )
    assert result.appeal_due_date == D("2025-12-14")


def test_minnesota_response_and_appeal_extensions_are_separate() -> None:
    # Received Thu 2025-07-31: response extended 2025-09-01 (-> Wed 2025-10-29), refused 2025-10-01,
    # appeal received Wed 2025-10-15 (+45 = Sat 2025-11-29), appeal extended 2025-11-03
    # (+105 = Tue 2026-01-28).
    result = run(
        "US-MN",
        "2025-07-31",
        (E.EXTENSION, "2025-09-01", EXTEND),
        (E.STOPPED, "2025-10-01", REFUSED),
        (E.APPEAL_RECEIVED, "2025-10-15"),
        (E.EXTENSION, "2025-11-03", EXTEND),
        now="2025-11-03",
    )
    assert response_due(result) == D("2025-10-29")
    assert result.appeal_due_date == D("2026-01-28")


def test_an_appeal_extension_exists_only_in_minnesota() -> None:
    extended = {code for code in PACKS if get_pack(code).appeal_extension is not None}
    assert extended == {"US-MN"}
    rule = get_pack("US-MN").appeal_extension
    assert (rule.max_total, rule.max_count) == (clocks.Period(60, "CALENDAR_DAYS"), 1)


def test_nevada_grants_no_appeal() -> None:
    result = run(
        "US-NV",
        "2025-11-03",
        (E.STOPPED, "2025-11-20", REFUSED),
        (E.APPEAL_RECEIVED, "2025-11-25"),
        now="2025-11-25",
    )
    assert get_pack("US-NV").appeal_rule is None
    assert result.appeal_due_date is None and result.deadline_kind == "RESPONSE"


# --- the packs themselves ----------------------------------------------------------------------------------


def _raw(pack_id: str) -> dict:
    return json.loads((PACK_DIR / f"{pack_id}.json").read_text(encoding="utf-8"))


def test_the_new_pack_ids_are_unique_and_new() -> None:
    ids = [row[0] for row in PACKS.values()]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & EXISTING_IDS
    assert all(pack_id == pack_id.lower() for pack_id in ids)


@pytest.mark.parametrize("code", PACKS)
def test_every_new_pack_is_complete(code: str) -> None:
    pack_id, effective, tz, response_days, extension_days, appeal_days = PACKS[code]
    pack = get_pack(code)
    raw = _raw(pack_id)

    assert (pack.id, pack.version, pack.jurisdiction, pack.timezone) == (pack_id, "2026.1", code, tz)
    assert (pack.calendar_country, pack.calendar_subdiv) == ("US", code.removeprefix("US-"))
    # An effective date, with its citation.
    assert raw["effective"]["from"] == effective and raw["effective"]["citation"].strip()
    # A regulator (the state's Attorney General here), on https.
    assert pack.regulator is not None and pack.regulator.url.startswith("https://")
    assert "Attorney General" in pack.regulator.name and pack.regulator.citation.strip()
    # One fallback RESPONSE rule, in calendar days.
    fallback = [r for r in pack.periods if r.kind == RESPONSE and not r.request_types]
    assert len(fallback) == 1
    assert fallback[0].period == clocks.Period(response_days, "CALENDAR_DAYS")
    # The extension, once.
    assert pack.extension.max_total == clocks.Period(extension_days, "CALENDAR_DAYS")
    assert pack.extension.max_count == 1
    # The appeal, where the law grants one.
    appeals = [r for r in pack.periods if r.kind == APPEAL]
    assert [r.period for r in appeals] == (
        [clocks.Period(appeal_days, "CALENDAR_DAYS")] if appeal_days else []
    )
    # Product rule 5: nothing rolls; every event has no effect, with a citation; no acknowledgement.
    assert pack.roll.rule == "NONE" and "product rule 5" in pack.roll.citation
    assert {e.reason: e.effect for e in pack.effects} == dict.fromkeys(
        ("CLARIFICATION", "VERIFICATION", "AUTHORITY"), clocks.Effect.NONE
    )
    assert all(e.citation.strip() for e in pack.effects)
    assert pack.acknowledgement is None


# Which rules of each pack rest on a fact jurisdictions.md tags S, R or ? (or leaves untagged with only a
# secondary source): their citations must say so. Iowa's rules are all tag V.
BELOW_V = {
    "US-NJ": ("appeal",),
    "US-TN": ("appeal",),
    "US-IN": ("response", "extension", "appeal"),
    "US-MD": ("response", "extension", "appeal"),
    "US-MN": ("appeal", "appealExtension"),
    "US-KY": ("response", "extension", "appeal"),
    "US-IA": (),
    "US-NE": ("response", "extension", "appeal"),
    "US-NH": ("response", "extension", "appeal"),
    "US-DE": ("appeal",),
    "US-MT": ("response", "extension", "appeal"),
    "US-RI": ("appeal", "WITHDRAW_CONSENT"),
    "US-FL": ("response", "extension", "appeal"),
    "US-OK": ("response", "extension", "appeal"),
    "US-LA": ("response", "extension", "appeal"),
    "US-AL": ("response", "extension", "appeal"),
    "US-VT": ("response", "extension", "appeal"),
    "US-NV": (),
}


@pytest.mark.parametrize("code", PACKS)
def test_a_fact_below_v_says_so_in_its_citation(code: str) -> None:
    pack = get_pack(code)
    rules = {
        "response": pack.period_rule("ACCESS"),
        "extension": pack.extension,
        "appeal": pack.appeal_rule,
        "appealExtension": pack.appeal_extension,
        "WITHDRAW_CONSENT": pack.period_rule("WITHDRAW_CONSENT"),
    }
    for name in BELOW_V[code]:
        assert "tag " in rules[name].citation, (code, name, rules[name].citation)
    if code == "US-AL":  # tag ?: the conservative reading, and why
        assert "tag ?" in pack.appeal_rule.citation and "conservative" in pack.appeal_rule.citation.lower()


def test_nevada_general_period_is_a_product_decision() -> None:
    pack = get_pack("US-NV")
    fallback = pack.period_rule("ACCESS")
    assert fallback.basis == "PRODUCT_DECISION"
    assert fallback.citation.startswith("Product decision (no statutory period): ")
    assert "603A.510" in fallback.citation
    assert pack.period_rule("OPT_OUT_SALE").basis == "STATUTE"
    assert pack.period_for("OPT_OUT_SALE") == clocks.Period(60, "CALENDAR_DAYS")
    # Only the opt-out can be extended.
    assert [t for t in clocks.REQUEST_TYPES if pack.is_extendable_type(t)] == ["OPT_OUT_SALE"]


def test_rhode_island_revocation_has_its_own_rule() -> None:
    pack = get_pack("US-RI")
    assert pack.period_for("WITHDRAW_CONSENT") == clocks.Period(15, "CALENDAR_DAYS")
    assert pack.period_for("ACCESS") == clocks.Period(45, "CALENDAR_DAYS")
    assert not pack.is_extendable_type("WITHDRAW_CONSENT") and pack.is_extendable_type("ACCESS")


# --- in force ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", PACKS)
def test_a_law_is_not_in_force_before_its_effective_date(code: str) -> None:
    effective = D(PACKS[code][1])
    pack = get_pack(code)
    day_before = date.fromordinal(effective.toordinal() - 1).isoformat()

    with pytest.raises(clocks.LawNotInForce) as caught:
        clocks.check_in_force(pack, local(code, day_before, time(23, 59)))
    assert effective.isoformat() in str(caught.value)
    clocks.check_in_force(pack, local(code, effective.isoformat(), time(0, 0)))  # the first day: in force


def test_in_force_is_judged_on_the_local_date_of_receipt() -> None:
    # 04:30 UTC on 2025-01-15 is 23:30 on 2025-01-14 in New Jersey: before the NJDPA; 05:00 UTC is midnight.
    pack = get_pack("US-NJ")
    with pytest.raises(clocks.LawNotInForce):
        clocks.check_in_force(pack, datetime(2025, 1, 15, 4, 30, tzinfo=UTC))
    clocks.check_in_force(pack, datetime(2025, 1, 15, 5, 0, tzinfo=UTC))


def test_compute_itself_does_not_refuse_a_receipt_before_the_effective_date() -> None:
    # Intake refuses it (the API tests); the engine still answers: Tue 2024-12-31 + 45 = Fri 2025-02-14.
    assert run("US-NJ", "2024-12-31", now="2024-12-31").due_date == D("2025-02-14")
