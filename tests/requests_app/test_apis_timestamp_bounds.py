"""Timestamps outside what the clock can compute (before 1900, from 2200 on) are a 400 on their field,
never a 500 — checked before anything converts them to a zone (0001-01-01 at +05:00 would overflow)."""

from __future__ import annotations

import pytest

from requests_app.models import DataSubjectRequest

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00-14:00",
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:30:00+01:00",  # 1899-12-31T23:30Z
    "2200-01-01T00:00:00Z",
    "2199-12-31T23:00:00-01:00",  # 2200-01-01T00:00Z
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59.999999+14:00",
]


def assert_refused_on(response, field: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {
            "field": field,
            "message": "Must be on or after 1900-01-01T00:00:00Z and before 2200-01-01T00:00:00Z.",
        }
    ]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_intake_refuses_a_received_at_outside_the_clock(officer, intake, value):
    response = officer.post("/v1/requests", intake(receivedAt=value))

    assert_refused_on(response, "intakeSource.receivedAt")
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "2200-01-01T00:00:00Z"])
def test_capture_refuses_a_recorded_at_outside_the_clock(officer, intake, value):
    body = intake()
    body["receivedAt"] = value

    assert_refused_on(officer.post("/v1/requests/capture", body), "receivedAt")


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_lifecycle_action_refuses_an_occurred_at_outside_the_clock(officer, make_request, value):
    rid = make_request()["id"]

    response = officer.post(f"/v1/requests/{rid}/acknowledgements", {"occurredAt": value})

    assert_refused_on(response, "occurredAt")
    assert DataSubjectRequest.objects.get(pk=rid).status == "RECEIVED"


def test_authority_verified_at_is_bounded_too(officer, intake):
    body = intake(
        authority={
            "evidenceArtifacts": [{"kind": "POWER_OF_ATTORNEY"}],
            "status": "VERIFIED",
            "verifiedAt": "0001-01-01T00:00:00+05:00",
        }
    )

    assert_refused_on(officer.post("/v1/requests", body), "authority.verifiedAt")


def test_the_lower_bound_is_read_and_then_judged_by_the_law(officer, intake):
    """1900-01-01 is a timestamp the API reads; no privacy law in a pack applied then, so the request is
    refused on its jurisdiction (law not yet in force), never on the timestamp itself."""
    response = officer.post("/v1/requests", intake(receivedAt="1900-01-01T00:00:00Z"))

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details] == ["jurisdiction"]
    assert "not yet in force" in details[0]["message"]
