"""Worked examples through the API for the codes issue 12 added to existing packs: Norway, Iceland and
Liechtenstein (the GDPR through the EEA Agreement) and the Australian states and territories.

Each example is derived in its docstring from the cited rule: GDPR Art 12(3) with Reg 1182/71 Art 3 (one
month, the same-numbered date or the month's last day, then the next working day of the state), and APP 12.4
with the Acts Interpretation Act 1901 s.36 (30 days, then the next working day in the place)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _due(officer, make_request, code: str, received: str) -> tuple[dict, dict]:
    request = make_request(jurisdiction=code, receivedAt=received)
    explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert explain["dueDate"] == request["clock"]["dueDate"]
    return request["clock"], explain


def test_norway_a_month_ending_on_a_saturday_rolls_to_monday(officer, make_request):
    """Received Sat 2026-01-31 (12:00 Oslo). One month: no 31 February -> Sat 2026-02-28; Saturday and
    Sunday are not working days -> Mon 2026-03-02."""
    clock, explain = _due(officer, make_request, "NO", "2026-01-31T11:00:00Z")
    assert clock["dueDate"] == "2026-03-02"
    assert clock["policyPack"] == "eu-gdpr" and clock["timezone"] == "Europe/Oslo"
    assert explain["adjustments"][0]["from"] == "2026-02-28"


def test_norway_constitution_day_on_a_sunday(officer, make_request):
    """Received Fri 2026-04-17. One month -> Sun 2026-05-17, Constitution Day and a Sunday -> Mon 05-18."""
    clock, explain = _due(officer, make_request, "NO", "2026-04-17T10:00:00Z")
    assert clock["dueDate"] == "2026-05-18"
    assert "Constitution Day" in explain["adjustments"][0]["why"]


def test_iceland_national_day_moves_the_last_day(officer, make_request):
    """Received Sun 2026-05-17 (12:00 Reykjavik, UTC+0). One month -> Wed 2026-06-17, Iceland's National
    Day -> Thu 2026-06-18."""
    clock, explain = _due(officer, make_request, "IS", "2026-05-17T12:00:00Z")
    assert clock["dueDate"] == "2026-06-18"
    assert clock["timezone"] == "Atlantic/Reykjavik"
    assert "National Day (IS)" in explain["adjustments"][0]["why"]


def test_iceland_month_end(officer, make_request):
    """Received 2026-01-31 -> 2026-02-28 (Saturday) -> Mon 2026-03-02."""
    clock, _ = _due(officer, make_request, "IS", "2026-01-31T12:00:00Z")
    assert clock["dueDate"] == "2026-03-02"


def test_liechtenstein_national_day_on_a_saturday(officer, make_request):
    """Received Wed 2026-07-15 (12:00 Vaduz). One month -> Sat 2026-08-15, National Day; Sunday 16th ->
    Mon 2026-08-17."""
    clock, explain = _due(officer, make_request, "LI", "2026-07-15T10:00:00Z")
    assert clock["dueDate"] == "2026-08-17"
    assert "National Day (LI)" in explain["adjustments"][0]["why"]


def test_liechtenstein_plain_month(officer, make_request):
    """Received Sun 2026-11-01 (All Saints' Day: receipt on a holiday still counts from that day). One
    month -> Tue 2026-12-01, a working day."""
    clock, _ = _due(officer, make_request, "LI", "2026-11-01T11:00:00Z")
    assert clock["dueDate"] == "2026-12-01"


@pytest.mark.parametrize(
    ("code", "day_before"), [("NO", "2018-07-19"), ("IS", "2018-07-19"), ("LI", "2018-07-19")]
)
def test_the_eea_efta_states_apply_the_gdpr_from_20_july_2018(officer, intake, code, day_before):
    """EEA Joint Committee Decision 154/2018: in force for the EEA-EFTA states on 20 July 2018, not on the
    EU's 25 May 2018."""
    refused = officer.post("/v1/requests", intake(jurisdiction=code, receivedAt=f"{day_before}T12:00:00Z"))
    assert refused.status_code == 400
    assert "2018-07-20" in refused.json()["error"]["details"][0]["message"]
    accepted = officer.post("/v1/requests", intake(jurisdiction=code, receivedAt="2018-07-20T12:00:00Z"))
    assert accepted.status_code == 202, accepted.content


def test_victoria_labour_day_moves_the_deadline_that_the_national_calendar_keeps(officer, make_request):
    """Received Fri 2018-02-09 (12:00 Melbourne). 30 days -> Sun 2018-03-11 -> Mon 03-12. For AU-VIC, 12
    March 2018 is Labour Day -> Tue 2018-03-13. For AU (national calendar) 12 March is kept, and the
    explanation shows 13 March as a state reading, not relied upon (legal-clocks.md worked example AU-01)."""
    clock, _ = _due(officer, make_request, "AU-VIC", "2018-02-09T01:00:00Z")
    assert clock["dueDate"] == "2018-03-13"
    assert clock["timezone"] == "Australia/Melbourne"

    national, explain = _due(officer, make_request, "AU", "2018-02-09T01:00:00Z")
    assert national["dueDate"] == "2018-03-12"
    shown = [a for a in explain["adjustments"] if not a["reliedUpon"]]
    assert shown and shown[0]["to"] == "2018-03-13" and "AU-VIC" in shown[0]["why"]


def test_nsw_substitute_boxing_day(officer, make_request):
    """Received Sat 2026-11-28 (12:00 Sydney). 30 days -> Mon 2026-12-28, the NSW substitute holiday for
    Boxing Day (26 December is a Saturday) -> Tue 2026-12-29. Under AU, 28 December is not a holiday in
    every state, so it is kept and 29 December is shown, not relied upon."""
    clock, _ = _due(officer, make_request, "AU-NSW", "2026-11-28T01:00:00Z")
    assert clock["dueDate"] == "2026-12-29"
    national, explain = _due(officer, make_request, "AU", "2026-11-28T01:00:00Z")
    assert national["dueDate"] == "2026-12-28"
    assert any(a["to"] == "2026-12-29" and not a["reliedUpon"] for a in explain["adjustments"])


def test_western_australia_day(officer, make_request):
    """Received Fri 2026-05-01 (12:00 Perth). 30 days -> Sun 2026-05-31; Mon 1 June is Western Australia
    Day -> Tue 2026-06-02."""
    clock, _ = _due(officer, make_request, "AU-WA", "2026-05-01T04:00:00Z")
    assert clock["dueDate"] == "2026-06-02"
    assert clock["timezone"] == "Australia/Perth"


STATES = ["AU-ACT", "AU-NSW", "AU-NT", "AU-QLD", "AU-SA", "AU-TAS", "AU-VIC", "AU-WA"]


@pytest.mark.parametrize("code", STATES)
def test_every_state_rolls_past_new_years_day_and_the_weekend(officer, make_request, code):
    """Received Wed 2026-12-02 (01:00 UTC is the same morning in every Australian zone). 30 days -> Fri
    2027-01-01, New Year's Day in every state; Saturday, Sunday -> Mon 2027-01-04."""
    clock, _ = _due(officer, make_request, code, "2026-12-02T01:00:00Z")
    assert clock["dueDate"] == "2027-01-04"


@pytest.mark.parametrize(
    ("code", "received", "due", "holiday"),
    [
        # Received Sat 2026-02-07; 30 days -> Mon 2026-03-09: each of these states' second-Monday-in-March
        # holiday -> Tue 2026-03-10. (NSW, QLD, NT and WA have none that day: 03-09 stands.)
        ("AU-ACT", "2026-02-07", "2026-03-10", "Canberra Day"),
        ("AU-SA", "2026-02-07", "2026-03-10", "Adelaide Cup"),
        ("AU-TAS", "2026-02-07", "2026-03-10", "Eight Hours Day"),
        ("AU-VIC", "2026-02-07", "2026-03-10", "Lab"),
        ("AU-NSW", "2026-02-07", "2026-03-09", None),
        # Received Sat 2026-04-04; 30 days -> Mon 2026-05-04: May Day (NT) and Labour Day (QLD) -> 05-05.
        ("AU-NT", "2026-04-04", "2026-05-05", "May Day"),
        ("AU-QLD", "2026-04-04", "2026-05-05", "Lab"),
        ("AU-WA", "2026-04-04", "2026-05-04", None),
    ],
)
def test_each_state_rolls_past_its_own_holidays_only(officer, make_request, code, received, due, holiday):
    clock, explain = _due(officer, make_request, code, f"{received}T01:00:00Z")
    assert clock["dueDate"] == due
    if holiday:
        assert holiday in explain["adjustments"][0]["why"] and explain["adjustments"][0]["reliedUpon"]
    else:
        assert explain["adjustments"] == []
