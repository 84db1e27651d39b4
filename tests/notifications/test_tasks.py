"""The Celery tasks called in-process; the broker is mocked at `apply_async` (real in test_celery_redis)."""

from __future__ import annotations

import threading
from unittest import mock

import pytest

from notifications import tasks
from notifications.kicker import CeleryKicker
from notifications.models import Delivery

pytestmark = pytest.mark.django_db


def test_relay_task_relays_and_delivers_in_one_go(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    endpoint_for(receiver, path="/second")
    make_request()
    assert tasks.relay_task() == 2
    assert len(receiver.received) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert tasks.relay_task() == 0  # idempotent: nothing left


def test_a_relay_with_a_backlog_fans_out(make_request, receiver, endpoint_for, monkeypatch):
    monkeypatch.setattr(tasks, "RELAY_BATCH", 2)
    endpoint_for(receiver)
    for _ in range(3):
        make_request()
    with mock.patch.object(tasks.relay_task, "apply_async") as fan_out:
        assert tasks.relay_task() == 3
    fan_out.assert_called_with(retry=False)


def test_the_tick_enqueues_due_work_once_per_reservation(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    make_request()
    with mock.patch.object(tasks.deliver_task, "apply_async") as publish:
        assert tasks.dispatch_tick_task() == 1  # relayed by the tick (the kick was lost), then enqueued
        assert tasks.dispatch_tick_task() == 0  # reserved: it sits in the queue already
    (call,) = publish.call_args_list
    (ids,) = call.kwargs["args"]
    assert tasks.deliver_task(ids) == 1
    assert tasks.deliver_task(ids) == 0  # a redelivered message is a no-op
    assert len(receiver.received) == 1


def test_a_tick_that_cannot_publish_gives_the_reservation_back(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    make_request()
    with mock.patch.object(tasks.deliver_task, "apply_async", side_effect=ConnectionError("down")):
        assert tasks.dispatch_tick_task() == 0
    assert Delivery.objects.get().enqueued_until is None
    with mock.patch.object(tasks.deliver_task, "apply_async") as publish:
        assert tasks.dispatch_tick_task() == 1
    publish.assert_called_once()


def test_sweeps_task_reports_counts():
    assert tasks.sweeps_task() == {
        "atRisk": 0,
        "overdue": 0,
        "acknowledgementAtRisk": 0,
        "acknowledgementOverdue": 0,
        "refreshed": 0,
        "idempotencyPurged": 0,
    }


def test_the_kicker_publishes_relays_and_replays_off_thread():
    kicker = CeleryKicker()
    relayed, delivered = threading.Event(), threading.Event()
    with (
        mock.patch.object(tasks.relay_task, "apply_async", side_effect=lambda **kw: relayed.set()) as relay,
        mock.patch.object(
            tasks.deliver_task, "apply_async", side_effect=lambda **kw: delivered.set()
        ) as deliver,
    ):
        kicker.kick()
        kicker.kick(delivery_ids=["dlv_1", "dlv_2"])
        assert relayed.wait(2) and delivered.wait(2)
    assert threading.current_thread() is threading.main_thread()
    relay.assert_called_with(retry=False)
    published = [c.kwargs["args"][0] for c in deliver.call_args_list]
    assert sorted(i for chunk in published for i in chunk) == ["dlv_1", "dlv_2"]
