"""GET /v1/requests/{id}/notifications pages: `limit`, `cursor`/`nextCursor`, and 20 deliveries per event."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent
from notifications.selectors import DELIVERIES_PER_EVENT, notification_history
from notifications.services import event_emit

pytestmark = pytest.mark.django_db


def _url(request_id: str, **query: object) -> str:
    query_string = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/v1/requests/{request_id}/notifications" + (f"?{query_string}" if query_string else "")


def _emit(dsr: dict, count: int, *, at=None, type: str = "request.acknowledged") -> list[OutboxEvent]:
    """`count` more events of the request, a second apart from `at` (by default an hour from now)."""
    start = at or timezone.now() + timedelta(hours=1)
    org_id = OutboxEvent.objects.filter(request_id=dsr["id"]).values_list("org_id", flat=True)[0]
    return [
        event_emit(
            org_id=org_id,
            request_id=dsr["id"],
            type=type,
            data={"requestId": dsr["id"]},
            at=start + timedelta(seconds=i),
        )
        for i in range(count)
    ]


def _deliveries(event: OutboxEvent, endpoint, count: int, *, attempts: int = 1) -> list[Delivery]:
    """`count` deliveries of `event`, a minute apart, each with `attempts` attempts."""
    start = event.created_at
    rows = Delivery.objects.bulk_create(
        Delivery(
            org_id=event.org_id,
            event=event,
            endpoint=endpoint,
            status=DeliveryStatus.FAILED,
            attempt=attempts,
            created_at=start + timedelta(minutes=i),
            actor="test" if i else "",
        )
        for i in range(count)
    )
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(delivery=d, number=n + 1, attempted_at=d.created_at, response_code=500)
        for d in rows
        for n in range(attempts)
    )
    return rows


def _walk(client, request_id: str, limit: int) -> tuple[list[str], list[int]]:
    """Follow nextCursor to the end: every event id seen, in order, and each page's size."""
    ids: list[str] = []
    sizes: list[int] = []
    response = client.get(_url(request_id, limit=limit))
    while True:
        assert response.status_code == 200, response.content
        data = response.json()["data"]
        ids += [e["id"] for e in data["events"]]
        sizes.append(len(data["events"]))
        if "nextCursor" not in data:
            return ids, sizes
        assert data["nextCursor"]
        response = client.get(_url(request_id, limit=limit, cursor=data["nextCursor"]))


def test_walking_the_pages_visits_every_event_once_oldest_first(make_request, integration_client):
    dsr = make_request()
    _emit(dsr, 4)
    # Two events at the same instant: the id breaks the tie, so neither is skipped or repeated at a page edge.
    same = timezone.now() + timedelta(hours=2)
    _emit(dsr, 1, at=same)
    _emit(dsr, 1, at=same)
    expected = list(
        OutboxEvent.objects.filter(request_id=dsr["id"])
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 7

    ids, sizes = _walk(integration_client, dsr["id"], limit=3)

    assert ids == expected
    assert sizes == [3, 3, 1]


def test_the_last_page_has_no_next_cursor_even_when_it_is_full(make_request, integration_client):
    dsr = make_request()
    _emit(dsr, 3)  # four events in all: two full pages of two

    ids, sizes = _walk(integration_client, dsr["id"], limit=2)

    assert sizes == [2, 2]
    assert len(set(ids)) == 4


def test_the_default_page_is_fifty_events(make_request, integration_client):
    dsr = make_request()
    _emit(dsr, 55)

    data = integration_client.get(_url(dsr["id"])).json()["data"]

    assert len(data["events"]) == 50
    rest = integration_client.get(_url(dsr["id"], cursor=data["nextCursor"])).json()["data"]
    assert len(rest["events"]) == 6 and "nextCursor" not in rest


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5", ""])
def test_a_limit_out_of_range_is_a_validation_error(make_request, integration_client, limit):
    dsr = make_request()

    response = integration_client.get(_url(dsr["id"], limit=limit))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["limit"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "x" * 201,
        _b64(b"not json"),
        _b64(b"\xff\xfe\xfd"),
        _b64(b"[]"),
        _b64(b'{"a": 1}'),
        _b64(json.dumps(["2026-01-01T00:00:00", "evt_01"]).encode()),  # naive
        _b64(json.dumps(["9999-12-31T23:59:59+00:00", "evt_01"]).encode()),  # out of range
        _b64(json.dumps(["0001-01-01T00:00:00+14:00", "evt_01"]).encode()),  # overflows into year 0
        _b64(json.dumps(["2026-01-01T00:00:00+00:00", 5]).encode()),
        _b64(json.dumps(["2026-01-01T00:00:00+00:00", "x' OR 1=1 --"]).encode()),
        _b64(json.dumps([1, "evt_01"]).encode()),
        _b64(json.dumps(["2026-01-01T00:00:00+00:00", "evt_01", "extra"]).encode()),
        _b64(b"[" * 60 + b"]" * 60),
    ],
)
def test_a_crafted_cursor_is_a_validation_error_on_cursor(make_request, integration_client, cursor):
    dsr = make_request()

    response = integration_client.get(_url(dsr["id"], cursor=cursor))

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["cursor"]


def test_an_unknown_query_parameter_is_refused_by_name(make_request, integration_client):
    dsr = make_request()

    response = integration_client.get(_url(dsr["id"], page=2))

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == ["page"]


def test_an_event_lists_its_twenty_latest_deliveries_and_counts_them_all(
    make_request, integration_client, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    created = OutboxEvent.objects.get(request_id=dsr["id"])
    (quiet,) = _emit(dsr, 1)
    rows = _deliveries(created, endpoint, DELIVERIES_PER_EVENT + 5, attempts=2)

    (first, second) = integration_client.get(_url(dsr["id"])).json()["data"]["events"]

    assert first["deliveryCount"] == 25
    assert [d["id"] for d in first["deliveries"]] == [d.pk for d in rows[5:]]  # the latest, oldest first
    assert all(len(d["attempts"]) == 2 for d in first["deliveries"])
    assert (second["id"], second["deliveries"], second["deliveryCount"]) == (quiet.pk, [], 0)


def test_the_number_of_queries_does_not_depend_on_the_page_size(
    make_request, integration_client, receiver, endpoint_for, django_assert_max_num_queries
):
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    for event in _emit(dsr, 30):
        _deliveries(event, endpoint, 3, attempts=2)
    _deliveries(OutboxEvent.objects.filter(request_id=dsr["id"]).earliest("created_at"), endpoint, 25)
    integration_client.get("/v1/webhook-endpoints")  # warm the key's last-used stamp

    for limit in (1, 5, 200):
        # auth, rate counter, request, events, deliveries (ranked and counted by window functions), attempts
        with django_assert_max_num_queries(6):
            response = integration_client.get(_url(dsr["id"], limit=limit))
        assert len(response.json()["data"]["events"]) == min(limit, 31)


def test_the_selector_takes_three_queries(
    make_request, org, receiver, endpoint_for, django_assert_num_queries
):
    endpoint = endpoint_for(receiver)
    dsr = make_request()
    for event in _emit(dsr, 10):
        _deliveries(event, endpoint, 22)

    with django_assert_num_queries(3):
        page = notification_history(org=org, request_id=dsr["id"], limit=200)
        for history in page.events:
            for delivery in history.deliveries:
                list(delivery.attempts.all())

    assert [h.delivery_count for h in page.events] == [0] + [22] * 10
    assert {len(h.deliveries) for h in page.events[1:]} == {DELIVERIES_PER_EVENT}


def test_newest_first_pages_walk_backwards(make_request, org):
    dsr = make_request()
    _emit(dsr, 4)
    expected = list(
        OutboxEvent.objects.filter(request_id=dsr["id"])
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )

    first = notification_history(org=org, request_id=dsr["id"], limit=3, newest_first=True)
    rest = notification_history(
        org=org, request_id=dsr["id"], limit=3, newest_first=True, cursor=first.next_cursor
    )

    assert [h.event.pk for h in first.events + rest.events] == expected
    assert rest.next_cursor is None


def test_another_orgs_deliveries_never_show(make_request, org, other_org, receiver, endpoint_for):
    dsr = make_request()
    event = OutboxEvent.objects.get(request_id=dsr["id"])

    assert notification_history(org=other_org, request_id=dsr["id"]).events == []
    assert [h.event.pk for h in notification_history(org=org, request_id=dsr["id"]).events] == [event.pk]
