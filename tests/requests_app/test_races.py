"""Concurrent transitions on one request: exactly one wins, the others get a 409 — on SQLite and PostgreSQL.

Real threads with their own connections (`transaction=True`): TestCase's wrapping transaction would hide
the locking. On SQLite, IMMEDIATE transactions serialise writers; on PostgreSQL, SELECT ... FOR UPDATE.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from core.api import ApiError
from requests_app import services
from requests_app.models import TimelineEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _race(n, action):
    barrier = threading.Barrier(n)
    outcomes: list[object] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = action()
            with lock:
                outcomes.append(result)
        except ApiError as exc:
            with lock:
                outcomes.append(exc)
        except Exception as exc:
            with lock:
                outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def _assert_one_winner(outcomes, n):
    assert len(outcomes) == n
    wins = [o for o in outcomes if isinstance(o, services.ActionResult)]
    losses = [o for o in outcomes if isinstance(o, ApiError)]
    assert len(wins) == 1, outcomes
    assert len(losses) == n - 1, outcomes
    assert all(o.status_code == 409 for o in losses)


def _request(org):
    from django.utils import timezone

    return services.request_create(
        org=org,
        actor="t",
        jurisdiction="GB",
        channel="EMAIL",
        raw_text="copy",
        intake_received_at=timezone.now(),
    ).request


@pytest.mark.parametrize("n", [2, 4])
def test_concurrent_acknowledgements_have_one_winner(org, n):
    dsr = _request(org)

    outcomes = _race(n, lambda: services.request_acknowledge(org=org, request_id=dsr.id, actor="t"))

    _assert_one_winner(outcomes, n)
    assert TimelineEntry.objects.filter(request_id=dsr.id, action="acknowledge").count() == 1


def test_concurrent_close_and_refuse_have_one_winner(org):
    dsr = _request(org)
    calls = iter(
        [
            lambda: services.request_close(org=org, request_id=dsr.id, actor="a", outcome="FULFILLED"),
            lambda: services.request_refuse(org=org, request_id=dsr.id, actor="b", reason="r"),
        ]
    )
    lock = threading.Lock()

    def one():
        with lock:
            call = next(calls)
        return call()

    _assert_one_winner(_race(2, one), 2)


@pytest.mark.postgres
def test_postgres_row_lock_serialises_transitions(org):
    from django.db import connection

    assert connection.vendor == "postgresql"
    dsr = _request(org)
    outcomes = _race(6, lambda: services.request_acknowledge(org=org, request_id=dsr.id, actor="t"))
    _assert_one_winner(outcomes, 6)
