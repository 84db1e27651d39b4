"""Outbox writes. Delivery, retries and replay build on these rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from .models import OutboxEvent


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
    event.save(force_insert=True)
    return event
