"""The embedded worker (no broker): woken by commits, retries on schedule, survives errors, stops cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command

from notifications import services, worker
from notifications.models import Delivery

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
    from django.utils import timezone

    def make():
        received = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
        return make_request(receivedAt=received.isoformat().replace("+00:00", "Z"))

    return make


def test_a_commit_wakes_the_loop_and_the_event_arrives(embedded, fresh_request, receiver, endpoint_for):
    endpoint_for(receiver)
    with running_loop():
        time.sleep(0.2)  # let the first (empty) pass finish and the loop wait
        started = time.time()
        dsr = fresh_request()
        (got,) = receiver.wait_for(1, timeout=5)
    assert got.json["data"]["requestId"] == dsr["id"]
    assert got.at - started < 3


def test_the_loop_retries_on_schedule(embedded, fresh_request, receiver, endpoint_for, settings):
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0, 0.3]
    endpoint_for(receiver)
    receiver.script = [receiver.Reply(500)]
    with running_loop(poll_seconds=0.1):
        fresh_request()
        first, second = receiver.wait_for(2, timeout=5)
    assert first.webhook_id == second.webhook_id
    assert Delivery.objects.get().status == "DELIVERED"


def test_a_failing_pass_is_logged_and_the_loop_goes_on(embedded, fresh_request, receiver, endpoint_for):
    endpoint_for(receiver)
    real = services.outbox_relay
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return real(**kwargs)

    fresh_request()
    with mock.patch.object(services, "outbox_relay", side_effect=flaky), running_loop(poll_seconds=0.1):
        receiver.wait_for(1, timeout=5)
    assert calls["n"] >= 2


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


def test_run_worker_once_delivers_what_is_pending(fresh_request, receiver, endpoint_for):
    endpoint_for(receiver)
    fresh_request()
    fresh_request()
    call_command("run_worker", "--once")
    assert len(receiver.received) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}


def test_wake_sends_a_datagram_to_the_wake_port(settings):
    """`serve` runs the worker as a child process: commits in the web process reach it by UDP."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.settimeout(2)
        settings.DSAR_WORKER_WAKE_PORT = probe.getsockname()[1]
        worker.wake()
        assert probe.recv(16) == b"k"


def test_a_datagram_on_the_wake_port_wakes_the_loop():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    listener = threading.Thread(target=worker._listen_for_wakes, args=(port, stop), daemon=True)
    listener.start()
    try:
        deadline = time.monotonic() + 3
        worker._wake.clear()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            while not worker._wake.is_set() and time.monotonic() < deadline:
                sender.sendto(b"k", ("127.0.0.1", port))  # repeated: the listener may still be binding
                worker._wake.wait(0.1)
        assert worker._wake.is_set(), "the listener did not wake the loop"
    finally:
        stop.set()
        listener.join(2)
