"""`manage.py run_worker` as `serve` runs it: a separate process on the same database, woken over UDP.

The child reads the test database through DATABASE_URL (the SQLite test database is a file, see
settings; on PostgreSQL it is the `test_…` database), so the test commits for real (`transaction=True`).
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_request(make_request):
    def make():
        received = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
        return make_request(receivedAt=received.isoformat().replace("+00:00", "Z"))

    return make


def test_run_worker_delivers_promptly_when_woken_and_stops_on_sigterm(
    procs, child_env, port, settings, fresh_request, receiver, endpoint_for, eventually
):
    settings.CELERY_BROKER_URL = ""
    settings.DSAR_WORKER_WAKE_PORT = port  # what `serve` hands to both of its processes
    endpoint_for(receiver)
    worker = procs.start(
        "run_worker",
        [sys.executable, "manage.py", "run_worker", "--poll-seconds", "30", "--sweep-seconds", "3600"],
        env=child_env(DSAR_WORKER_WAKE_PORT=str(port)),
    )
    worker.wait_for_output("Background worker started")
    time.sleep(0.5)  # past its first (empty) pass: from here on only a wake-up explains a prompt delivery
    started = time.time()
    dsr = fresh_request()
    (got,) = receiver.wait_for(1, timeout=10)
    assert got.json["data"]["requestId"] == dsr["id"]
    assert got.at - started < 5  # far below the 30 s poll
    eventually(lambda: Delivery.objects.get().status == "DELIVERED")
    worker.popen.send_signal(signal.SIGTERM)
    assert worker.popen.wait(10) == 0
    assert "Background worker stopped." in worker.output()
