"""Replay quota: at most DSAR_WEBHOOK_REPLAYS_PER_HOUR replays of one event in any rolling hour (→ 429), each
replay recorded as one `Replay` row in the same transaction as its deliveries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications import conf
from notifications.models import Delivery, OutboxEvent, Replay
from notifications.services import ReplayQuotaExceeded, event_replay


def _replay_url(request_id: str, event_id: str) -> str:
    return f"/v1/requests/{request_id}/notifications/{event_id}/replay"


@pytest.fixture
def quota(settings):
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 3
    return 3


@pytest.mark.django_db
def test_the_default_quota_is_ten_replays_an_hour(make_request, integration_client, receiver, endpoint_for):
    endpoint_for(receiver)
    dsr = make_request()
    url = _replay_url(dsr["id"], OutboxEvent.objects.get(request_id=dsr["id"]).id)

    statuses = [integration_client.post(url, {}).status_code for _ in range(11)]

    assert statuses == [202] * 10 + [429]


@pytest.mark.django_db
def test_over_the_quota_the_answer_is_429_with_retry_after(
    make_request, integration_client, receiver, endpoint_for, quota
):
    endpoint_for(receiver)
    dsr = make_request()
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    for _ in range(quota):
        assert integration_client.post(_replay_url(dsr["id"], event.pk), {}).status_code == 202

    response = integration_client.post(_replay_url(dsr["id"], event.pk), {})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 3590 <= int(response["Retry-After"]) <= 3600  # the first replay leaves the hour in about an hour
    assert Replay.objects.filter(event=event).count() == quota
    assert Delivery.objects.filter(event=event).count() == quota  # the refusal wrote nothing


@pytest.mark.django_db
def test_the_hour_rolls_and_retry_after_says_when_the_oldest_replay_leaves_it(
    make_request, org, receiver, endpoint_for, quota
):
    endpoint_for(receiver)
    dsr = make_request()
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    t0 = timezone.now()

    def replay(at):
        return event_replay(org=org, request_id=dsr["id"], event_id=event.pk, actor="test", now=at)

    for minutes in (0, 10, 20):
        replay(t0 + timedelta(minutes=minutes))
    with pytest.raises(ReplayQuotaExceeded) as refused:
        replay(t0 + timedelta(minutes=30))
    assert (refused.value.limit, refused.value.retry_after) == (quota, 30 * 60)
    with pytest.raises(ReplayQuotaExceeded) as refused:
        replay(t0 + timedelta(minutes=59, seconds=59, microseconds=500_000))
    assert refused.value.retry_after == 1  # never 0

    replay(t0 + timedelta(hours=1))  # the first replay is exactly an hour old: no longer counted

    with pytest.raises(ReplayQuotaExceeded) as refused:
        replay(t0 + timedelta(hours=1, minutes=5))
    assert refused.value.retry_after == 5 * 60  # the 10-minute replay leaves at 1 h 10 min
    assert Replay.objects.filter(event=event).count() == 4


@pytest.mark.django_db
def test_a_lowered_quota_waits_for_enough_replays_to_leave_the_hour(
    make_request, org, receiver, endpoint_for, settings
):
    endpoint_for(receiver)
    dsr = make_request()
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    t0 = timezone.now()
    for minutes in (0, 10, 20):
        event_replay(
            org=org,
            request_id=dsr["id"],
            event_id=event.pk,
            actor="test",
            now=t0 + timedelta(minutes=minutes),
        )
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 2

    with pytest.raises(ReplayQuotaExceeded) as refused:
        event_replay(
            org=org, request_id=dsr["id"], event_id=event.pk, actor="test", now=t0 + timedelta(minutes=30)
        )

    assert refused.value.retry_after == 40 * 60  # two of three must leave: the 10-minute one at 1 h 10 min


@pytest.mark.django_db
def test_the_quota_is_per_event(
    make_request, org, officer, integration_client, receiver, endpoint_for, settings
):
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 1
    endpoint_for(receiver)
    dsr = make_request()
    assert officer.post(f"/v1/requests/{dsr['id']}/acknowledgements", {}).status_code == 202
    created, acknowledged = OutboxEvent.objects.filter(request_id=dsr["id"]).order_by("created_at", "id")

    assert integration_client.post(_replay_url(dsr["id"], created.pk), {}).status_code == 202
    assert integration_client.post(_replay_url(dsr["id"], created.pk), {}).status_code == 429
    assert integration_client.post(_replay_url(dsr["id"], acknowledged.pk), {}).status_code == 202


@pytest.mark.django_db
def test_a_refused_replay_does_not_count(make_request, integration_client, receiver, endpoint_for, settings):
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 1
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    url = _replay_url(dsr["id"], OutboxEvent.objects.get(request_id=dsr["id"]).id)
    assert integration_client.post(url, {"endpointId": "whe_nope"}).status_code == 404

    assert integration_client.post(url, {"endpointId": endpoint.id}).status_code == 202
    assert Replay.objects.count() == 1


@pytest.mark.django_db
def test_an_idempotent_retry_does_not_count_twice(
    make_request, integration_client, receiver, endpoint_for, settings
):
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 1
    endpoint_for(receiver)
    dsr = make_request()
    url = _replay_url(dsr["id"], OutboxEvent.objects.get(request_id=dsr["id"]).id)

    first = integration_client.post(url, {}, **{"Idempotency-Key": "replay-1"})
    again = integration_client.post(url, {}, **{"Idempotency-Key": "replay-1"})
    other = integration_client.post(url, {}, **{"Idempotency-Key": "replay-2"})

    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 429)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert other["Retry-After"]
    assert Replay.objects.count() == 1


@pytest.mark.django_db
def test_each_replay_records_who_where_and_how_many(
    make_request, org, integration_client, receiver, endpoint_for
):
    first = endpoint_for(receiver)
    second = endpoint_for(receiver, path="/second")
    dsr = make_request()
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    url = _replay_url(dsr["id"], event.pk)

    assert integration_client.post(url, {}).status_code == 202
    assert integration_client.post(url, {"endpointId": second.id}).status_code == 202

    to_all, to_one = Replay.objects.order_by("created_at", "id")
    assert (to_all.org_id, to_all.event_id, to_all.endpoint_id, to_all.deliveries) == (
        org.pk,
        event.pk,
        None,
        2,
    )
    assert (to_one.endpoint_id, to_one.deliveries) == (second.id, 1)
    assert to_all.actor == to_one.actor == f"apikey:{integration_client.key.prefix}"
    assert {d.endpoint_id for d in Delivery.objects.filter(event=event, created_at=to_all.created_at)} == {
        first.id,
        second.id,
    }


@pytest.mark.django_db
def test_a_replay_of_a_dispatched_event_locks_its_row_without_updating_it(
    make_request, org, receiver, endpoint_for
):
    # Dispatched events are append-only (a trigger refuses UPDATE); the quota's row lock must not trip it.
    from notifications.services import outbox_relay

    endpoint_for(receiver)
    dsr = make_request()
    outbox_relay()
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    assert event.dispatched_at is not None

    result = event_replay(org=org, request_id=dsr["id"], event_id=event.pk, actor="test")

    assert result.replay is not None and result.replay.deliveries == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_event_never_exceed_the_quota(
    make_request, org, receiver, endpoint_for, settings, monkeypatch
):
    """Several replays at once: each takes the event's row lock in turn, so the count each sees is exact."""
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 2
    endpoint_for(receiver)
    dsr = make_request()
    event = OutboxEvent.objects.get(request_id=dsr["id"])
    # Widen the window between reading the quota and writing the Replay row, where an unlocked count races.
    real_limit = conf.replays_per_hour

    def slow_limit() -> int:
        threading.Event().wait(0.2)
        return real_limit()

    monkeypatch.setattr(conf, "replays_per_hour", slow_limit)
    threads = 5
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def replay() -> None:
        try:
            barrier.wait()
            event_replay(org=org, request_id=dsr["id"], event_id=event.pk, actor="test")
            outcomes.append("ok")
        except ReplayQuotaExceeded:
            outcomes.append("429")
        except Exception as exc:  # surfaced by the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=replay) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert sorted(outcomes) == ["429"] * 3 + ["ok"] * 2
    assert Replay.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_a_refusal_over_the_quota_is_not_kept_under_its_idempotency_key(
    make_request, integration_client, receiver, endpoint_for, settings
):
    # A 429 says "not now": the client retrying later with the same key must reach the service again.
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 1
    endpoint_for(receiver)
    dsr = make_request()
    url = _replay_url(dsr["id"], OutboxEvent.objects.get(request_id=dsr["id"]).id)
    assert integration_client.post(url, {}).status_code == 202

    refused = integration_client.post(url, {}, **{"Idempotency-Key": "later"})
    assert refused.status_code == 429
    assert "replayed once in the last hour" in refused.json()["error"]["message"]
    Replay.objects.update(created_at=timezone.now() - timedelta(hours=2))  # the hour has passed
    retried = integration_client.post(url, {}, **{"Idempotency-Key": "later"})
    assert retried.status_code == 202
    assert "Idempotent-Replayed" not in retried
