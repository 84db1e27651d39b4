"""Replay: new deliveries of an event already sent (same id, same bytes), to one endpoint or all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core import wakeup
from core.api import Conflict, NotFound
from core.models import Org

from ..models import Delivery, DeliveryStatus, OutboxEvent, WebhookEndpoint
from .outbox import active_endpoints


@dataclass(frozen=True)
class ReplayResult:
    event: OutboxEvent
    deliveries: list[Delivery] = field(default_factory=list)


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
    event's type (409 `conflict`).
    """
    now = now or timezone.now()
    event = OutboxEvent.objects.filter(org=org, request_id=request_id, pk=event_id).first()
    if event is None:
        raise NotFound("No such event for this request.")
    if endpoint_id is not None:
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
        endpoints = [endpoint]
    else:
        endpoints = [e for e in active_endpoints({org.pk}).get(org.pk, []) if e.subscribes_to(event.type)]
        if not endpoints:
            raise Conflict(f"No active webhook endpoint subscribes to {event.type}.")
    with transaction.atomic():
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
                endpoint_id=endpoint.pk,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
                replay_of_id=latest.get(endpoint.pk),
                actor=actor,
            )
            for endpoint in endpoints
        ]
        Delivery.objects.bulk_create(deliveries)
        transaction.on_commit(wakeup.work_waiting)
    return ReplayResult(event=event, deliveries=deliveries)
