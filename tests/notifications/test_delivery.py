"""Delivery against a real receiver on 127.0.0.1: signatures, retries, timeouts, DEAD, 410, SSRF at send."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookEndpoint
from notifications.services import LOST_ATTEMPT_ERROR, deliveries_due, delivery_attempt, outbox_relay

pytestmark = pytest.mark.django_db


def _only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery


def _attempt_due(now=None) -> list:
    now = now or timezone.now()
    return [delivery_attempt(delivery_id=i, now=now) for i in deliveries_due(now=now, limit=100)]


def test_a_committed_event_arrives_signed_and_verifies(make_request, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    assert outbox_relay().delivery_ids
    (outcome,) = _attempt_due()
    assert outcome.status == DeliveryStatus.DELIVERED and outcome.response_code == 200
    (got,) = receiver.received
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    assert got.webhook_id == event.id
    assert got.body == event.body.encode()  # the stored bytes, not a re-rendering
    assert got.headers["content-type"] == "application/json"
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "request.created"
    assert payload["data"]["requestId"] == dsr["id"]
    assert payload["data"]["request"]["status"] == "RECEIVED"
    delivery = _only_delivery()
    assert (delivery.status, delivery.attempt, delivery.last_response_code) == ("DELIVERED", 1, 200)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.webhook_timestamp == int(got.timestamp)
    assert attempt.latency_ms is not None


def test_500_then_200_is_delivered_on_retry_with_the_same_webhook_id(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    make_request()
    receiver.script = [receiver.Reply(500, body=b"database on fire")]
    outbox_relay()
    now = timezone.now()
    (first,) = _attempt_due(now)
    assert first.status == DeliveryStatus.FAILED
    delivery = _only_delivery()
    assert delivery.last_error.startswith("HTTP 500") and "database on fire" in delivery.last_error
    assert now <= delivery.next_attempt_at <= now + timedelta(seconds=6)  # step 2 is 5 s, jittered
    # Not due before its time...
    assert (
        delivery_attempt(delivery_id=delivery.id, now=delivery.next_attempt_at - timedelta(seconds=1)) is None
    )
    # ...and retried once it is.
    second = delivery_attempt(delivery_id=delivery.id, now=delivery.next_attempt_at)
    assert second.status == DeliveryStatus.DELIVERED and second.number == 2
    ids = {r.webhook_id for r in receiver.received}
    assert len(receiver.received) == 2 and len(ids) == 1
    assert list(DeliveryAttempt.objects.values_list("number", "response_code")) == [(1, 500), (2, 200)]


def test_a_too_slow_receiver_is_a_failed_attempt_then_retried(
    make_request, receiver, endpoint_for, fast_http
):
    endpoint_for(receiver)
    make_request()
    receiver.script = [receiver.Reply(200, delay=2.0)]
    outbox_relay()
    (first,) = _attempt_due()
    assert first.status == DeliveryStatus.FAILED and first.response_code is None
    assert "Timed out" in first.error
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_code is None and attempt.error.startswith("Timed out")
    assert attempt.latency_ms < 1600  # the watchdog bounds the whole exchange at connect + read
    delivery = _only_delivery()
    second = delivery_attempt(delivery_id=delivery.id, now=delivery.next_attempt_at)
    assert second.status == DeliveryStatus.DELIVERED


def test_the_schedule_exhausted_ends_dead(make_request, receiver, endpoint_for, settings):
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0, 1, 1]
    endpoint_for(receiver)
    make_request()
    receiver.default = receiver.Reply(503)
    outbox_relay()
    now = timezone.now()
    statuses = []
    for _ in range(3):
        delivery = _only_delivery()
        statuses.append(
            delivery_attempt(delivery_id=delivery.id, now=max(now, delivery.next_attempt_at)).status
        )
    assert statuses == ["FAILED", "FAILED", "DEAD"]
    delivery = _only_delivery()
    assert delivery.next_attempt_at is None and delivery.attempt == 3
    assert deliveries_due(now=now + timedelta(days=30), limit=10) == []
    assert len(receiver.received) == 3


def test_retry_after_on_429_is_honoured(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    make_request()
    receiver.script = [receiver.Reply(429, headers={"Retry-After": "120"})]
    outbox_relay()
    now = timezone.now()
    _attempt_due(now)
    assert _only_delivery().next_attempt_at >= now + timedelta(seconds=120)


def test_410_disables_the_endpoint_and_its_other_deliveries_die_unsent(make_request, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    make_request()
    make_request()
    receiver.script = [receiver.Reply(410)]
    outbox_relay()
    first_id, second_id = deliveries_due(now=timezone.now(), limit=10)
    assert delivery_attempt(delivery_id=first_id).status == DeliveryStatus.DEAD
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None and "410" in endpoint.disabled_reason
    assert delivery_attempt(delivery_id=second_id) is None
    assert Delivery.objects.get(pk=second_id).status == DeliveryStatus.DEAD
    assert len(receiver.received) == 1
    make_request()
    assert outbox_relay().delivery_ids == []  # a disabled endpoint gets no new deliveries


def test_a_redirect_is_not_followed(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    make_request()
    receiver.script = [receiver.Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})]
    outbox_relay()
    (outcome,) = _attempt_due()
    assert outcome.status == DeliveryStatus.FAILED
    assert "redirects are not followed" in outcome.error
    assert len(receiver.received) == 1


def test_an_address_allowed_at_registration_is_refused_at_delivery(
    make_request, receiver, endpoint_for, settings
):
    endpoint_for(receiver)  # registered while private networks were allowed
    make_request()
    outbox_relay()
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    (outcome,) = _attempt_due()
    assert outcome.status == DeliveryStatus.FAILED and not outcome.sent
    assert "Not sent" in outcome.error and "loopback" in outcome.error
    assert receiver.received == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.webhook_timestamp is None and attempt.latency_ms is None


def test_a_worker_lost_mid_attempt_is_retried_after_its_lease(make_request, receiver, endpoint_for, settings):
    settings.DSAR_WEBHOOK_LEASE_SECONDS = 30
    endpoint_for(receiver)
    make_request()
    outbox_relay()
    delivery = _only_delivery()
    now = timezone.now()
    # A worker claims the delivery and dies before recording anything.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.DELIVERING, attempt=1, claimed_at=now, claimed_until=now + timedelta(seconds=30)
    )
    assert deliveries_due(now=now + timedelta(seconds=29), limit=10) == []
    assert delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=29)) is None
    later = now + timedelta(seconds=31)
    assert deliveries_due(now=later, limit=10) == [delivery.pk]
    outcome = delivery_attempt(delivery_id=delivery.pk, now=later)
    assert outcome.status == DeliveryStatus.DELIVERED and outcome.number == 2
    assert list(DeliveryAttempt.objects.values_list("number", "error")) == [(1, LOST_ATTEMPT_ERROR), (2, "")]


def test_a_deleted_endpoint_gets_nothing_more(make_request, receiver, endpoint_for, org):
    from notifications.services import endpoint_delete

    endpoint = endpoint_for(receiver)
    make_request()
    outbox_relay()
    endpoint_delete(org=org, endpoint_id=endpoint.pk)
    assert _attempt_due() == []
    assert _only_delivery().status == DeliveryStatus.DEAD
    assert receiver.received == []
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).deleted_at is not None  # soft: history keeps it


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_attempt_once(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    for _ in range(5):
        make_request()
    outbox_relay()
    ids = deliveries_due(now=timezone.now(), limit=100)
    assert len(ids) == 5
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            for delivery_id in ids:
                delivery_attempt(delivery_id=delivery_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(r.webhook_id for r in receiver.received) == sorted(
        Delivery.objects.values_list("event_id", flat=True)
    )
    assert DeliveryAttempt.objects.count() == 5
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}


def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_new_claim(make_request, receiver, endpoint_for):
    from notifications import services

    endpoint_for(receiver)
    make_request()
    outbox_relay()
    delivery = _only_delivery()
    real_send = services._send

    def send_while_another_worker_takes_over(*, delivery, now):
        result = real_send(delivery=delivery, now=now)
        # Meanwhile our lease expired and another worker claimed the row (a new token, attempt 2).
        Delivery.objects.filter(pk=delivery.pk).update(claim_token="someone-else", attempt=2)
        return result

    with mock.patch.object(services, "_send", side_effect=send_while_another_worker_takes_over):
        (outcome,) = services.deliveries_attempt(delivery_ids=[delivery.pk])
    assert outcome.status == "DELIVERED"  # what we saw...
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claim_token) == ("DELIVERING", "someone-else")  # ...but theirs counts
    assert DeliveryAttempt.objects.get().response_code == 200  # and our attempt is on record
