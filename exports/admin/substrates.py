"""The substrates page: an org's registered data sources. Added and changed through one field, the mapping
JSON, which is parsed (`mapping_parse`: every problem with its dotted path) and checked against the live
source by `substrate_register` — the service `manage.py substrate_register` calls — before anything is
saved. A DSN is never shown: a mapping only names the environment variable that holds it."""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from core.admin import OrgScopedAdmin, admin_org
from core.api import ValidationFailed
from core.models import Org
from requests_app.admin.presenters import NOTHING
from requests_app.admin.views import can_act

from ..models import Substrate
from ..services.substrates import (
    Registered,
    mapping_parse,
    substrate_check,
    substrate_mapping,
    substrate_register,
)
from ..sources.dsar_core import BUILTIN_KEY, builtin_mapping
from ..types import Mapping, Table
from .jobs import can_view
from .presenters import kind_words, when

log = logging.getLogger("dsar.admin")

MAPPING_HELP = (
    "The substrate's mapping, as api-contract.md (“Substrates”) describes it: key, kind (sql or files), "
    "dsnEnv — the name of the environment variable that holds the database URL, never the URL itself — "
    "or root, and the tables with their subject, columns and redactions. It is checked against the live "
    "source before it is saved."
)


def problem_lines(exc: ValidationFailed) -> list[str]:
    """One line per problem, led by its dotted field path in the mapping."""
    lines = []
    for detail in exc.details:
        where = detail.get("field") or ""
        message = detail.get("message") or exc.message
        if where == "mapping":  # the live check: the source does not match the mapping
            lines.append(f"Live check — {message}")
        else:
            lines.append(f"{where or '(mapping)'}: {message}")
    return lines or [exc.message]


class SubstrateForm(forms.ModelForm):
    """The mapping JSON and the `enabled` switch. A valid form has already registered the substrate
    (`registered`); the admin's save only switches `enabled` on a change."""

    mapping_json = forms.CharField(
        label="Mapping (JSON)",
        widget=forms.Textarea(
            attrs={"rows": 24, "cols": 100, "class": "dsar-mapping", "spellcheck": "false"}
        ),
        help_text=MAPPING_HELP,
    )

    org: Org | None = None  # set by SubstrateAdmin.get_form
    registered: Registered | None = None

    class Meta:
        model = Substrate
        fields = ("enabled",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["mapping_json"] = json.dumps(self.instance.mapping, indent=2, ensure_ascii=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("mapping_json")
        if text is None or self.errors:
            return data
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            self.add_error("mapping_json", f"Not valid JSON: {exc.msg} ({where}).")
            return data
        try:
            mapping = mapping_parse(parsed)
        except ValidationFailed as exc:
            for line in problem_lines(exc):
                self.add_error("mapping_json", line)
            return data
        if self.org is None:
            self.add_error(None, "You work for no organisation: a substrate belongs to one.")
            return data
        if self.instance.pk:
            if mapping.key != self.instance.key:
                self.add_error(
                    "mapping_json",
                    f"key: cannot change (this substrate is {self.instance.key!r}); "
                    "add a new substrate instead.",
                )
                return data
        elif Substrate.objects.filter(org=self.org, key=mapping.key).exists():
            self.add_error("mapping_json", f"key: {mapping.key!r} is already registered; change that one.")
            return data
        try:
            self.registered = substrate_register(
                org=self.org, data=parsed, enabled=bool(data.get("enabled")), check=True
            )
        except ValidationFailed as exc:
            for line in problem_lines(exc):
                self.add_error("mapping_json", line)
        except Exception as exc:  # never a 500 for a source that misbehaves; the message may not echo it
            log.exception("substrate registration of %r failed", mapping.key)
            self.add_error(
                "mapping_json",
                f"Live check — the source could not be checked ({type(exc).__name__}); nothing was saved.",
            )
        return data


def section_rows(mapping: Mapping) -> list[tuple[str, str, str, str]]:
    """(section, how rows are matched to the subject, columns, redactions) per table."""
    rows = []
    for table in mapping.tables:
        rows.append(
            (
                f"{mapping.key}.{table.section}",
                _match_words(table),
                ", ".join(table.columns),
                "; ".join(
                    f"{r.column}: {r.action}{f' ({r.reason})' if r.reason else ''}" for r in table.redact
                )
                or NOTHING,
            )
        )
    return rows


def _match_words(table: Table) -> str:
    subject = table.subject
    if subject.via is not None:
        return f"{subject.via.column} → {subject.via.parent}.{subject.via.parent_column}"
    return f"{subject.column} as {subject.identity}"


def sections_table(rows: list[tuple[str, str, str, str]]) -> str:
    return format_html(
        '<table class="dsar-table dsar-sections"><thead><tr><th>section</th><th>subject matched by</th>'
        "<th>columns</th><th>redactions</th></tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


@admin.register(Substrate)
class SubstrateAdmin(OrgScopedAdmin):
    form = SubstrateForm
    list_display = ("key", "kind_cell", "description", "enabled_cell", "checked", "check_result")
    list_filter = ("enabled", "kind")
    list_select_related = ("org",)
    ordering = ("key",)
    search_fields = ("key", "description")
    actions = None

    # --- who may do what: see as requests are seen, act as requests are acted on ---

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_act(request) and admin_org(request) is not None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_act(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch it off instead: jobs then skip it, and past jobs still name it

    # --- the form ---

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ("mapping_json", "enabled")})]
        about = ("key", "kind_cell", "description", "checked", "check_result", "sections_display")
        if not self.has_change_permission(request, obj):
            return [("Substrate", {"fields": (*about, "enabled_cell", "mapping_display")})]
        return [("Substrate", {"fields": about}), ("Mapping", {"fields": ("mapping_json", "enabled")})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "key",
            "kind_cell",
            "description",
            "checked",
            "check_result",
            "sections_display",
            "enabled_cell",
            "mapping_display",
        )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        org = obj.org if obj is not None else admin_org(request)
        return type(form.__name__, (form,), {"org": org})

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        registered: Registered | None = getattr(form, "registered", None)
        if registered is None:  # a valid form has registered it; nothing else gets here
            raise PermissionDenied("The substrate was not registered.")
        return registered.substrate

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing left to save: the form's `substrate_register` wrote the mapping and `enabled` already."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # no relations: the form never saved an instance of its own

    # --- columns and fields ---

    @admin.display(description="kind", ordering="kind")
    def kind_cell(self, substrate: Substrate) -> str:
        return kind_words(substrate.kind)

    @admin.display(description="enabled", ordering="enabled")
    def enabled_cell(self, substrate: Substrate) -> str:
        return "Enabled" if substrate.enabled else "Disabled — jobs skip it"

    @admin.display(description="last checked", ordering="checked_at")
    def checked(self, substrate: Substrate) -> str:
        return when(substrate.checked_at, substrate.org) if substrate.checked_at else "never"

    @admin.display(description="check result")
    def check_result(self, substrate: Substrate) -> str:
        if substrate.checked_at is None:
            return format_html('<span class="dsar-badge dsar-pending">{}</span>', "Not checked")
        if substrate.check_error:
            return format_html(
                '<span class="dsar-badge dsar-overdue">Problem</span> '
                '<span class="dsar-check-error">{}</span>',
                substrate.check_error,
            )
        return format_html('<span class="dsar-badge dsar-on-time">{}</span>', "Matches the source")

    @admin.display(description="sections")
    def sections_display(self, substrate: Substrate) -> str:
        try:
            mapping = substrate_mapping(substrate)
        except ValidationFailed as exc:
            return "; ".join(problem_lines(exc))
        return sections_table(section_rows(mapping))

    @admin.display(description="mapping")
    def mapping_display(self, substrate: Substrate) -> str:
        return format_html(
            '<pre class="dsar-verbatim">{}</pre>', json.dumps(substrate.mapping, indent=2, ensure_ascii=False)
        )

    # --- pages ---

    def get_urls(self) -> list[URLPattern]:
        info = (self.opts.app_label, self.opts.model_name)
        return [
            path(
                "<path:object_id>/check/",
                self.admin_site.admin_view(partial(check_view, self)),
                name="{}_{}_check".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        builtin = builtin_mapping()
        return super().changelist_view(
            request,
            {
                "title": "Substrates",
                "dsar_builtin_key": BUILTIN_KEY,
                "dsar_builtin_sections": sections_table(section_rows(builtin)),
                **(extra_context or {}),
            },
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Substrate | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["dsar_check_url"] = (
                reverse("admin:exports_substrate_check", args=[quote(obj.pk)]) if can_act(request) else ""
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


def check_view(model_admin: SubstrateAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Connect to the source and check its tables and columns; the result is stored on the substrate."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    substrate = model_admin.get_object_or_404(request, unquote(object_id))
    assert isinstance(substrate, Substrate)
    if not can_act(request):
        raise PermissionDenied("Auditors can view substrates but not check them.")
    try:
        problem = substrate_check(substrate=substrate)
    except Exception as exc:  # a source that misbehaves is a message, never a 500
        log.exception("connection check of substrate %s failed", substrate.pk)
        problem = f"the check could not run ({type(exc).__name__})"
    if problem:
        messages.error(request, f"Connection check of {substrate.key!r} failed: {problem}")
    else:
        messages.success(request, f"Connection check of {substrate.key!r}: the source matches the mapping.")
    url = reverse("admin:exports_substrate_change", args=[quote(substrate.pk)])
    return HttpResponseRedirect(url)
