"""Keys, scopes and tenancy: 401 without a good key, 403 without the scope, 404 for another org's ids."""

from __future__ import annotations

import pytest

from core.services import api_key_revoke
from requests_app.models import DataSubjectRequest

pytestmark = pytest.mark.django_db

READS = ["", "/timeline", "/clock/explain"]
WRITES = [
    ("post", "acknowledgements", {}),
    ("post", "clarifications/request", {"message": "?"}),
    ("post", "clarifications/receive", {}),
    ("post", "extensions", {"reason": "r"}),
    ("post", "refusals", {"reason": "r"}),
    ("post", "closures", {"outcome": "FULFILLED"}),
    ("put", "requestor", {"type": "DATA_SUBJECT"}),
    ("post", "verification/request", {}),
    ("post", "verification/receive", {}),
    ("post", "authority/request", {}),
    (
        "post",
        "authority/submit",
        {"evidenceArtifacts": [{"kind": "ID", "uri": "s3://x"}], "status": "PENDING"},
    ),
    ("post", "authority/approve", {}),
    ("post", "authority/reject", {}),
]


def test_no_key_unknown_key_and_revoked_key_are_401(officer):
    from rest_framework.test import APIClient

    api = APIClient()
    assert api.get("/v1/requests").status_code == 401
    assert api.get("/v1/requests", HTTP_AUTHORIZATION="Bearer dsar_nope_nope").status_code == 401
    assert api.get("/v1/requests", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").status_code == 401
    forged = officer.raw[:-2] + ("AA" if not officer.raw.endswith("AA") else "BB")
    assert api.get("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401
    api_key_revoke(key=officer.key, by="test")
    response = officer.get("/v1/requests")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_records_when_it_was_last_used(officer):
    assert officer.key.last_used_at is None
    officer.get("/v1/requests")
    officer.key.refresh_from_db()
    assert officer.key.last_used_at is not None


def test_the_raw_key_is_never_stored(officer):
    from core.models import ApiKey

    row = ApiKey.objects.get(pk=officer.key.pk)
    secret = officer.raw.split("_", 2)[2]
    assert secret not in row.secret_hash and len(row.secret_hash) == 64


OFFICER_ONLY = [w for w in WRITES if w[1] != "authority/submit"]  # submit is an intake action by contract


@pytest.mark.parametrize(("method", "action", "body"), OFFICER_ONLY)
def test_an_intake_key_cannot_run_officer_actions(intake_clerk, make_request, method, action, body):
    request = make_request()
    response = getattr(intake_clerk, method)(f"/v1/requests/{request['id']}/{action}", body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_an_integration_key_reads_but_cannot_create(integration_client, make_request, intake):
    request = make_request()
    assert integration_client.get(f"/v1/requests/{request['id']}").status_code == 200
    assert integration_client.post("/v1/requests", intake()).status_code == 403


@pytest.mark.parametrize("suffix", READS)
def test_another_orgs_request_is_not_found_on_reads(other_org_client, make_request, suffix):
    request = make_request()
    response = other_org_client.get(f"/v1/requests/{request['id']}{suffix}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "action", "body"), WRITES)
def test_another_orgs_request_is_not_found_on_writes(other_org_client, make_request, method, action, body):
    request = make_request()
    response = getattr(other_org_client, method)(f"/v1/requests/{request['id']}/{action}", body)
    assert response.status_code == 404
    assert DataSubjectRequest.objects.get(pk=request["id"]).status == "RECEIVED"


def test_lists_show_only_the_callers_org(officer, other_org_client, make_request):
    make_request()
    assert other_org_client.get("/v1/requests").json()["data"]["total"] == 0
    assert other_org_client.get("/v1/dsr").json()["requests"] == []
    assert officer.get("/v1/requests").json()["data"]["total"] == 1


def test_an_unknown_id_is_not_found(officer):
    assert officer.get("/v1/requests/req_doesnotexist").status_code == 404
    assert officer.post("/v1/requests/req_doesnotexist/acknowledgements").status_code == 404


def test_a_key_over_its_rate_gets_429_with_retry_after(officer, settings):
    settings.DSAR_API_RATE = "2/min"

    codes = [officer.get("/v1/requests").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    response = officer.get("/v1/requests")
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
