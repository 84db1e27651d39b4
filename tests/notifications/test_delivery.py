"""Delivery against a real receiver on 127.0.0.1: signatures, retries, timeouts, DEAD, 410, SSRF at send."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notifications import signing
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookEndpoint
from notifications.services import (
    LOST_ATTEMPT_ERROR,
    AttemptOutcome,
    attempt_send,
    attempts_record,
    deliveries_bury_orphans,
    deliveries_claim,
    deliveries_claim_ids,
    delivery_attempt,
    outbox_relay,
)

pytestmark = pytest.mark.django_db


def at(moment: datetime):
    """A clock stopped at `moment`."""
    return lambda: moment


def _only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery


def _attempt_due(now: datetime | None = None) -> list[AttemptOutcome]:
    """What a dispatcher does in one go: claim what is due (fairly), send it, record it."""
    clock = at(now) if now else timezone.now
    claimed = deliveries_claim(limit=100, clock=clock)
    return attempts_record([attempt_send(d, clock=clock) for d in claimed], clock=clock)


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


def test_each_attempt_is_stamped_and_signed_at_the_time_it_starts(make_request, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    make_request()
    outbox_relay()
    started = timezone.now() + timedelta(minutes=7)
    (outcome,) = _attempt_due(started)
    assert outcome.status == DeliveryStatus.DELIVERED
    (got,) = receiver.received
    assert got.timestamp == str(int(started.timestamp()))
    assert signing.verify(
        secret=endpoint.secret,
        msg_id=got.webhook_id,
        timestamp=int(got.timestamp),
        body=got.body,
        signature_header=got.signature,
    )
    attempt = DeliveryAttempt.objects.get()
    assert attempt.attempted_at == started
    assert _only_delivery().last_attempted_at == started


def test_sending_touches_no_database(make_request, receiver, endpoint_for, django_assert_num_queries):
    # The send threads only make HTTP requests: everything an attempt needs comes with its claim.
    endpoint_for(receiver)
    make_request()
    outbox_relay()
    (claimed,) = deliveries_claim(limit=10)
    with django_assert_num_queries(0):
        sent = attempt_send(claimed)
    assert sent.sent and sent.result.ok and sent.started <= sent.finished
    attempts_record([sent])
    assert _only_delivery().status == DeliveryStatus.DELIVERED


def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new_one(
    make_request, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    old = endpoint.secret
    new = signing.secret_generate()
    make_request()
    make_request()
    outbox_relay()
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret=new, previous_secret=old, previous_secret_expires_at=now + timedelta(hours=24)
    )
    first_id, second_id = Delivery.objects.order_by("created_at", "id").values_list("pk", flat=True)
    assert delivery_attempt(delivery_id=first_id, clock=at(now)).status == DeliveryStatus.DELIVERED
    after = now + timedelta(hours=24, seconds=1)
    assert delivery_attempt(delivery_id=second_id, clock=at(after)).status == DeliveryStatus.DELIVERED
    during, later = receiver.received

    def verifies(secret, got) -> bool:
        return signing.verify(
            secret=secret,
            msg_id=got.webhook_id,
            timestamp=int(got.timestamp),
            body=got.body,
            signature_header=got.signature,
        )

    assert len(during.signature.split()) == 2  # space-separated, one per secret
    assert verifies(old, during) and verifies(new, during)
    assert Webhook(old).verify(during.body, during.headers)  # as a receiver's library reads it
    assert len(later.signature.split()) == 1
    assert verifies(new, later) and not verifies(old, later)


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
        delivery_attempt(delivery_id=delivery.id, clock=at(delivery.next_attempt_at - timedelta(seconds=1)))
        is None
    )
    assert deliveries_claim(limit=10, clock=at(delivery.next_attempt_at - timedelta(seconds=1))) == []
    # ...and retried once it is.
    second = delivery_attempt(delivery_id=delivery.id, clock=at(delivery.next_attempt_at))
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
    second = delivery_attempt(delivery_id=delivery.id, clock=at(delivery.next_attempt_at))
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
            delivery_attempt(delivery_id=delivery.id, clock=at(max(now, delivery.next_attempt_at))).status
        )
    assert statuses == ["FAILED", "FAILED", "DEAD"]
    delivery = _only_delivery()
    assert delivery.next_attempt_at is None and delivery.attempt == 3
    assert deliveries_claim(limit=10, clock=at(now + timedelta(days=30))) == []
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
    first_id, second_id = Delivery.objects.order_by("created_at", "id").values_list("pk", flat=True)
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
    assert deliveries_claim(limit=10, clock=at(now + timedelta(seconds=29))) == []
    assert delivery_attempt(delivery_id=delivery.pk, clock=at(now + timedelta(seconds=29))) is None
    later = now + timedelta(seconds=31)
    (claimed,) = deliveries_claim(limit=10, clock=at(later))
    assert (claimed.pk, claimed.attempt) == (delivery.pk, 2)
    (outcome,) = attempts_record([attempt_send(claimed, clock=at(later))], clock=at(later))
    assert outcome.status == DeliveryStatus.DELIVERED and outcome.number == 2
    assert list(DeliveryAttempt.objects.values_list("number", "error")) == [(1, LOST_ATTEMPT_ERROR), (2, "")]
    lost = DeliveryAttempt.objects.get(number=1)
    assert lost.attempted_at == now and lost.response_code is None  # when the lost attempt started


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


def test_an_attempt_lost_while_its_endpoint_was_deleted_ends_dead_at_the_sweep(
    make_request, receiver, endpoint_for, org
):
    from notifications.services import endpoint_delete

    endpoint = endpoint_for(receiver)
    make_request()
    outbox_relay()
    now = timezone.now()
    (claimed,) = deliveries_claim(limit=10, clock=at(now))  # ...and its worker dies
    endpoint_delete(org=org, endpoint_id=endpoint.pk)
    assert _only_delivery().status == DeliveryStatus.DELIVERING  # not buried: a worker may still hold it
    assert deliveries_bury_orphans(now=now) == 0  # the lease is still live
    expired = claimed.claimed_until + timedelta(seconds=1)
    assert deliveries_claim(limit=10, clock=at(expired)) == []  # never claimed again: the endpoint is gone
    assert deliveries_bury_orphans(now=expired) == 1
    delivery = _only_delivery()
    assert (delivery.status, delivery.claimed_until, delivery.next_attempt_at) == ("DEAD", None, None)
    assert receiver.received == []


def test_an_attempt_in_flight_when_its_endpoint_is_deleted_that_then_fails_ends_dead(
    make_request, receiver, endpoint_for, org
):
    from notifications.services import endpoint_delete

    endpoint = endpoint_for(receiver)
    make_request()
    outbox_relay()
    receiver.default = receiver.Reply(500)
    (claimed,) = deliveries_claim(limit=10)
    sent = attempt_send(claimed)
    endpoint_delete(org=org, endpoint_id=endpoint.pk)  # while the attempt was on the wire
    attempts_record([sent])
    deliveries_bury_orphans(now=timezone.now() + timedelta(days=2))  # at the latest, the next sweeps
    delivery = _only_delivery()
    assert (delivery.status, delivery.next_attempt_at) == ("DEAD", None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_attempt_once(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    for _ in range(5):
        make_request()
    outbox_relay()
    ids = list(Delivery.objects.values_list("pk", flat=True))
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
    endpoint_for(receiver)
    make_request()
    outbox_relay()
    delivery = _only_delivery()
    (claimed,) = deliveries_claim_ids(delivery_ids=[delivery.pk])
    sent = attempt_send(claimed)
    # Meanwhile our lease expired and another worker claimed the row (a new token, attempt 2).
    Delivery.objects.filter(pk=delivery.pk).update(claim_token="someone-else", attempt=2)
    (outcome,) = attempts_record([sent])
    assert outcome.status == "DELIVERED"  # what we saw...
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claim_token) == ("DELIVERING", "someone-else")  # ...but theirs counts
    assert DeliveryAttempt.objects.get().response_code == 200  # and our attempt is on record


def test_claiming_given_ids_skips_rows_not_due_or_held_by_another_worker(
    make_request, receiver, endpoint_for
):
    endpoint_for(receiver)
    for _ in range(3):
        make_request()
    outbox_relay()
    held, later, due = Delivery.objects.order_by("created_at", "id").values_list("pk", flat=True)
    now = timezone.now()
    Delivery.objects.filter(pk=held).update(
        status=DeliveryStatus.DELIVERING, claimed_until=now + timedelta(minutes=1)
    )
    Delivery.objects.filter(pk=later).update(next_attempt_at=now + timedelta(minutes=1))
    claimed = deliveries_claim_ids(delivery_ids=[held, later, due], clock=at(now))
    assert [d.pk for d in claimed] == [due]
    assert claimed[0].status == DeliveryStatus.DELIVERING and claimed[0].attempt == 1
    assert deliveries_claim_ids(delivery_ids=[due], clock=at(now)) == []  # ours now, until the lease ends
