"""The officers' workspace: the queue and the request page, registered here; the rest of the package does
the work.

- `filters`: the queue's list filters;
- `actions`: one form per lifecycle action and the table tying each to its service (the API's);
- `views`: the action and replay views, and what the request page shows;
- `dashboard`: the deadline buckets in SQL and the home page's counts;
- `presenters`: everything that turns values into words, with the workspace's one date formatter;
- `correspondence`: the request's messages to the subject, "Send again" and "Write to the subject".

Declarative and read-only: the record changes only through the action forms, each of which calls the same
service as the API.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyOrgScopedAdmin

from ..models import DataSubjectRequest
from ..search import officer_matches
from .correspondence import correspondence_context, resend_view, write_view
from .filters import (
    AcknowledgementFilter,
    AtRiskFilter,
    JurisdictionFilter,
    OverdueFilter,
    RequestTypeFilter,
    StatusFilter,
)
from .presenters import (
    CHANNEL_WORDS,
    NOTHING,
    acknowledgement_badge,
    appeal_sentence,
    deadline_label,
    deadline_words,
    format_day,
    format_when,
    outcome_sentence,
    requestor_words,
    status_words,
    subject_name,
    types_words,
)
from .views import action_view, replay_view, request_page

# The product, not the framework: every admin page says "DSAR Core" (templates/admin/base_site.html too).
admin.site.site_header = "DSAR Core"
admin.site.site_title = "DSAR Core"
admin.site.index_title = "Workspace"
admin.site.site_url = None  # "View site" would only lead back here (`/` redirects to the workspace)


def _badge(tone: str, text: str) -> str:
    return format_html('<span class="dsar-badge dsar-{}">{}</span>', tone, text)


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyOrgScopedAdmin):
    # Six columns that fit beside the filters at 1400 px: the contact rides under the requestor's name.
    list_display = ("id", "requestor_cell", "status_display", "deadline_cell", "jurisdiction", "types")
    list_display_links = ("id",)
    list_filter = (
        StatusFilter,
        AtRiskFilter,
        OverdueFilter,
        AcknowledgementFilter,
        JurisdictionFilter,
        RequestTypeFilter,
        "channel",
    )
    # The box shows when search_fields is set; get_search_results answers with the API's `q` selector.
    search_fields = ("search_text",)
    search_help_text = (
        "Request id, or part of the requestor's or contact's name, e-mail or phone, or of the intake text."
    )
    list_select_related = ("org",)
    ordering = ("clock_due_date", "id")
    list_per_page = 50
    show_full_result_count = False
    fieldsets = (
        (
            "Request",
            {
                "fields": (
                    "status_display",
                    "deadline",
                    "jurisdiction",
                    "types",
                    "channel_display",
                    "contact",
                    "outcome_display",
                    "appeal_display",
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
            {"fields": ("verification_status_display", "verification_method", "verification_times")},
        ),
    )
    readonly_fields = (
        "status_display",
        "deadline",
        "jurisdiction",
        "types",
        "channel_display",
        "contact",
        "outcome_display",
        "appeal_display",
        "raw_text_verbatim",
        "intake_received",
        "recorded",
        "source_evidence_display",
        "requestor_display",
        "authority_requested",
        "authority_display",
        "verification_status_display",
        "verification_method",
        "verification_times",
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        return (queryset.filter(officer_matches(term)) if term else queryset), False

    # --- queue columns ---

    # Not "requestor": the model's field of that name would win over this column.
    @admin.display(description="requestor", ordering="requestor_name")
    def requestor_cell(self, obj: DataSubjectRequest) -> str:
        name = subject_name(obj)
        contact = obj.contact if obj.contact and obj.contact != name else ""
        if not contact:
            return format_html('<span class="dsar-subject">{}</span>', name)
        return format_html(
            '<span class="dsar-subject">{}</span><span class="dsar-contact">{}</span>', name, contact
        )

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: DataSubjectRequest) -> str:
        return status_words(obj.status)

    @admin.display(description="types")
    def types(self, obj: DataSubjectRequest) -> str:
        text = types_words(obj.request_types)
        return f"{text} (inferred)" if obj.request_types_inferred else text

    @admin.display(description="deadline", ordering="clock_due_date")
    def deadline_cell(self, obj: DataSubjectRequest) -> str:
        now = timezone.now()
        label = deadline_label(obj, now=now)
        ack = acknowledgement_badge(obj, now=now)
        return format_html(
            '<span class="dsar-due">{}</span>{}{}',
            format_day(obj.clock_due_date),
            _badge(label.tone, label.text),
            _badge(ack.tone, ack.text) if ack is not None and ack.tone == "overdue" else "",
        )

    # --- request page fields ---

    @admin.display(description="deadline")
    def deadline(self, obj: DataSubjectRequest) -> str:
        now = timezone.now()
        label = deadline_label(obj, now=now)
        ack = acknowledgement_badge(obj, now=now)
        return format_html(
            "{}{} — {}; clock {}",
            _badge(label.tone, label.text),
            format_html(" {}", _badge(ack.tone, ack.text)) if ack is not None else "",
            deadline_words(obj),
            obj.clock_state.replace("_", " ").lower(),
        )

    @admin.display(description="channel")
    def channel_display(self, obj: DataSubjectRequest) -> str:
        return CHANNEL_WORDS.get(obj.channel, obj.channel).capitalize()

    @admin.display(description="verification")
    def verification_status_display(self, obj: DataSubjectRequest) -> str:
        return obj.get_verification_status_display().capitalize()

    @admin.display(description="raw text, as received")
    def raw_text_verbatim(self, obj: DataSubjectRequest) -> str:
        return format_html('<pre class="dsar-verbatim">{}</pre>', obj.raw_text)

    @admin.display(description="received by the organisation (the clock starts here)")
    def intake_received(self, obj: DataSubjectRequest) -> str:
        return format_when(obj.intake_received_at, obj.clock_timezone)

    @admin.display(description="recorded by this system")
    def recorded(self, obj: DataSubjectRequest) -> str:
        return format_when(obj.received_at, obj.clock_timezone)

    @admin.display(description="source evidence")
    def source_evidence_display(self, obj: DataSubjectRequest) -> str:
        if not obj.source_evidence:
            return NOTHING
        return format_html_join(
            "",
            "<div><code>{}</code>: {}</div>",
            ((e.get("kind", "?"), e.get("value", "")) for e in obj.source_evidence),
        )

    @admin.display(description="requestor")
    def requestor_display(self, obj: DataSubjectRequest) -> str:
        return requestor_words(obj.requestor) if obj.requestor else "— (none recorded)"

    @admin.display(description="proof of authority requested")
    def authority_requested(self, obj: DataSubjectRequest) -> str:
        if not obj.authority_requested_at:
            return "no"
        return format_when(obj.authority_requested_at, obj.clock_timezone)

    @admin.display(description="authority evidence")
    def authority_display(self, obj: DataSubjectRequest) -> str:
        submissions = list(obj.authority_submissions.order_by("submitted_at", "id"))
        if not submissions:
            return "— (none submitted)"
        zone = obj.clock_timezone
        rows = []
        for evidence in submissions:
            current = " (current)" if evidence.pk == obj.authority_current_id else ""
            artifacts = ", ".join(
                f"{a.get('kind')}: {a.get('uri') or a.get('description') or '(paper, no reference)'}"
                for a in evidence.evidence_artifacts
            )
            decided = (
                f"; decided {format_when(evidence.decided_at, zone)} by {evidence.decided_by}"
                f"{' — ' + evidence.decision_reason if evidence.decision_reason else ''}"
                if evidence.decided_at
                else ""
            )
            rows.append(
                (
                    evidence.status.capitalize(),
                    current,
                    format_when(evidence.submitted_at, zone),
                    artifacts,
                    decided,
                )
            )
        return format_html_join("", "<div><strong>{}</strong>{} submitted {}: {}{}</div>", rows)

    @admin.display(description="requested / received")
    def verification_times(self, obj: DataSubjectRequest) -> str:
        return format_html(
            "requested {} · received {}",
            format_when(obj.verification_requested_at, obj.clock_timezone),
            format_when(obj.verification_received_at, obj.clock_timezone),
        )

    @admin.display(description="outcome")
    def outcome_display(self, obj: DataSubjectRequest) -> str:
        if not obj.outcome:
            return "— (no outcome yet)"
        notes = (
            obj.timeline.filter(action="close").values_list("notes", flat=True).last() or ""
            if obj.outcome.get("kind") != "REFUSED"
            else ""
        )
        answered = obj.outcome.get("at")
        when = f" ({format_when(answered, obj.clock_timezone)})" if answered else ""
        return outcome_sentence(obj.outcome, notes=notes) + when

    @admin.display(description="appeal")
    def appeal_display(self, obj: DataSubjectRequest) -> str:
        return appeal_sentence(obj.appeal, obj.clock_timezone) if obj.appeal else NOTHING

    # --- extra views ---

    def get_urls(self) -> list[URLPattern]:
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
            path(
                "<path:object_id>/messages/<str:message_id>/resend/",
                wrap(partial(resend_view, self)),
                name="{}_{}_resend".format(*info),
            ),
            path(
                "<path:object_id>/messages/write/",
                wrap(partial(write_view, self)),
                name="{}_{}_write".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": "Request queue", **(extra_context or {})})

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: DataSubjectRequest | None = None,
    ) -> HttpResponse:
        if obj is not None:
            # Headed by whom the request is about; the id is the subtitle.
            context.update(request_page(request, obj))
            context.update(correspondence_context(obj, acting=context["dsar_can_act"]))
        return super().render_change_form(request, context, add, change, form_url, obj)
