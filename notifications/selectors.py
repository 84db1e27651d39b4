"""Reads. Every query starts from the caller's org: another org's ids are simply not found."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber

from core.cursors import cursor_decode, cursor_encode
from core.models import Org

from .models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint

# An event replayed many times keeps every delivery, but the history shows only the latest ones.
DELIVERIES_PER_EVENT = 20


def endpoint_list(*, org: Org) -> list[WebhookEndpoint]:
    """Live endpoints (disabled ones included, so a 410 is visible); deleted ones are gone from the API."""
    return list(WebhookEndpoint.objects.filter(org=org, deleted_at__isnull=True).order_by("created_at", "id"))


@dataclass(frozen=True)
class EventHistory:
    event: OutboxEvent
    deliveries: list[Delivery]  # its latest DELIVERIES_PER_EVENT, oldest first, attempts prefetched
    delivery_count: int  # all of its deliveries, replays included


@dataclass(frozen=True)
class HistoryPage:
    events: list[EventHistory]
    next_cursor: str | None  # None on the last page


def notification_history(
    *,
    org: Org,
    request_id: str,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = False,
) -> HistoryPage:
    """One page of a request's events, oldest first (or newest first), keyset-paginated on (created_at, id),
    each with its latest DELIVERIES_PER_EVENT deliveries (replays included), their attempts, and how many
    deliveries it has in all.

    `request_id` is the primary key of a request the caller has already found in `org`. A `cursor` is the
    `next_cursor` of the previous page in the same order; anything else is a 400 on `cursor`. Three queries
    whatever the page size: the events, the deliveries (ranked and counted per event by window functions),
    the attempts.
    """
    events_qs = OutboxEvent.objects.filter(org=org, request_id=request_id)
    if cursor:
        created, pk = cursor_decode(cursor)
        if newest_first:
            events_qs = events_qs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
        else:
            events_qs = events_qs.filter(Q(created_at__gt=created) | Q(created_at=created, id__gt=pk))
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    events = list(events_qs.order_by(*order)[: limit + 1])
    next_cursor = (
        cursor_encode(events[limit - 1].created_at, events[limit - 1].pk) if len(events) > limit else None
    )
    events = events[:limit]
    if not events:
        return HistoryPage(events=[], next_cursor=None)

    attempts = Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number", "id"))
    by_event = Window(
        RowNumber(), partition_by=[F("event_id")], order_by=[F("created_at").desc(), F("id").desc()]
    )
    latest = (
        Delivery.objects.filter(org=org, event_id__in=[e.pk for e in events])
        .annotate(newest=by_event, event_deliveries=Window(Count("id"), partition_by=[F("event_id")]))
        .filter(newest__lte=DELIVERIES_PER_EVENT)
        .order_by("created_at", "id")
        .prefetch_related(attempts)
    )
    deliveries: dict[str, list[Delivery]] = {}
    counts: dict[str, int] = {}
    for delivery in latest:
        deliveries.setdefault(delivery.event_id, []).append(delivery)
        counts[delivery.event_id] = delivery.event_deliveries
    return HistoryPage(
        events=[
            EventHistory(event=e, deliveries=deliveries.get(e.pk, []), delivery_count=counts.get(e.pk, 0))
            for e in events
        ],
        next_cursor=next_cursor,
    )
