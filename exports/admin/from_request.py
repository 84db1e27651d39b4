"""“Export the subject's data”: from an access or portability request, a small form that creates the export
job linked to it (`job_create`, as POST /v1/compliance/dsar with `requestId`) and opens the job's page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.admin import scope_to_org
from core.api import ApiError, ValidationFailed
from requests_app.admin.presenters import status_words, subject_name, types_words
from requests_app.admin.views import admin_actor, can_act
from requests_app.models import DataSubjectRequest

from ..models import Format, Substrate
from ..services import jobs as job_services
from ..sources.dsar_core import BUILTIN_KEY
from .jobs import job_url, request_change_url
from .presenters import state_words

if TYPE_CHECKING:
    from .jobs import ExportJobAdmin

EXPORTABLE_TYPES = frozenset({"ACCESS", "PORTABILITY"})
_TEXT = 10_000


def exportable(dsr: DataSubjectRequest) -> bool:
    """An access or portability request: the export answers it."""
    return bool(EXPORTABLE_TYPES.intersection(dsr.request_types or []))


def default_subject_id(dsr: DataSubjectRequest) -> str:
    """The request's contact, else the requestor's e-mail, else its id (the built-in source matches any)."""
    return (dsr.contact or "").strip() or (dsr.requestor_email or "").strip() or dsr.pk


class ExportFromRequestForm(forms.Form):
    data_subject_id = forms.CharField(
        label="Data subject id",
        max_length=256,
        help_text="Matched against the columns each substrate maps as the subject's id. The request's "
        "e-mail and phone are matched too, where a substrate maps them.",
    )
    format = forms.ChoiceField(choices=[(value, value) for value in Format.values], initial=Format.JSON)
    substrates = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to read every enabled substrate.",
    )
    notes = forms.CharField(
        required=False,
        max_length=_TEXT,
        label="Notes",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the job (its requestNotes).",
    )

    def __init__(self, *args: Any, keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["substrates"])
        field.choices = [(k, f"{k} (built in)" if k == BUILTIN_KEY else k) for k in keys]


# The service's error fields → the form's.
SERVICE_FIELDS = {"scope.dataSubjectId": "data_subject_id", "format": "format", "requestNotes": "notes"}


def place_error(form: forms.Form, exc: ValidationFailed) -> None:
    placed = False
    for detail in exc.details:
        name = detail.get("field", "")
        target = "substrates" if name.startswith("scope.substrates") else SERVICE_FIELDS.get(name)
        if target:
            form.add_error(target, detail.get("message") or exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def from_request_view(model_admin: ExportJobAdmin, request: HttpRequest, request_id: str) -> HttpResponse:
    """GET: the form. POST: create the job linked to the request and open its page."""
    requests = scope_to_org(DataSubjectRequest.objects.select_related("org"), request)
    dsr = requests.filter(pk=request_id).first()
    if dsr is None:
        raise Http404("No request with this id in your organisation.")
    if not can_act(request):
        raise PermissionDenied("Auditors can view requests but not export their data.")
    if not exportable(dsr):
        messages.error(
            request,
            f"Exporting the subject's data answers an access or portability request; this one is "
            f"{types_words(dsr.request_types)}.",
        )
        return HttpResponseRedirect(request_change_url(dsr.pk))

    keys = [
        BUILTIN_KEY,
        *Substrate.objects.filter(org=dsr.org, enabled=True).order_by("key").values_list("key", flat=True),
    ]
    form = ExportFromRequestForm(
        request.POST if request.method == "POST" else None,
        keys=keys,
        initial={"data_subject_id": default_subject_id(dsr), "format": Format.JSON},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scope: dict[str, Any] = {"dataSubjectId": data["data_subject_id"].strip()}
        if data["substrates"]:
            scope["substrates"] = list(data["substrates"])
        try:
            created = job_services.job_create(
                org=dsr.org,
                actor=admin_actor(request),
                scope=scope,
                format=data["format"],
                request_notes=data["notes"] or None,
                request_id=dsr.pk,
            )
        except ValidationFailed as exc:
            place_error(form, exc)
        except ApiError as exc:  # 429: the org's active jobs are at the cap
            form.add_error(None, f"Not created: {exc.message}")
        else:
            job = created.job
            model_admin.log_addition(request, job, f"Export requested from request {dsr.pk}")
            messages.success(
                request,
                f"Export job {job.pk} created for {subject_name(dsr)} ({job.format}): REQUESTED. "
                "Run it from this page.",
            )
            return HttpResponseRedirect(job_url(job))

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Export the subject's data: {subject_name(dsr)}",
        "subtitle": None,
        "dsr": dsr,
        "dsar_subject": subject_name(dsr),
        "dsar_status": status_words(dsr.status),
        "dsar_types": types_words(dsr.request_types),
        "form": form,
        "change_url": request_change_url(dsr.pk),
        "jobs_url": reverse("admin:exports_exportjob_changelist"),
        "earlier_jobs": [
            {"id": j.pk, "state": state_words(j.state), "url": job_url(j)}
            for j in dsr.export_jobs.order_by("-created_at", "-id")[:10]
        ],
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/exports/exportjob/from_request.html", context)
