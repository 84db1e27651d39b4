"""Fair delivery with real processes and real receivers: one org's hanging receivers never hold up another's.

Org C registers 10 endpoints whose receiver never answers in time, and commits three events (30
deliveries). Each endpoint may have 2 attempts in flight and the org 8 in all, so C holds 8 of the
worker's threads and the rest stay free: org A's next event reaches A's receiver within 2 s, in the
embedded worker (`manage.py run_worker`, as `serve` runs it) and with Celery (a Redis broker, a prefork
worker; `test_celery_redis.py` has the broker fixtures).

Also here, in-process: every attempt takes its own time (a long run of slow receivers still signs each
request with a fresh `webhook-timestamp` and never sends an (event, endpoint) pair twice).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.models import Org
from notifications.dispatcher import Dispatcher
from notifications.models import Delivery, DeliveryAttempt
from notifications.services import LOST_ATTEMPT_ERROR, endpoint_create, event_emit, outbox_drain

pytestmark = pytest.mark.django_db(transaction=True)

HANGING_ENDPOINTS = 10
# Short timeouts so the hanging attempts (and the test's teardown) end within seconds; the receiver
# sleeps far longer than that, so every one of C's attempts holds its slot to the deadline.
CHILD_SETTINGS = {"DSAR_WEBHOOK_CONNECT_TIMEOUT": 1.0, "DSAR_WEBHOOK_READ_TIMEOUT": 5.0}


def _emit(org: Org, n: int = 1) -> list[str]:
    return [
        event_emit(org_id=org.pk, type="request.created", data={"n": i}, at=timezone.now()).pk
        for i in range(n)
    ]


@pytest.fixture
def hanging_org(db, receiver):
    """Org C: 10 endpoints on a receiver that sleeps 30 s before answering."""
    org_c = Org.objects.create(name="C Hangs Ltd")
    receiver.default = receiver.Reply(delay=30)
    for i in range(HANGING_ENDPOINTS):
        endpoint_create(org=org_c, url=receiver.url(f"/c{i}"), event_types=["*"])
    return org_c


@pytest.fixture
def fast_receiver(receiver):
    """Org A's receiver: answers at once (another instance of the `receiver` fixture's class)."""
    r = type(receiver)()
    yield r
    r.close()


def _assert_fair(org_a, hanging_org, receiver, fast_receiver) -> float:
    """C's three events fill C's slots; then A's event arrives promptly. Returns A's latency."""
    endpoint_create(org=org_a, url=fast_receiver.url(), event_types=["*"])
    _emit(hanging_org, 3)
    receiver.wait_for(8, timeout=15)  # C's org-wide share, reached within the first pass
    time.sleep(0.5)  # give a dispatcher that ignored the caps the chance to send more
    per_path = Counter(r.path for r in receiver.received)
    assert len(receiver.received) == 8, per_path
    assert max(per_path.values()) <= 2, per_path

    started = time.time()
    (event_id,) = _emit(org_a)
    (got,) = fast_receiver.wait_for(1, timeout=10)
    assert got.webhook_id == event_id
    latency = got.at - started
    assert latency < 2.0, f"org A waited {latency:.2f} s behind org C"
    return latency


def test_embedded_worker_serves_org_a_while_org_c_hangs(
    procs, child_env, port, settings, org, hanging_org, receiver, fast_receiver
):
    settings.CELERY_BROKER_URL = ""
    settings.DSAR_WORKER_WAKE_PORT = port
    worker = procs.start(
        "run_worker",
        [sys.executable, "manage.py", "run_worker", "--poll-seconds", "1", "--sweep-seconds", "3600"],
        env=child_env(settings=CHILD_SETTINGS, DSAR_WORKER_WAKE_PORT=str(port)),
    )
    worker.wait_for_output("Background worker started")
    _assert_fair(org, hanging_org, receiver, fast_receiver)


@pytest.mark.redis
def test_celery_workers_serve_org_a_while_org_c_hangs(
    procs, child_env, broker, org, hanging_org, receiver, fast_receiver
):
    env = child_env(settings=CHILD_SETTINGS, CELERY_BROKER_URL=broker)
    worker = procs.start(
        "celery-worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dsar_project",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        env=env,
    )
    worker.wait_for_output("ready.", timeout=60)
    _assert_fair(org, hanging_org, receiver, fast_receiver)


def test_every_attempt_of_a_long_run_signs_with_its_own_time_and_none_is_sent_twice(
    org, receiver, allow_private, settings
):
    """12 deliveries to 4 endpoints that each take 0.4 s, on 2 threads: a run of about 2.5 s."""
    settings.DSAR_WEBHOOK_LEASE_SECONDS = 2  # shorter than the run: a lease granted at the start would lapse
    settings.DSAR_WEBHOOK_READ_TIMEOUT = 1.0
    settings.DSAR_WEBHOOK_CONNECT_TIMEOUT = 0.5
    receiver.default = receiver.Reply(delay=0.4)
    endpoints = [endpoint_create(org=org, url=receiver.url(f"/e{i}"), event_types=["*"]) for i in range(4)]
    secrets = {f"/e{i}": e.secret for i, e in enumerate(endpoints)}
    _emit(org, 3)
    outbox_drain()
    dispatcher = Dispatcher(threads=2)
    try:
        dispatcher.pump()
        received = receiver.wait_for(12, timeout=20)
        assert dispatcher.wait_idle(10)
    finally:
        dispatcher.shutdown()

    assert Counter((r.webhook_id, r.path) for r in received).most_common(1)[0][1] == 1
    for r in received:
        # The request went out when its attempt started, not when a batch was claimed.
        assert 0 <= r.at - int(r.timestamp) < 1.5
        headers = {
            "webhook-id": r.webhook_id,
            "webhook-timestamp": r.timestamp,
            "webhook-signature": r.signature,
        }
        Webhook(secrets[r.path]).verify(r.body, headers)  # the reference implementation, tolerance included
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert not DeliveryAttempt.objects.filter(error=LOST_ATTEMPT_ERROR).exists()
    # Each attempt's record carries the time it was made and the timestamp it sent.
    for attempt in DeliveryAttempt.objects.all():
        assert abs(attempt.attempted_at.timestamp() - attempt.webhook_timestamp) < 1
