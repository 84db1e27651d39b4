"""The export jobs page: the list (newest first) and each job's read-only page, with its Run, Download and
Revoke links buttons. Reads go through the org-scoped admin queryset; every write is a service call
(`exports.services.jobs`), the very one the API makes."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import django_fsm
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyOrgScopedAdmin
from core.api import ApiError
from requests_app.admin.presenters import NOTHING
from requests_app.admin.views import admin_actor, can_act

from ..models import ExportJob, ExportJobEntry, Format, State
from ..resources import audit_report_resource, bundle_url
from ..services import jobs as job_services
from ..storage import bundle_open
from .presenters import (
    downloader_words,
    entry_action_words,
    job_actor_words,
    rows_words,
    scope_rows,
    size_words,
    state_badge,
    state_name,
    state_words,
    when,
)

log = logging.getLogger("dsar.admin")

# Who may see the exports pages: whoever may see requests (officers and auditors). Who may act (run, revoke,
# export a request, register substrates): whoever may act on requests — the request page's own rule.
VIEW_PERMISSION = "requests_app.view_datasubjectrequest"


def can_view(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.has_perm(VIEW_PERMISSION))


def public_base(request: HttpRequest) -> str:
    """The base a download link is built on: DSAR_PUBLIC_BASE_URL, else the host this page came in on."""
    return settings.DSAR_PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def job_url(job: ExportJob) -> str:
    return reverse("admin:exports_exportjob_change", args=[quote(job.pk)])


def request_change_url(request_id: str) -> str:
    return reverse("admin:requests_app_datasubjectrequest_change", args=[quote(request_id)])


class FormatFilter(admin.SimpleListFilter):
    """The formats by their names (JSON, CSV…), not the choices' title-cased labels."""

    title = "format"
    parameter_name = "format"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, value) for value in Format.values]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(format=self.value()) if self.value() else queryset


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyOrgScopedAdmin):
    list_display = (
        "id",
        "state_cell",
        "format_cell",
        "subject",
        "request_link",
        "created",
        "rows",
        "bundle_size_cell",
    )
    list_display_links = ("id",)
    list_filter = ("state", FormatFilter)
    list_select_related = ("org",)
    ordering = ("-created_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    search_fields = ("id",)
    search_help_text = "A job id (dsar:…)."
    readonly_fields = (
        "state_display",
        "format_display",
        "subject",
        "request_link",
        "requested_by",
        "request_notes",
        "created",
        "updated",
        "rows",
        "bytes_packaged_display",
        "heartbeat",
        "worker",
        "scope_display",
        "bundle_size_display",
        "bundle_sha256_display",
        "ready",
        "expires",
        "downloaded",
        "deliveries_display",
        "failure_display",
    )

    # --- who may do what ---

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[tuple[str, dict[str, Any]]] = [
            (
                "Job",
                {
                    "fields": (
                        "state_display",
                        "format_display",
                        "subject",
                        "request_link",
                        "requested_by",
                        "request_notes",
                        "created",
                        "updated",
                    )
                },
            ),
            ("Progress", {"fields": ("rows", "bytes_packaged_display", "heartbeat", "worker")}),
            ("Scope", {"fields": ("scope_display",)}),
            (
                "Delivery",
                {
                    "fields": (
                        "bundle_size_display",
                        "bundle_sha256_display",
                        "ready",
                        "expires",
                        "downloaded",
                        "deliveries_display",
                    )
                },
            ),
        ]
        if obj is not None and obj.state == State.FAILED:
            fieldsets.insert(1, ("Failure", {"fields": ("failure_display",), "classes": ("dsar-failure",)}))
        return fieldsets

    # --- columns and fields ---

    @admin.display(description="state", ordering="state")
    def state_cell(self, job: ExportJob) -> str:
        return state_badge(job.state)

    @admin.display(description="state")
    def state_display(self, job: ExportJob) -> str:
        return state_badge(job.state)

    @admin.display(description="format", ordering="format")
    def format_cell(self, job: ExportJob) -> str:
        return job.format

    @admin.display(description="format")
    def format_display(self, job: ExportJob) -> str:
        if job.format_requested:
            return f"{job.format} (asked for {job.format_requested!r}, not a format we write)"
        return job.format

    @admin.display(description="data subject")
    def subject(self, job: ExportJob) -> str:
        return str((job.scope or {}).get("dataSubjectId") or NOTHING)

    @admin.display(description="request", ordering="request_id")
    def request_link(self, job: ExportJob) -> str:
        if not job.request_id:
            return NOTHING
        return format_html('<a href="{}">{}</a>', request_change_url(job.request_id), job.request_id)

    @admin.display(description="created", ordering="created_at")
    def created(self, job: ExportJob) -> str:
        return when(job.created_at, job.org)

    @admin.display(description="last change")
    def updated(self, job: ExportJob) -> str:
        return when(job.updated_at, job.org)

    @admin.display(description="rows collected / expected")
    def rows(self, job: ExportJob) -> str:
        return rows_words(job.rows_collected, job.rows_expected, job.state)

    @admin.display(description="bytes packaged")
    def bytes_packaged_display(self, job: ExportJob) -> str:
        return size_words(job.bytes_packaged) if job.bytes_packaged else NOTHING

    @admin.display(description="last heartbeat")
    def heartbeat(self, job: ExportJob) -> str:
        return when(job.last_heartbeat_at, job.org)

    @admin.display(description="worker")
    def worker(self, job: ExportJob) -> str:
        held = job.worker_id or NOTHING
        return f"{held} (taken over {job.takeovers} time(s))" if job.takeovers else held

    @admin.display(description="scope")
    def scope_display(self, job: ExportJob) -> str:
        return format_html(
            '<table class="dsar-table dsar-scope">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", scope_rows(job.scope or {})),
        )

    @admin.display(description="bundle size", ordering="bundle_size")
    def bundle_size_cell(self, job: ExportJob) -> str:
        return size_words(job.bundle_size, exact=False)

    @admin.display(description="bundle size")
    def bundle_size_display(self, job: ExportJob) -> str:
        return size_words(job.bundle_size)

    @admin.display(description="bundle sha256")
    def bundle_sha256_display(self, job: ExportJob) -> str:
        return format_html("<code>{}</code>", job.bundle_sha256) if job.bundle_sha256 else NOTHING

    @admin.display(description="ready")
    def ready(self, job: ExportJob) -> str:
        return when(job.ready_at, job.org)

    @admin.display(description="link and bundle expire")
    def expires(self, job: ExportJob) -> str:
        text = when(job.expires_at, job.org)
        if job.bundle_deleted_at is not None:
            return f"{text} (bundle deleted {when(job.bundle_deleted_at, job.org)})"
        return text

    @admin.display(description="downloaded")
    def downloaded(self, job: ExportJob) -> str:
        if job.downloaded_at is None:
            return "not yet"
        return f"{when(job.downloaded_at, job.org)} by {downloader_words(job.downloaded_by)}"

    @admin.display(description="offered to the subject")
    def deliveries_display(self, job: ExportJob) -> str:
        """The portal links the subject was sent (DELIVERY_READY): never a token, only what happened."""
        rows = [
            (
                delivery.pk,
                delivery.status + (f" ({delivery.revoked_reason})" if delivery.revoked_reason else ""),
                when(delivery.created_at, job.org),
                f"{delivery.downloads} download(s)"
                + (
                    f", last {when(delivery.last_downloaded_at, job.org)}"
                    if delivery.last_downloaded_at
                    else ""
                ),
                f"{delivery.codes_sent} code(s) sent, {delivery.failures} wrong",
            )
            for delivery in job.deliveries.all()
        ]
        if not rows:
            return (
                "no portal link (no linked request, or the subject is not told)" if job.ready_at else NOTHING
            )
        return format_html(
            '<table class="dsar-table"><tr><th>delivery</th><th>status</th><th>sent</th><th>downloads</th>'
            "<th>step-up</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="failure")
    def failure_display(self, job: ExportJob) -> str:
        return format_html(
            '<div class="dsar-errors" id="dsar-failure">{}</div><div class="dsar-rule">failed {}{}</div>',
            job.failure_message or "(no message)",
            when(job.failed_at, job.org),
            f" · worker {job.failure_worker_id}" if job.failure_worker_id else "",
        )

    # --- pages ---

    def get_urls(self) -> list[URLPattern]:
        from .from_request import from_request_view

        wrap = self.admin_site.admin_view
        info = (self.opts.app_label, self.opts.model_name)
        # Before the stock patterns: their `<path:object_id>/` catch-all would swallow these.
        return [
            path(
                "from-request/<str:request_id>/",
                wrap(partial(from_request_view, self)),
                name="{}_{}_from_request".format(*info),
            ),
            path("<path:object_id>/run/", wrap(partial(run_view, self)), name="{}_{}_run".format(*info)),
            path(
                "<path:object_id>/download/",
                wrap(partial(download_view, self)),
                name="{}_{}_download".format(*info),
            ),
            path(
                "<path:object_id>/revoke-link/",
                wrap(partial(revoke_link_view, self)),
                name="{}_{}_revoke_link".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": "Export jobs", **(extra_context or {})})

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ExportJob | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(job_page(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)


def job_page(request: HttpRequest, job: ExportJob) -> dict[str, Any]:
    """The job page's own parts: heading, what may be done now, the audit report and the timeline."""
    now = timezone.now()
    acting = can_act(request)
    entries = list(ExportJobEntry.objects.filter(job=job).order_by("seq"))
    report = audit_report_resource(job)
    info = ("exports", "exportjob")
    return {
        "title": f"Export for {(job.scope or {}).get('dataSubjectId') or job.pk}",
        "subtitle": f"{job.pk} · {job.format} · {state_words(job.state)}",
        "dsar_job": job,
        "dsar_state_badge": state_badge(job.state),
        "dsar_state_name": state_words(job.state),
        "dsar_can_act": acting,
        "dsar_can_run": acting and job.state == State.REQUESTED,
        "dsar_run_url": reverse("admin:{}_{}_run".format(*info), args=[quote(job.pk)]),
        "dsar_revoke_url": reverse("admin:{}_{}_revoke_link".format(*info), args=[quote(job.pk)]),
        # The signed link, to hand to the subject; officers download through the admin's own view.
        "dsar_download_url": bundle_url(job, base_url=public_base(request), now=now),
        "dsar_admin_download_url": reverse("admin:{}_{}_download".format(*info), args=[quote(job.pk)]),
        "dsar_expires": when(job.expires_at, job.org),
        "dsar_request_url": request_change_url(job.request_id) if job.request_id else "",
        "dsar_report": report_view(report, job) if report else None,
        "dsar_timeline": [
            {
                "seq": e.seq,
                "at": when(e.at, job.org),
                "actor": job_actor_words(e.actor),
                "action": e.action,
                "action_words": entry_action_words(e.action),
                "from_state": state_name(e.from_state) if e.from_state else "",
                "to_state": state_name(e.to_state) if e.to_state else "",
                "notes": e.notes,
            }
            for e in entries
        ],
    }


def report_view(report: dict[str, Any], job: ExportJob) -> dict[str, Any]:
    counts = report.get("sectionCounts") or {}
    return {
        "sections": sorted(counts.items()),
        "total": report.get("totalRecords", sum(counts.values())),
        "redaction_notes": list(report.get("redactionNotes") or []),
        "scope_notes": list(report.get("scopeNotes") or []),
        "generated": when(report.get("generatedAt"), job.org),
        "requested": when(report.get("requestedAt"), job.org),
        "requested_by": report.get("requestedBy") or NOTHING,
    }


# --- the buttons: one service call each ---------------------------------------------------------------------


def _job_for_action(model_admin: ExportJobAdmin, request: HttpRequest, object_id: str) -> ExportJob:
    # Through the admin's scoped queryset: another org's id answers 404, exactly like an unknown one.
    job = model_admin.get_object_or_404(request, unquote(object_id))
    assert isinstance(job, ExportJob)
    if not can_act(request):
        raise PermissionDenied("Auditors can view export jobs but not act on them.")
    return job


def run_outcome_message(outcome: job_services.RunOutcome) -> tuple[int, str]:
    job = outcome.job
    if job.state == State.READY:
        total = (job.audit_report or {}).get("totalRecords", job.rows_collected)
        return messages.SUCCESS, (
            f"Export run: READY — {total:,} records packaged ({size_words(job.bundle_size)}). "
            f"The bundle can be downloaded until {when(job.expires_at, job.org)}."
        )
    if job.state == State.FAILED:
        return messages.ERROR, f"Export run: FAILED — {job.failure_message}"
    if job.state in (State.COLLECTING, State.PACKAGING):
        expected = f" ({job.rows_expected:,} rows expected)" if job.rows_expected is not None else ""
        return messages.SUCCESS, (
            f"Export run: {job.state} — continuing in the background{expected}. "
            "Reload this page to follow its progress."
        )
    return messages.INFO, f"Export run: the job is {job.state}."


def run_view(model_admin: ExportJobAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    job = _job_for_action(model_admin, request, object_id)
    try:
        outcome = job_services.job_run(org=job.org, job_id=job.pk, actor=admin_actor(request))
    except ApiError as exc:  # 409: not REQUESTED (any more)
        messages.error(request, f"Run refused: {exc.message}")
    except (django_fsm.ConcurrentTransition, OperationalError) as exc:
        if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
            raise
        log.warning("admin run of %s collided: %s", job.pk, exc)
        messages.error(request, "Another change to this job happened at the same time; try again.")
    else:
        level, text = run_outcome_message(outcome)
        model_admin.log_change(request, outcome.job, f"Run: {outcome.job.state}")
        messages.add_message(request, level, text)
    return HttpResponseRedirect(job_url(job))


def revoke_link_view(model_admin: ExportJobAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    job = _job_for_action(model_admin, request, object_id)
    try:
        job = job_services.job_revoke_link(org=job.org, job_id=job.pk, actor=admin_actor(request))
    except ApiError as exc:
        messages.error(request, f"Revoking the links refused: {exc.message}")
    else:
        model_admin.log_change(request, job, "Download links revoked")
        messages.success(
            request,
            "Download links revoked: every link issued before now answers 401. "
            "The Download link on this page is a new one.",
        )
    return HttpResponseRedirect(job_url(job))


def download_view(model_admin: ExportJobAdmin, request: HttpRequest, object_id: str) -> HttpResponseBase:
    """An officer downloads the bundle: recorded as `user:<name>` (the first download delivers it), through
    the same services as the API's download."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    job = _job_for_action(model_admin, request, object_id)
    try:
        job = job_services.job_for_download(job_id=job.pk, org=job.org, token=None)
        handle = bundle_open(job.bundle_key)
    except (ApiError, FileNotFoundError) as exc:
        messages.error(
            request, f"No bundle to download: {getattr(exc, 'message', 'it is no longer in storage')}"
        )
        return HttpResponseRedirect(job_url(job))
    job = job_services.job_downloaded(job=job, downloaded_by=admin_actor(request))
    response = FileResponse(
        handle, as_attachment=True, filename=f"{job.pk.replace(':', '-')}.zip", content_type="application/zip"
    )
    response["Content-Length"] = str(job.bundle_size)
    response["Cache-Control"] = "no-store"
    return response
