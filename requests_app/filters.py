from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
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


def due_within(days: int, *, now: datetime, org_zone: str = "") -> Q:
    """Requests with a running deadline (a response, or an appeal's decision) due within `days` of today —
    today as the request's own zone sees it.

    At any instant the zones in use fall on at most three local dates, so this is a short OR of
    index-friendly ranges rather than a per-row time zone conversion.
    """
    by_date: dict = defaultdict(list)
    for name in _zones_in_use(org_zone):
        by_date[now.astimezone(zone(name)).date()].append(name)
    earliest, latest = min(by_date), max(by_date)
    # Due by the earliest zone's window end: within the window in every zone, whatever the request's own.
    # Only the day or two between the zones' dates needs the request's zone checked.
    q = Q(clock_due_date__lte=earliest + timedelta(days=days))
    for local_today, zones in sorted(by_date.items()):
        if local_today > earliest:
            q |= Q(clock_timezone__in=sorted(zones), clock_due_date__lte=local_today + timedelta(days=days))
    # The outer bound lets the database range-scan the due-date index before the per-zone check.
    return Q(status__in=ACTIVE, clock_due_date__lte=latest + timedelta(days=days)) & q


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
