from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q

import clocks

from .clock import zone
from .models import ACTIVE, OPEN
from .search import email_matches, text_matches


@functools.cache
def _pack_zones() -> frozenset[str]:
    return frozenset(pack.timezone for pack in clocks.list_packs())


def _zones_in_use(extra: str = "") -> set[str]:
    return set(_pack_zones()) | ({extra} if extra else set())


@dataclass(frozen=True)
class DueWindow:
    """Where `due_within` draws its lines, as of one instant. Every request due by `first` is inside (due by
    the earliest zone's window end: inside in every zone); one due later is inside when due by the window
    end of its own zone's local date (`groups`: window end and zones, for the zones whose today is later);
    none due after `last` is."""

    first: date
    groups: tuple[tuple[date, tuple[str, ...]], ...]
    last: date


def due_window(days: int, *, now: datetime, org_zone: str = "") -> DueWindow:
    by_date: dict = defaultdict(list)
    for name in _zones_in_use(org_zone):
        by_date[now.astimezone(zone(name)).date()].append(name)
    earliest, latest = min(by_date), max(by_date)
    ahead = timedelta(days=days)
    groups = tuple(
        (local_today + ahead, tuple(sorted(zones)))
        for local_today, zones in sorted(by_date.items())
        if local_today > earliest
    )
    return DueWindow(first=earliest + ahead, groups=groups, last=latest + ahead)


def due_window_q(window: DueWindow) -> Q:
    q = Q(clock_due_date__lte=window.first)
    for window_end, zones in window.groups:
        q |= Q(clock_timezone__in=zones, clock_due_date__lte=window_end)
    # The outer bound lets the database range-scan the due-date index before the per-zone check.
    return Q(status__in=ACTIVE, clock_due_date__lte=window.last) & q


def due_within(days: int, *, now: datetime, org_zone: str = "") -> Q:
    """Requests with a running deadline (a response, or an appeal's decision) due within `days` of today —
    today as the request's own zone sees it.

    At any instant the zones in use fall on at most three local dates, so this is a short OR of
    index-friendly ranges rather than a per-row time zone conversion (`DueWindow`).
    """
    return due_window_q(due_window(days, now=now, org_zone=org_zone))


def ack_overdue(now: datetime) -> Q:
    """Open requests owed an acknowledgement that did not come by the end of its local day."""
    return Q(status__in=OPEN, clock_acknowledged_at__isnull=True, clock_acknowledge_due_at__lt=now)


def ack_pending(now: datetime) -> Q:
    """Open requests owed an acknowledgement whose day has not yet ended."""
    return Q(status__in=OPEN, clock_acknowledged_at__isnull=True, clock_acknowledge_due_at__gte=now)


def request_filter(filters: Mapping[str, Any], *, now: datetime, org_zone: str = "") -> Q:
    """The queue's filters (`GET /v1/requests`, already validated), composed: every one given must hold."""
    q = Q()
    if (status := filters.get("status")) is not None:
        q &= Q(status=status)
    if (jurisdiction := filters.get("jurisdiction")) is not None:
        q &= Q(jurisdiction=jurisdiction)
    if (days := filters.get("atRiskDays")) is not None:
        q &= due_within(int(days), now=now, org_zone=org_zone)
    if (unacknowledged := filters.get("ackOverdue")) is not None:
        q &= ack_overdue(now) if unacknowledged else ~ack_overdue(now)
    if (text := filters.get("q")) is not None:
        q &= text_matches(text)
    if (email := filters.get("email")) is not None:
        q &= email_matches(email)
    return q
