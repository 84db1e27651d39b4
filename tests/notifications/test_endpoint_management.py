"""PATCH /v1/webhook-endpoints/{id} and POST /v1/webhook-endpoints/{id}/rotate-secret, against a real
receiver: changes, disabling and re-enabling (after a 410 too), the breaker reset, rotation with both
signatures during the overlap and only the new one after it, secrets kept out of the idempotency store,
and the quota's lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.api import Conflict
from core.models import IdempotencyRecord
from notifications.models import Delivery, DeliveryStatus, WebhookEndpoint
from notifications.services import deliveries_attempt, endpoint_create, event_emit, outbox_relay

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/hooks/dsar"  # a public IP literal: no DNS needed on a sandboxed machine


def _url(endpoint_id: str, rest: str = "") -> str:
    return f"/v1/webhook-endpoints/{endpoint_id}{rest}"


def _patch(client, endpoint_id: str, body):
    # The shared test client has no `patch`; its `_call` sends any method with the key.
    return client.patch(_url(endpoint_id), body)


def _rotate(client, endpoint_id: str, **headers):
    return client.post(_url(endpoint_id, "/rotate-secret"), {}, **headers)


def _registered(client, **body) -> dict:
    body = {"url": PUBLIC, "eventTypes": ["*"], **body}
    response = client.post("/v1/webhook-endpoints", body)
    assert response.status_code == 201, response.content
    return response.json()["data"]["endpoint"]


def _emit(org, type: str = "request.created") -> str:
    with transaction.atomic():
        return event_emit(org_id=org.pk, type=type, data={"note": "test"}, at=timezone.now()).pk


def _deliver() -> list:
    """Relay every committed event into deliveries and attempt them now, one after the other."""
    return deliveries_attempt(delivery_ids=outbox_relay().delivery_ids)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["ok"] is False and body["contractVersion"] == "v1.0"
    assert body["error"]["code"] == code
    return body["error"]


# --- PATCH: changes ---------------------------------------------------------------------------------------


def test_it_changes_the_given_fields_and_keeps_the_others(integration_client):
    created = _registered(integration_client, description="CRM", eventTypes=["request.created"])

    response = _patch(
        integration_client,
        created["id"],
        {"eventTypes": ["clock.overdue", "request.closed"], "description": ""},
    )

    assert response.status_code == 200, response.content
    endpoint = response.json()["data"]["endpoint"]
    assert endpoint["id"] == created["id"]
    assert endpoint["eventTypes"] == ["clock.overdue", "request.closed"]
    assert endpoint["description"] == ""
    assert endpoint["url"] == PUBLIC and endpoint["status"] == "ACTIVE"
    assert endpoint["updatedAt"] is not None and endpoint["updatedAt"] >= endpoint["createdAt"]
    assert "secret" not in endpoint
    row = WebhookEndpoint.objects.get(pk=created["id"])
    assert row.event_types == ["clock.overdue", "request.closed"] and row.description == ""
    assert row.secret == created["secret"]  # a change is not a rotation


def test_a_new_url_is_checked_like_at_registration(integration_client):
    endpoint_id = _registered(integration_client)["id"]

    for url, words in [
        ("http://93.184.215.14/hook", "personal data"),
        ("https://no-such-host.invalid/hook", "resolve"),
        ("https://10.0.0.1/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ]:
        error = _error(_patch(integration_client, endpoint_id, {"url": url}), 400, "validation_error")
        assert error["details"][0]["field"] == "url", url
        assert words in error["details"][0]["message"], (url, error)

    response = _patch(integration_client, endpoint_id, {"url": "https://93.184.215.15/new"})
    assert response.status_code == 200
    assert WebhookEndpoint.objects.get(pk=endpoint_id).url == "https://93.184.215.15/new"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"secret": "whsec_mine"}, "secret"),
        ({"colour": "blue"}, "colour"),
        ({"status": "PAUSED"}, "status"),
        ({"status": None}, "status"),
        ({"eventTypes": []}, "eventTypes"),
        ({"eventTypes": ["request.exploded"]}, "eventTypes.0"),
        ({"description": 42}, "description"),
        ({"url": None}, "url"),
    ],
)
def test_bad_changes_are_400_with_the_field_and_change_nothing(integration_client, body, field):
    created = _registered(integration_client)

    error = _error(_patch(integration_client, created["id"], body), 400, "validation_error")

    assert field in [d["field"] for d in error["details"]], error
    row = WebhookEndpoint.objects.get(pk=created["id"])
    assert row.updated_at is None and row.secret == created["secret"]


def test_an_empty_change_is_refused_naming_the_fields(integration_client):
    endpoint_id = _registered(integration_client)["id"]

    error = _error(_patch(integration_client, endpoint_id, {}), 400, "validation_error")

    assert "at least one" in error["message"]
    assert all(name in error["message"] for name in ("url", "eventTypes", "description", "status"))


def test_unknown_deleted_and_other_orgs_endpoints_are_not_found(integration_client, other_org_client):
    mine = _registered(integration_client)["id"]
    gone = _registered(integration_client)["id"]
    integration_client.delete(_url(gone))

    for client, endpoint_id in [
        (integration_client, "whe_nope"),
        (integration_client, gone),
        (other_org_client, mine),
    ]:
        _error(_patch(client, endpoint_id, {"description": "x"}), 404, "not_found")
        _error(_rotate(client, endpoint_id), 404, "not_found")
    row = WebhookEndpoint.objects.get(pk=mine)
    assert row.description == "" and row.secret_rotated_at is None


def test_it_needs_the_integration_scope(officer, intake_clerk, integration_client):
    endpoint_id = _registered(integration_client)["id"]
    for client in (officer, intake_clerk):
        _error(_patch(client, endpoint_id, {"status": "DISABLED"}), 403, "forbidden")
        _error(_rotate(client, endpoint_id), 403, "forbidden")
    assert WebhookEndpoint.objects.get(pk=endpoint_id).disabled_at is None


def test_the_list_shows_the_breaker_and_the_rotation_never_a_secret(integration_client):
    created = _registered(integration_client)
    rotated = _rotate(integration_client, created["id"]).json()["data"]["endpoint"]
    WebhookEndpoint.objects.filter(pk=created["id"]).update(
        consecutive_failures=6, backoff_until=timezone.now() + timedelta(minutes=2), backoff_trips=1
    )

    response = integration_client.get("/v1/webhook-endpoints")

    (listed,) = response.json()["data"]["endpoints"]
    assert listed["consecutiveFailures"] == 6 and listed["backoffUntil"] is not None
    assert listed["secretRotatedAt"] == rotated["secretRotatedAt"]
    assert listed["previousSecretExpiresAt"] == rotated["previousSecretExpiresAt"]
    assert "secret" not in listed
    page = response.content.decode()
    assert created["secret"] not in page and rotated["secret"] not in page


# --- PATCH: disabling and re-enabling ----------------------------------------------------------------------


def test_disabling_stops_deliveries_and_buries_those_not_yet_sent(
    integration_client, org, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    _emit(org)
    (delivery_id,) = outbox_relay().delivery_ids

    response = _patch(integration_client, endpoint.pk, {"status": "DISABLED"})

    assert response.status_code == 200, response.content
    answer = response.json()["data"]["endpoint"]
    assert answer["status"] == "DISABLED" and answer["disabledAt"] is not None
    assert answer["disabledReason"] == f"Disabled by apikey:{integration_client.key.prefix}."
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.DEAD and delivery.next_attempt_at is None
    assert deliveries_attempt(delivery_ids=[delivery_id]) == []
    _emit(org)
    assert outbox_relay().delivery_ids == []  # a disabled endpoint gets no new deliveries
    assert receiver.received == []


def test_re_enabling_closes_the_breaker(integration_client, org, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=timezone.now(),
        disabled_reason="Disabled by someone.",
        consecutive_failures=9,
        backoff_until=timezone.now() + timedelta(hours=1),
        backoff_trips=3,
    )

    response = _patch(integration_client, endpoint.pk, {"status": "ACTIVE"})

    answer = response.json()["data"]["endpoint"]
    assert answer["status"] == "ACTIVE"
    assert answer["disabledAt"] is None and answer["disabledReason"] is None
    assert answer["consecutiveFailures"] == 0 and answer["backoffUntil"] is None
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.backoff_until, endpoint.backoff_trips) == (0, None, 0)
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (None, "")
    _emit(org)
    (outcome,) = _deliver()  # the breaker no longer holds it back
    assert outcome.status == DeliveryStatus.DELIVERED


def test_an_endpoint_disabled_by_a_410_receives_the_next_event_once_re_enabled(
    integration_client, org, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    receiver.script = [receiver.Reply(410)]
    first_event = _emit(org)
    (gone,) = _deliver()
    assert gone.status == DeliveryStatus.DEAD and gone.response_code == 410
    listed = integration_client.get("/v1/webhook-endpoints").json()["data"]["endpoints"][0]
    assert listed["status"] == "DISABLED" and "410" in listed["disabledReason"]

    response = _patch(integration_client, endpoint.pk, {"status": "ACTIVE"})
    assert response.json()["data"]["endpoint"]["status"] == "ACTIVE"
    second_event = _emit(org)
    (outcome,) = _deliver()

    assert outcome.status == DeliveryStatus.DELIVERED and outcome.response_code == 200
    assert [r.webhook_id for r in receiver.received] == [first_event, second_event]
    assert Webhook(endpoint.secret).verify(receiver.received[1].body, receiver.received[1].headers)


def test_asking_for_the_status_it_already_has_keeps_its_reason(
    integration_client, org, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=timezone.now(), disabled_reason="The receiver answered 410 Gone to delivery dlv_x."
    )

    answer = _patch(integration_client, endpoint.pk, {"status": "DISABLED"}).json()["data"]["endpoint"]

    assert answer["disabledReason"] == "The receiver answered 410 Gone to delivery dlv_x."


def test_a_new_url_closes_the_breaker_but_a_description_does_not(integration_client):
    endpoint_id = _registered(integration_client)["id"]
    until = timezone.now() + timedelta(hours=1)
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
        consecutive_failures=5, backoff_until=until, backoff_trips=1
    )

    _patch(integration_client, endpoint_id, {"description": "still failing"})
    row = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert (row.consecutive_failures, row.backoff_until, row.backoff_trips) == (5, until, 1)

    _patch(integration_client, endpoint_id, {"url": "https://93.184.215.15/fixed"})
    row.refresh_from_db()
    assert (row.consecutive_failures, row.backoff_until, row.backoff_trips) == (0, None, 0)


# --- rotation -----------------------------------------------------------------------------------------------


def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_for_the_overlap(integration_client):
    created = _registered(integration_client)
    before = timezone.now()

    response = _rotate(integration_client, created["id"])

    assert response.status_code == 200, response.content
    endpoint = response.json()["data"]["endpoint"]
    assert endpoint["id"] == created["id"]
    assert endpoint["secret"].startswith("whsec_") and endpoint["secret"] != created["secret"]
    row = WebhookEndpoint.objects.get(pk=created["id"])
    assert row.secret == endpoint["secret"]
    assert row.previous_secret == created["secret"]
    assert before <= row.secret_rotated_at <= timezone.now()
    assert row.previous_secret_expires_at == row.secret_rotated_at + timedelta(hours=24)
    assert row.updated_at == row.secret_rotated_at
    assert endpoint["previousSecretExpiresAt"] == row.previous_secret_expires_at.isoformat()
    listed = integration_client.get("/v1/webhook-endpoints").json()["data"]["endpoints"][0]
    assert "secret" not in listed


def test_the_overlap_follows_the_setting(integration_client, settings):
    settings.DSAR_WEBHOOK_ROTATION_OVERLAP_HOURS = 2
    endpoint_id = _registered(integration_client)["id"]
    _rotate(integration_client, endpoint_id)
    row = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert row.previous_secret_expires_at - row.secret_rotated_at == timedelta(hours=2)


def test_during_the_overlap_deliveries_verify_with_the_old_and_the_new_secret(
    integration_client, org, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    old = endpoint.secret
    new = _rotate(integration_client, endpoint.pk).json()["data"]["endpoint"]["secret"]
    _emit(org)

    (outcome,) = _deliver()

    assert outcome.status == DeliveryStatus.DELIVERED
    (got,) = receiver.received
    assert len(got.signature.split(" ")) == 2 and all(s.startswith("v1,") for s in got.signature.split(" "))
    # Standard Webhooks' own library, as a receiver holding either secret would run it.
    assert Webhook(old).verify(got.body, got.headers)["type"] == "request.created"
    assert Webhook(new).verify(got.body, got.headers)["type"] == "request.created"


def test_after_the_overlap_only_the_new_secret_signs(integration_client, org, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    old = endpoint.secret
    new = _rotate(integration_client, endpoint.pk).json()["data"]["endpoint"]["secret"]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    _emit(org)

    _deliver()

    (got,) = receiver.received
    assert len(got.signature.split(" ")) == 1
    assert Webhook(new).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)


def test_a_replayed_rotation_answers_the_same_endpoint_without_a_secret_and_rotates_once(integration_client):
    created = _registered(integration_client)
    first = _rotate(integration_client, created["id"], **{"Idempotency-Key": "rotate-1"})
    again = _rotate(integration_client, created["id"], **{"Idempotency-Key": "rotate-1"})

    assert first.status_code == again.status_code == 200
    rotated = first.json()["data"]["endpoint"]
    replayed = again.json()["data"]["endpoint"]
    assert rotated["secret"].startswith("whsec_") and replayed["secret"] is None
    assert replayed == {**rotated, "secret": None}
    assert again["Idempotent-Replayed"] == "true"
    row = WebhookEndpoint.objects.get(pk=created["id"])
    assert row.secret == rotated["secret"] and row.previous_secret == created["secret"]
    stored = bytes(IdempotencyRecord.objects.get(key="rotate-1").response_body)
    assert rotated["secret"].encode() not in stored and created["secret"].encode() not in stored
    # Another key is another rotation.
    third = _rotate(integration_client, created["id"], **{"Idempotency-Key": "rotate-2"})
    assert third.json()["data"]["endpoint"]["secret"] not in (None, rotated["secret"])


def test_no_idempotency_record_ever_holds_a_secret(integration_client):
    created = integration_client.post(
        "/v1/webhook-endpoints", {"url": PUBLIC, "eventTypes": ["*"]}, **{"Idempotency-Key": "create-1"}
    ).json()["data"]["endpoint"]
    rotated = _rotate(integration_client, created["id"], **{"Idempotency-Key": "rotate-1"}).json()["data"][
        "endpoint"
    ]

    secrets = [created["secret"], rotated["secret"]]
    for record in IdempotencyRecord.objects.all():
        stored = bytes(record.response_body).decode()
        assert '"secret":null' in stored
        assert not any(secret in stored or secret.split("_", 1)[1] in stored for secret in secrets)


def test_rotation_takes_no_fields(integration_client):
    endpoint_id = _registered(integration_client)["id"]
    error = _error(
        integration_client.post(_url(endpoint_id, "/rotate-secret"), {"secret": "whsec_mine"}),
        400,
        "validation_error",
    )
    assert error["details"][0]["field"] == "secret"
    assert WebhookEndpoint.objects.get(pk=endpoint_id).secret_rotated_at is None


# --- the quota under concurrency ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_registration_waits_for_a_concurrent_one_and_then_counts_it(org, settings):
    """With one slot left, a second registration waits on the org's lock (PostgreSQL: SELECT … FOR UPDATE;
    SQLite: the IMMEDIATE transaction's write lock), then sees the first and is refused."""
    settings.DSAR_WEBHOOK_MAX_ENDPOINTS = 1
    outcomes: list[object] = []

    def second() -> None:
        try:
            outcomes.append(endpoint_create(org=org, url=PUBLIC, event_types=["*"], actor="second"))
        except Conflict as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=second)
    with transaction.atomic():
        endpoint_create(org=org, url=PUBLIC, event_types=["*"], actor="first")
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), outcomes  # still waiting for the first transaction
    thread.join(15)

    assert len(outcomes) == 1 and isinstance(outcomes[0], Conflict), outcomes
    assert list(WebhookEndpoint.objects.filter(org=org).values_list("created_by", flat=True)) == ["first"]
