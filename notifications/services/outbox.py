"""The outbox: events committed with the change that caused them, and the relay that fans them out.

1. `event_emit` inserts an `OutboxEvent` in the caller's transaction and, on commit, says work is waiting
   (`core.wakeup`: the app never imports the background runner).
2. `outbox_relay` claims undispatched events and creates one `Delivery` per matching active endpoint;
   `outbox_drain` repeats it until the outbox is empty. The Celery task and the embedded worker both call
   `outbox_drain`, so there is one drain loop.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core import wakeup
from core.prepared import insert

from ..models import Delivery, DeliveryStatus, OutboxEvent, WebhookEndpoint

# The contract's event types ("at least" these); an endpoint may also subscribe to "*".
EVENT_TYPES: tuple[str, ...] = (
    "request.created",
    "request.acknowledged",
    "request.clarification_requested",
    "request.clarification_received",
    "request.extended",
    "request.refused",
    "request.closed",
    "request.requestor_changed",
    "request.verification_requested",
    "request.verification_received",
    "authority.requested",
    "authority.submitted",
    "authority.approved",
    "authority.rejected",
    "clock.at_risk",
    "clock.overdue",
    "clock.acknowledgement_at_risk",
    "clock.acknowledgement_overdue",
    "request.types_changed",
    "request.appeal_received",
    "request.appeal_decided",
    # Listed by the contract for the subject and export features: subscribable now, emitted once built.
    "request.verification_expired",
    "message.sent",
    "message.failed",
    # Beyond the contract's list: an officer's own message to the subject was queued.
    "message.queued",
    "export.requested",
    "export.ready",
    "export.delivered",
    "export.expired",
    "export.failed",
    # Beyond the contract's list (it says "at least"): emitted when a request moves to a new pack version.
    "request.clock_recomputed",
)
ALL_EVENTS = "*"

RELAY_BATCH = 200


def event_emit(
    *, org_id: str, type: str, data: dict[str, Any], at: datetime, request_id: str | None = None
) -> OutboxEvent:
    """Insert the event in the caller's transaction; it is delivered only if that transaction commits."""
    event = OutboxEvent(org_id=org_id, request_id=request_id, type=type, created_at=at)
    event.body = json.dumps(
        {"id": event.id, "type": type, "createdAt": at.isoformat(), "orgId": org_id, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
    )
    insert(event)  # one per change: the INSERT built once per process
    transaction.on_commit(wakeup.work_waiting)
    return event


def active_endpoints(org_ids: set[str]) -> dict[str, list[WebhookEndpoint]]:
    """Each org's endpoints that receive events now (not deleted, not disabled)."""
    by_org: dict[str, list[WebhookEndpoint]] = defaultdict(list)
    rows = WebhookEndpoint.objects.filter(
        org_id__in=org_ids, deleted_at__isnull=True, disabled_at__isnull=True
    ).only("id", "org_id", "event_types")
    for endpoint in rows:
        by_org[endpoint.org_id].append(endpoint)
    return by_org


@dataclass(frozen=True)
class RelayResult:
    events: int  # events claimed (a batch this size means there may be more)
    delivery_ids: list[str]


def outbox_relay(*, limit: int = RELAY_BATCH, now: datetime | None = None) -> RelayResult:
    """Turn up to `limit` undispatched events into deliveries, one per matching active endpoint.

    Safe with several relays at once: on PostgreSQL each takes different rows (`SKIP LOCKED`); elsewhere
    each event is claimed by a conditional UPDATE, and the one whose row count is 0 leaves it alone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = (
            OutboxEvent.objects.filter(dispatched_at__isnull=True)
            .order_by("created_at", "id")
            .only("id", "org_id", "type")
        )
        if connection.features.has_select_for_update_skip_locked:
            events = list(pending.select_for_update(skip_locked=True)[:limit])
            if events:
                OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        else:
            events = [
                e
                for e in pending[:limit]
                if OutboxEvent.objects.filter(pk=e.pk, dispatched_at__isnull=True).update(dispatched_at=now)
                == 1
            ]
        if not events:
            return RelayResult(events=0, delivery_ids=[])
        endpoints = active_endpoints({e.org_id for e in events})
        deliveries = [
            Delivery(
                org_id=event.org_id,
                event_id=event.pk,
                endpoint_id=endpoint.pk,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
            for event in events
            for endpoint in endpoints.get(event.org_id, ())
            if endpoint.subscribes_to(event.type)
        ]
        Delivery.objects.bulk_create(deliveries)
    return RelayResult(events=len(events), delivery_ids=[d.pk for d in deliveries])


def outbox_drain(*, batch: int = RELAY_BATCH, clock: Callable[[], datetime] = timezone.now) -> int:
    """Relay until the outbox is empty, each batch at the time it runs. Returns the events relayed.

    The one drain loop: the Celery dispatch task and the embedded worker both run it.
    """
    total = 0
    while True:
        relayed = outbox_relay(limit=batch, now=clock()).events
        total += relayed
        if relayed < batch:  # a full batch means more rows may be waiting
            return total
