"""Authority decisions belong to officers — at intake and on `authority/submit`, in the service itself."""

from __future__ import annotations

import pytest

from authority import services as authority_services
from authority.models import AuthorityEvidence
from core.api import Forbidden
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db

LETTER = {
    "kind": "SIGNED_LETTER",
    "description": "Signed letter, came by post",
    "receivedAt": "2026-03-30T10:00:00Z",
}
POA = {"kind": "POWER_OF_ATTORNEY", "uri": "s3://evidence/poa.pdf"}


def _agent_body(intake, status="PENDING", **authority):
    return intake(
        requestor={"type": "AUTHORIZED_AGENT", "name": "Agent Smith", "email": "agent@example.org"},
        authority={"evidenceArtifacts": [POA], "status": status, **authority},
    )


def test_an_intake_key_cannot_create_a_request_with_approved_authority(intake_clerk, intake):
    response = intake_clerk.post(
        "/v1/requests", _agent_body(intake, "VERIFIED", verifiedAt="2026-03-31T10:00:00Z")
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert response.json()["error"]["details"][0]["field"] == "authority.status"
    assert not DataSubjectRequest.objects.exists()


def test_an_intake_key_submits_pending_evidence(intake_clerk, intake):
    response = intake_clerk.post("/v1/requests", _agent_body(intake))
    assert response.status_code == 202
    assert response.json()["data"]["request"]["authority"]["status"] == "PENDING"


def test_an_officer_may_record_a_decision_at_intake(officer, intake):
    response = officer.post(
        "/v1/requests", _agent_body(intake, "VERIFIED", verifiedAt="2026-03-31T10:00:00Z")
    )
    assert response.status_code == 202
    evidence = AuthorityEvidence.objects.get()
    assert evidence.status == "VERIFIED"
    assert evidence.decided_by == f"apikey:{officer.key.prefix}"


@pytest.mark.parametrize("status", ["VERIFIED", "REJECTED"])
def test_an_intake_key_cannot_decide_its_own_evidence_on_submit(intake_clerk, make_request, status):
    dsr = make_request()
    entries = TimelineEntry.objects.filter(request_id=dsr["id"]).count()

    response = intake_clerk.post(
        f"/v1/requests/{dsr['id']}/authority/submit",
        {"evidenceArtifacts": [POA], "status": status, "verifiedAt": "2099-01-01T00:00:00Z"},
    )

    assert response.status_code == 403
    assert not AuthorityEvidence.objects.exists()
    assert TimelineEntry.objects.filter(request_id=dsr["id"]).count() == entries


def test_verified_at_in_the_future_is_a_400_even_for_an_officer(officer, make_request):
    dsr = make_request()
    response = officer.post(
        f"/v1/requests/{dsr['id']}/authority/submit",
        {"evidenceArtifacts": [POA], "status": "VERIFIED", "verifiedAt": "2099-01-01T00:00:00Z"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "verifiedAt"


def test_a_letter_that_came_by_post_is_evidence_without_a_uri(intake_clerk, make_request):
    dsr = make_request()
    response = intake_clerk.post(
        f"/v1/requests/{dsr['id']}/authority/submit", {"evidenceArtifacts": [LETTER], "status": "PENDING"}
    )
    assert response.status_code == 202, response.content
    assert response.json()["data"]["request"]["authority"]["evidenceArtifacts"] == [
        {
            "kind": "SIGNED_LETTER",
            "description": "Signed letter, came by post",
            "receivedAt": "2026-03-30T10:00:00+00:00",
        }
    ]


def test_the_rule_holds_in_the_service_not_only_in_the_view(org, make_request):
    dsr = make_request()
    with pytest.raises(Forbidden):
        authority_services.authority_submit(
            org=org, request_id=dsr["id"], actor="someone", evidence_artifacts=[POA], status="VERIFIED"
        )
    result = authority_services.authority_submit(
        org=org,
        request_id=dsr["id"],
        actor="officer",
        evidence_artifacts=[POA],
        status="VERIFIED",
        may_decide=True,
    )
    assert result.request.authority_current.decided_by == "officer"
