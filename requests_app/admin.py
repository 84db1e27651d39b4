"""The officer's queue and request page. Declarative and read-only: the record changes only through the
action forms (admin_views), each of which calls the same service as the API.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyOrgScopedAdmin

from . import services
from .admin_forms import ACTIONS
from .admin_views import action_view, can_act, deadline_label, deadlines, notification_rows, replay_view
from .clock import compute_clock
from .clock_picture import build_picture, explanation_view
from .models import OPEN, DataSubjectRequest, RequestType, Status, TimelineEntry

# --- queue filters ------------------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open (not closed or refused)")] + [
            (s.value, s.value.replace("_", " ").capitalize()) for s in Status
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "open":
            return queryset.filter(status__in=OPEN)
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

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(jurisdiction=self.value()) if self.value() else queryset


class AtRiskFilter(admin.SimpleListFilter):
    title = "deadline risk"
    parameter_name = "at_risk"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "At risk (due soon or overdue)"), ("no", "Not at risk (open, on time)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
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

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(deadlines(request).overdue)
        if self.value() == "no":
            return queryset.exclude(deadlines(request).overdue)
        return queryset


class RequestTypeFilter(admin.SimpleListFilter):
    title = "request type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t.value, t.value.replace("_", " ").capitalize()) for t in RequestType]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value not in RequestType.values:
            return queryset
        if connection.features.supports_json_field_contains:
            return queryset.filter(request_types__contains=[value])
        # SQLite has no JSON containment; the list is stored as JSON text, and no type name is a
        # substring of another once quoted, so the quoted token is an exact match.
        return queryset.filter(request_types__icontains=f'"{value}"')


# --- display helpers ----------------------------------------------------------------------------------------


def _when(value: datetime | None, zone: str) -> str:
    """Local time in the clock's zone, with UTC beside it: the law counts local days."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    utc = value.astimezone(ZoneInfo("UTC"))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone}) · {utc:%Y-%m-%d %H:%M} UTC"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyOrgScopedAdmin):
    # Deadline first: when the table is narrower than the screen, the contact is what scrolls off.
    list_display = ("id", "status", "due_date", "days_remaining", "jurisdiction", "types", "contact")
    list_filter = (
        StatusFilter,
        JurisdictionFilter,
        AtRiskFilter,
        OverdueFilter,
        RequestTypeFilter,
        "channel",
    )
    search_fields = ("id", "contact", "requestor_name", "requestor_email", "raw_text")
    list_select_related = ("org",)
    ordering = ("clock_due_date", "id")
    list_per_page = 50
    show_full_result_count = False
    fieldsets = (
        (
            "Request",
            {
                "fields": (
                    "id",
                    "status",
                    "deadline",
                    "jurisdiction",
                    "types",
                    "channel",
                    "contact",
                    "outcome_display",
                )
            },
        ),
        (
            "Intake (verbatim)",
            {"fields": ("raw_text_verbatim", "intake_received", "recorded", "source_evidence_display")},
        ),
        ("Requestor", {"fields": ("requestor_display",)}),
        ("Authority to act", {"fields": ("authority_requested", "authority_display")}),
        (
            "Identity verification",
            {"fields": ("verification_status", "verification_method", "verification_times")},
        ),
    )
    readonly_fields = (
        "id",
        "status",
        "deadline",
        "jurisdiction",
        "types",
        "channel",
        "contact",
        "outcome_display",
        "raw_text_verbatim",
        "intake_received",
        "recorded",
        "source_evidence_display",
        "requestor_display",
        "authority_requested",
        "authority_display",
        "verification_status",
        "verification_method",
        "verification_times",
    )

    # --- queue columns ---

    @admin.display(description="types")
    def types(self, obj: DataSubjectRequest) -> str:
        text = ", ".join(obj.request_types)
        return f"{text} (inferred)" if obj.request_types_inferred else text

    @admin.display(description="due date", ordering="clock_due_date")
    def due_date(self, obj: DataSubjectRequest) -> str:
        return obj.clock_due_date.isoformat()

    @admin.display(description="days remaining", ordering="clock_due_date")
    def days_remaining(self, obj: DataSubjectRequest) -> str:
        label = deadline_label(obj, now=timezone.now())
        return format_html('<span class="dsar-badge dsar-{}">{}</span>', label.tone, label.text)

    # --- request page fields ---

    @admin.display(description="deadline")
    def deadline(self, obj: DataSubjectRequest) -> str:
        label = deadline_label(obj, now=timezone.now())
        return format_html(
            '<span class="dsar-badge dsar-{}">{}</span> due {} (end of day, {}); clock {}',
            label.tone,
            label.text,
            obj.clock_due_date.isoformat(),
            obj.clock_timezone,
            obj.clock_state.replace("_", " ").lower(),
        )

    @admin.display(description="raw text, as received")
    def raw_text_verbatim(self, obj: DataSubjectRequest) -> str:
        return format_html('<pre class="dsar-verbatim">{}</pre>', obj.raw_text)

    @admin.display(description="received by the organisation (the clock starts here)")
    def intake_received(self, obj: DataSubjectRequest) -> str:
        return _when(obj.intake_received_at, obj.clock_timezone)

    @admin.display(description="recorded by this system")
    def recorded(self, obj: DataSubjectRequest) -> str:
        return _when(obj.received_at, obj.clock_timezone)

    @admin.display(description="source evidence")
    def source_evidence_display(self, obj: DataSubjectRequest) -> str:
        if not obj.source_evidence:
            return "—"
        return format_html_join(
            "",
            "<div><code>{}</code>: {}</div>",
            ((e.get("kind", "?"), e.get("value", "")) for e in obj.source_evidence),
        )

    @admin.display(description="requestor")
    def requestor_display(self, obj: DataSubjectRequest) -> str:
        requestor = obj.requestor or {}
        if not requestor:
            return "— (none recorded)"
        return format_html_join(
            "",
            "<div><strong>{}</strong>: {}</div>",
            ((k, requestor.get(k) or "—") for k in ("type", "name", "email", "relation")),
        )

    @admin.display(description="proof of authority requested")
    def authority_requested(self, obj: DataSubjectRequest) -> str:
        return _when(obj.authority_requested_at, obj.clock_timezone) if obj.authority_requested_at else "no"

    @admin.display(description="authority evidence")
    def authority_display(self, obj: DataSubjectRequest) -> str:
        submissions = list(obj.authority_submissions.order_by("submitted_at", "id"))
        if not submissions:
            return "— (none submitted)"
        rows = []
        for evidence in submissions:
            current = " (current)" if evidence.pk == obj.authority_current_id else ""
            artifacts = ", ".join(
                f"{a.get('kind')}: {a.get('uri') or a.get('description') or '(paper, no reference)'}"
                for a in evidence.evidence_artifacts
            )
            decided = (
                f"; decided {_when(evidence.decided_at, obj.clock_timezone)} by {evidence.decided_by}"
                f"{' — ' + evidence.decision_reason if evidence.decision_reason else ''}"
                if evidence.decided_at
                else ""
            )
            rows.append(
                (
                    evidence.status,
                    current,
                    _when(evidence.submitted_at, obj.clock_timezone),
                    artifacts,
                    decided,
                )
            )
        return format_html_join("", "<div><strong>{}</strong>{} submitted {}: {}{}</div>", rows)

    @admin.display(description="requested / received")
    def verification_times(self, obj: DataSubjectRequest) -> str:
        return format_html(
            "requested {} · received {}",
            _when(obj.verification_requested_at, obj.clock_timezone),
            _when(obj.verification_received_at, obj.clock_timezone),
        )

    @admin.display(description="outcome")
    def outcome_display(self, obj: DataSubjectRequest) -> str:
        if not obj.outcome:
            return "— (open)"
        return format_html('<pre class="dsar-verbatim">{}</pre>', _pretty(obj.outcome))

    # --- extra views ---

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        info = (self.opts.app_label, self.opts.model_name)
        # Before the stock patterns: their `<path:object_id>/` catch-all would swallow these.
        return [
            path(
                "<path:object_id>/act/<str:action>/",
                wrap(partial(action_view, self)),
                name="{}_{}_act".format(*info),
            ),
            path(
                "<path:object_id>/notifications/<str:event_id>/replay/",
                wrap(partial(replay_view, self)),
                name="{}_{}_replay".format(*info),
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: DataSubjectRequest | None = None,
    ) -> Any:
        if obj is not None:
            context.update(self._request_page(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _request_page(self, request: HttpRequest, obj: DataSubjectRequest) -> dict[str, Any]:
        now = timezone.now()
        entries = list(TimelineEntry.objects.filter(request=obj).order_by("seq"))
        result = compute_clock(obj, entries, now=now)
        acting = can_act(request)
        allowed = set(services.allowed_actions(obj)) if acting else set()
        return {
            "dsar_can_act": acting,
            "dsar_is_open": obj.status in OPEN,
            "dsar_actions": [
                {
                    "name": spec.name,
                    "label": spec.label,
                    "description": spec.description,
                    "danger": spec.danger,
                    "url": reverse(
                        "admin:requests_app_datasubjectrequest_act", args=[quote(obj.pk), spec.name]
                    ),
                }
                for spec in ACTIONS.values()
                if spec.name in allowed
            ],
            "dsar_clock": build_picture(result, now=now),
            "dsar_explanation": explanation_view(result),
            "dsar_timeline": [
                {
                    "seq": e.seq,
                    "at": _when(e.at, obj.clock_timezone),
                    "recorded_at": _when(e.recorded_at, obj.clock_timezone) if e.recorded_at != e.at else "",
                    "actor": e.actor,
                    "action": e.action,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "notes": e.notes,
                    "data": _pretty(e.data) if e.data else "",
                }
                for e in entries
            ],
            "dsar_notifications": notification_rows(obj, with_replay=acting),
        }
