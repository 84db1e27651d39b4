"""The workspace's deadline arithmetic in SQL, and the home page's dashboard.

`deadlines(request)` computes, once per admin request, the conditions for every bucket (on time, due
soon, overdue; acknowledgement overdue or due soon), so that the dashboard's numbers and the queue's
filters they link to always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

import clocks
from core.admin import admin_orgs
from core.models import Org

from ..clock import zone
from ..filters import ack_overdue, ack_pending, due_within
from ..models import ACTIVE, Status
from .presenters import status_words

CHANGELIST = "admin:requests_app_datasubjectrequest_changelist"
# "Acknowledgement due soon" on the dashboard: owed within this many days (local days, as the law counts).
ACK_SOON_DAYS = 2


def _by_local_date(now: datetime, zones: Iterable[str]) -> dict[date, list[str]]:
    by_date: dict[date, list[str]] = defaultdict(list)
    for name in sorted(set(zones)):
        by_date[now.astimezone(zone(name)).date()].append(name)
    return by_date


def ack_due_within(days: int, *, now: datetime, zones: Iterable[str]) -> Q:
    """Owed, not yet overdue, and due by the end of the local day `days` from today (each zone's today)."""
    q = Q(pk__in=[])
    for local_today, names in _by_local_date(now, zones).items():
        q |= Q(clock_timezone__in=names, clock_acknowledge_by__lte=local_today + timedelta(days=days))
    return ack_pending(now) & q


@dataclass(frozen=True)
class Deadlines:
    """SQL conditions for the buckets, as the API's `atRiskDays` filter computes them (running deadlines).

    `at_risk` includes overdue requests, as the contract's `atRisk` does; "due soon" is at risk, not overdue.
    """

    now: datetime
    at_risk: Q
    overdue: Q
    ack_overdue: Q
    ack_due_soon: Q

    @property
    def due_soon(self) -> Q:
        return self.at_risk & ~self.overdue

    @property
    def on_time(self) -> Q:
        return Q(status__in=ACTIVE) & ~self.at_risk


def deadlines(request: HttpRequest) -> Deadlines:
    """Computed once per admin request, so the dashboard and every filter agree on "now"."""
    cached = getattr(request, "_dsar_deadlines", None)
    if cached is not None:
        return cached
    now = timezone.now()
    orgs = admin_orgs(request)
    if orgs is None:  # a superuser without an org: each org keeps its own at-risk window and zone
        orgs = list(Org.objects.all())
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    for org in orgs:
        groups[(org.at_risk_days, org.timezone_override)].append(org.pk)
    at_risk, overdue = Q(pk__in=[]), Q(pk__in=[])
    for (days, org_zone), org_ids in groups.items():
        scope = Q() if len(groups) == 1 else Q(org_id__in=org_ids)
        at_risk |= scope & due_within(days, now=now, org_zone=org_zone)
        # Overdue: the due date is before today (local), i.e. "due within -1 days".
        overdue |= scope & due_within(-1, now=now, org_zone=org_zone)
    zones = {pack.timezone for pack in clocks.list_packs()} | {org_zone for _, org_zone in groups if org_zone}
    result = Deadlines(
        now=now,
        at_risk=at_risk,
        overdue=overdue,
        ack_overdue=ack_overdue(now),
        ack_due_soon=ack_due_within(ACK_SOON_DAYS, now=now, zones=zones),
    )
    request._dsar_deadlines = result  # type: ignore[attr-defined]
    return result


def changelist_url(**params: str) -> str:
    return reverse(CHANGELIST) + "?" + urlencode(params)


# The queue's filter parameters for each bucket: a dashboard number opens exactly those requests.
BUCKETS: dict[str, dict[str, str]] = {
    "on_time": {"at_risk": "no"},
    "due_soon": {"at_risk": "yes", "overdue": "no"},
    "overdue": {"overdue": "yes"},
    "total": {},
}
ACK_BUCKETS: dict[str, dict[str, str]] = {
    "ack_overdue": {"ack": "overdue"},
    "ack_due_soon": {"ack": "due_soon"},
}


def dashboard(request: HttpRequest, queryset: QuerySet[Any]) -> dict[str, Any]:
    """Requests with a running deadline on time / due soon / overdue, by status and by jurisdiction, and
    acknowledgements overdue or due within two days; each number links to the queue showing them.

    Three queries: two grouped, one aggregate. The links use the very filters the queue applies.
    """
    d = deadlines(request)
    counts = {
        "on_time": Count("pk", filter=d.on_time),
        "due_soon": Count("pk", filter=d.due_soon),
        "overdue": Count("pk", filter=d.overdue),
        "total": Count("pk"),
    }
    running = queryset.filter(status__in=ACTIVE).order_by()

    def rows(group_field: str, param: str, extra: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for row in running.values(group_field).annotate(**counts).order_by(group_field):
            key = row[group_field]
            out.append(
                {
                    "key": key,
                    "label": status_words(key) if group_field == "status" else key,
                    "cells": [
                        {
                            "bucket": bucket,
                            "count": row[bucket],
                            "url": changelist_url(**{param: key, **extra, **params}),
                        }
                        for bucket, params in BUCKETS.items()
                    ],
                }
            )
        return out

    by_status = rows("status", "status", {})
    order = [s.value for s in Status]  # the lifecycle's order, not the alphabet's
    by_status.sort(key=lambda r: order.index(r["key"]))
    by_jurisdiction = rows("jurisdiction", "jurisdiction", {"status": "open"})
    totals = running.aggregate(
        **counts,
        ack_overdue=Count("pk", filter=d.ack_overdue),
        ack_due_soon=Count("pk", filter=d.ack_due_soon),
    )
    return {
        "by_status": by_status,
        "by_jurisdiction": by_jurisdiction,
        "totals": [
            {"bucket": bucket, "count": totals[bucket], "url": changelist_url(status="open", **params)}
            for bucket, params in BUCKETS.items()
        ],
        "acknowledgements": [
            {
                "bucket": bucket,
                "label": "Overdue" if bucket == "ack_overdue" else f"Due within {ACK_SOON_DAYS} days",
                "count": totals[bucket],
                "url": changelist_url(**params),
            }
            for bucket, params in ACK_BUCKETS.items()
        ],
        "at_risk_days": _at_risk_days(request),
        "ack_soon_days": ACK_SOON_DAYS,
    }


def _at_risk_days(request: HttpRequest) -> str:
    orgs = admin_orgs(request)
    if orgs:
        return str(orgs[0].at_risk_days)
    return "each organisation's"
