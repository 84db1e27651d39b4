"""Deadline sweeps: `clock.at_risk` and `clock.overdue` once per request and due date, however often run."""

from __future__ import annotations

import json
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone

from core.models import IdempotencyRecord
from dsar_project.background.periodic import sweeps
from notifications.models import OutboxEvent
from requests_app.models import DataSubjectRequest
from requests_app.sweeps import sweep_deadlines

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _set_due(request_id: str, *, days_from_today: int, now: datetime, **extra) -> None:
    due = now.astimezone(LONDON).date() + timedelta(days=days_from_today)
    due_at = datetime.combine(due, time(23, 59, 59), tzinfo=LONDON)
    DataSubjectRequest.objects.filter(pk=request_id).update(
        clock_timezone="Europe/London", clock_due_date=due, clock_due_at=due_at, **extra
    )


def _events(request_id: str, type_: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(request_id=request_id, type=type_))


def test_at_risk_is_emitted_once_per_due_date(make_request):
    now = timezone.now()
    dsr = make_request()
    _set_due(dsr["id"], days_from_today=3, now=now)
    first = sweep_deadlines(now=now)
    assert len(first.at_risk) == 1 and first.overdue == []
    for minutes in (1, 2, 60):
        assert sweep_deadlines(now=now + timedelta(minutes=minutes)).at_risk == []
    (event,) = _events(dsr["id"], "clock.at_risk")
    body = json.loads(event.body)
    assert body["type"] == "clock.at_risk"
    assert body["data"]["requestId"] == dsr["id"]
    assert body["data"]["request"]["clock"]["atRisk"] is True
    # A new deadline (an extension, say) that is at risk again is a new fact: one more event, once.
    _set_due(dsr["id"], days_from_today=5, now=now)
    assert len(sweep_deadlines(now=now).at_risk) == 1
    assert sweep_deadlines(now=now).at_risk == []
    assert len(_events(dsr["id"], "clock.at_risk")) == 2


def test_a_request_outside_the_window_is_left_alone(make_request, org):
    now = timezone.now()
    dsr = make_request()
    _set_due(dsr["id"], days_from_today=8, now=now)
    assert sweep_deadlines(now=now).at_risk == []
    org.at_risk_days = 10
    org.save()
    assert len(sweep_deadlines(now=now).at_risk) == 1


def test_overdue_is_emitted_once_and_not_preceded_by_a_late_at_risk(make_request):
    now = timezone.now()
    dsr = make_request()
    _set_due(dsr["id"], days_from_today=-1, now=now)
    result = sweep_deadlines(now=now)
    assert len(result.overdue) == 1 and result.at_risk == []
    for hours in (1, 24, 24 * 30):
        again = sweep_deadlines(now=now + timedelta(hours=hours))
        assert again.overdue == [] and again.at_risk == []
    (event,) = _events(dsr["id"], "clock.overdue")
    assert json.loads(event.body)["data"]["request"]["clock"]["overdue"] is True


def test_a_request_at_risk_then_overdue_gets_both_once(make_request):
    now = timezone.now()
    dsr = make_request()
    _set_due(dsr["id"], days_from_today=1, now=now)
    assert len(sweep_deadlines(now=now).at_risk) == 1
    assert len(sweep_deadlines(now=now + timedelta(days=3)).overdue) == 1
    assert sweep_deadlines(now=now + timedelta(days=4)).overdue == []
    assert [
        e.type for e in OutboxEvent.objects.filter(request_id=dsr["id"]).exclude(type="request.created")
    ] == [
        "clock.at_risk",
        "clock.overdue",
    ]


def test_paused_and_closed_requests_are_not_judged(make_request, officer):
    now = timezone.now()
    paused, closed = make_request(), make_request()
    _set_due(paused["id"], days_from_today=-3, now=now, clock_state="PAUSED", clock_computed_at=now)
    _set_due(closed["id"], days_from_today=-3, now=now)
    assert officer.post(f"/v1/requests/{closed['id']}/closures", {"outcome": "FULFILLED"}).status_code == 202
    _set_due(closed["id"], days_from_today=-3, now=now)
    result = sweep_deadlines(now=now)
    assert result.at_risk == [] and result.overdue == []


def test_a_request_received_long_ago_is_overdue_by_its_real_clock(make_request):
    received = (timezone.now() - timedelta(days=45)).replace(microsecond=0)
    dsr = make_request(receivedAt=received.isoformat().replace("+00:00", "Z"))
    assert dsr["clock"]["overdue"] is True
    result = sweep_deadlines()
    assert len(result.overdue) == 1
    assert _events(dsr["id"], "clock.overdue")


def test_provisional_clocks_are_refreshed_once_a_day(make_request):
    now = timezone.now()
    dsr = make_request()
    yesterday = now - timedelta(days=1)
    DataSubjectRequest.objects.filter(pk=dsr["id"]).update(
        clock_state="AWAITING_START", clock_computed_at=yesterday
    )
    assert sweep_deadlines(now=now).refreshed == 1
    assert DataSubjectRequest.objects.get(pk=dsr["id"]).clock_computed_at == now
    DataSubjectRequest.objects.filter(pk=dsr["id"]).update(clock_state="AWAITING_START")
    assert sweep_deadlines(now=now + timedelta(minutes=5)).refreshed == 0  # already computed today


def test_expired_idempotency_records_are_purged(org, settings):
    settings.DSAR_IDEMPOTENCY_TTL_HOURS = 24
    now = timezone.now()
    old = IdempotencyRecord.objects.create(
        org=org, key="old", method="POST", path="/v1/x", body_sha256="x", status_code=202, response_body=b"{}"
    )
    fresh = IdempotencyRecord.objects.create(
        org=org, key="new", method="POST", path="/v1/x", body_sha256="x", status_code=202, response_body=b"{}"
    )
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=now - timedelta(hours=25))
    assert sweeps(now=now)["idempotencyPurged"] == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_the_sweeps_run_every_apps_housekeeping_and_count_it(make_request, org, settings):
    from core.models import RateCounter
    from notifications.models import Delivery, WebhookEndpoint
    from notifications.services import outbox_relay

    settings.DSAR_IDEMPOTENCY_TTL_HOURS = 24
    now = timezone.now()
    dsr = make_request()
    _set_due(dsr["id"], days_from_today=3, now=now)  # requests: at risk
    # notifications: an attempt lost (its worker died) while its endpoint was deleted.
    endpoint = WebhookEndpoint.objects.create(
        org=org, url="https://receiver.example/hook", event_types=["*"], secret="whsec_x", created_at=now
    )
    outbox_relay()
    Delivery.objects.filter(endpoint=endpoint).update(
        status="DELIVERING", attempt=1, claimed_at=now, claimed_until=now - timedelta(seconds=1)
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(deleted_at=now)
    # core: an expired idempotency record and a rate-limit window that has ended.
    record = IdempotencyRecord.objects.create(
        org=org, key="old", method="POST", path="/v1/x", body_sha256="x", status_code=202, response_body=b"{}"
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=now - timedelta(hours=25))
    RateCounter.objects.create(name="ended", expires_at=int(now.timestamp()) - 10, hits=3)

    counts = sweeps(now=now)
    assert counts["atRisk"] == 1
    assert counts["orphanedDeliveries"] == 1
    assert counts["idempotencyPurged"] >= 1  # the request's own intake may have left one too
    assert counts["rateWindowsPurged"] >= 1  # ...and the API calls their rate-limit windows
    assert set(counts) == {
        "atRisk",
        "overdue",
        "acknowledgementAtRisk",
        "acknowledgementOverdue",
        "refreshed",
        "orphanedDeliveries",
        "idempotencyPurged",
        "rateWindowsPurged",
        "exportsNotRun",
        "exportsTakenOver",
        "exportsStalled",
        "exportsRequeued",
        "exportsUnclaimed",
        "exportsExpired",
        "exportBundlesDeleted",
        "verificationsExpired",
        "verificationsReminded",
        "verificationsFlaggedUnverified",
    }
    assert Delivery.objects.get(endpoint=endpoint).status == "DEAD"
    assert not RateCounter.objects.filter(name="ended").exists()
    assert sweeps(now=now)["orphanedDeliveries"] == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_emit_once(make_request):
    now = timezone.now()
    at_risk, overdue = make_request(), make_request()
    _set_due(at_risk["id"], days_from_today=2, now=now)
    _set_due(overdue["id"], days_from_today=-2, now=now)
    received = (now - timedelta(days=20)).isoformat()
    unacknowledged = make_request(jurisdiction="US-CA", receivedAt=received)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweep():
        try:
            barrier.wait()
            sweep_deadlines(now=now)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(_events(at_risk["id"], "clock.at_risk")) == 1
    assert len(_events(overdue["id"], "clock.overdue")) == 1
    assert _events(overdue["id"], "clock.at_risk") == []
    assert len(_events(unacknowledged["id"], "clock.acknowledgement_overdue")) == 1
