"""Evidence artifacts are `{kind, uri?, description?, receivedAt?}`: a signed letter that came by post has
no URI. Stored and answered in that shape (the parts not given absent), at intake and on authority/submit."""

from __future__ import annotations

import pytest

from authority.models import AuthorityEvidence

pytestmark = pytest.mark.django_db

LETTER = {
    "kind": "SIGNED_LETTER",
    "description": "Signed authority letter, received by post",
    "receivedAt": "2026-03-30T10:00:00+01:00",
}


def test_intake_records_a_letter_that_came_by_post(officer, intake):
    body = intake(authority={"evidenceArtifacts": [LETTER], "status": "PENDING"})

    response = officer.post("/v1/requests", body)

    assert response.status_code == 202, response.content
    expected = {
        "kind": "SIGNED_LETTER",
        "description": "Signed authority letter, received by post",
        "receivedAt": "2026-03-30T09:00:00+00:00",
    }
    assert response.json()["data"]["request"]["authority"]["evidenceArtifacts"] == [expected]
    assert AuthorityEvidence.objects.get().evidence_artifacts == [expected]


def test_submit_records_paper_and_stored_evidence_together(officer, intake_clerk, make_request):
    rid = make_request()["id"]
    body = {
        "evidenceArtifacts": [LETTER, {"kind": "POWER_OF_ATTORNEY", "uri": "s3://evidence/poa.pdf"}],
        "status": "PENDING",
    }

    response = intake_clerk.post(f"/v1/requests/{rid}/authority/submit", body)

    assert response.status_code == 202, response.content
    artifacts = response.json()["data"]["request"]["authority"]["evidenceArtifacts"]
    assert artifacts == [
        {**LETTER, "receivedAt": "2026-03-30T09:00:00+00:00"},
        {"kind": "POWER_OF_ATTORNEY", "uri": "s3://evidence/poa.pdf"},
    ]


@pytest.mark.parametrize(
    ("artifact", "field"),
    [
        ({"uri": "s3://x"}, "evidenceArtifacts.0.kind"),
        ({"kind": "   "}, "evidenceArtifacts.0.kind"),
        ({"kind": "POA", "uri": ""}, "evidenceArtifacts.0.uri"),
        ({"kind": "POA", "scan": "s3://x"}, "evidenceArtifacts.0.scan"),
        ({"kind": "POA", "description": "x" * 2_001}, "evidenceArtifacts.0.description"),
        ({"kind": "POA", "receivedAt": "2026-03-30T10:00:00"}, "evidenceArtifacts.0.receivedAt"),
        ({"kind": "POA", "receivedAt": "2099-01-01T00:00:00Z"}, "evidenceArtifacts.0.receivedAt"),
        ({"kind": "POA", "receivedAt": "0001-01-01T00:00:00+05:00"}, "evidenceArtifacts.0.receivedAt"),
    ],
)
def test_submit_refuses_a_malformed_artifact_by_its_path(officer, make_request, artifact, field):
    rid = make_request()["id"]

    response = officer.post(
        f"/v1/requests/{rid}/authority/submit", {"evidenceArtifacts": [artifact], "status": "PENDING"}
    )

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert not AuthorityEvidence.objects.exists()


def test_submit_takes_at_most_fifty_artifacts(officer, make_request):
    rid = make_request()["id"]

    response = officer.post(
        f"/v1/requests/{rid}/authority/submit",
        {"evidenceArtifacts": [{"kind": "PAGE"}] * 51, "status": "PENDING"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "evidenceArtifacts"
