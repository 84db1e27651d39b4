"""Operators' views of webhook endpoints, the outbox and deliveries. Read-only, org-scoped.

Scoped to the staff user's org like every other admin (core.admin.OrgScopedAdmin); superusers without a
membership see all orgs. The one write, disabling or re-enabling endpoints, is a list action that calls the
API's service (`endpoint_update`), so both follow one set of rules.

Signing secrets (`secret`, `previous_secret`) are never shown: they are left out of every page.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyOrgScopedAdmin

from .models import Delivery, DeliveryAttempt, EndpointStatus, OutboxEvent, Replay, WebhookEndpoint
from .services import endpoint_update

# Who may disable and re-enable endpoints: the model's change permission, as "may act" on a request page.
ACT_PERMISSION = "notifications.change_webhookendpoint"
RECENT_ATTEMPTS = 50
SECRET_FIELDS = ("secret", "previous_secret")
NOTHING = "—"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z") if value else NOTHING


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyOrgScopedAdmin):
    list_display = (
        "id",
        "org",
        "url",
        "status_display",
        "consecutive_failures",
        "backoff_until",
        "secret_rotated_at",
        "created_at",
        "deleted_at",
    )
    list_filter = ("disabled_at", "deleted_at")
    list_select_related = ("org",)
    search_fields = ("id", "url", "description")
    exclude = SECRET_FIELDS  # belt and braces: `fields` below does not name them either
    fieldsets = (
        (
            "Endpoint",
            {
                "fields": (
                    "id",
                    "org",
                    "url",
                    "event_types",
                    "description",
                    "status_display",
                    "disabled_reason",
                    "created_at",
                    "created_by",
                    "updated_at",
                    "deleted_at",
                    "deleted_by",
                )
            },
        ),
        (
            "Circuit breaker",
            {"fields": ("breaker_display", "consecutive_failures", "backoff_until", "backoff_trips")},
        ),
        ("Signing secret", {"fields": ("secret_rotated_at", "previous_secret_expires_at")}),
        ("Recent attempts", {"fields": ("recent_attempts",)}),
    )
    readonly_fields = (
        "id",
        "org",
        "url",
        "event_types",
        "description",
        "status_display",
        "disabled_reason",
        "created_at",
        "created_by",
        "updated_at",
        "deleted_at",
        "deleted_by",
        "breaker_display",
        "consecutive_failures",
        "backoff_until",
        "backoff_trips",
        "secret_rotated_at",
        "previous_secret_expires_at",
        "recent_attempts",
    )
    actions = ["disable_endpoints", "enable_endpoints"]

    @admin.display(description="status", ordering="disabled_at")
    def status_display(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.deleted_at is not None:
            return "Deleted"
        return "Active" if endpoint.disabled_at is None else f"Disabled since {_when(endpoint.disabled_at)}"

    @admin.display(description="breaker")
    def breaker_display(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.backoff_until is None:
            return f"Closed ({endpoint.consecutive_failures} failure(s) in a row)"
        if endpoint.backoff_until > timezone.now():
            return f"Open: nothing is sent before {_when(endpoint.backoff_until)}"
        return "Half-open: the next attempt is a probe; a success closes it"

    @admin.display(description=f"latest {RECENT_ATTEMPTS} attempts, newest first")
    def recent_attempts(self, endpoint: WebhookEndpoint) -> str:
        attempts = list(
            DeliveryAttempt.objects.filter(delivery__endpoint=endpoint)
            .select_related("delivery__event")
            .only(
                "attempted_at",
                "response_code",
                "latency_ms",
                "error",
                "number",
                "delivery__id",
                "delivery__event__type",
            )
            .order_by("-attempted_at", "-id")[:RECENT_ATTEMPTS]
        )
        if not attempts:
            return "— (no attempts yet)"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><a href='{}'>{}</a> #{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _when(a.attempted_at),
                    a.delivery.event.type,
                    reverse("admin:notifications_delivery_change", args=[quote(a.delivery.pk)]),
                    a.delivery.pk,
                    a.number,
                    a.response_code if a.response_code is not None else NOTHING,
                    f"{a.latency_ms} ms" if a.latency_ms is not None else NOTHING,
                    a.error or NOTHING,
                )
                for a in attempts
            ),
        )
        return format_html(
            "<table class='dsar-attempts'><thead><tr><th>time</th><th>event type</th><th>delivery</th>"
            "<th>response</th><th>latency</th><th>error</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- actions: the API's service, one source of rules ---

    def has_act_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ACT_PERMISSION)

    @admin.action(
        description="Disable selected endpoints (deliveries not yet sent end as DEAD)", permissions=["act"]
    )
    def disable_endpoints(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        self._set_status(request, queryset, EndpointStatus.DISABLED, verb="Disabled")

    @admin.action(
        description="Re-enable selected endpoints (and close their circuit breakers)", permissions=["act"]
    )
    def enable_endpoints(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        self._set_status(request, queryset, EndpointStatus.ACTIVE, verb="Re-enabled")

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint], status: str, *, verb: str
    ) -> None:
        actor = f"admin:{request.user.get_username()}"
        wanted_disabled = status == EndpointStatus.DISABLED
        changed: list[str] = []
        for endpoint in queryset.filter(deleted_at__isnull=True).select_related("org"):
            if (endpoint.disabled_at is not None) == wanted_disabled:
                continue  # already so
            endpoint_update(org=endpoint.org, endpoint_id=endpoint.pk, actor=actor, status=status)
            changed.append(endpoint.pk)
        if changed:
            self.message_user(
                request, f"{verb} {len(changed)} endpoint(s): {', '.join(changed)}.", messages.SUCCESS
            )
        else:
            self.message_user(request, "Nothing to change in the selected endpoints.", messages.WARNING)


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


@admin.register(Replay)
class ReplayAdmin(ReadOnlyOrgScopedAdmin):
    """The audit trail of replays asked for through the API or the request page: who, when, what."""

    list_display = ("created_at", "event", "endpoint", "actor", "deliveries", "org")
    list_select_related = ("org", "event", "endpoint")
    search_fields = ("event__id", "endpoint__id", "actor")
    raw_id_fields = ("event", "endpoint")
    date_hierarchy = "created_at"
