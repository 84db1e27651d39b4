"""Reads. Every query starts from the caller's org: another org's ids are simply not found."""

from __future__ import annotations

from django.db.models import Prefetch

from core.models import Org

from .models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint


def endpoint_list(*, org: Org) -> list[WebhookEndpoint]:
    """Live endpoints (disabled ones included, so a 410 is visible); deleted ones are gone from the API."""
    return list(WebhookEndpoint.objects.filter(org=org, deleted_at__isnull=True).order_by("created_at", "id"))


def notification_history(*, org: Org, request_id: str) -> list[OutboxEvent]:
    """A request's events, oldest first, each with its deliveries (replays included) and their attempts.

    `request_id` is the primary key of a request the caller has already found in `org`. Three queries
    whatever the size: the events, the deliveries, the attempts.
    """
    attempts = Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number", "id"))
    deliveries = Prefetch(
        "deliveries",
        queryset=Delivery.objects.filter(org=org).order_by("created_at", "id").prefetch_related(attempts),
    )
    return list(
        OutboxEvent.objects.filter(org=org, request_id=request_id)
        .order_by("created_at", "id")
        .prefetch_related(deliveries)
    )
