"""Deadline sweeps: tell integrations once when a deadline is at risk or missed, and keep provisional clocks
current. Safe to run as often and from as many workers as you like (the embedded worker and Celery beat
both call `sweep_deadlines`).

Four notices, each emitted at most once per request and date, through `services.request_deadline_notice`
(one transaction: the conditional UPDATE that claims the notice, and the outbox row):
- `clock.at_risk` / `clock.overdue`: the running deadline (the response, or an appeal's decision) is due
  within the org's at-risk window / has passed;
- `clock.acknowledgement_at_risk` / `clock.acknowledgement_overdue`: an acknowledgement the law requires
  (CCPA's 10 business days) is due within `ACK_AT_RISK_DAYS` / has not come by the end of its day.

Only RUNNING clocks are judged for the response: a paused or not-yet-started clock does not move towards
its deadline (its provisional due date moves forward daily: `_refresh_provisional`), and a stopped one is
over. The acknowledgement deadline never pauses, so it is judged in every open state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from core.models import Org

from .filters import ack_overdue
from .models import ACTIVE, OPEN, ClockState, DataSubjectRequest
from .services import request_clock_refresh, request_deadline_notice

log = logging.getLogger(__name__)

# An acknowledgement is due in days, not weeks: warn two local days ahead.
ACK_AT_RISK_DAYS = 2


@dataclass
class SweepResult:
    at_risk: list[str] = field(default_factory=list)  # event ids emitted
    overdue: list[str] = field(default_factory=list)
    acknowledgement_at_risk: list[str] = field(default_factory=list)
    acknowledgement_overdue: list[str] = field(default_factory=list)
    refreshed: int = 0


def sweep_deadlines(*, now: datetime | None = None, batch: int = 500) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    result.overdue = _sweep_overdue(now=now, batch=batch)
    result.at_risk = _sweep_at_risk(now=now, batch=batch)
    result.acknowledgement_overdue = _sweep_ack_overdue(now=now, batch=batch)
    result.acknowledgement_at_risk = _sweep_ack_at_risk(now=now, batch=batch)
    result.refreshed = _refresh_provisional(now=now, batch=batch)
    return result


def _not_notified(column: str, against: str) -> Q:
    # SQL "column IS DISTINCT FROM against", spelt portably.
    return Q(**{f"{column}__isnull": True}) | ~Q(**{column: F(against)})


def _running() -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(status__in=ACTIVE, clock_state=ClockState.RUNNING)


def _pages(qs: QuerySet[DataSubjectRequest], fields: tuple[str, ...], batch: int) -> Iterator[tuple]:
    """Rows of `qs` by id, a batch at a time (each row's notice is its own transaction)."""
    last_id = ""
    while True:
        rows = list(qs.filter(pk__gt=last_id).order_by("pk").values_list("pk", *fields)[:batch])
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1][0]


def _sweep_overdue(*, now: datetime, batch: int) -> list[str]:
    emitted: list[str] = []
    due_rows = _running().filter(
        _not_notified("overdue_notified_for", "clock_due_date"), clock_due_at__lt=now
    )
    for request_id, due in _pages(due_rows, ("clock_due_date",), batch):
        # A request that is already overdue is past "at risk" too, so that one is not sent after.
        event_id = request_deadline_notice(
            request_id=request_id,
            event_type="clock.overdue",
            claim=_running()
            .filter(clock_due_date=due, clock_due_at__lt=now)
            .exclude(overdue_notified_for=due),
            mark={"overdue_notified_for": due, "at_risk_notified_for": due},
            now=now,
        )
        if event_id:
            emitted.append(event_id)
    return emitted


def _sweep_at_risk(*, now: datetime, batch: int) -> list[str]:
    max_days = Org.objects.aggregate(m=Max("at_risk_days"))["m"]
    if max_days is None:
        return []
    # A zone's local date is at most a day ahead of UTC's; the exact test per row is in Python below.
    horizon = now.date() + timedelta(days=max_days + 1)
    emitted: list[str] = []
    # Already overdue: the overdue pass owns it (and marks at-risk as told, so it never comes late).
    rows = _running().filter(
        _not_notified("at_risk_notified_for", "clock_due_date"),
        clock_due_date__lte=horizon,
        clock_due_at__gte=now,
    )
    fields = ("clock_due_date", "clock_timezone", "org__at_risk_days")
    for request_id, due, zone, at_risk_days in _pages(rows, fields, batch):
        if (due - now.astimezone(ZoneInfo(zone)).date()).days > at_risk_days:
            continue
        event_id = request_deadline_notice(
            request_id=request_id,
            event_type="clock.at_risk",
            claim=_running()
            .filter(clock_due_date=due, clock_due_at__gte=now)
            .exclude(at_risk_notified_for=due),
            mark={"at_risk_notified_for": due},
            now=now,
        )
        if event_id:
            emitted.append(event_id)
    return emitted


def _owed_acknowledgement() -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(
        status__in=OPEN, clock_acknowledged_at__isnull=True, clock_acknowledge_by__isnull=False
    )


def _sweep_ack_overdue(*, now: datetime, batch: int) -> list[str]:
    emitted: list[str] = []
    rows = DataSubjectRequest.objects.filter(
        ack_overdue(now), _not_notified("ack_overdue_notified_for", "clock_acknowledge_by")
    )
    for request_id, ack_by in _pages(rows, ("clock_acknowledge_by",), batch):
        event_id = request_deadline_notice(
            request_id=request_id,
            event_type="clock.acknowledgement_overdue",
            claim=DataSubjectRequest.objects.filter(ack_overdue(now), clock_acknowledge_by=ack_by).exclude(
                ack_overdue_notified_for=ack_by
            ),
            mark={"ack_overdue_notified_for": ack_by, "ack_at_risk_notified_for": ack_by},
            now=now,
        )
        if event_id:
            emitted.append(event_id)
    return emitted


def _sweep_ack_at_risk(*, now: datetime, batch: int) -> list[str]:
    emitted: list[str] = []
    horizon = now.date() + timedelta(days=ACK_AT_RISK_DAYS + 1)
    rows = _owed_acknowledgement().filter(
        _not_notified("ack_at_risk_notified_for", "clock_acknowledge_by"),
        clock_acknowledge_by__lte=horizon,
        clock_acknowledge_due_at__gte=now,
    )
    for request_id, ack_by, zone in _pages(rows, ("clock_acknowledge_by", "clock_timezone"), batch):
        if (ack_by - now.astimezone(ZoneInfo(zone)).date()).days > ACK_AT_RISK_DAYS:
            continue
        event_id = request_deadline_notice(
            request_id=request_id,
            event_type="clock.acknowledgement_at_risk",
            claim=_owed_acknowledgement()
            .filter(clock_acknowledge_by=ack_by, clock_acknowledge_due_at__gte=now)
            .exclude(ack_at_risk_notified_for=ack_by),
            mark={"ack_at_risk_notified_for": ack_by},
            now=now,
        )
        if event_id:
            emitted.append(event_id)
    return emitted


def _refresh_provisional(*, now: datetime, batch: int) -> int:
    """Paused and awaiting clocks have a due date that moves with each new local day: recompute daily."""
    refreshed = 0
    rows = DataSubjectRequest.objects.filter(
        status__in=OPEN,
        clock_state__in=[ClockState.PAUSED, ClockState.AWAITING_START],
        clock_computed_at__lt=now,
    )
    for request_id, zone, computed_at in _pages(rows, ("clock_timezone", "clock_computed_at"), batch):
        tz = ZoneInfo(zone)
        if computed_at.astimezone(tz).date() >= now.astimezone(tz).date():
            continue
        try:
            request_clock_refresh(request_id=request_id, now=now)
            refreshed += 1
        except Exception:
            log.exception("Clock refresh failed for %s", request_id)
    return refreshed
