"""Webhook endpoints: registration, changes, secret rotation and deletion. Every query starts from the org."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.api import NotFound, ValidationFailed
from core.models import Org

from .. import conf, netguard, signing
from ..models import WebhookEndpoint
from .delivery import deliveries_bury
from .outbox import ALL_EVENTS, EVENT_TYPES


def _event_types(event_types: list[str]) -> list[str]:
    types = list(dict.fromkeys(event_types))
    if not types:
        raise ValidationFailed.field("eventTypes", 'At least one event type, or ["*"] for all.')
    for index, name in enumerate(types):
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise ValidationFailed.field(f"eventTypes.{index}", f"Unknown event type {name!r}.")
    return [ALL_EVENTS] if ALL_EVENTS in types else types


def _url(url: str) -> str:
    try:
        # Checked here and again before every attempt; the URL is stored as given.
        netguard.url_check(url, allow_private=conf.allow_private_networks())
    except netguard.UnsafeUrl as exc:
        raise ValidationFailed.field("url", str(exc)) from None
    return url.strip()


def endpoint_create(
    *,
    org: Org,
    url: str,
    event_types: list[str],
    description: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Register a receiver. The returned row carries the `whsec_` secret: show it once, never again."""
    now = now or timezone.now()
    url = _url(url)
    types = _event_types(event_types)
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            org=org,
            url=url,
            event_types=types,
            description=description,
            secret=signing.secret_generate(),
            created_at=now,
            created_by=actor,
        )


def endpoint_delete(*, org: Org, endpoint_id: str, actor: str = "", now: datetime | None = None) -> None:
    """Soft delete: the row stays for the delivery history; deliveries not yet sent end as DEAD."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(org=org, pk=endpoint_id, deleted_at__isnull=True).update(
            deleted_at=now, deleted_by=actor
        )
        if updated != 1:
            raise NotFound("No such webhook endpoint in this organisation.")
        deliveries_bury(
            endpoint_id=endpoint_id, reason="The endpoint was deleted before this delivery was sent."
        )
