"""The embedded worker (no broker) and the dispatcher it shares with Celery: woken by commits, retries on
schedule, at most `threads` attempts at once, every one recorded, survives errors, stops cleanly."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from core import wakeup
from dsar_project.background import worker
from notifications.dispatcher import Dispatcher
from notifications.models import Delivery, DeliveryAttempt
from notifications.services import delivery as delivery_service
from notifications.services import outbox_relay

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def running_loop(**kwargs) -> Iterator[threading.Thread]:
    stop = threading.Event()
    kwargs.setdefault("poll_seconds", 30.0)  # long: only a wake-up can explain a prompt delivery
    kwargs.setdefault("sweep_seconds", 3600.0)
    thread = threading.Thread(target=worker.run_loop, args=(stop,), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.request_stop(stop)
        thread.join(10)
        assert not thread.is_alive(), "the loop did not stop"


@pytest.fixture
def embedded(settings):
    settings.CELERY_BROKER_URL = ""


@pytest.fixture
def fresh_request(make_request):
    """A request received yesterday: no deadline event from the loop's sweep gets in the way."""

    def make():
        received = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
        return make_request(receivedAt=received.isoformat().replace("+00:00", "Z"))

    return make


@pytest.fixture
def make_dispatcher() -> Iterator:
    """`make_dispatcher(threads)`: a Dispatcher that is shut down (its threads' connections closed) after."""
    made: list[Dispatcher] = []

    def make(threads: int) -> Dispatcher:
        made.append(Dispatcher(threads))
        return made[-1]

    yield make
    for dispatcher in made:
        dispatcher.shutdown(timeout=10)


@pytest.fixture
def concurrency(monkeypatch):
    """Counts the sends running at once (`.max`), wrapping the dispatcher's `attempt_send`."""

    class Gauge:
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.now = 0
            self.max = 0

    gauge = Gauge()
    real = delivery_service.attempt_send

    def counted(delivery, **kwargs):
        with gauge.lock:
            gauge.now += 1
            gauge.max = max(gauge.max, gauge.now)
        try:
            return real(delivery, **kwargs)
        finally:
            with gauge.lock:
                gauge.now -= 1

    monkeypatch.setattr(delivery_service, "attempt_send", counted)
    return gauge


# --- the loop -----------------------------------------------------------------------------------------------


def test_a_commit_wakes_the_loop_and_the_event_arrives(embedded, fresh_request, receiver, endpoint_for):
    endpoint_for(receiver)
    with running_loop():
        time.sleep(0.2)  # let the first (empty) pass finish and the loop wait
        started = time.time()
        dsr = fresh_request()
        (got,) = receiver.wait_for(1, timeout=5)
    assert got.json["data"]["requestId"] == dsr["id"]
    assert got.at - started < 3


def test_the_loop_logs_its_start_and_stop(embedded, caplog):
    with caplog.at_level(logging.INFO, logger="dsar.worker"), running_loop(threads=3, poll_seconds=0.1):
        time.sleep(0.2)
    messages = [r.getMessage() for r in caplog.records if r.name == "dsar.worker"]
    assert messages[0] == "Background worker started (3 delivery threads, poll 0.1 s)."
    assert messages[-1] == "Background worker stopped."


def test_the_loop_retries_on_schedule(embedded, fresh_request, receiver, endpoint_for, settings):
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0, 0.3]
    endpoint_for(receiver)
    receiver.script = [receiver.Reply(500)]
    with running_loop(poll_seconds=0.1):
        fresh_request()
        first, second = receiver.wait_for(2, timeout=5)
    assert first.webhook_id == second.webhook_id
    assert Delivery.objects.get().status == "DELIVERED"


def test_a_failing_pass_is_logged_and_the_loop_goes_on(
    embedded, fresh_request, receiver, endpoint_for, caplog
):
    endpoint_for(receiver)
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return outbox_relay(**kwargs)

    fresh_request()
    with (
        mock.patch("notifications.services.outbox.outbox_relay", side_effect=flaky),
        running_loop(poll_seconds=0.1),
    ):
        receiver.wait_for(1, timeout=5)
    assert calls["n"] >= 2
    assert any(
        r.getMessage() == "Background worker pass failed; retrying" and r.exc_info for r in caplog.records
    )


def test_a_slow_receiver_does_not_hold_up_the_others(
    embedded, fresh_request, receiver, endpoint_for, fast_http
):
    endpoint_for(receiver, path="/slow")
    endpoint_for(receiver, path="/fast")
    with running_loop(threads=4, poll_seconds=0.1):
        receiver.script = [receiver.Reply(200, delay=0.4)]
        fresh_request()
        got = receiver.wait_for(2, timeout=5)
    assert len(got) == 2


def test_the_sweeps_run_on_their_own_thread_and_a_long_one_delays_no_delivery(
    embedded, fresh_request, receiver, endpoint_for
):
    endpoint_for(receiver)
    started = threading.Event()
    calls: list[str] = []

    def slow_sweeps(*, now):
        calls.append(threading.current_thread().name)
        started.set()
        time.sleep(1.5)
        return {"atRisk": 0}

    with (
        mock.patch("dsar_project.background.periodic.sweeps", side_effect=slow_sweeps),
        running_loop(poll_seconds=0.05, sweep_seconds=0.1),
    ):
        assert started.wait(5)
        sent = time.time()
        fresh_request()
        (got,) = receiver.wait_for(1, timeout=5)
        assert got.at - sent < 1.0  # while the sweep still runs
        time.sleep(1.6)
    assert len(calls) >= 2  # swept again once the first had finished, never two at once
    assert all(name.startswith("sweeps") for name in calls)


def test_run_worker_once_delivers_what_is_pending(fresh_request, receiver, endpoint_for):
    endpoint_for(receiver)
    fresh_request()
    fresh_request()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        call_command("run_worker", "--once")
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert len(receiver.received) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert DeliveryAttempt.objects.count() == 2


def test_work_waiting_sends_a_datagram_to_the_wake_port(settings):
    """`serve` runs the worker as a child process: commits in the web process reach it by UDP."""
    settings.CELERY_BROKER_URL = ""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.settimeout(2)
        settings.DSAR_WORKER_WAKE_PORT = probe.getsockname()[1]
        wakeup.local_wake.clear()
        wakeup.work_waiting()
        assert probe.recv(16) == b"k"
    assert wakeup.local_wake.is_set()  # and a loop in this process wakes at once


def test_a_datagram_on_the_wake_port_wakes_the_loop():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    listener = threading.Thread(target=worker._listen_for_wakes, args=(port, stop), daemon=True)
    listener.start()
    try:
        deadline = time.monotonic() + 3
        wakeup.local_wake.clear()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            while not wakeup.local_wake.is_set() and time.monotonic() < deadline:
                sender.sendto(b"k", ("127.0.0.1", port))  # repeated: the listener may still be binding
                wakeup.local_wake.wait(0.1)
        assert wakeup.local_wake.is_set(), "the listener did not wake the loop"
    finally:
        stop.set()
        listener.join(2)


# --- the dispatcher -----------------------------------------------------------------------------------------


def _due_deliveries(make_request, requests: int) -> list[str]:
    for _ in range(requests):
        make_request()
    return outbox_relay().delivery_ids


def test_pump_starts_at_most_threads_attempts_and_records_every_one(
    make_request, receiver, endpoint_for, make_dispatcher, concurrency, settings, eventually
):
    settings.DSAR_WEBHOOK_MAX_IN_FLIGHT = 10  # only the threads bound it here
    endpoint_for(receiver)
    receiver.default = receiver.Reply(200, delay=0.3)
    assert len(_due_deliveries(make_request, 5)) == 5
    dispatcher = make_dispatcher(2)
    assert dispatcher.pump() == 2
    assert dispatcher.active == 2
    assert dispatcher.pump() == 0  # no thread free: nothing claimed that would wait for one
    assert Delivery.objects.filter(status="DELIVERING").count() == 2
    assert Delivery.objects.filter(status="PENDING").count() == 3
    # As attempts are recorded the recorder pumps again: the rest goes without another tick.
    eventually(lambda: Delivery.objects.filter(status="DELIVERED").count() == 5, timeout=10)
    assert dispatcher.wait_idle(5)
    assert concurrency.max == 2
    assert receiver.max_in_flight["/hook"] <= 2
    assert set(DeliveryAttempt.objects.values_list("number", "response_code")) == {(1, 200)}
    assert DeliveryAttempt.objects.count() == 5
    assert len(receiver.received) == 5


def test_wait_idle_waits_until_the_attempts_are_recorded(
    make_request, receiver, endpoint_for, make_dispatcher
):
    endpoint_for(receiver)
    receiver.default = receiver.Reply(200, delay=0.8)
    _due_deliveries(make_request, 1)
    dispatcher = make_dispatcher(4)
    assert dispatcher.pump() == 1
    assert dispatcher.wait_idle(0.1) is False  # still on the wire
    assert Delivery.objects.get().status == "DELIVERING"
    assert dispatcher.wait_idle(10) is True
    assert dispatcher.active == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempt, delivery.last_response_code) == ("DELIVERED", 1, 200)
    assert DeliveryAttempt.objects.get().response_code == 200


def test_pump_respects_each_endpoints_share(
    make_request, receiver, endpoint_for, make_dispatcher, settings, eventually
):
    # One slow receiver with a backlog takes at most its two slots; the other endpoint gets the rest.
    endpoint_for(receiver, path="/slow")
    endpoint_for(receiver, path="/fast")
    receiver.default = receiver.Reply(200, delay=0.5)
    assert len(_due_deliveries(make_request, 4)) == 8
    dispatcher = make_dispatcher(8)
    assert dispatcher.pump() == 4  # 2 per endpoint (DSAR_WEBHOOK_MAX_IN_FLIGHT), though 8 threads are free
    in_flight = Delivery.objects.filter(status="DELIVERING")
    assert sorted(in_flight.values_list("endpoint__url", flat=True)) == sorted(
        [receiver.url("/fast")] * 2 + [receiver.url("/slow")] * 2
    )
    eventually(lambda: Delivery.objects.filter(status="DELIVERED").count() == 8, timeout=15)
    assert receiver.max_in_flight == {"/slow": 2, "/fast": 2}


def test_a_send_that_raises_frees_its_thread_and_leaves_the_claim_to_its_lease(
    make_request, receiver, endpoint_for, make_dispatcher, monkeypatch, caplog
):
    endpoint_for(receiver)
    _due_deliveries(make_request, 1)

    def broken(delivery, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(delivery_service, "attempt_send", broken)
    dispatcher = make_dispatcher(2)
    assert dispatcher.pump() == 1
    assert dispatcher.wait_idle(5)
    assert dispatcher.active == 0
    delivery = Delivery.objects.get()
    assert delivery.status == "DELIVERING" and delivery.claimed_until > timezone.now()
    assert DeliveryAttempt.objects.count() == 0
    assert receiver.received == []
    assert any("failed unexpectedly" in r.getMessage() and r.exc_info for r in caplog.records)


def test_shutdown_lets_the_attempts_in_flight_finish_and_be_recorded_then_claims_nothing(
    make_request, receiver, endpoint_for, make_dispatcher
):
    endpoint_for(receiver)
    receiver.default = receiver.Reply(200, delay=0.5)
    _due_deliveries(make_request, 1)
    dispatcher = make_dispatcher(2)
    assert dispatcher.pump() == 1
    dispatcher.shutdown(timeout=10)
    assert Delivery.objects.get().status == "DELIVERED"
    _due_deliveries(make_request, 1)
    assert dispatcher.pump() == 0
    assert Delivery.objects.filter(status="PENDING").count() == 1


def test_shutdown_during_a_claim_still_records_what_that_claim_sends(
    make_request, receiver, endpoint_for, monkeypatch
):
    endpoint_for(receiver)
    _due_deliveries(make_request, 1)
    real_claim = delivery_service.deliveries_claim
    calls = {"n": 0}
    claiming, resume = threading.Event(), threading.Event()

    def claim(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the recorder's pump, right after it recorded the first attempt
            claiming.set()
            resume.wait(10)
        return real_claim(**kwargs)

    monkeypatch.setattr(delivery_service, "deliveries_claim", claim)
    dispatcher = Dispatcher(2)  # shut down by the test itself
    assert dispatcher.pump() == 1
    _due_deliveries(make_request, 1)  # what the recorder's pump will find
    assert claiming.wait(5)
    stopping = threading.Thread(target=dispatcher.shutdown, kwargs={"timeout": 5})
    stopping.start()
    time.sleep(0.3)  # shutdown has begun (the worker got SIGTERM) while the claim is under way
    resume.set()
    stopping.join(20)
    assert not stopping.is_alive()
    # Whatever a claim sends before the shutdown completes is recorded, as `shutdown` promises.
    assert len(receiver.received) == DeliveryAttempt.objects.count()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert dispatcher.active == 0
