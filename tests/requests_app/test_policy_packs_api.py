"""`GET /v1/policy-packs`: every pack with its effective date, appeal period and regulator; and what the
intake and lifecycle API do with them (a law not yet in force, an appeal extension, a fraud suspension)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import clocks

pytestmark = pytest.mark.django_db


def test_every_pack_is_listed_with_its_effective_date_appeal_and_regulator(
    officer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = officer.get("/v1/policy-packs")
    assert response.status_code == 200
    packs = response.json()["data"]["policyPacks"]
    assert [p["jurisdiction"] for p in packs] == list(clocks.jurisdiction_codes())
    for listed in packs:
        pack = clocks.get_pack(listed["jurisdiction"])
        assert listed["effective"]["from"] == pack.effective.since.isoformat(), listed["jurisdiction"]
        assert listed["effective"]["citation"]
        assert listed["regulator"]["url"].startswith("https://")
        assert listed["regulator"]["name"] and listed["regulator"]["citation"]
        if pack.appeal_rule is None:
            assert listed["appeal"] is None
        else:
            assert listed["appeal"]["amount"] == pack.appeal_rule.period.amount
            assert listed["appeal"]["unit"] == pack.appeal_rule.period.unit.value
            assert listed["appeal"]["citation"] == pack.appeal_rule.citation

    by_code = {p["jurisdiction"]: p for p in packs}
    assert by_code["NO"]["effective"]["from"] == "2018-07-20"  # the EEA Joint Committee Decision
    assert by_code["DE"]["effective"]["from"] == "2018-05-25"
    assert by_code["US-CO"]["appeal"]["extension"]["maxTotal"] == {"amount": 60, "unit": "CALENDAR_DAYS"}
    assert by_code["US-VA"]["appeal"]["extension"] is None
    assert by_code["NZ"]["calendar"]["closedPeriods"][0]["from"] == "12-25"
    assert {p["basis"] for p in by_code["JP"]["periods"]} == {"PRODUCT_DECISION"}
    assert by_code["GB"]["appeal"] is None


def test_a_request_received_before_the_law_is_in_force_is_refused_with_the_date(officer, intake):
    response = officer.post("/v1/requests", intake(jurisdiction="US-MN", receivedAt="2025-07-30T18:00:00Z"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "jurisdiction"
    assert "not yet in force" in error["details"][0]["message"]
    assert "2025-07-31" in error["details"][0]["message"]
    # The local date decides: 2025-07-31T04:00Z is still 30 July in Minnesota.
    early = officer.post("/v1/requests", intake(jurisdiction="US-MN", receivedAt="2025-07-31T04:00:00Z"))
    assert early.status_code == 400
    on_the_day = officer.post("/v1/requests", intake(jurisdiction="US-MN", receivedAt="2025-07-31T18:00:00Z"))
    assert on_the_day.status_code == 202, on_the_day.content


def test_a_colorado_appeal_is_extended_once_by_up_to_60_days(officer, make_request):
    """Received 2026-01-05, refused 2026-01-20, appeal received 2026-02-02 (45 days -> 2026-03-19); extended
    on 2026-03-10 by the full 60 days -> 2026-02-02 + 105 days = 2026-05-18 (C.R.S. §6-1-1306(3))."""
    request = make_request(jurisdiction="US-CO", receivedAt="2026-01-05T17:00:00Z")
    rid = request["id"]
    assert (
        officer.post(
            f"/v1/requests/{rid}/refusals", {"reason": "unverified", "occurredAt": "2026-01-20T17:00:00Z"}
        ).status_code
        == 202
    )
    appeal = officer.post(f"/v1/requests/{rid}/appeals", {"receivedAt": "2026-02-02T17:00:00Z"})
    assert appeal.status_code == 202, appeal.content
    assert appeal.json()["data"]["clock"]["dueDate"] == "2026-03-19"

    extended = officer.post(
        f"/v1/requests/{rid}/extensions", {"reason": "complex appeal", "occurredAt": "2026-03-10T17:00:00Z"}
    )
    assert extended.status_code == 202, extended.content
    assert extended.json()["data"]["request"]["status"] == "APPEALED"
    assert extended.json()["data"]["clock"]["dueDate"] == "2026-05-18"
    explain = officer.get(f"/v1/requests/{rid}/clock/explain").json()["data"]
    assert explain["appeal"]["dueDate"] == "2026-05-18"
    assert explain["appeal"]["extensions"][0]["amount"] == 60
    assert any("6-1-1306(3)(b)" in c for c in explain["citations"])

    again = officer.post(
        f"/v1/requests/{rid}/extensions", {"reason": "more", "occurredAt": "2026-03-11T17:00:00Z"}
    )
    assert again.status_code == 409
    assert "only once" in again.json()["error"]["message"]
    allowed = [d["allowedAction"] for d in again.json()["error"]["details"]]
    assert "appeal.decide" in allowed and "extend" not in allowed


def test_an_appeal_under_a_law_without_an_appeal_extension_cannot_be_extended(officer, make_request):
    request = make_request(jurisdiction="US-VA", receivedAt="2026-01-05T17:00:00Z")
    rid = request["id"]
    officer.post(
        f"/v1/requests/{rid}/refusals", {"reason": "unverified", "occurredAt": "2026-01-20T17:00:00Z"}
    )
    officer.post(f"/v1/requests/{rid}/appeals", {"receivedAt": "2026-02-02T17:00:00Z"})
    response = officer.post(f"/v1/requests/{rid}/extensions", {"reason": "complex"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert "APPEALED" in response.json()["error"]["message"]


def test_a_late_appeal_extension_is_refused_saying_why(officer, make_request):
    request = make_request(jurisdiction="US-CO", receivedAt="2026-01-05T17:00:00Z")
    rid = request["id"]
    officer.post(
        f"/v1/requests/{rid}/refusals", {"reason": "unverified", "occurredAt": "2026-01-20T17:00:00Z"}
    )
    officer.post(f"/v1/requests/{rid}/appeals", {"receivedAt": "2026-02-02T17:00:00Z"})
    late = officer.post(
        f"/v1/requests/{rid}/extensions", {"reason": "complex", "occurredAt": "2026-03-20T17:00:00Z"}
    )
    assert late.status_code == 409
    assert "Too late to extend the appeal" in late.json()["error"]["message"]


def test_utah_suspends_its_45_days_only_while_fraud_is_suspected(officer, make_request):
    """Received 2026-03-02 (45 days -> 2026-04-16). Identity asked for on 2026-03-05 with fraud suspected,
    received 2026-03-14: 10 days (5th to 14th, both included) do not count -> 2026-04-26
    (Utah Code §13-61-203(2)(d)). The same steps without the suspicion change nothing."""
    suspected = make_request(jurisdiction="US-UT", receivedAt="2026-03-02T17:00:00Z")
    plain = make_request(jurisdiction="US-UT", receivedAt="2026-03-02T17:00:00Z")
    for request, flag in ((suspected, True), (plain, False)):
        rid = request["id"]
        asked = officer.post(
            f"/v1/requests/{rid}/verification/request",
            {"method": "ID document", "fraudSuspected": flag, "occurredAt": "2026-03-05T17:00:00Z"},
        )
        assert asked.status_code == 202, asked.content
        received = officer.post(
            f"/v1/requests/{rid}/verification/receive", {"occurredAt": "2026-03-14T17:00:00Z"}
        )
        assert received.status_code == 202, received.content
    assert (
        officer.get(f"/v1/requests/{suspected['id']}").json()["data"]["request"]["clock"]["dueDate"]
        == "2026-04-26"
    )
    assert (
        officer.get(f"/v1/requests/{plain['id']}").json()["data"]["request"]["clock"]["dueDate"]
        == "2026-04-16"
    )
    explain = officer.get(f"/v1/requests/{suspected['id']}/clock/explain").json()["data"]
    assert any("13-61-203(2)(d)" in c for c in explain["citations"])


def test_a_consent_withdrawal_is_a_request_type_with_its_own_clock(officer, make_request):
    """Rhode Island: a consent revocation is honoured within 15 days; access within 45 (R.I. Gen. Laws
    §6-48.1-6). Received 2026-03-02 -> withdrawal due 2026-03-17, which is the request's due date."""
    request = make_request(
        jurisdiction="US-RI", receivedAt="2026-03-02T17:00:00Z", requestTypes=["ACCESS", "WITHDRAW_CONSENT"]
    )
    assert request["requestTypes"] == ["ACCESS", "WITHDRAW_CONSENT"]
    assert request["clock"]["dueDate"] == "2026-03-17"
    explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert {d["requestType"]: d["dueDate"] for d in explain["deadlines"] if d["kind"] == "RESPONSE"} == {
        "ACCESS": "2026-04-16",
        "WITHDRAW_CONSENT": "2026-03-17",
    }


def test_a_law_in_force_in_the_future_is_listed_and_refuses_todays_requests(officer, intake):
    """Vermont's law applies from 2028-01-01: a request received today gets the 400, not a clock."""
    today = (timezone.now() - timedelta(hours=1)).isoformat()
    response = officer.post("/v1/requests", intake(jurisdiction="US-VT", receivedAt=today))
    assert response.status_code == 400
    assert "2028-01-01" in response.json()["error"]["details"][0]["message"]
