"""Read-only views of the outbox and deliveries, for operators. Writes go through the API's services.

Scoped to the staff user's org like every other admin (core.admin.OrgScopedAdmin); superusers without a
membership see all orgs.
"""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyOrgScopedAdmin

from .models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyOrgScopedAdmin):
    list_display = ("id", "org", "url", "created_at", "disabled_at", "deleted_at")
    list_filter = ("disabled_at", "deleted_at")
    list_select_related = ("org",)
    search_fields = ("id", "url", "description")
    exclude = ("secret",)  # never shown after creation


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "attempted_at", "response_code", "latency_ms", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyOrgScopedAdmin):
    org_field = "event__org"
    list_display = ("id", "event", "endpoint", "status", "attempt", "last_response_code", "next_attempt_at")
    list_filter = ("status",)
    list_select_related = ("event", "endpoint")
    search_fields = ("id", "event__id", "endpoint__id")
    raw_id_fields = ("event", "endpoint", "replay_of")
    inlines = [DeliveryAttemptInline]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyOrgScopedAdmin):
    list_display = ("id", "type", "org", "request", "created_at", "dispatched_at")
    list_filter = ("type",)
    list_select_related = ("org",)
    search_fields = ("id", "request__id")
    raw_id_fields = ("request",)
