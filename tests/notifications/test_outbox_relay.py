"""The relay: one delivery per matching active endpoint of the event's org, each event relayed once."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone

from core import wakeup
from notifications.models import Delivery, OutboxEvent
from notifications.services import endpoint_delete, outbox_drain, outbox_relay

pytestmark = pytest.mark.django_db


def test_it_creates_one_delivery_per_matching_endpoint(
    make_request, officer, receiver, endpoint_for, other_org
):
    everything = endpoint_for(receiver)
    created_only = endpoint_for(receiver, event_types=["request.created"])
    acks_only = endpoint_for(receiver, event_types=["request.acknowledged"])
    elsewhere = endpoint_for(receiver, owner=other_org)
    dsr = make_request()
    assert officer.post(f"/v1/requests/{dsr['id']}/acknowledgements", {}).status_code == 202
    result = outbox_relay()
    assert result.events == 2
    pairs = set(Delivery.objects.values_list("event__type", "endpoint_id"))
    assert pairs == {
        ("request.created", everything.id),
        ("request.created", created_only.id),
        ("request.acknowledged", everything.id),
        ("request.acknowledged", acks_only.id),
    }
    assert not Delivery.objects.filter(endpoint=elsewhere).exists()
    assert set(Delivery.objects.values_list("org_id", flat=True)) == {dsr["orgId"]}


def test_each_event_is_relayed_once(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    make_request()
    assert outbox_relay().events == 1
    assert outbox_relay().events == 0
    assert Delivery.objects.count() == 1
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


def test_events_without_subscribers_are_marked_relayed(make_request, receiver, endpoint_for, org):
    endpoint = endpoint_for(receiver)
    endpoint_delete(org=org, endpoint_id=endpoint.id)
    make_request()
    assert outbox_relay() == outbox_relay().__class__(events=1, delivery_ids=[])
    assert Delivery.objects.count() == 0


def test_the_relay_works_in_batches(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    for _ in range(5):
        make_request()
    assert outbox_relay(limit=2).events == 2
    assert outbox_relay(limit=2).events == 2
    assert outbox_relay(limit=2).events == 1
    assert Delivery.objects.count() == 5


def test_the_drain_relays_batch_after_batch_until_the_outbox_is_empty(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    for _ in range(5):
        make_request()
    times = []

    def clock():
        times.append(timezone.now())
        return times[-1]

    assert outbox_drain(batch=2, clock=clock) == 5
    assert len(times) == 3  # 2 + 2 + 1: a short batch means the outbox is empty
    assert Delivery.objects.count() == 5
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    # Each batch is stamped at the time it runs.
    assert set(OutboxEvent.objects.values_list("dispatched_at", flat=True)) == set(times)
    assert outbox_drain(batch=2) == 0


def test_the_drain_takes_one_more_look_after_a_full_batch(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    for _ in range(4):
        make_request()
    with mock.patch("notifications.services.outbox.outbox_relay", wraps=outbox_relay) as relay:
        assert outbox_drain(batch=2) == 4
    assert [c.kwargs["limit"] for c in relay.call_args_list] == [2, 2, 2]  # the third finds nothing


def test_commit_wakes_the_embedded_worker(make_request, django_capture_on_commit_callbacks, settings):
    settings.CELERY_BROKER_URL = ""
    wakeup.local_wake.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_request()
        assert not wakeup.local_wake.is_set()  # not before the commit
    assert wakeup.work_waiting in callbacks
    for callback in callbacks:
        callback()
    assert wakeup.local_wake.is_set()


def test_commit_kicks_celery_off_thread_and_a_broker_outage_does_not_slow_the_request(
    make_request, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    called = threading.Event()

    def broker_down(*args, **kwargs):
        called.set()
        time.sleep(2)  # what a real publish to an unreachable broker does
        raise ConnectionError("broker down")

    with mock.patch("celery.app.base.Celery.send_task", side_effect=broker_down) as publish:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            dsr = make_request()
        assert time.monotonic() - started < 1.5
        assert called.wait(2), "the dispatch was not kicked"
    publish.assert_called_with("dsar.dispatch", retry=False)
    assert OutboxEvent.objects.filter(request_id=dsr["id"]).count() == 1


def test_a_rolled_back_transition_leaves_no_event(make_request, officer):
    dsr = make_request()
    before = OutboxEvent.objects.count()
    assert officer.post(f"/v1/requests/{dsr['id']}/closures", {"outcome": "NONSENSE"}).status_code == 400
    assert OutboxEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_never_relay_an_event_twice(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    for _ in range(12):
        make_request()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def relay():
        try:
            barrier.wait()
            relayed = 1
            while relayed:  # keep claiming until the outbox is drained
                relayed = outbox_relay(limit=2).events
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert Delivery.objects.count() == 12
    assert Delivery.objects.values("event_id").distinct().count() == 12
