"""Replay: new deliveries of an event already sent (same id, same bytes), to one endpoint or all.

Each replay leaves a `Replay` row (who, when, to which endpoint, how many deliveries): the audit trail, and
what the quota counts — at most DSAR_WEBHOOK_REPLAYS_PER_HOUR replays of one event in any rolling hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core import wakeup
from core.api import Conflict, NotFound, RateLimited
from core.models import Org

from .. import conf
from ..models import Delivery, DeliveryStatus, OutboxEvent, Replay, WebhookEndpoint
from .outbox import active_endpoints

QUOTA_WINDOW = timedelta(hours=1)


class ReplayQuotaExceeded(RateLimited):
    """The event was replayed `limit` times in the last hour: 429 `rate_limited`, `Retry-After: wait`."""

    def __init__(self, *, limit: int, wait: int) -> None:
        times = "once" if limit == 1 else f"{limit} times"
        super().__init__(
            f"This event was already replayed {times} in the last hour (DSAR_WEBHOOK_REPLAYS_PER_HOUR).",
            retry_after=wait,
        )
        self.limit = limit


@dataclass(frozen=True)
class ReplayResult:
    event: OutboxEvent
    deliveries: list[Delivery] = field(default_factory=list)
    replay: Replay | None = None


def event_replay(
    *,
    org: Org,
    request_id: str,
    event_id: str,
    actor: str,
    endpoint_id: str | None = None,
    now: datetime | None = None,
) -> ReplayResult:
    """New deliveries of the same event (same id, same bytes) to one endpoint or every matching one.

    `request_id` is the primary key of a request the caller has already found in `org`. Refused for a
    deleted endpoint (404, as for any unknown id), a disabled one, or one that does not subscribe to the
    event's type, or when no active endpoint subscribes to it (409 `conflict`); and over the event's
    hourly quota (429, `ReplayQuotaExceeded`). The deliveries and the `Replay` row commit together.
    """
    with transaction.atomic():
        # The event's row is the replays' lock: two replays of one event at once take turns, so the second
        # counts the first's Replay row and the quota is exact. (SQLite ignores FOR UPDATE, but it runs one
        # writer at a time anyway: its transactions BEGIN IMMEDIATE.) NO KEY: the lock does not hold up new
        # rows referencing the event, such as the relay's deliveries. A dispatched event refuses UPDATE
        # (append-only trigger); a row lock is not an update.
        event = (
            OutboxEvent.objects.select_for_update(no_key=True)
            .filter(org=org, request_id=request_id, pk=event_id)
            .first()
        )
        if event is None:
            raise NotFound("No such event for this request.")
        # Read after the lock: a replay that waited for another counts from when it really happens.
        now = now or timezone.now()
        endpoint: WebhookEndpoint | None = None
        if endpoint_id is not None:
            endpoint = _endpoint_for(org=org, endpoint_id=endpoint_id, event=event)
            endpoints = [endpoint]
        else:
            endpoints = [e for e in active_endpoints({org.pk}).get(org.pk, []) if e.subscribes_to(event.type)]
            if not endpoints:
                raise Conflict(f"No active webhook endpoint subscribes to {event.type}.")
        _quota_check(event=event, now=now)

        latest: dict[str, str] = {}
        for delivery_id, ep_id in (
            Delivery.objects.filter(event=event, endpoint_id__in=[e.pk for e in endpoints])
            .order_by("created_at", "id")
            .values_list("id", "endpoint_id")
        ):
            latest[ep_id] = delivery_id
        deliveries = [
            Delivery(
                org_id=org.pk,
                event=event,
                endpoint_id=e.pk,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
                replay_of_id=latest.get(e.pk),
                actor=actor,
            )
            for e in endpoints
        ]
        Delivery.objects.bulk_create(deliveries)
        replay = Replay.objects.create(
            org_id=org.pk,
            event=event,
            endpoint=endpoint,
            actor=actor,
            created_at=now,
            deliveries=len(deliveries),
        )
        transaction.on_commit(wakeup.work_waiting)
    return ReplayResult(event=event, deliveries=deliveries, replay=replay)


def _endpoint_for(*, org: Org, endpoint_id: str, event: OutboxEvent) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(org=org, pk=endpoint_id, deleted_at__isnull=True).first()
    if endpoint is None:
        raise NotFound(
            "No such webhook endpoint in this organisation.",
            details=[{"field": "endpointId", "message": "No such webhook endpoint."}],
        )
    if endpoint.disabled_at is not None:
        raise Conflict(
            f"The endpoint is disabled ({endpoint.disabled_reason or 'no reason given'}); "
            "re-enable it (PATCH status ACTIVE) to receive events.",
            details=[{"field": "endpointId", "message": "disabled"}],
        )
    if not endpoint.subscribes_to(event.type):
        raise Conflict(
            f"The endpoint does not subscribe to {event.type}.",
            details=[{"field": "endpointId", "message": "not subscribed to this event type"}],
        )
    return endpoint


def _quota_check(*, event: OutboxEvent, now: datetime) -> None:
    """Refuse a replay beyond the event's quota in the rolling hour before `now` (inside the event's lock)."""
    limit = conf.replays_per_hour()
    recent = list(
        Replay.objects.filter(event=event, created_at__gt=now - QUOTA_WINDOW)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) < limit:
        return
    if limit < 1:  # replays turned off
        raise ReplayQuotaExceeded(limit=0, wait=int(QUOTA_WINDOW.total_seconds()))
    # Room again once enough of them have left the hour (the oldest, unless the limit was lowered since).
    frees_at = recent[len(recent) - limit] + QUOTA_WINDOW
    raise ReplayQuotaExceeded(limit=limit, wait=max(1, math.ceil((frees_at - now).total_seconds())))
