"""Business days where more than one calendar could be meant (legal-clocks.md §1 rule 4): a weekday is
skipped only if every candidate calendar observes a holiday on it."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest

from clocks import compute, get_pack
from clocks.calendar import get_calendar
from clocks.packs import _build
from clocks.zones import zone

D = date.fromisoformat


def local(code: str, day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone(get_pack(code).timezone))


def run(received: str, types, pack=None):
    pack = pack or get_pack("US-CA")
    at = local("US-CA", received)
    return compute(pack, received_at=at, request_types=types, events=[], now=at)


def test_the_ccpa_calendar_has_two_candidates() -> None:
    pack = get_pack("US-CA")
    assert (pack.calendar_country, pack.calendar_subdiv, pack.calendar_others) == (
        "US",
        None,
        (("US", "CA"),),
    )
    assert pack.calendar_label == "US and US-CA"
    assert pack.as_dict()["calendar"] == {
        "country": "US",
        "subdiv": None,
        "otherCandidates": [{"country": "US", "subdiv": "CA"}],
        "closedPeriods": [],
    }
    assert (
        "both" in pack.rule_citations["businessDays"]
        and "Columbus Day" in pack.rule_citations["businessDays"]
    )


def test_calendar_skips_only_days_every_candidate_observes() -> None:
    cal = get_pack("US-CA").calendar
    # Columbus Day: federal only. Cesar Chavez Day: California only. Both are business days.
    assert cal.holiday(D("2026-10-12")) is None and cal.is_working_day(D("2026-10-12"))
    assert cal.holiday(D("2026-03-31")) is None and cal.is_working_day(D("2026-03-31"))
    assert cal.partial_holiday(D("2026-10-12")) == (D("2026-10-12"), "Columbus Day", "US")
    assert cal.partial_holiday(D("2026-03-31")) == (D("2026-03-31"), "Cesar Chavez Day", "US-CA")
    # MLK Day is observed by both: skipped, and described as such.
    assert cal.holiday(D("2025-01-20")) == "Martin Luther King Jr. Day"
    assert cal.partial_holiday(D("2025-01-20")) is None
    assert cal.describe(D("2025-01-20")) == "Martin Luther King Jr. Day (US and US-CA)"
    # Weekends are never business days.
    assert not cal.is_working_day(D("2026-10-10"))
    # A single calendar has no partial holidays.
    assert get_calendar("US", None, "US").partial_holiday(D("2026-10-12")) is None


def test_opt_out_counts_columbus_day_as_a_business_day() -> None:
    # Monday 5 October 2026 + 15 business days, Columbus Day (12 Oct) counted: Monday 26 October.
    result = run("2026-10-05", ["OPT_OUT_SALE"])

    assert result.due_date == D("2026-10-26")
    assert result.holidays_relied_on == ()
    assert result.holidays_counted == ((D("2026-10-12"), "Columbus Day", "US"),)
    data = result.explanation("r")
    assert data["holidaysCounted"] == [{"date": "2026-10-12", "name": "Columbus Day", "observedBy": "US"}]
    assert data["holidaysReliedOn"] == []
    assert get_pack("US-CA").rule_citations["businessDays"] in result.citations
    assert "both the US and US-CA calendars" in result.segments[0].note


def test_acknowledgement_counts_cesar_chavez_day() -> None:
    # Friday 20 March 2026 + 10 business days, Cesar Chavez Day (Tue 31 March) counted: Friday 3 April.
    result = run("2026-03-20", ["ACCESS"])

    assert result.acknowledge_by == D("2026-04-03")
    assert result.holidays_counted == ((D("2026-03-31"), "Cesar Chavez Day", "US-CA"),)


def test_ca_01_still_skips_mlk_day() -> None:
    result = run("2025-01-06", ["ACCESS"])
    assert result.acknowledge_by == D("2025-01-21")
    assert result.holidays_relied_on == ((D("2025-01-20"), "Martin Luther King Jr. Day (US and US-CA)"),)


def test_the_archived_ccpa_version_keeps_its_federal_calendar() -> None:
    # Requests computed under ccpa 2026.1 keep their deadlines until recomputed on purpose.
    old = get_pack("US-CA", version="2026.1")
    assert old.calendar_others == ()
    result = run("2026-10-05", ["OPT_OUT_SALE"], pack=old)
    assert result.due_date == D("2026-10-27")  # Columbus Day skipped under the old rule
    assert result.pack_version == "2026.1"
    # Who to complain to is today's fact, so an archived file without it borrows the current one.
    assert old.regulator == get_pack("US-CA").regulator


def _raw(calendar) -> dict:
    return {
        "id": "test",
        "version": "1",
        "law": "law",
        "citation": "cite",
        "periods": [{"kind": "RESPONSE", "amount": 10, "unit": "BUSINESS_DAYS", "citation": "c"}],
        "roll": {"rule": "NONE", "citation": "c"},
        "jurisdictions": {"XX": {"timezone": "UTC", "calendar": calendar}},
    }


@pytest.mark.parametrize(
    "calendar",
    [
        {"country": "US", "subdiv": None, "otherCandidates": [{"country": "US", "subdiv": "XX"}]},
        {"country": "US", "subdiv": None, "otherCandidates": [{"country": "US"}, {"country": "US"}]},
        {"country": "US", "subdiv": None, "otherCandidates": [{"country": "US", "subdiv": None}]},
        {"country": "US", "subdiv": None, "otherCandidates": [{"subdiv": "CA"}]},
        {"country": "US", "subdiv": None, "otherCandidates": {"country": "US", "subdiv": "CA"}},
        {"country": None, "subdiv": None, "otherCandidates": [{"country": "US", "subdiv": "CA"}]},
        {"country": "US", "subdiv": None, "alsoObservedBy": []},
    ],
)
def test_calendar_candidates_are_validated_on_load(calendar) -> None:
    raw = _raw(calendar)
    with pytest.raises(ValueError, match="pack test"):
        _build(raw, "XX", raw["jurisdictions"]["XX"])


def test_a_valid_candidate_list_loads() -> None:
    raw = json.loads(
        json.dumps(
            _raw({"country": "US", "subdiv": None, "otherCandidates": [{"country": "US", "subdiv": "NY"}]})
        )
    )
    pack = _build(raw, "XX", raw["jurisdictions"]["XX"])
    assert pack.calendar_others == (("US", "NY"),)
