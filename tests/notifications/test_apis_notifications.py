"""GET /v1/requests/{id}/notifications and POST …/notifications/{eventId}/replay."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notifications.models import RETRYABLE, Delivery, DeliveryStatus, OutboxEvent, Replay
from notifications.services import deliveries_attempt, outbox_relay

pytestmark = pytest.mark.django_db


def _deliver_all():
    """Relay the outbox, then attempt every delivery that is due now (relayed or replayed)."""
    outbox_relay()
    deliveries_attempt(
        delivery_ids=list(Delivery.objects.filter(status__in=RETRYABLE).values_list("pk", flat=True))
    )


def _history(client, request_id):
    response = client.get(f"/v1/requests/{request_id}/notifications")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert "nextCursor" not in data  # one page is all there is in these tests
    return data["events"]


def test_history_lists_events_with_deliveries_and_attempts(
    make_request, officer, integration_client, receiver, endpoint_for, settings
):
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0, 3600]  # jitter must not make the retry due within the test
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    receiver.script = [receiver.Reply(500)]
    _deliver_all()
    officer.post(f"/v1/requests/{dsr['id']}/acknowledgements", {})
    _deliver_all()
    events = _history(integration_client, dsr["id"])
    assert [e["type"] for e in events] == ["request.created", "request.acknowledged"]
    created = events[0]
    assert created["id"].startswith("evt_")
    assert created["payload"]["id"] == created["id"]
    assert created["payload"]["data"]["requestId"] == dsr["id"]
    (delivery,) = created["deliveries"]
    assert created["deliveryCount"] == 1
    assert delivery["endpointId"] == endpoint.id
    assert delivery["status"] == "FAILED"
    assert delivery["attempt"] == 1
    assert delivery["responseCode"] == 500
    assert delivery["attemptedAt"] and delivery["latencyMs"] is not None
    assert delivery["error"].startswith("HTTP 500")
    assert delivery["nextAttemptAt"]
    assert delivery["attempts"][0]["responseCode"] == 500
    acknowledged = events[1]["deliveries"][0]
    assert (acknowledged["status"], acknowledged["responseCode"], acknowledged["error"]) == (
        "DELIVERED",
        200,
        None,
    )


def test_a_delivery_in_flight_shows_as_pending(make_request, integration_client, receiver, endpoint_for):
    endpoint_for(receiver)
    dsr = make_request()
    outbox_relay()
    Delivery.objects.update(status=DeliveryStatus.DELIVERING)
    (event,) = _history(integration_client, dsr["id"])
    assert event["deliveries"][0]["status"] == "PENDING"


def test_history_does_not_grow_queries_with_events(
    make_request, officer, integration_client, receiver, endpoint_for, django_assert_max_num_queries
):
    endpoint_for(receiver)
    endpoint_for(receiver, path="/second")
    dsr = make_request()
    for action, body in (
        ("acknowledgements", {}),
        ("clarifications/request", {"message": "Which account?"}),
        ("refusals", {"reason": "manifestly unfounded"}),
    ):
        assert officer.post(f"/v1/requests/{dsr['id']}/{action}", body).status_code == 202
    _deliver_all()
    integration_client.get("/v1/webhook-endpoints")  # warm the key's last-used stamp
    # auth, rate counter, request, events, deliveries (ranked and counted by window functions), attempts
    with django_assert_max_num_queries(6):
        events = _history(integration_client, dsr["id"])
    assert len(events) == 4
    assert sum(len(e["deliveries"]) for e in events) == 8
    assert [e["deliveryCount"] for e in events] == [2, 2, 2, 2]


def test_replay_of_a_dead_event_delivers_the_same_event_again(
    make_request, integration_client, receiver, endpoint_for, settings
):
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0]
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    receiver.script = [receiver.Reply(500)]
    _deliver_all()
    (event,) = _history(integration_client, dsr["id"])
    assert event["deliveries"][0]["status"] == "DEAD"
    response = integration_client.post(f"/v1/requests/{dsr['id']}/notifications/{event['id']}/replay", {})
    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["event"]["id"] == event["id"]
    (replayed,) = data["deliveries"]
    assert replayed["status"] == "PENDING" and replayed["endpointId"] == endpoint.id
    assert replayed["replayOf"] == event["deliveries"][0]["id"]
    _deliver_all()
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == event["id"]
    assert first.body == second.body
    (event,) = _history(integration_client, dsr["id"])
    assert [d["status"] for d in event["deliveries"]] == ["DEAD", "DELIVERED"]
    assert event["deliveryCount"] == 2
    (replay,) = Replay.objects.all()
    assert (replay.event_id, replay.endpoint_id, replay.deliveries) == (event["id"], None, 1)
    assert replay.actor.startswith("apikey:")


def test_replay_to_one_endpoint(make_request, integration_client, receiver, endpoint_for):
    endpoint_for(receiver)
    second = endpoint_for(receiver, path="/second")
    dsr = make_request()
    _deliver_all()
    event_id = OutboxEvent.objects.get(request_id=dsr["id"]).id
    response = integration_client.post(
        f"/v1/requests/{dsr['id']}/notifications/{event_id}/replay", {"endpointId": second.id}
    )
    assert response.status_code == 202
    assert [d["endpointId"] for d in response.json()["data"]["deliveries"]] == [second.id]
    assert Replay.objects.get().endpoint_id == second.id
    _deliver_all()
    assert [r.path for r in receiver.received].count("/second") == 2


def test_replay_refuses_disabled_and_deleted_endpoints(
    make_request, integration_client, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    event_id = OutboxEvent.objects.get(request_id=dsr["id"]).id
    url = f"/v1/requests/{dsr['id']}/notifications/{event_id}/replay"
    endpoint.disabled_at = timezone.now()
    endpoint.save()
    response = integration_client.post(url, {"endpointId": endpoint.id})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert integration_client.post(url, {}).status_code == 409  # no active endpoint at all
    integration_client.delete(f"/v1/webhook-endpoints/{endpoint.id}")
    assert integration_client.post(url, {"endpointId": endpoint.id}).status_code == 404
    assert integration_client.post(url, {"endpointId": "whe_nope"}).status_code == 404
    assert not Replay.objects.exists()  # refusals leave no trace and use no quota


def test_replay_of_an_unknown_event_or_one_of_another_request_is_404(
    make_request, integration_client, receiver, endpoint_for
):
    endpoint_for(receiver)
    first, second = make_request(), make_request()
    other_event = OutboxEvent.objects.get(request_id=second["id"]).id
    assert (
        integration_client.post(f"/v1/requests/{first['id']}/notifications/evt_nope/replay", {}).status_code
        == 404
    )
    response = integration_client.post(f"/v1/requests/{first['id']}/notifications/{other_event}/replay", {})
    assert response.status_code == 404


def test_another_org_gets_404_on_history_and_replay(make_request, other_org_client, receiver, endpoint_for):
    endpoint_for(receiver)
    dsr = make_request()
    event_id = OutboxEvent.objects.get(request_id=dsr["id"]).id
    assert other_org_client.get(f"/v1/requests/{dsr['id']}/notifications").status_code == 404
    response = other_org_client.post(f"/v1/requests/{dsr['id']}/notifications/{event_id}/replay", {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Delivery.objects.count() == 0
    assert not Replay.objects.exists()


def test_history_and_replay_need_the_integration_scope(make_request, intake_clerk):
    dsr = make_request()
    event_id = OutboxEvent.objects.get(request_id=dsr["id"]).id
    assert intake_clerk.get(f"/v1/requests/{dsr['id']}/notifications").status_code == 403
    assert (
        intake_clerk.post(f"/v1/requests/{dsr['id']}/notifications/{event_id}/replay", {}).status_code == 403
    )


def test_an_idempotent_replay_creates_one_delivery(make_request, integration_client, receiver, endpoint_for):
    endpoint_for(receiver)
    dsr = make_request()
    event_id = OutboxEvent.objects.get(request_id=dsr["id"]).id
    url = f"/v1/requests/{dsr['id']}/notifications/{event_id}/replay"
    first = integration_client.post(url, {}, **{"Idempotency-Key": "replay-1"})
    again = integration_client.post(url, {}, **{"Idempotency-Key": "replay-1"})
    assert first.status_code == again.status_code == 202
    assert first.content == again.content
    assert Delivery.objects.filter(actor__startswith="apikey:").count() == 1
    assert Replay.objects.count() == 1
