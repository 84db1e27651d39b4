"""`GET /healthz`: 200 when every configured part holds, 503 naming what does not."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from core import health
from tests.notifications.conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_heartbeats():
    for role in health.ROLES:
        cache.delete(f"dsar:heartbeat:{role}")
    health._last_written.clear()
    yield
    health._last_written.clear()


def _beat_now():
    health.heartbeat("worker", every_seconds=0)
    health.heartbeat("beat", every_seconds=0)


def test_all_parts_holding_is_a_200(client, django_assert_max_num_queries):
    _beat_now()
    client.get("/healthz")  # the first answer also loads the migration graph, once per process
    with django_assert_max_num_queries(2):  # SELECT 1, and one read of the cache for both heartbeats
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "cache", "broker", "migrations", "worker", "beat"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "embedded" in body["checks"]["broker"]["detail"]
    assert response["Cache-Control"] == "no-store"


def test_no_key_is_needed_and_head_works(client):
    _beat_now()
    assert client.head("/healthz").status_code == 200


def test_a_worker_that_never_reported_is_a_503_naming_it(client):
    body = client.get("/healthz")
    assert body.status_code == 503
    checks = body.json()["checks"]
    assert checks["worker"] == {"ok": False, "detail": "the background worker has never reported in"}
    assert checks["beat"]["ok"] is False
    assert checks["database"]["ok"] is True


def test_a_stale_heartbeat_is_a_503(client):
    _beat_now()
    cache.set("dsar:heartbeat:beat", time.time() - 180, timeout=None)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "last reported 180 s ago" in response.json()["checks"]["beat"]["detail"]
    assert response.json()["checks"]["worker"]["ok"] is True


def test_an_unreachable_broker_is_a_503(client, settings):
    _beat_now()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_pending_migrations_are_a_503(client, monkeypatch):
    _beat_now()
    monkeypatch.setattr(health, "_migrations_done", False)
    monkeypatch.setattr(
        health.MigrationExecutor,
        "migration_plan",
        lambda self, targets: [(type("M", (), {"app_label": "core", "name": "0099_next"})(), False)],
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "core.0099_next" in response.json()["checks"]["migrations"]["detail"]


def test_the_embedded_worker_reports_in_as_worker_and_scheduler(transactional_db):
    from dsar_project.background.worker import run_loop

    run_loop(threading.Event(), once=True, wake_port_number=0, threads=1)

    assert health.last_heartbeat("worker") is not None
    assert health.last_heartbeat("beat") is not None


def test_the_celery_heartbeat_task_reports_the_worker_only():
    # Beat writes its own heartbeat from its scheduler (tests/core/test_beat_heartbeat.py): a worker running
    # this task says nothing about beat.
    from dsar_project.background.tasks import heartbeat_task

    heartbeat_task()

    assert health.last_heartbeat("worker") is not None
    assert health.last_heartbeat("beat") is None


def test_heartbeats_judge_each_part_as_healthz_does():
    now = datetime.now(UTC)
    cache.set("dsar:heartbeat:worker", now.timestamp() - 5, timeout=None)

    worker, beat = health.heartbeats(now)

    assert (worker.role, worker.name, worker.check.ok) == ("worker", "background worker", True)
    assert worker.seen is not None and 4 <= (now - worker.seen).total_seconds() <= 6
    assert (beat.role, beat.seen, beat.check.ok) == ("beat", None, False)
    assert beat.check.detail == "the scheduler (beat) has never reported in"
