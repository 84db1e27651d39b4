from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime, timedelta

import django_filters
from django.db.models import Q, QuerySet

import clocks

from .clock import zone
from .models import ACTIVE, OPEN, DataSubjectRequest
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


class RequestFilter(django_filters.FilterSet):
    status = django_filters.CharFilter(field_name="status")
    jurisdiction = django_filters.CharFilter(field_name="jurisdiction")
    atRiskDays = django_filters.NumberFilter(method="filter_at_risk")
    ackOverdue = django_filters.BooleanFilter(method="filter_ack_overdue")
    q = django_filters.CharFilter(method="filter_text")
    email = django_filters.CharFilter(method="filter_email")

    class Meta:
        model = DataSubjectRequest
        fields = ["status", "jurisdiction"]

    def __init__(self, *args, now: datetime, org_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        self.org_zone = org_zone

    def get_form_class(self):
        # The form is built from the declared filters alone, the same for every call: build it once.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_at_risk(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset.filter(due_within(int(value), now=self.now, org_zone=self.org_zone))

    def filter_ack_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        overdue = ack_overdue(self.now)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(text_matches(value))

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(email_matches(value))
