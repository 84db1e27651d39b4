"""The contract's shapes for endpoints, events and deliveries (API, admin and replay answers)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .models import Delivery, DeliveryAttempt, DeliveryStatus, EndpointStatus, OutboxEvent, WebhookEndpoint

# The API speaks PENDING | DELIVERED | FAILED | DEAD; a delivery in a worker's hands is still pending.
_API_STATUS: dict[str, str] = {DeliveryStatus.DELIVERING: DeliveryStatus.PENDING}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def endpoint_resource(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    """The contract's endpoint (`id` … `createdAt`, and `secret` when `with_secret`: only in the answers
    that create or rotate it), and beside it what an integrator needs to see why nothing arrives:
    when it last changed, its rotation, and its circuit breaker (`backoffUntil` is null when closed)."""
    out: dict[str, Any] = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "eventTypes": list(endpoint.event_types),
        "description": endpoint.description,
        "status": EndpointStatus.ACTIVE if endpoint.disabled_at is None else EndpointStatus.DISABLED,
        "disabledAt": _iso(endpoint.disabled_at),
        "disabledReason": endpoint.disabled_reason or None,
        "createdAt": _iso(endpoint.created_at),
        "updatedAt": _iso(endpoint.updated_at),
        "secretRotatedAt": _iso(endpoint.secret_rotated_at),
        "previousSecretExpiresAt": _iso(endpoint.previous_secret_expires_at),
        "consecutiveFailures": endpoint.consecutive_failures,
        "backoffUntil": _iso(endpoint.backoff_until),
    }
    if with_secret:
        out["secret"] = endpoint.secret
    return out


def attempt_resource(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "attemptedAt": _iso(attempt.attempted_at),
        "responseCode": attempt.response_code,
        "latencyMs": attempt.latency_ms,
        "error": attempt.error or None,
        "webhookTimestamp": attempt.webhook_timestamp,
    }


def delivery_resource(delivery: Delivery, *, with_attempts: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": delivery.pk,
        "endpointId": delivery.endpoint_id,
        "status": _API_STATUS.get(delivery.status, delivery.status),
        "attempt": delivery.attempt,
        "responseCode": delivery.last_response_code,
        "attemptedAt": _iso(delivery.last_attempted_at),
        "latencyMs": delivery.last_latency_ms,
        "error": delivery.last_error or None,
        "createdAt": _iso(delivery.created_at),
        "nextAttemptAt": _iso(delivery.next_attempt_at),
        "deliveredAt": _iso(delivery.delivered_at),
        "replayOf": delivery.replay_of_id,
    }
    if with_attempts:
        out["attempts"] = [attempt_resource(a) for a in delivery.attempts.all()]
    return out


def event_resource(event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "type": event.type,
        "createdAt": _iso(event.created_at),
        "payload": json.loads(event.body),
    }
