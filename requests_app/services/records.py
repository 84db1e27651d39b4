"""Entries other apps add to a request's timeline without changing it: an export job linked to the request
became READY, or its bundle was DELIVERED. The request's status and clock stay as they are, and no
`request.*` event is emitted (the app that records emits its own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from core.ids import new_id

from ..models import DataSubjectRequest, TimelineEntry
from ..timeline_chain import seal


def request_record(
    *, request_id: str, action: str, actor: str, notes: str, data: dict[str, Any], now: datetime
) -> TimelineEntry:
    """Append one sealed entry to the request's timeline, in the caller's transaction (or its own)."""
    with transaction.atomic():
        dsr = DataSubjectRequest.objects.select_for_update(of=("self",)).get(pk=request_id)
        last = TimelineEntry.objects.filter(request=dsr).order_by("-seq").first()
        entry = TimelineEntry(
            id=new_id("tle"),
            request=dsr,
            org_id=dsr.org_id,
            seq=(last.seq + 1) if last else 1,
            # Never before the latest entry: the chain (and the clock) read the timeline in order.
            at=max(now, last.at) if last else now,
            recorded_at=now,
            actor=actor,
            action=action,
            from_status=dsr.status,
            to_status=dsr.status,
            notes=notes,
            data=data,
        )
        seal(entry, last)
        entry.save(force_insert=True)
    return entry
