"""What the data subject must be told, pack by pack (the legal minimum of each message as named elements),
and which request types need identity verification."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import clocks.packs
from clocks import (
    MESSAGE_KINDS,
    NOTICE_ELEMENTS,
    Notice,
    VerificationPolicy,
    get_pack,
    jurisdiction_codes,
    list_packs,
)
from clocks.packs import _build

PACK_DIR = Path(clocks.packs.__file__).parent


def test_the_vocabulary_is_fixed() -> None:
    assert NOTICE_ELEMENTS == (
        "reasons", "regulator", "judicialRemedy", "appealInstructions", "appealDeadline", "newDueDate",
        "verificationProcess", "expectedBy",
    )  # fmt: skip
    assert MESSAGE_KINDS == (
        "ACKNOWLEDGEMENT", "VERIFICATION_CODE", "VERIFICATION_LINK", "CLARIFICATION", "EXTENSION",
        "REFUSAL", "CLOSURE", "DELIVERY_READY", "APPEAL_DECISION", "CUSTOM",
    )  # fmt: skip


def test_every_current_pack_file_has_a_subject_block() -> None:
    files = sorted(PACK_DIR.glob("*.json"))
    assert len(files) == len({p.id for p in list_packs()})
    for path in files:
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert "subject" in raw, path.name
        assert raw["subject"]["verification"]["citation"].strip(), path.name
    # Archived versions stay exactly as they were: they take the current subject data at load.
    for path in sorted((PACK_DIR / "archive").glob("*.json")):
        assert "subject" not in json.loads(path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize("code", jurisdiction_codes())
def test_every_pack_refuses_with_reasons_and_cites_its_notices(code: str) -> None:
    pack = get_pack(code)
    assert "reasons" in pack.required_elements("REFUSAL")
    assert pack.verification_policy is not None and pack.verification_policy.citation
    for kind, notice in pack.notices.items():
        assert isinstance(notice, Notice) and notice.kind == kind and kind in MESSAGE_KINDS
        assert notice.elements and set(notice.elements) <= set(NOTICE_ELEMENTS)
        assert notice.citation.strip()
        if "regulator" in notice.elements:
            assert pack.regulator is not None
        if "judicialRemedy" in notice.elements:
            assert pack.judicial_remedy
        if {"appealInstructions", "appealDeadline"} & set(notice.elements) or kind == "APPEAL_DECISION":
            assert pack.appeal_rule is not None
    if pack.extendable:
        assert {"reasons", "newDueDate"} <= set(pack.required_elements("EXTENSION"))
    # A kind the law says nothing about needs nothing.
    assert pack.required_elements("VERIFICATION_CODE") == ()
    assert pack.required_elements("CUSTOM") == ()


@pytest.mark.parametrize("code", ["GB", "GB-SCT", "DE", "FR", "EU", "NO"])
def test_the_gdprs_refuse_with_reasons_the_regulator_and_a_judicial_remedy(code: str) -> None:
    pack = get_pack(code)
    assert pack.required_elements("REFUSAL") == ("reasons", "regulator", "judicialRemedy")
    assert pack.required_elements("EXTENSION") == ("reasons", "newDueDate")
    assert "Art 12(4)" in pack.notices["REFUSAL"].citation
    assert "Art 12(3)" in pack.notices["EXTENSION"].citation
    assert pack.judicial_remedy is not None and "Art 79" in pack.judicial_remedy
    assert pack.regulator is not None
    assert pack.required_elements("ACKNOWLEDGEMENT") == ()
    # The GDPRs exempt no request type from verification and never deny for want of it on a day count.
    assert pack.verification_required(["OPT_OUT_SALE"])
    assert pack.verification_policy == VerificationPolicy((), None, pack.verification_policy.citation)


def test_uk_and_eu_name_their_own_article_79() -> None:
    assert "UK GDPR Art 79" in (get_pack("GB").judicial_remedy or "")
    assert "(GDPR Art 79)" in (get_pack("DE").judicial_remedy or "")


def test_ccpa_acknowledgement_extension_refusal_and_verification() -> None:
    pack = get_pack("US-CA")
    assert pack.required_elements("ACKNOWLEDGEMENT") == ("verificationProcess", "expectedBy")
    assert "§7021(a)" in pack.notices["ACKNOWLEDGEMENT"].citation
    assert pack.required_elements("EXTENSION") == ("reasons", "newDueDate")
    assert pack.required_elements("REFUSAL") == ("reasons",)
    assert pack.judicial_remedy is None
    policy = pack.verification_policy
    assert policy is not None
    assert policy.not_required_for == ("OPT_OUT_SALE", "LIMIT_SENSITIVE")
    assert policy.deny_after_days == 45
    assert pack.verification_required(["OPT_OUT_SALE"]) is False
    assert pack.verification_required(["OPT_OUT_SALE", "LIMIT_SENSITIVE"]) is False
    assert pack.verification_required(["ACCESS", "OPT_OUT_SALE"]) is True
    assert pack.verification_required(["ERASURE"]) is True
    assert pack.verification_required([]) is True  # no types: nothing is known to be exempt
    with pytest.raises(TypeError):
        pack.verification_required("OPT_OUT_SALE")


def test_virginia_model_refusal_says_how_and_by_when_to_appeal() -> None:
    pack = get_pack("US-VA")
    assert pack.required_elements("REFUSAL") == ("reasons", "appealInstructions", "appealDeadline")
    assert "§59.1-577(B)(2)" in pack.notices["REFUSAL"].citation
    assert pack.required_elements("APPEAL_DECISION") == ("reasons", "regulator")
    assert "§59.1-577(C)" in pack.notices["APPEAL_DECISION"].citation
    assert pack.required_elements("EXTENSION") == ("reasons", "newDueDate")
    assert pack.verification_required(["OPT_OUT_SALE"]) is False
    assert pack.verification_required(["OPT_OUT_SALE", "ACCESS"]) is True
    assert pack.verification_policy is not None and pack.verification_policy.deny_after_days is None


def test_every_pack_with_an_appeal_is_virginia_model_and_no_other_is() -> None:
    for pack in list_packs():
        appeal = pack.appeal_rule is not None
        assert ("appealInstructions" in pack.required_elements("REFUSAL")) is appeal, pack.id
        assert bool(pack.required_elements("APPEAL_DECISION")) is appeal, pack.id
        if appeal:
            assert pack.verification_policy is not None
            assert pack.verification_policy.not_required_for == ("OPT_OUT_SALE",), pack.id
    # Only the CCPA sets a day after which an unverified request may be denied.
    deny = {p.id for p in list_packs() if p.verification_policy and p.verification_policy.deny_after_days}
    assert deny == {"ccpa"}


def test_an_extension_notice_names_the_regulator_where_the_law_says_so() -> None:
    assert get_pack("CA").required_elements("EXTENSION") == ("reasons", "newDueDate", "regulator")
    za = get_pack("ZA")
    assert za.required_elements("REFUSAL") == ("reasons", "regulator", "judicialRemedy")
    assert za.judicial_remedy is not None and "PAIA s.78" in za.judicial_remedy
    assert get_pack("CH").required_elements("REFUSAL") == ("reasons", "regulator")


def test_an_archived_version_carries_the_current_subject_data() -> None:
    for code, version in (("US-CA", "2026.1"), ("US-VA", "2026.1"), ("DE", "2026.1"), ("US-TX", "2026.1")):
        current, old = get_pack(code), get_pack(code, pack_id=get_pack(code).id, version=version)
        assert old.version == version != current.version
        assert dict(old.notices) == dict(current.notices)
        assert old.judicial_remedy == current.judicial_remedy
        assert old.verification_policy == current.verification_policy
    # What the subject must be told is today's law, even where the old clock did not model the appeal.
    old_tx = get_pack("US-TX", version="2026.1")
    assert old_tx.appeal_rule is None
    assert "appealInstructions" in old_tx.required_elements("REFUSAL")
    assert get_pack("US-CA", version="2026.1").verification_required(["OPT_OUT_SALE"]) is False


# --- load-time validation --------------------------------------------------------------------------------


def _raw(subject: Any, *, appeal: bool = False, regulator: bool = True) -> dict[str, Any]:
    periods: list[dict[str, Any]] = [
        {"kind": "RESPONSE", "amount": 30, "unit": "CALENDAR_DAYS", "citation": "c"}
    ]
    if appeal:
        periods.append({"kind": "APPEAL", "amount": 60, "unit": "CALENDAR_DAYS", "citation": "c"})
    raw: dict[str, Any] = {
        "id": "test",
        "version": "1",
        "law": "law",
        "citation": "cite",
        "periods": periods,
        "roll": {"rule": "NONE", "citation": "c"},
        "jurisdictions": {"XX": {"timezone": "UTC", "calendar": {"country": None, "subdiv": None}}},
        "subject": subject,
    }
    if regulator:
        raw["regulator"] = {"name": "R", "url": "https://r.example", "citation": "c"}
    return raw


def _load(raw: dict[str, Any]):
    return _build(raw, "XX", raw["jurisdictions"]["XX"])


GOOD: dict[str, Any] = {
    "notices": {
        "REFUSAL": {"elements": ["reasons", "regulator", "judicialRemedy"], "citation": "Art 12(4)"},
        "EXTENSION": {"elements": ["reasons", "newDueDate"], "citation": "Art 12(3)"},
    },
    "judicialRemedy": "the courts",
    "verification": {"notRequiredFor": ["OPT_OUT_SALE"], "denyAfterDays": 45, "citation": "c"},
}


def test_a_valid_subject_block_loads() -> None:
    pack = _load(_raw(GOOD))
    assert pack.notices["REFUSAL"] == Notice(
        "REFUSAL", ("reasons", "regulator", "judicialRemedy"), "Art 12(4)"
    )
    assert pack.judicial_remedy == "the courts"
    assert pack.verification_policy == VerificationPolicy(("OPT_OUT_SALE",), 45, "c")
    with pytest.raises(TypeError):
        pack.notices["CUSTOM"] = pack.notices["REFUSAL"]  # type: ignore[index]


def test_a_pack_without_a_subject_block_requires_nothing_and_verifies_everything() -> None:
    raw = _raw(None)
    del raw["subject"]
    pack = _load(raw)
    assert pack.notices == {} and pack.judicial_remedy is None and pack.verification_policy is None
    assert pack.required_elements("REFUSAL") == ()
    assert pack.verification_required(["OPT_OUT_SALE"]) is True


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    subject = copy.deepcopy(GOOD)
    target = subject
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return subject


@pytest.mark.parametrize(
    ("subject", "match"),
    [
        (
            _with(("notices", "REFUSAL", "elements"), ["reasons", "justification"]),
            "unknown REFUSAL notice elements",
        ),
        (_with(("notices", "REFUSAL", "elements"), ["reasons", "reasons"]), "repeats"),
        (_with(("notices", "REFUSAL", "elements"), []), "non-empty list"),
        (_with(("notices", "REFUSAL", "elements"), "reasons"), "non-empty list"),
        (_with(("notices", "REFUSAL", "citation"), " "), "citation"),
        (_with(("notices", "REFUSAL", "extra"), 1), "elements, citation"),
        (_with(("notices", "ACK"), {"elements": ["reasons"], "citation": "c"}), "unknown message kind 'ACK'"),
        (_with(("judicialRemedy",), None), "judicialRemedy"),
        (_with(("judicialRemedy",), ""), "judicialRemedy"),
        (
            _with(("notices", "APPEAL_DECISION"), {"elements": ["reasons"], "citation": "c"}),
            "no APPEAL period",
        ),
        (
            _with(("notices", "REFUSAL"), {"elements": ["reasons", "appealDeadline"], "citation": "c"}),
            "no APPEAL period",
        ),
        (_with(("verification", "notRequiredFor"), ["OPT_OUT"]), "unknown request types"),
        (_with(("verification", "denyAfterDays"), 0), "denyAfterDays"),
        (_with(("verification", "denyAfterDays"), True), "denyAfterDays"),
        (_with(("verification", "citation"), ""), "verification needs a citation"),
        (_with(("verification", "deny"), 1), "notRequiredFor, denyAfterDays, citation"),
        (_with(("audience",), "x"), "subject takes"),
    ],
)
def test_a_bad_subject_block_fails_at_load_naming_the_pack(subject: Any, match: str) -> None:
    with pytest.raises(ValueError, match=r"pack test \(XX\)") as caught:
        _load(_raw(subject))
    assert match in str(caught.value)


def test_a_regulator_element_needs_a_regulator() -> None:
    with pytest.raises(ValueError, match="names the regulator, but the pack has none"):
        _load(_raw(GOOD, regulator=False))


def test_appeal_elements_load_where_the_pack_has_an_appeal() -> None:
    subject = _with(
        ("notices", "REFUSAL"),
        {"elements": ["reasons", "appealInstructions", "appealDeadline"], "citation": "c"},
    )
    subject["notices"]["APPEAL_DECISION"] = {"elements": ["reasons", "regulator"], "citation": "c"}
    pack = _load(_raw(subject, appeal=True))
    assert pack.required_elements("APPEAL_DECISION") == ("reasons", "regulator")


def test_every_shipped_pack_still_loads_when_rebuilt_from_its_file() -> None:
    # The registry is cached; rebuilding each file proves the shipped data passes the checks above.
    for path in sorted(PACK_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        for code, place in raw["jurisdictions"].items():
            rebuilt = _build(raw, code, place)
            assert dict(rebuilt.notices) == dict(get_pack(code).notices)
