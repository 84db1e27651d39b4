"""The correspondence pages of the officers' workspace: message templates and the messages sent.

- Templates: the org's current ones (every version on request), the built-in ones, an editor that saves a
  new template or the next version of one (`services.template_create`: the sandbox's and the law's refusals
  come back as field errors), and a preview (`services.template_preview` / `template_draft_preview`) with
  the legal checklist. Templates are never edited in place nor deleted: a save writes a new version.
- Messages: read-only, the org's only; bodies with any secret's place masked.

Reads go through the org-scoped admin querysets (`core.admin`); every write is the service the API calls.
Officers write templates; auditors read them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

import clocks
from core.admin import OrgScopedAdmin, ReadOnlyOrgScopedAdmin, admin_org
from core.api import ApiError, NotFound
from requests_app.admin.views import admin_actor, can_act

from . import services
from .engine import VARIABLES
from .lookup import template_by_id
from .models import Kind, Message, MessageTemplate
from .notices import shown

VIEW_PERMISSION = "requests_app.view_datasubjectrequest"

# Service error fields (the API's camelCase names) → the editor's fields.
EDITOR_FIELDS = {
    "kind": "kind",
    "pack": "pack",
    "locale": "locale",
    "subject": "subject",
    "bodyText": "body_text",
    "bodyHtml": "body_html",
    "requestId": "preview_request",
}


def can_view(request: HttpRequest) -> bool:
    """Whoever may see requests (officers and auditors) sees their correspondence."""
    return bool(request.user.is_active and request.user.has_perm(VIEW_PERMISSION))


def place_error(form: forms.Form, exc: ApiError) -> None:
    """A service's refusal on the fields it names (the form's error list otherwise, and always the
    message when it says more than the details)."""
    placed = False
    for detail in exc.details:
        name = EDITOR_FIELDS.get(detail.get("field", ""))
        if name and name in form.fields:
            form.add_error(name, detail.get("message") or exc.message)
            placed = True
    if not placed or len(exc.details) > 1:
        form.add_error(None, exc.message)


def pack_choices() -> list[tuple[str, str]]:
    return [("", "every pack")] + [
        (p.id, f"{p.id} — {p.law}") for p in sorted(clocks.list_packs(), key=lambda p: p.id)
    ]


def required_elements(kind: str, pack: str) -> tuple[list[str], str]:
    """The legal elements a template of this kind must show under the pack (or under every pack)."""
    if kind not in Kind.values:
        return [], ""
    if not pack:
        return list(services.elements_every_pack_requires(kind)), "required by every pack"
    try:
        policy = services.pack_by_id(pack)
    except LookupError:
        return [], ""
    notice = policy.notices.get(kind)
    return list(policy.required_elements(kind)), notice.citation if notice else ""


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices)
    pack = forms.ChoiceField(
        required=False, help_text="A law's own template, or empty for every pack without one of its own."
    )
    locale = forms.CharField(max_length=35, initial="en", help_text="A BCP 47 tag: en, fr, fr-CA, pt-BR.")
    subject = forms.CharField(max_length=998, strip=False)
    body_text = forms.CharField(label="Body (text)", widget=forms.Textarea(attrs={"rows": 14}), strip=False)
    body_html = forms.CharField(
        label="Body (HTML)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        strip=False,
        help_text="Optional: without it, the HTML alternative is the text in paragraphs.",
    )
    preview_request = forms.CharField(
        required=False,
        max_length=80,
        label="Preview against request",
        help_text="A request id (optional) to preview with its values; empty: a sample request.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pack = self.fields["pack"]
        assert isinstance(pack, forms.ChoiceField)
        pack.choices = pack_choices()


@admin.register(MessageTemplate)
class MessageTemplateAdmin(OrgScopedAdmin):
    list_display = (
        "template_cell",
        "kind",
        "pack_cell",
        "locale",
        "version",
        "created_by",
        "created_at",
        "state",
    )
    list_display_links = ("template_cell",)
    list_filter = ("kind", "locale")
    ordering = ("kind", "pack", "locale", "-version")
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "kind",
        "pack_cell",
        "locale",
        "version",
        "state",
        "subject",
        "body_text_display",
        "body_html_display",
        "created_by",
        "created_at",
        "next_steps",
    )
    readonly_fields = fields

    # --- who may do what: officers write (a new version), auditors read; nothing is changed or deleted ---

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_act(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        # The list shows the current versions (`?versions=all`: every one); a template's page, any version.
        if getattr(request, "_dsar_current_only", False):
            queryset = queryset.filter(retired_at__isnull=True)
        return queryset

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # `versions` is this page's own parameter, not a field lookup for the stock filters.
        query = request.GET.copy()
        request._dsar_current_only = query.pop("versions", [""])[0] != "all"  # type: ignore[attr-defined]
        request.GET = query  # type: ignore[assignment]
        return super().get_changelist_instance(request)

    # --- columns and fields ---

    @admin.display(description="template", ordering="id")
    def template_cell(self, obj: MessageTemplate) -> str:
        return obj.id

    @admin.display(description="pack", ordering="pack")
    def pack_cell(self, obj: MessageTemplate) -> str:
        return obj.pack or "every pack"

    @admin.display(description="state")
    def state(self, obj: MessageTemplate) -> str:
        return f"retired {obj.retired_at:%Y-%m-%d %H:%M}" if obj.retired_at else "current"

    @admin.display(description="body (text)")
    def body_text_display(self, obj: MessageTemplate) -> str:
        return format_html('<pre class="dsar-verbatim">{}</pre>', obj.body_text)

    @admin.display(description="body (HTML), as written")
    def body_html_display(self, obj: MessageTemplate) -> str:
        return format_html('<pre class="dsar-verbatim">{}</pre>', obj.body_html) if obj.body_html else "—"

    @admin.display(description="")
    def next_steps(self, obj: MessageTemplate) -> str:
        return format_html(
            '<a class="button" href="{}">Preview</a> <a class="button" href="{}">Save as new version…</a>',
            preview_url(obj.id),
            editor_url(obj.id),
        )

    # --- pages ---

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("builtins/", wrap(self.builtins_view), name="correspondence_messagetemplate_builtins"),
            path("preview/", wrap(self.preview_view), name="correspondence_messagetemplate_preview"),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        showing_all = request.GET.get("versions") == "all"
        return super().changelist_view(
            request,
            {
                "title": "Message templates" + (" (every version)" if showing_all else ""),
                "dsar_builtins_url": reverse("admin:correspondence_messagetemplate_builtins"),
                "dsar_versions_all": showing_all,
                **(extra_context or {}),
            },
        )

    def _page(self, request: HttpRequest, title: str, **context: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": None,
            "changelist_url": reverse("admin:correspondence_messagetemplate_changelist"),
            **context,
        }

    def builtins_view(self, request: HttpRequest) -> HttpResponse:
        """The product's own templates: what a message uses when the org has none of its own."""
        if not can_view(request):
            raise PermissionDenied
        org = admin_org(request)
        rows = services.templates_list(org=org) if org is not None else []
        builtins = [
            {**row, "preview_url": preview_url(row["id"]), "copy_url": editor_url(row["id"])}
            for row in rows
            if row["builtIn"]
        ]
        context = self._page(
            request, "Built-in message templates", builtins=builtins, can_add=self.has_add_permission(request)
        )
        return TemplateResponse(request, "admin/correspondence/messagetemplate/builtins.html", context)

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """GET `?template=<id>&request=<id>`: a saved or built-in template rendered, with the checklist."""
        if not can_view(request):
            raise PermissionDenied
        org = admin_org(request)
        template_id = request.GET.get("template", "")
        if org is None or not template_id:
            raise Http404("No such template in your organisation.")
        template = template_by_id(org, template_id)
        if template is None:
            raise Http404("No such template in your organisation.")
        request_id = request.GET.get("request", "").strip()
        error = ""
        preview = None
        try:
            preview = services.template_preview(
                org=org, template_id=template_id, request_id=request_id or None
            )
        except NotFound as exc:
            if not request_id:
                raise Http404(exc.message) from None
            error = f"{exc.message} (request {request_id})"
        except ApiError as exc:
            error = exc.message
        elements, citation = required_elements(template.kind, template.pack)
        context = self._page(
            request,
            f"Preview: {template.kind} {template.pack or 'every pack'} {template.locale} v{template.version}",
            template=template,
            request_id=request_id,
            error=error,
            preview=asdict(preview) if preview else None,
            variables=VARIABLES,
            elements=elements,
            citation=citation,
            editor_url=editor_url(template.id) if self.has_add_permission(request) else "",
        )
        return TemplateResponse(request, "admin/correspondence/messagetemplate/preview.html", context)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """The editor: a new template, or (`?from=<id>`) the next version of one / a copy of a built-in one.
        "Preview" renders the draft; "Save" writes it through `template_create`."""
        if not self.has_add_permission(request):
            raise PermissionDenied("Auditors can read templates but not write them.")
        org = admin_org(request)
        if org is None:
            messages.error(
                request, "Your account belongs to no organisation: templates are an organisation's."
            )
            return HttpResponseRedirect(reverse("admin:correspondence_messagetemplate_changelist"))
        source = None
        source_id = request.GET.get("from", "")
        if source_id:
            source = template_by_id(org, source_id)
            if source is None:
                raise Http404("No such template in your organisation.")
        initial: dict[str, Any] = {"locale": org.default_locale}
        if source is not None:
            initial = {
                "kind": source.kind,
                "pack": source.pack,
                "locale": source.locale,
                "subject": source.subject,
                "body_text": source.body_text,
                "body_html": source.body_html,
            }
        form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
        preview: dict[str, Any] | None = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            fields = {
                "org": org,
                "kind": data["kind"],
                "pack": data["pack"] or "",
                "locale": data["locale"],
                "subject": data["subject"],
                "body_text": data["body_text"],
                "body_html": data["body_html"] or "",
            }
            if "_preview" in request.POST:
                try:
                    preview = asdict(
                        services.template_draft_preview(**fields, request_id=data["preview_request"] or None)
                    )
                except NotFound as exc:
                    form.add_error("preview_request", exc.message)
                except ApiError as exc:
                    place_error(form, exc)
            else:
                try:
                    saved = services.template_create(**fields, actor=admin_actor(request))
                except ApiError as exc:
                    place_error(form, exc)
                else:
                    self.log_addition(request, saved, f"version {saved.version}")
                    messages.success(
                        request,
                        f"Saved {saved.kind} ({saved.pack or 'every pack'}, {saved.locale}) as version "
                        f"{saved.version}; messages from now on use it.",
                    )
                    return HttpResponseRedirect(
                        reverse("admin:correspondence_messagetemplate_change", args=[quote(saved.pk)])
                    )

        kind = (form.data.get("kind") if form.is_bound else initial.get("kind")) or Kind.ACKNOWLEDGEMENT
        pack = (form.data.get("pack") if form.is_bound else initial.get("pack")) or ""
        elements, citation = required_elements(str(kind), str(pack))
        title = (
            f"New version of {source.kind} ({source.pack or 'every pack'}, {source.locale})"
            if source is not None and not source.built_in
            else "New message template"
        )
        context = self._page(
            request,
            title,
            form=form,
            source=source,
            preview=preview,
            variables=VARIABLES,
            elements=elements,
            elements_kind=kind,
            elements_pack=pack or "every pack",
            citation=citation,
            media=self.media + form.media,
        )
        return TemplateResponse(request, "admin/correspondence/messagetemplate/editor.html", context)


def preview_url(template_id: str) -> str:
    return (
        reverse("admin:correspondence_messagetemplate_preview") + "?" + urlencode({"template": template_id})
    )


def editor_url(template_id: str) -> str:
    return reverse("admin:correspondence_messagetemplate_add") + "?" + urlencode({"from": template_id})


@admin.register(Message)
class MessageAdmin(ReadOnlyOrgScopedAdmin):
    """The messages sent to data subjects: the record, never edited here (resend from the request page)."""

    list_display = (
        "id",
        "request_link",
        "kind",
        "status_cell",
        "to_masked",
        "subject",
        "created_at",
        "sent_at",
    )
    list_display_links = ("id",)
    list_filter = ("kind", "status")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    search_fields = ("id", "request__id")
    search_help_text = "A message id (msg_…) or a request id."
    fields = (
        "request_link",
        "kind",
        "status_cell",
        "attempts",
        "locale",
        "to_masked",
        "subject",
        "body",
        "template",
        "checks",
        "resend_of",
        "actor",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Never the address nor a secret's seed: they are not shown, so not read.
        return super().get_queryset(request).defer("to_address", "secret_seed")

    @admin.display(description="request", ordering="request")
    def request_link(self, obj: Message) -> str:
        url = reverse("admin:requests_app_datasubjectrequest_change", args=[quote(obj.request_id)])
        return format_html('<a href="{}#correspondence">{}</a>', url, obj.request_id)

    @admin.display(description="status", ordering="status")
    def status_cell(self, obj: Message) -> str:
        word = obj.status.lower().capitalize()
        return f"{word} — {obj.status_reason}" if obj.status_reason else word

    @admin.display(description="body (text)")
    def body(self, obj: Message) -> str:
        return format_html('<pre class="dsar-verbatim">{}</pre>', shown(obj.body_text))

    @admin.display(description="template")
    def template(self, obj: Message) -> str:
        return f"{obj.template_id} v{obj.template_version}" if obj.template_id else "—"

    @admin.display(description="legal checks")
    def checks(self, obj: Message) -> str:
        if not obj.legal_checks:
            return "—"
        return format_html(
            "{}",
            "; ".join(f"{'✓' if c.get('ok') else '✗'} {c.get('rule')}" for c in obj.legal_checks),
        )
