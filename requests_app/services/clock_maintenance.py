"""The clock between actions: recomputed without a new fact (the daily refresh), under a new pack version
(on purpose, logged), and the once-only deadline notices the sweeps send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

import clocks
from core.models import Org
from notifications.services import event_emit

from ..clock import CLOCK_FIELDS, compute_clock, store_clock
from ..models import DataSubjectRequest, TimelineEntry
from ..resources import request_resource
from .machinery import ActionResult, Change, request_action


def request_clock_refresh(*, request_id: str, now: datetime | None = None) -> clocks.ClockResult:
    """Recompute a request's clock columns as of `now` (no new fact, so no timeline entry).

    Open pauses and awaited restarts have a provisional due date that moves with each new day; the sweep
    calls this so the queue's columns follow.
    """
    now = now or timezone.now()
    with transaction.atomic():
        dsr = (
            DataSubjectRequest.objects.select_for_update(of=("self",))
            .select_related("org")
            .get(pk=request_id)
        )
        entries = list(TimelineEntry.objects.filter(request=dsr).order_by("seq"))
        result = compute_clock(dsr, entries, now=now)
        store_clock(dsr, result)
        dsr.save(update_fields=CLOCK_FIELDS)
    return result


def request_clock_upgrade(
    *, org: Org, request_id: str, actor: str, now: datetime | None = None
) -> ActionResult | None:
    """Recompute a request under the current version of its policy pack — the one deliberate way a new
    pack version reaches an existing request. Logged on the timeline with both versions and due dates.
    Returns None when the request is already on the current version."""
    current: dict[str, clocks.PolicyPack] = {}

    def step(dsr: DataSubjectRequest, at: datetime, entries: list[TimelineEntry]) -> Change:
        pack = clocks.get_pack(dsr.jurisdiction)
        current["pack"] = pack
        return Change(
            event_type="request.clock_recomputed",
            data={
                "from": f"{dsr.clock_pack_id}@{dsr.clock_pack_version}",
                "to": f"{pack.id}@{pack.version}",
                "dueDateBefore": dsr.clock_due_date.isoformat(),
            },
        )

    dsr = DataSubjectRequest.objects.select_related("org").get(org=org, pk=request_id)
    latest = clocks.get_pack(dsr.jurisdiction)
    if (dsr.clock_pack_id, dsr.clock_pack_version) == (latest.id, latest.version):
        return None
    return request_action(
        org=org,
        request_id=request_id,
        actor=actor,
        action="clock.upgrade",
        step=step,
        now=now,
        pack_override=lambda: current["pack"],
    )


def request_deadline_notice(
    *,
    request_id: str,
    event_type: str,
    claim: QuerySet[DataSubjectRequest],
    mark: dict[str, Any],
    now: datetime,
) -> str | None:
    """Emit a deadline notice (`clock.*`) once: whoever's conditional UPDATE (`claim` narrowed to this
    request, setting `mark`) changes the row emits the event, in the same transaction. Returns its id, or
    None when another sweep got there first or the request no longer qualifies."""
    with transaction.atomic():
        if claim.filter(pk=request_id).update(**mark) != 1:
            return None
        dsr = DataSubjectRequest.objects.select_related("org", "authority_current").get(pk=request_id)
        event = event_emit(
            org_id=dsr.org_id,
            request_id=dsr.pk,
            type=event_type,
            at=now,
            data={"requestId": dsr.pk, "request": request_resource(dsr, now=now)},
        )
    return event.pk
