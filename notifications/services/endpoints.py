"""Webhook endpoints: registration, changes, secret rotation and deletion. Every query starts from the org.

The rules are here once, for the API and the admin alike:

- a URL is `https` unless the installation allows private networks (payloads carry personal data), its
  host resolves now, and to addresses `netguard` allows;
- an org has at most DSAR_WEBHOOK_MAX_ENDPOINTS live (not deleted) endpoints;
- disabling buries the deliveries not yet sent; re-enabling closes the circuit breaker;
- a rotation keeps the previous secret signing beside the new one for DSAR_WEBHOOK_ROTATION_OVERLAP_HOURS.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.api import Conflict, NotFound, ValidationFailed
from core.models import Org

from .. import conf, netguard, signing
from ..models import EndpointStatus, WebhookEndpoint
from .delivery import deliveries_bury
from .outbox import ALL_EVENTS, EVENT_TYPES

log = logging.getLogger("notifications.endpoints")

HTTPS_REQUIRED = (
    "Must be an https URL: webhook payloads carry personal data. (http is accepted only where "
    "DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS is set, for local development.)"
)


def _event_types(event_types: list[str]) -> list[str]:
    types = list(dict.fromkeys(event_types))
    if not types:
        raise ValidationFailed.field("eventTypes", 'At least one event type, or ["*"] for all.')
    for index, name in enumerate(types):
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise ValidationFailed.field(f"eventTypes.{index}", f"Unknown event type {name!r}.")
    return [ALL_EVENTS] if ALL_EVENTS in types else types


def _url(url: str) -> str:
    """The registration check (DNS included: call it outside any transaction). Each attempt checks the
    addresses again before sending, since DNS can change in between."""
    allow_private = conf.allow_private_networks()
    try:
        target = netguard.url_parse(url)
        if target.scheme != "https" and not allow_private:
            raise ValidationFailed.field("url", HTTPS_REQUIRED)
        # A host that does not resolve now is most likely a typo: refused here, unlike at send time.
        netguard.url_check(url, allow_private=allow_private, require_resolvable=True)
    except netguard.UnsafeUrl as exc:
        raise ValidationFailed.field("url", str(exc)) from None
    return url.strip()


def _lock(org: Org, endpoint_id: str) -> WebhookEndpoint:
    """The live endpoint, locked until the transaction ends; deleted and other orgs' ones are not found."""
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(org=org, pk=endpoint_id, deleted_at__isnull=True)
        .first()
    )
    if endpoint is None:
        raise NotFound("No such webhook endpoint in this organisation.")
    return endpoint


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
    limit = conf.max_endpoints()
    with transaction.atomic():
        # The org's row is the lock: two registrations at once count one after the other (on SQLite the
        # IMMEDIATE transaction already serialises them).
        Org.objects.select_for_update().only("pk").get(pk=org.pk)
        live = WebhookEndpoint.objects.filter(org=org, deleted_at__isnull=True).count()
        if live >= limit:
            raise Conflict(
                f"This organisation already has {live} webhook endpoints, the most allowed "
                f"(DSAR_WEBHOOK_MAX_ENDPOINTS = {limit}). Delete one before registering another."
            )
        return WebhookEndpoint.objects.create(
            org=org,
            url=url,
            event_types=types,
            description=description,
            secret=signing.secret_generate(),
            created_at=now,
            created_by=actor,
        )


def endpoint_update(
    *,
    org: Org,
    endpoint_id: str,
    actor: str,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: keep). `status` DISABLED disables the endpoint and buries its deliveries
    not yet sent; ACTIVE re-enables a disabled one (after a 410 too) with its circuit breaker closed.

    A new URL is a new receiver: the previous one's run of failures no longer says anything, so the
    breaker closes too. Already in the asked status, the status is left as it is (a 410's reason stays).
    """
    now = now or timezone.now()
    if status is not None and status not in EndpointStatus.values:
        raise ValidationFailed.field("status", f"Must be one of {', '.join(EndpointStatus.values)}.")
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = _url(url)
    if event_types is not None:
        changes["event_types"] = _event_types(event_types)
    if description is not None:
        changes["description"] = description
    breaker_closed = {"consecutive_failures": 0, "backoff_until": None, "backoff_trips": 0}
    with transaction.atomic():
        endpoint = _lock(org, endpoint_id)
        if "url" in changes and changes["url"] != endpoint.url:
            changes.update(breaker_closed)
        bury = False
        if status == EndpointStatus.DISABLED and endpoint.disabled_at is None:
            changes.update(disabled_at=now, disabled_reason=f"Disabled by {actor}.")
            bury = True
        elif status == EndpointStatus.ACTIVE and endpoint.disabled_at is not None:
            changes.update(disabled_at=None, disabled_reason="", **breaker_closed)
        changes["updated_at"] = now
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=list(changes))
        if bury:
            deliveries_bury(endpoint_id=endpoint.pk, reason=f"Disabled by {actor} before this was sent.")
    log.info("Webhook endpoint %s changed by %s: %s.", endpoint.pk, actor, ", ".join(sorted(changes)))
    return endpoint


def endpoint_rotate_secret(
    *, org: Org, endpoint_id: str, actor: str, now: datetime | None = None
) -> WebhookEndpoint:
    """A new signing secret (returned once, like at registration). The current one becomes the previous
    one and keeps signing beside it for `conf.rotation_overlap()`, so receivers can switch over without
    dropping a delivery. Rotating again within the overlap drops the older secret at once."""
    now = now or timezone.now()
    with transaction.atomic():
        endpoint = _lock(org, endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = expires = now + conf.rotation_overlap()
        endpoint.secret = signing.secret_generate()
        endpoint.secret_rotated_at = now
        endpoint.updated_at = now
        endpoint.save(
            update_fields=[
                "previous_secret",
                "previous_secret_expires_at",
                "secret",
                "secret_rotated_at",
                "updated_at",
            ]
        )
    # Never the secrets themselves: only that a rotation happened, and the end of the overlap.
    log.info(
        "Webhook endpoint %s secret rotated by %s; the previous one signs too until %s.",
        endpoint.pk,
        actor,
        expires.isoformat(timespec="seconds"),
    )
    return endpoint


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
