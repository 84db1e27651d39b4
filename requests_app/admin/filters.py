"""The queue's list filters. The deadline buckets come from `dashboard.deadlines`, so a number on the
dashboard and the queue it links to always agree."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from ..filters import ack_pending
from ..models import ACTIVE, RequestType, Status
from .dashboard import ACK_SOON_DAYS, deadlines
from .presenters import status_words, type_words


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open or appealed (a deadline is running)")] + [
            (s.value, status_words(s.value)) for s in Status
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "open":
            return queryset.filter(status__in=ACTIVE)
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset


class JurisdictionFilter(admin.SimpleListFilter):
    title = "jurisdiction"
    parameter_name = "jurisdiction"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Only the codes this org actually has, from the scoped queryset.
        codes = (
            model_admin.get_queryset(request).order_by("jurisdiction").values_list("jurisdiction", flat=True)
        )
        return [(code, code) for code in codes.distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(jurisdiction=self.value()) if self.value() else queryset


class AtRiskFilter(admin.SimpleListFilter):
    title = "deadline risk"
    parameter_name = "at_risk"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "At risk (due soon or overdue)"), ("no", "Not at risk (running, on time)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deadlines(request).at_risk)
        if self.value() == "no":
            return queryset.filter(deadlines(request).on_time)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue state"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deadlines(request).overdue)
        if self.value() == "no":
            return queryset.exclude(deadlines(request).overdue)
        return queryset


class AcknowledgementFilter(admin.SimpleListFilter):
    """Where the law asks for a confirmation of receipt (CCPA: 10 business days): is it overdue, owed,
    done, or not asked for at all?"""

    title = "acknowledgement"
    parameter_name = "ack"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", "Overdue"),
            ("due_soon", f"Due within {ACK_SOON_DAYS} days"),
            ("due", "Due (not yet overdue)"),
            ("done", "Done"),
            ("not_required", "Not required"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        d = deadlines(request)
        if value == "overdue":
            return queryset.filter(d.ack_overdue)
        if value == "due_soon":
            return queryset.filter(d.ack_due_soon)
        if value == "due":
            return queryset.filter(ack_pending(d.now))
        if value == "done":
            return queryset.filter(clock_acknowledge_by__isnull=False, clock_acknowledged_at__isnull=False)
        if value == "not_required":
            return queryset.filter(clock_acknowledge_by__isnull=True)
        return queryset


class RequestTypeFilter(admin.SimpleListFilter):
    title = "request type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t.value, type_words(t.value)) for t in RequestType]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in RequestType.values:
            return queryset
        if connection.features.supports_json_field_contains:
            return queryset.filter(request_types__contains=[value])
        # SQLite has no JSON containment; the list is stored as JSON text, and no type name is a
        # substring of another once quoted, so the quoted token is an exact match.
        return queryset.filter(Q(request_types__icontains=f'"{value}"'))
