"""Beat reports in itself, from its scheduler's tick: a stopped beat shows on /healthz while workers run."""

from __future__ import annotations

import pytest
from celery.beat import PersistentScheduler
from django.conf import settings
from django.core.cache import cache

from core import health
from dsar_project.background.beat import HeartbeatScheduler
from dsar_project.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_heartbeats():
    for role in health.ROLES:
        cache.delete(f"dsar:heartbeat:{role}")
    health._last_written.clear()
    yield
    health._last_written.clear()


@pytest.fixture
def scheduler(tmp_path):
    beat = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "celerybeat-schedule"))
    yield beat
    beat.close()


def test_it_is_the_configured_beat_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "dsar_project.background.beat:HeartbeatScheduler"


def test_a_tick_writes_the_beat_heartbeat_only(scheduler, client):
    # A real tick on the project's schedule: every entry was just created, so none is due and none is sent.
    delay = scheduler.tick()

    assert 0 < delay <= scheduler.max_interval
    assert health.last_heartbeat("beat") is not None
    assert health.last_heartbeat("worker") is None
    assert {"dispatch-tick", "sweeps", "heartbeat"} <= set(scheduler.schedule)
    checks = client.get("/healthz").json()["checks"]
    assert checks["beat"]["ok"] is True
    assert checks["worker"]["detail"] == "the background worker has never reported in"


def test_a_tick_returns_celerys_own_delay(scheduler, monkeypatch):
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *args, **kwargs: 7.5)

    assert scheduler.tick() == 7.5
    assert health.last_heartbeat("beat") is not None


def test_a_cache_that_fails_does_not_stop_beat(scheduler, monkeypatch):
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *args, **kwargs: 7.5)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr("dsar_project.background.beat.heartbeat", broken)

    assert scheduler.tick() == 7.5
