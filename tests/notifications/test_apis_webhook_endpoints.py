"""/v1/webhook-endpoints: create (secret once), list (no secrets), delete; SSRF refusals; scopes; orgs."""

from __future__ import annotations

import pytest

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
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:9000/hook",
        "http://[::1]:8080/hook",
        "http://[fd00:ec2::254]/",
    ],
)
def test_internal_targets_are_refused_at_registration(integration_client, url):
    response = _create(integration_client, url=url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "url"
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


def test_an_idempotent_retry_returns_the_same_endpoint(integration_client):
    body = {"url": PUBLIC, "eventTypes": ["*"]}
    first = integration_client.post("/v1/webhook-endpoints", body, **{"Idempotency-Key": "k-1"})
    again = integration_client.post("/v1/webhook-endpoints", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert WebhookEndpoint.objects.count() == 1
    other = integration_client.post(
        "/v1/webhook-endpoints", {**body, "description": "x"}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
