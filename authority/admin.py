"""Authority evidence, read-only and scoped to the staff user's org; decisions are made on the request
page."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyOrgScopedAdmin

from .models import AuthorityEvidence


@admin.register(AuthorityEvidence)
class AuthorityEvidenceAdmin(ReadOnlyOrgScopedAdmin):
    list_display = ("request", "status", "submitted_at", "decided_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("request",)
    search_fields = ("request__id", "decided_by")
    ordering = ("-submitted_at", "id")
    fields = (
        "request",
        "status",
        "evidence_artifacts",
        "submitted_at",
        "verified_at",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
