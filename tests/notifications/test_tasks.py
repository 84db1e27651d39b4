"""The Celery tasks called in-process, their names and beat's schedule, and the kicker that sends
`dsar.dispatch` after commits (the broker is mocked at `send_task` here; real in test_celery_redis)."""

from __future__ import annotations

import logging
import threading
import time
from unittest import mock

import pytest
from django.conf import settings as django_settings

from core import wakeup
from core.health import last_heartbeat
from dsar_project.background import schedule, tasks
from dsar_project.celery import app
from notifications.dispatcher import dispatcher, dispatcher_shutdown
from notifications.models import Delivery, DeliveryAttempt

# The dispatch task runs on this process's dispatcher, whose recorder thread writes on its own connection:
# it must see what the test committed.
pytestmark = pytest.mark.django_db(transaction=True)

SEND_TASK = "celery.app.base.Celery.send_task"


@pytest.fixture(autouse=True)
def process_dispatcher(transactional_db):
    # Set up after the database, so torn down before its flush: no recorder writes into a flushed table.
    yield
    dispatcher_shutdown(timeout=10)


def test_the_tasks_go_by_the_names_beat_and_the_kicker_send():
    assert wakeup.DISPATCH_TASK == tasks.dispatch_task.name == "dsar.dispatch"
    assert tasks.sweeps_task.name == "dsar.sweeps"
    assert tasks.heartbeat_task.name == "dsar.heartbeat"
    assert tasks.mail_task.name == "dsar.mail"
    assert {"dsar.dispatch", "dsar.sweeps", "dsar.heartbeat", "dsar.mail"} <= set(app.tasks)
    # A worker imports them through CELERY_IMPORTS (autodiscovery only looks in the apps).
    assert "dsar_project.background.tasks" in app.conf.imports
    assert django_settings.CELERY_BEAT_SCHEDULE == schedule.BEAT_SCHEDULE
    scheduled = {entry["task"] for entry in schedule.BEAT_SCHEDULE.values()}
    assert scheduled == {"dsar.dispatch", "dsar.sweeps", "dsar.heartbeat", "dsar.mail"}
    assert all(entry["options"]["expires"] for entry in schedule.BEAT_SCHEDULE.values())
    for gone in (
        "notifications.relay",
        "notifications.dispatch_tick",
        "notifications.deliver",
        "core.heartbeat",
    ):
        assert gone not in app.tasks


def test_dispatch_relays_starts_the_due_deliveries_and_returns_at_once(make_request, receiver, endpoint_for):
    endpoint_for(receiver)
    endpoint_for(receiver, path="/second")
    receiver.default = receiver.Reply(200, delay=1.0)
    make_request()
    started = time.monotonic()
    assert tasks.dispatch_task() == 2  # relayed (the kick was lost, say) and started
    assert time.monotonic() - started < 0.9  # before the receiver answered: the threads send
    assert dispatcher().wait_idle(10)
    assert len(receiver.received) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert DeliveryAttempt.objects.count() == 2
    assert tasks.dispatch_task() == 0  # idempotent: nothing left


def test_a_repeated_dispatch_sends_each_attempt_once(make_request, receiver, endpoint_for):
    # A redelivered message, or beat's tick racing a commit's kick: claims are exclusive.
    endpoint_for(receiver)
    receiver.default = receiver.Reply(200, delay=0.3)
    make_request()
    assert [tasks.dispatch_task() for _ in range(3)] == [1, 0, 0]
    assert dispatcher().wait_idle(10)
    assert tasks.dispatch_task() == 0
    assert len(receiver.received) == 1
    assert DeliveryAttempt.objects.count() == 1


def test_each_process_has_one_dispatcher_sized_by_the_settings(settings):
    settings.DSAR_WEBHOOK_WORKER_THREADS = 3
    dispatcher_shutdown()
    first = dispatcher()
    assert dispatcher() is first
    assert first.threads == 3
    dispatcher_shutdown()
    assert first.pump() == 0  # shut down: claims nothing
    assert dispatcher() is not first


def test_sweeps_task_reports_counts():
    assert tasks.sweeps_task() == {
        "atRisk": 0,
        "overdue": 0,
        "acknowledgementAtRisk": 0,
        "acknowledgementOverdue": 0,
        "refreshed": 0,
        "orphanedDeliveries": 0,
        "idempotencyPurged": 0,
        "rateWindowsPurged": 0,
        "exportsNotRun": 0,
        "exportsTakenOver": 0,
        "exportsStalled": 0,
        "exportsRequeued": 0,
        "exportsUnclaimed": 0,
        "exportsExpired": 0,
        "exportBundlesDeleted": 0,
        "verificationsExpired": 0,
        "verificationsReminded": 0,
        "verificationsFlaggedUnverified": 0,
    }


def test_the_heartbeat_task_reports_a_worker_in():
    tasks.heartbeat_task()
    assert last_heartbeat("worker") is not None


# --- the kicker ---------------------------------------------------------------------------------------------


def test_the_kicker_sends_dispatch_by_name_off_thread_and_folds_a_burst():
    kicker = wakeup._CeleryKicker()
    release = threading.Event()
    publishes: list[tuple[tuple, dict, threading.Thread]] = []
    first = threading.Event()

    def publish(*args, **kwargs):
        publishes.append((args, kwargs, threading.current_thread()))
        first.set()
        release.wait(5)  # a slow publish: kicks meanwhile fold into the next one

    with mock.patch(SEND_TASK, side_effect=publish):
        kicker.kick()
        assert first.wait(2)
        for _ in range(20):
            kicker.kick()
        release.set()
        deadline = time.monotonic() + 2
        while len(publishes) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
    assert len(publishes) == 2  # 21 kicks, two publishes
    for args, kwargs, thread in publishes:
        assert args == ("dsar.dispatch",) and kwargs == {"retry": False}
        assert thread is not threading.main_thread()


def test_a_broker_outage_is_logged_once_a_minute_and_never_raises(monkeypatch, caplog):
    monkeypatch.setattr(wakeup, "BACKOFF", 0.01)
    kicker = wakeup._CeleryKicker()
    attempts = threading.Semaphore(0)

    def down(*args, **kwargs):
        attempts.release()
        raise ConnectionError("broker down")

    with caplog.at_level(logging.WARNING, logger="core.wakeup"), mock.patch(SEND_TASK, side_effect=down):
        for _ in range(3):
            kicker.kick()
            assert attempts.acquire(timeout=2)
            time.sleep(0.05)
    warnings = [r for r in caplog.records if r.name == "core.wakeup"]
    assert [r.getMessage() for r in warnings] == [
        "Broker unreachable; background work waits for beat's tick."
    ]


def test_work_waiting_uses_the_kicker_when_a_broker_is_configured(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    wakeup.local_wake.clear()
    with mock.patch.object(wakeup._kicker, "kick") as kick:
        wakeup.work_waiting()
    kick.assert_called_once_with()
    assert not wakeup.local_wake.is_set()
    with mock.patch.object(wakeup._kicker, "kick", side_effect=RuntimeError("no thread for you")):
        wakeup.work_waiting()  # best effort: never raises into the commit that asked
