"""/v1/webhook-endpoints: create (secret once), list (no secrets), delete; SSRF, https and DNS refusals;
the per-org quota; scopes; orgs. Changes and rotation: test_endpoint_management.py."""

from __future__ import annotations

import pytest

from core.models import IdempotencyRecord
from notifications.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/hooks/dsar"  # a public IP literal: no DNS needed on a sandboxed machine


def _create(client, **body):
    body.setdefault("url", PUBLIC)
    body.setdefault("eventTypes", ["*"])
    return client.post("/v1/webhook-endpoints", body)


def test_it_creates_an_endpoint_and_shows_the_secret_once(integration_client):
    response = _create(integration_client, eventTypes=["request.created", "clock.overdue"], description="CRM")
    assert response.status_code == 201, response.content
    endpoint = response.json()["data"]["endpoint"]
    assert endpoint["id"].startswith("whe_")
    assert endpoint["url"] == PUBLIC
    assert endpoint["eventTypes"] == ["request.created", "clock.overdue"]
    assert endpoint["description"] == "CRM"
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["createdAt"]
    listed = integration_client.get("/v1/webhook-endpoints").json()["data"]["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]
    assert endpoint["secret"] not in integration_client.get("/v1/webhook-endpoints").content.decode()


def test_star_subscribes_to_everything(integration_client):
    response = _create(integration_client, eventTypes=["*", "request.created"])
    assert response.json()["data"]["endpoint"]["eventTypes"] == ["*"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"eventTypes": ["request.exploded"]}, "eventTypes.0"),
        ({"eventTypes": []}, "eventTypes"),
        ({"eventTypes": "request.created"}, "eventTypes"),
        ({"url": "ftp://example.org/x"}, "url"),
        ({"url": "https://user:pw@93.184.215.14/x"}, "url"),
        ({"description": 42}, "description"),
        ({"url": 42}, "url"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_bodies_are_400_with_the_field(integration_client, body, field):
    response = _create(integration_client, **body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost:9000/hook",
        "https://[::1]:8080/hook",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:10.0.0.1]/hook",
    ],
)
def test_internal_targets_are_refused_at_registration(integration_client, url):
    response = _create(integration_client, url=url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "url"
    assert error["details"][0]["message"].startswith("Refused:")  # the address, not the scheme
    assert WebhookEndpoint.objects.count() == 0


def test_plain_http_is_refused_because_payloads_carry_personal_data(integration_client):
    response = _create(integration_client, url="http://93.184.215.14/hooks/dsar")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    (detail,) = error["details"]
    assert detail["field"] == "url"
    assert "https" in detail["message"] and "personal data" in detail["message"]
    assert WebhookEndpoint.objects.count() == 0


def test_a_host_that_does_not_resolve_is_refused_at_registration(integration_client):
    response = _create(
        integration_client, url="https://no-such-host.invalid/hook"
    )  # RFC 6761: never resolves
    assert response.status_code == 400, response.content
    (detail,) = response.json()["error"]["details"]
    assert detail["field"] == "url"
    assert "does not resolve" in detail["message"] or "has no address" in detail["message"]
    assert WebhookEndpoint.objects.count() == 0


def test_the_override_allows_private_networks_but_never_metadata(integration_client, settings):
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert _create(integration_client, url="http://127.0.0.1:9000/hook").status_code == 201
    assert _create(integration_client, url="http://localhost:9000/hook").status_code == 201
    assert _create(integration_client, url="http://169.254.169.254/").status_code == 400


def test_delete_is_soft_and_then_404(integration_client):
    endpoint_id = _create(integration_client).json()["data"]["endpoint"]["id"]
    response = integration_client.delete(f"/v1/webhook-endpoints/{endpoint_id}")
    assert response.status_code == 200
    assert response.json()["data"] == {"deleted": True}
    assert integration_client.get("/v1/webhook-endpoints").json()["data"]["endpoints"] == []
    assert WebhookEndpoint.objects.get(pk=endpoint_id).deleted_at is not None
    assert integration_client.delete(f"/v1/webhook-endpoints/{endpoint_id}").status_code == 404


def test_another_orgs_endpoints_are_not_found(integration_client, other_org_client):
    endpoint_id = _create(integration_client).json()["data"]["endpoint"]["id"]
    response = other_org_client.delete(f"/v1/webhook-endpoints/{endpoint_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert other_org_client.get("/v1/webhook-endpoints").json()["data"]["endpoints"] == []
    assert WebhookEndpoint.objects.get(pk=endpoint_id).deleted_at is None


def test_it_needs_the_integration_scope(officer, intake_clerk):
    for client in (officer, intake_clerk):
        assert _create(client).status_code == 403
        assert client.get("/v1/webhook-endpoints").status_code == 403


def test_an_idempotent_retry_returns_the_same_endpoint_without_its_secret(integration_client):
    body = {"url": PUBLIC, "eventTypes": ["*"]}
    first = integration_client.post("/v1/webhook-endpoints", body, **{"Idempotency-Key": "k-1"})
    again = integration_client.post("/v1/webhook-endpoints", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    created, replayed = first.json(), again.json()
    secret = created["data"]["endpoint"]["secret"]
    assert secret.startswith("whsec_")
    assert replayed["data"]["endpoint"]["secret"] is None
    created["data"]["endpoint"]["secret"] = None
    assert replayed == created  # the same endpoint, field for field, but for the secret shown once
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.count() == 1
    record = IdempotencyRecord.objects.get(key="k-1")
    assert secret.encode() not in bytes(record.response_body)
    assert secret.split("_", 1)[1].encode() not in bytes(record.response_body)
    other = integration_client.post(
        "/v1/webhook-endpoints", {**body, "description": "x"}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409


def test_an_org_has_at_most_the_configured_number_of_live_endpoints(integration_client, settings):
    settings.DSAR_WEBHOOK_MAX_ENDPOINTS = 2
    ids = [_create(integration_client).json()["data"]["endpoint"]["id"] for _ in range(2)]

    response = _create(integration_client)

    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "DSAR_WEBHOOK_MAX_ENDPOINTS" in error["message"] and "2" in error["message"]
    assert WebhookEndpoint.objects.count() == 2
    # Deleted endpoints do not count; disabled ones do.
    integration_client.delete(f"/v1/webhook-endpoints/{ids[0]}")
    assert _create(integration_client).status_code == 201
    disabled = integration_client.patch(f"/v1/webhook-endpoints/{ids[1]}", {"status": "DISABLED"})
    assert disabled.json()["data"]["endpoint"]["status"] == "DISABLED"
    assert _create(integration_client).status_code == 409


def test_the_quota_is_per_org(integration_client, other_org_client, settings):
    settings.DSAR_WEBHOOK_MAX_ENDPOINTS = 1
    assert _create(integration_client).status_code == 201
    assert _create(other_org_client).status_code == 201
    assert _create(integration_client).status_code == 409
