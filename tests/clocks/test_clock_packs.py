"""The pack registry: every code of legal-clocks.md §2, its calendar, zone, rules and metadata."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import clocks.packs
from clocks import (
    Effect,
    EventKind,
    Period,
    PolicyPack,
    Unit,
    UnknownJurisdiction,
    get_pack,
    jurisdiction_codes,
    list_packs,
)

EU_MEMBERS = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip
DOC_CODES = {
    "GB", "GB-WLS", "GB-SCT", "GB-NIR", "EU", *EU_MEMBERS,
    "US-CA", "US-VA", "US-CO", "US-CT", "US-TX", "US-OR", "US-UT", "BR", "CA", "CA-QC", "CH", "AU",
}  # fmt: skip
# Issue 12: the US states through 2028, the EEA-EFTA states, the world regimes and the Australian states.
ISSUE_12_CODES = {
    "US-NJ", "US-TN", "US-IN", "US-MD", "US-MN", "US-KY", "US-IA", "US-NE", "US-NH", "US-DE", "US-MT",
    "US-RI", "US-FL", "US-OK", "US-LA", "US-AL", "US-VT", "US-NV",
    "NO", "IS", "LI",
    "KR", "NZ", "ZA", "TH", "TR", "AR", "MX", "SG", "JP", "IN", "VN", "ID", "PH", "SA", "IL", "CN",
    "CA-AB", "CA-BC", "TW",
    "AU-ACT", "AU-NSW", "AU-NT", "AU-QLD", "AU-SA", "AU-TAS", "AU-VIC", "AU-WA",
}  # fmt: skip


def test_listing_covers_every_code_of_the_doc_once_sorted() -> None:
    codes = jurisdiction_codes()
    assert len(EU_MEMBERS) == 27
    assert set(codes) == DOC_CODES | ISSUE_12_CODES
    assert list(codes) == sorted(codes)
    packs = list_packs()
    assert [p.jurisdiction for p in packs] == list(codes)
    assert all(isinstance(p, PolicyPack) for p in packs)
    # Packs whose rules or citations changed carry a new version (the old file is archived).
    versions = {p.id: p.version for p in packs}
    changed = {"ccpa": "2026.3", "ctdpa": "2026.3", "tdpsa": "2026.2", "eu-gdpr": "2026.2", "ocpa": "2026.2"}
    changed |= {"ucpa": "2026.2", "cpa": "2026.2", "au-app12": "2026.2", "vcdpa": "2026.2"}
    assert {i: v for i, v in versions.items() if v != "2026.1"} == changed
    archive = Path(clocks.packs.__file__).parent / "archive"
    for pack_id, version in changed.items():  # and every version each replaced is kept
        minor = int(version.rsplit(".", 1)[1])
        for older in range(1, minor):
            assert (archive / f"{pack_id}@2026.{older}.json").is_file()


@pytest.mark.parametrize(
    ("code", "pack_id", "country", "subdiv", "tz"),
    [
        ("GB", "uk-gdpr", "GB", "ENG", "Europe/London"),
        ("GB-WLS", "uk-gdpr", "GB", "ENG", "Europe/London"),
        ("GB-SCT", "uk-gdpr", "GB", "SCT", "Europe/London"),
        ("GB-NIR", "uk-gdpr", "GB", "NIR", "Europe/London"),
        ("EU", "eu-gdpr", None, None, "Europe/Brussels"),
        ("DE", "eu-gdpr", "DE", None, "Europe/Berlin"),
        ("GR", "eu-gdpr", "GR", None, "Europe/Athens"),
        ("CY", "eu-gdpr", "CY", None, "Asia/Nicosia"),
        ("US-CA", "ccpa", "US", None, "America/Los_Angeles"),
        ("US-VA", "vcdpa", "US", "VA", "America/New_York"),
        ("US-CO", "cpa", "US", "CO", "America/Denver"),
        ("US-CT", "ctdpa", "US", "CT", "America/New_York"),
        ("US-TX", "tdpsa", "US", "TX", "America/Chicago"),
        ("US-OR", "ocpa", "US", "OR", "America/Los_Angeles"),
        ("US-UT", "ucpa", "US", "UT", "America/Denver"),
        ("BR", "lgpd", "BR", None, "America/Sao_Paulo"),
        ("CA", "pipeda", "CA", None, "America/Toronto"),
        ("CA-QC", "quebec-p39", "CA", "QC", "America/Toronto"),
        ("CH", "ch-fadp", "CH", None, "Europe/Zurich"),
        ("AU", "au-app12", "AU", None, "Australia/Sydney"),
    ],
)
def test_code_selects_pack_calendar_and_zone(code, pack_id, country, subdiv, tz) -> None:
    pack = get_pack(code)
    assert (pack.id, pack.jurisdiction, pack.calendar_country, pack.calendar_subdiv, pack.timezone) == (
        pack_id,
        code,
        country,
        subdiv,
        tz,
    )


def test_every_pack_zone_is_real_and_every_rule_is_cited() -> None:
    for pack in list_packs():
        ZoneInfo(pack.timezone)
        assert pack.law and pack.citation and pack.roll.citation
        assert all(rule.citation for rule in pack.periods)
        assert all(rule.citation for rule in pack.effects)
        assert pack.extension is None or pack.extension.citation


def test_unknown_jurisdiction_names_the_code_and_the_valid_ones() -> None:
    with pytest.raises(UnknownJurisdiction) as caught:
        get_pack("XX")
    message = str(caught.value)
    assert "'XX'" in message
    assert "GB-SCT" in message and "US-CA" in message
    assert isinstance(caught.value, LookupError)
    assert caught.value.code == "XX"


def test_codes_are_case_sensitive_with_a_hint() -> None:
    with pytest.raises(UnknownJurisdiction, match="did you mean 'GB-SCT'"):
        get_pack("gb-sct")


def test_effects_and_meaningful_event_kinds() -> None:
    uk, eu, ccpa, br = get_pack("GB"), get_pack("FR"), get_pack("US-CA"), get_pack("BR")

    assert uk.effect_of(EventKind.CLARIFICATION_REQUESTED) is Effect.EXCLUDE
    assert uk.effect_of(EventKind.VERIFICATION_RECEIVED) is Effect.RESTART
    assert uk.effect_of(EventKind.AUTHORITY_SUBMITTED) is Effect.RESTART
    assert uk.effect_of(EventKind.STOPPED) is Effect.NONE
    assert eu.effect_of(EventKind.CLARIFICATION_REQUESTED) is Effect.NONE
    assert ccpa.effect_of(EventKind.VERIFICATION_REQUESTED) is Effect.NONE

    assert uk.meaningful_event_kinds() == frozenset(
        {
            EventKind.CLARIFICATION_REQUESTED,
            EventKind.CLARIFICATION_RECEIVED,
            EventKind.VERIFICATION_REQUESTED,
            EventKind.VERIFICATION_RECEIVED,
            EventKind.AUTHORITY_REQUESTED,
            EventKind.AUTHORITY_SUBMITTED,
            EventKind.EXTENSION,
        }
    )
    assert eu.meaningful_event_kinds() == frozenset({EventKind.EXTENSION})
    assert ccpa.meaningful_event_kinds() == frozenset({EventKind.EXTENSION, EventKind.ACKNOWLEDGED})
    assert br.meaningful_event_kinds() == frozenset()


@pytest.mark.parametrize(
    ("code", "extension"),
    [
        ("GB", (2, Unit.CALENDAR_MONTHS)),
        ("IE", (2, Unit.CALENDAR_MONTHS)),
        ("US-CA", (45, Unit.CALENDAR_DAYS)),
        ("US-TX", (45, Unit.CALENDAR_DAYS)),
        ("CA", (30, Unit.CALENDAR_DAYS)),
        ("BR", None),
        ("CA-QC", None),
        ("CH", None),
        ("AU", None),
    ],
)
def test_default_extension(code: str, extension) -> None:
    pack = get_pack(code)
    assert pack.default_extension == extension
    assert pack.extendable is (extension is not None)


def test_appeals_are_one_more_period_kind() -> None:
    appeals = {code: get_pack(code).appeal_period for code in jurisdiction_codes()}
    assert appeals["US-VA"] == Period(60, Unit.CALENDAR_DAYS)
    assert appeals["US-CO"] == Period(45, Unit.CALENDAR_DAYS)
    assert appeals["US-CT"] == Period(60, Unit.CALENDAR_DAYS)
    assert appeals["US-OR"] == Period(45, Unit.CALENDAR_DAYS)
    assert appeals["US-TX"] == Period(60, Unit.CALENDAR_DAYS)
    # Utah grants no appeal; the CCPA has none; nor have the GDPRs (a complaint goes to the regulator).
    appealable = {code for code, period in appeals.items() if period}
    assert appealable >= {"US-VA", "US-CO", "US-CT", "US-OR", "US-TX"}
    assert appeals["US-UT"] is appeals["US-CA"] is appeals["GB"] is appeals["DE"] is None
    assert get_pack("US-VA").period_for("ACCESS", kind="APPEAL").amount == 60


def test_periods_per_request_type() -> None:
    ccpa = get_pack("US-CA")
    assert ccpa.period_for("ACCESS") == Period(45, Unit.CALENDAR_DAYS)
    assert ccpa.period_for("OPT_OUT_SALE") == Period(15, Unit.BUSINESS_DAYS)
    assert ccpa.period_for("LIMIT_SENSITIVE") == Period(15, Unit.BUSINESS_DAYS)
    assert ccpa.acknowledges("PORTABILITY") and not ccpa.acknowledges("OPT_OUT_SALE")
    assert not ccpa.is_extendable_type("LIMIT_SENSITIVE") and ccpa.is_extendable_type("ERASURE")
    assert get_pack("GB").period_for("OPT_OUT_SALE") == Period(1, Unit.CALENDAR_MONTHS)


def test_as_dict_is_camel_case_metadata() -> None:
    data = get_pack("GB-SCT").as_dict()
    assert set(data) == {
        "id", "version", "law", "citation", "jurisdiction", "timezone", "calendar",
        "periods", "acknowledgement", "extension", "roll", "eventEffects", "regulator",
        "effective", "appeal",
    }  # fmt: skip
    assert data["calendar"] == {
        "country": "GB", "subdiv": "SCT", "otherCandidates": [], "closedPeriods": [],
    }  # fmt: skip
    assert data["regulator"]["url"] == "https://ico.org.uk"
    assert data["periods"][0] == {
        "kind": "RESPONSE",
        "requestTypes": ["*"],
        "amount": 1,
        "unit": "CALENDAR_MONTHS",
        "basis": "STATUTE",
        "citation": data["periods"][0]["citation"],
    }
    assert data["extension"]["maxTotal"] == {"amount": 2, "unit": "CALENDAR_MONTHS"}
    assert data["extension"]["maxCount"] is None
    assert data["roll"]["rule"] == "NEXT_WORKING_DAY"
    assert data["eventEffects"]["CLARIFICATION"]["effect"] == "EXCLUDE"
    assert get_pack("US-CA").as_dict()["acknowledgement"]["amount"] == 10


def test_packs_are_cached_values() -> None:
    assert get_pack("GB") is get_pack("GB")
    assert hash(get_pack("GB")) == hash(get_pack("GB"))
    assert get_pack("GB") != get_pack("GB-SCT")
