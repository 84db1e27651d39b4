"""Every jurisdiction code names the regulator a requestor may complain to."""

from __future__ import annotations

import pytest

from clocks import Regulator, get_pack, jurisdiction_codes
from clocks.packs import _build


@pytest.mark.parametrize("code", jurisdiction_codes())
def test_every_code_has_a_regulator(code: str) -> None:
    regulator = get_pack(code).regulator
    assert isinstance(regulator, Regulator)
    assert regulator.name.strip()
    assert regulator.url.startswith("https://")
    assert regulator.citation.strip()
    assert get_pack(code).as_dict()["regulator"] == {
        "name": regulator.name,
        "url": regulator.url,
        "citation": regulator.citation,
    }


@pytest.mark.parametrize(
    ("code", "name_has"),
    [
        ("GB", "Information Commissioner's Office"),
        ("GB-SCT", "Information Commissioner's Office"),
        ("FR", "CNIL"),
        ("IE", "Data Protection Commission"),
        ("DE", "BfDI"),
        ("DE", "Land"),
        ("EU", "habitual residence, place of work or of the alleged infringement (GDPR Art 77)"),
        ("CA", "Office of the Privacy Commissioner of Canada"),
        ("CA-QC", "Commission d'accès à l'information du Québec"),
        ("CH", "FDPIC"),
        ("BR", "ANPD"),
        ("AU", "OAIC"),
        ("US-CA", "California Privacy Protection Agency"),
        ("US-CA", "Attorney General"),
        ("US-VA", "Attorney General"),
        ("US-CO", "Attorney General"),
        ("US-CT", "Attorney General"),
        ("US-TX", "Attorney General"),
        ("US-OR", "Attorney General"),
        ("US-UT", "Attorney General"),
    ],
)
def test_the_regulator_of(code: str, name_has: str) -> None:
    assert name_has in get_pack(code).regulator.name


def test_member_states_have_their_own_authority() -> None:
    eu_codes = [c for c in jurisdiction_codes() if get_pack(c).id == "eu-gdpr"]
    assert len(eu_codes) == 31  # EU, the 27 member states, and Norway, Iceland and Liechtenstein (EEA)
    names = {get_pack(c).regulator.name for c in eu_codes}
    assert len(names) == 31  # each state (and EU alone) names a different authority


def test_a_regulator_must_be_complete_and_https() -> None:
    raw = {
        "id": "test",
        "version": "1",
        "law": "law",
        "citation": "cite",
        "periods": [{"kind": "RESPONSE", "amount": 30, "unit": "CALENDAR_DAYS", "citation": "c"}],
        "roll": {"rule": "NONE", "citation": "c"},
        "jurisdictions": {"XX": {"timezone": "UTC", "calendar": {"country": None, "subdiv": None}}},
    }
    for bad in (
        {"name": "A", "url": "http://a.example", "citation": "c"},
        {"name": "", "url": "https://a.example", "citation": "c"},
        {"name": "A", "url": "https://a.example"},
    ):
        with pytest.raises(ValueError, match="regulator"):
            _build({**raw, "regulator": bad}, "XX", raw["jurisdictions"]["XX"])
    # A per-code regulator wins over the pack-level one.
    place = {
        **raw["jurisdictions"]["XX"],
        "regulator": {"name": "B", "url": "https://b.example", "citation": "c"},
    }
    pack = _build(
        {**raw, "regulator": {"name": "A", "url": "https://a.example", "citation": "c"}}, "XX", place
    )
    assert pack.regulator == Regulator("B", "https://b.example", "c")
