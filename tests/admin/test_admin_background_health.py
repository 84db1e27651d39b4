"""The admin home says when the background work has stopped: which part, since when, and what to start.

It reads the heartbeats /healthz reads (`core.health.heartbeats`), so the two never disagree."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from core import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_heartbeats():
    for role in health.ROLES:
        cache.delete(f"dsar:heartbeat:{role}")
    health._last_written.clear()
    yield
    health._last_written.clear()


def _report(role: str, seconds_ago: float) -> float:
    at = time.time() - seconds_ago
    cache.set(f"dsar:heartbeat:{role}", at, timeout=None)
    return at


def _banner(page: str) -> str:
    start = page.index('id="dsar-background"')
    return page[start : page.index("</ul>", start)]


def test_it_says_quietly_that_the_background_work_runs(officer_client):
    _report("worker", 3)
    _report("beat", 40)

    page = officer_client.get("/admin/").content.decode()

    assert 'data-state="running"' in page
    # (a second may pass between writing the heartbeat and rendering the page)
    assert re.search(r"Background work: running — background worker last seen [34] s ago", page)
    assert re.search(r"scheduler \(beat\) last seen 4[01] s ago", page)
    assert 'role="alert"' not in page
    assert page.index('id="dsar-background"') < page.index('id="dsar-dashboard"')


def test_a_stale_worker_is_a_banner_saying_since_when_and_to_restart_serve(officer_client, settings):
    settings.CELERY_BROKER_URL = ""
    at = _report("worker", 300)
    _report("beat", 10)

    page = officer_client.get("/admin/").content.decode()

    banner = _banner(page)
    assert 'data-state="stale"' in banner and 'role="alert"' in banner
    since = datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert re.search(rf"The background worker has not reported since {since} UTC \(30[01] s ago\)\.", banner)
    assert "Webhooks are not being delivered" in banner
    assert "Restart <code>python manage.py serve</code>" in banner
    assert "scheduler (beat)" not in banner  # the part that runs is not named as stopped


def test_with_a_broker_it_names_the_celery_command_to_start(officer_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    _report("worker", 5)

    banner = _banner(officer_client.get("/admin/").content.decode())

    assert "The scheduler (beat) has never reported in." in banner
    assert "Retries and deadline sweeps are not being scheduled." in banner
    assert "<code>celery -A dsar_project beat</code>" in banner
    assert "background worker" not in banner


def test_with_both_stale_under_celery_it_says_beat_sends_the_workers_heartbeat(officer_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    _report("worker", 600)
    _report("beat", 600)

    banner = _banner(officer_client.get("/admin/").content.decode())

    assert "<code>celery -A dsar_project worker</code>" in banner
    assert "start beat first" in banner
    assert "<code>celery -A dsar_project beat</code>" in banner


def test_the_auditor_sees_it_too(auditor_client):
    assert 'data-state="stale"' in auditor_client.get("/admin/").content.decode()


def test_a_cache_that_does_not_answer_is_said_not_hidden(officer_client, monkeypatch):
    def broken(now=None):
        raise ConnectionError("cache down")

    monkeypatch.setattr("core.templatetags.background_health.heartbeats", broken)

    response = officer_client.get("/admin/")

    assert response.status_code == 200
    assert "Cannot tell whether the background work is running" in _banner(response.content.decode())


def test_it_stays_off_the_app_pages(officer_client):
    assert 'id="dsar-background"' not in officer_client.get("/admin/requests_app/").content.decode()
