"""Admin scoping: a staff user sees and acts on their own org's objects only.

Every ModelAdmin of the project derives from `OrgScopedAdmin`. A staff user's org is their
`core.Membership`; a superuser without one sees every org; any other staff user sees nothing (fail closed).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from .login import ThrottledAdminLoginForm
from .models import ApiKey, Membership, Org
from .services import api_key_revoke

_UNSET = object()

admin.site.login_form = ThrottledAdminLoginForm


def admin_org(request: HttpRequest) -> Org | None:
    """The org the signed-in staff user works for, or None when they have no membership."""
    cached = getattr(request, "_dsar_admin_org", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    if not request.user.is_authenticated:
        return None
    membership = Membership.objects.select_related("org").filter(user_id=request.user.pk).first()
    org = membership.org if membership else None
    request._dsar_admin_org = org  # type: ignore[attr-defined]
    return org


def admin_orgs(request: HttpRequest) -> list[Org] | None:
    """The orgs in scope: [the member's org], None for "every org" (superuser without one), [] for none."""
    org = admin_org(request)
    if org is not None:
        return [org]
    if request.user.is_superuser:
        return None
    return []


def scope_to_org(queryset: QuerySet, request: HttpRequest, field: str = "org") -> QuerySet:
    orgs = admin_orgs(request)
    if orgs is None:
        return queryset
    if not orgs:
        return queryset.none()
    return queryset.filter(**{field: orgs[0]})


class OrgScopedAdmin(admin.ModelAdmin):
    """Base for every ModelAdmin: the queryset is the user's org, and another org's id is a plain 404."""

    org_field = "org"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_to_org(super().get_queryset(request), request, self.org_field)

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Django redirects to the index with "doesn't exist — perhaps it was deleted?" for change, history
        # and delete views. Out-of-scope ids must look exactly like unknown ones, and a 404 says so plainly.
        raise Http404(f"No {opts.verbose_name} with this id in your organisation.")

    # The stock change (on POST) and delete views check the permission before the lookup, a 403 for any id;
    # look up first, so another org's id is a 404 there too.
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> Any:
        if object_id is not None:
            self.get_object_or_404(request, unquote(object_id))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        self.get_object_or_404(request, unquote(object_id))
        return super().delete_view(request, object_id, extra_context)

    def get_object_or_404(self, request: HttpRequest, object_id: str) -> Model:
        """`object_id` unquoted, as `get_object` takes it (admin URLs carry `quote(pk)`)."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id in your organisation.")
        return obj


class ReadOnlyOrgScopedAdmin(OrgScopedAdmin):
    """Records written by services only: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Org)
class OrgAdmin(ReadOnlyOrgScopedAdmin):
    org_field = "pk"
    list_display = ("name", "id", "at_risk_days", "timezone_override", "created_at")
    search_fields = ("name", "id")
    fields = ("id", "name", "at_risk_days", "timezone_override", "created_at")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyOrgScopedAdmin):
    """Keys are listed by prefix — the secret is never stored, and its hash is not shown. Officers of the
    key's org revoke them here (an action on the list); nothing else about a key is edited in the admin."""

    list_display = (
        "key_label",
        "name",
        "org",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    list_select_related = ("org",)
    search_fields = ("prefix", "name")
    fields = (
        "org",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_by",
    )
    actions = ["revoke_keys"]

    @admin.display(description="key", ordering="prefix")
    def key_label(self, key: ApiKey) -> str:
        return f"dsar_{key.prefix}_…"

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.revoke_apikey")

    @admin.action(
        description="Revoke selected keys (they answer 401 from the next call)", permissions=["revoke"]
    )
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        by = f"admin:{request.user.get_username()}"
        revoked = [key for key in queryset.select_related("org") if api_key_revoke(key=key, by=by)]
        if revoked:
            names = ", ".join(f"dsar_{key.prefix}_…" for key in revoked)
            self.message_user(request, f"Revoked {len(revoked)} key(s): {names}.", messages.SUCCESS)
        else:
            self.message_user(request, "The selected keys were already revoked.", messages.WARNING)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyOrgScopedAdmin):
    list_display = ("user", "org")
    list_select_related = ("user", "org")
    search_fields = ("user__username", "org__name")
    fields = ("user", "org")
