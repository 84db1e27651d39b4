"""Fault tests with the real services: a Redis broker and Celery worker and beat processes.

Each test starts its own `redis-server` on a free port of 127.0.0.1 (never the shared 6379), without
persistence (`redis_server` and `broker` fixtures, in conftest), and real `celery -A dsar_project worker` /
`beat` processes, and stops them all afterwards (`procs` fixture, process groups, SIGKILL as a last
resort). The workers run the `dsar.*` tasks of `dsar_project/background/tasks.py`.

The workers must see the rows this test commits, so the test runs with `transaction=True` and the
children get a DATABASE_URL for the *test* database (`database_url_for_subprocesses` in conftest): on
SQLite the settings make the test database a file (`<db>.test`, or `?test_name=` in DATABASE_URL), on
PostgreSQL it is the `test_<name>` database. An in-memory SQLite test database cannot be shared with
another process, so these tests fail, saying why, in that case. Short retry, lease and tick intervals
reach the children through a generated settings module (`child_env(settings=...)`).

Run just these: `pytest -m redis tests/notifications`.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, OutboxEvent
from requests_app.services import request_acknowledge, request_create

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

CHILD_SETTINGS = {
    "DSAR_WEBHOOK_RETRY_SCHEDULE": [0, 0.5, 1, 1, 1, 1, 1, 1],
    "DSAR_WEBHOOK_LEASE_SECONDS": 4,
    "DSAR_WEBHOOK_READ_TIMEOUT": 2.0,
    "CELERY_BROKER_CONNECTION_MAX_RETRIES": None,
    "CELERY_BEAT_SCHEDULE": {
        "tick": {"task": "dsar.dispatch", "schedule": 0.5, "options": {"expires": 5}},
    },
}


@pytest.fixture
def celery(procs, child_env, broker):
    """`celery.worker(name, pool=..., concurrency=...)` and `celery.beat()` as real processes."""

    class Celery:
        env = child_env(settings=CHILD_SETTINGS, CELERY_BROKER_URL=broker)

        def worker(self, name: str, *, pool: str = "prefork", concurrency: int = 2):
            args = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dsar_project",
                "worker",
                "-n",
                f"{name}@%h",
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ]
            proc = procs.start(name, args, env=self.env)
            proc.wait_for_output("ready.", timeout=60)
            return proc

        def beat(self):
            schedule = procs.log_dir / "beat-schedule"
            args = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dsar_project",
                "beat",
                "-s",
                str(schedule),
                "-l",
                "INFO",
            ]
            proc = procs.start("beat", args, env=self.env)
            proc.wait_for_output("beat: Starting", timeout=60)
            return proc

    return Celery()


def _create(org, n: int) -> list[str]:
    now = timezone.now()
    ids = []
    for i in range(n):
        result = request_create(
            org=org,
            actor="test",
            jurisdiction="GB",
            channel="EMAIL",
            raw_text=f"Copy of my data please ({i})",
            intake_received_at=now - timedelta(days=1),
        )
        ids.append(result.request.id)
    return ids


def test_events_committed_while_the_broker_is_down_are_all_delivered(
    org, celery, redis_server, receiver, endpoint_for, eventually
):
    endpoint_for(receiver)
    celery.worker("w1")
    celery.beat()
    redis_server.stop()
    # 200 transitions commit while the broker is down: every kick fails (off the request thread).
    started = time.monotonic()
    request_ids = _create(org, 100)
    for request_id in request_ids:
        request_acknowledge(org=org, request_id=request_id, actor="test")
    assert time.monotonic() - started < 60
    assert OutboxEvent.objects.count() == 200
    time.sleep(1)
    assert receiver.received == []
    redis_server.start()
    receiver.wait_for(200, timeout=120)
    expected = set(OutboxEvent.objects.values_list("id", flat=True))
    eventually(lambda: Delivery.objects.filter(status="DELIVERED").count() == 200, timeout=30)
    assert {r.webhook_id for r in receiver.received} == expected
    assert len(receiver.received) == 200  # none lost, none sent twice


def test_a_worker_killed_mid_delivery_is_attempted_again(org, celery, receiver, endpoint_for, eventually):
    endpoint_for(receiver)
    receiver.script = [receiver.Reply(200, delay=30)]  # the first attempt hangs until the worker is gone
    first_worker = celery.worker("w1", pool="solo")
    celery.beat()
    _create(org, 1)
    (hung,) = receiver.wait_for(1, timeout=30)
    first_worker.kill()  # SIGKILL mid-delivery: no result recorded, the message never acked
    assert Delivery.objects.get().status == "DELIVERING"
    celery.worker("w2", pool="solo")
    second = receiver.wait_for(2, timeout=30)[1]
    assert second.webhook_id == hung.webhook_id
    delivery = eventually(lambda: Delivery.objects.filter(status="DELIVERED").first(), timeout=15)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "response_code"))
    assert attempts == [(1, None), (2, 200)]  # the lost attempt is on record, the retry succeeded


def test_a_commit_alone_reaches_a_worker_through_the_broker(org, celery, receiver, endpoint_for, eventually):
    # No beat: only the on-commit kick (`dsar.dispatch`, sent by name through Redis) can explain a delivery.
    endpoint_for(receiver)
    worker = celery.worker("w1", pool="solo")
    started = time.time()
    (request_id,) = _create(org, 1)
    (got,) = receiver.wait_for(1, timeout=20)
    assert got.json["data"]["requestId"] == request_id
    assert got.at - started < 10
    eventually(lambda: Delivery.objects.filter(status="DELIVERED").count() == 1, timeout=10)
    assert "dsar.dispatch" in worker.output()  # the worker says which task it received


def test_two_workers_racing_for_the_same_deliveries_send_each_attempt_once(
    org, celery, receiver, endpoint_for, eventually
):
    from dsar_project.background.tasks import dispatch_task
    from dsar_project.celery import app
    from notifications.services import outbox_relay

    endpoint_for(receiver)
    endpoint_for(receiver, path="/second")
    receiver.default = receiver.Reply(200, delay=0.05)  # attempts overlap, so the shares are tested
    _create(org, 50)
    ids = outbox_relay().delivery_ids
    assert len(ids) == 100
    workers = [celery.worker("w1", concurrency=2), celery.worker("w2", concurrency=2)]
    # Dispatch asked for many times over, by the task and by name as the kicker does: four processes race
    # for every row.
    for _ in range(10):
        dispatch_task.apply_async()
        app.send_task("dsar.dispatch")
    eventually(lambda: Delivery.objects.filter(status="DELIVERED").count() == 100, timeout=60)
    time.sleep(1)  # anything sent twice would arrive now
    sent = Counter((r.webhook_id, r.path) for r in receiver.received)
    assert len(sent) == 100
    assert set(sent.values()) == {1}
    assert DeliveryAttempt.objects.count() == 100
    # Each endpoint's share (DSAR_WEBHOOK_MAX_IN_FLIGHT, 2) holds across every worker process.
    assert receiver.max_in_flight["/hook"] <= 2 and receiver.max_in_flight["/second"] <= 2
    for worker in workers:
        assert "Traceback" not in worker.output()
