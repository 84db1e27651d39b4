"""The request page's correspondence with the data subject: the messages sent about the request (bodies
with any secret's place masked), "Send again" and "Write to the subject". Every write is the service the
API calls (`correspondence.services`); its refusals come back as messages or form errors, never a 500.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.api import ApiError, ValidationFailed
from correspondence import services as correspondence_services
from correspondence.locales import BadLocale, locale_normalise
from correspondence.models import Message, MessageStatus
from correspondence.notices import shown

from ..models import DataSubjectRequest
from .presenters import (
    acknowledgement_badge,
    deadline_label,
    format_day,
    format_when,
    status_words,
    subject_name,
)
from .views import _request_or_404, admin_actor, can_act, change_url

if TYPE_CHECKING:
    from . import DataSubjectRequestAdmin

# The page shows the latest messages; the API (`GET /v1/requests/{id}/messages`) pages through all.
ADMIN_MESSAGES_SHOWN = 100

_TEXT = 10_000


def resend_url(dsr: DataSubjectRequest, message_id: str) -> str:
    return reverse("admin:requests_app_datasubjectrequest_resend", args=[quote(dsr.pk), message_id])


def write_url(dsr: DataSubjectRequest) -> str:
    return reverse("admin:requests_app_datasubjectrequest_write", args=[quote(dsr.pk)])


def can_resend(message: Message) -> bool:
    """What the service would copy: not a message that carried a one-time secret, nor one never sent."""
    return not (
        message.kind in correspondence_services.SECRET_KINDS
        or message.secret_kind
        or message.status == MessageStatus.SUPPRESSED
    )


def message_rows(dsr: DataSubjectRequest, *, acting: bool) -> list[dict[str, Any]]:
    """The request's latest messages, oldest first like the timeline (one query)."""
    latest = list(
        Message.objects.filter(request=dsr)
        .defer("to_address", "secret_seed", "body_html")
        .order_by("-created_at", "-id")[:ADMIN_MESSAGES_SHOWN]
    )
    zone = dsr.clock_timezone
    return [
        {
            "id": m.id,
            "kind": m.kind,
            "status": m.status,
            "status_reason": m.status_reason,
            "to": m.to_masked or "—",
            "subject": m.subject,
            "created_at": format_when(m.created_at, zone),
            "sent_at": format_when(m.sent_at, zone) if m.sent_at else "",
            "template": f"{m.template_id} v{m.template_version}" if m.template_id else "",
            "body": shown(m.body_text),
            "resend_of": m.resend_of_id or "",
            "actor": m.actor,
            "resend_url": resend_url(dsr, m.id) if acting and can_resend(m) else "",
        }
        for m in reversed(latest)
    ]


def correspondence_context(dsr: DataSubjectRequest, *, acting: bool) -> dict[str, Any]:
    return {
        "dsar_messages": message_rows(dsr, acting=acting),
        "dsar_messages_max": ADMIN_MESSAGES_SHOWN,
        "dsar_write_url": write_url(dsr) if acting else "",
        "dsar_write_form": WriteForm() if acting else None,
    }


def _acting_on(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str
) -> DataSubjectRequest:
    dsr = _request_or_404(model_admin, request, object_id)
    if not can_act(request):
        raise PermissionDenied("Auditors can read the correspondence but not write to the subject.")
    return dsr


def resend_view(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str, message_id: str
) -> HttpResponse:
    """POST: queue a copy of the message (`message_resend`); a refusal (404, 409) is an error message."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    dsr = _acting_on(model_admin, request, object_id)
    try:
        copy = correspondence_services.message_resend(
            org=dsr.org, request_id=dsr.pk, message_id=message_id, actor=admin_actor(request)
        )
    except ApiError as exc:
        messages.error(request, f"Send again refused: {exc.message}")
    else:
        messages.success(
            request, f"A copy of {message_id} is queued to {copy.to_masked or '—'} as {copy.id}."
        )
    return HttpResponseRedirect(change_url(dsr) + "#correspondence")


class WriteForm(forms.Form):
    subject = forms.CharField(max_length=998, label="Subject")
    body_text = forms.CharField(
        max_length=_TEXT, label="Message", widget=forms.Textarea(attrs={"rows": 6}), strip=False
    )
    locale = forms.CharField(
        required=False,
        max_length=35,
        label="Language",
        help_text="A locale such as en or fr-CA; empty: the organisation's.",
    )

    def clean_locale(self) -> str:
        value: str = (self.cleaned_data.get("locale") or "").strip()
        if not value:
            return ""
        try:
            return locale_normalise(value)
        except BadLocale as error:
            raise forms.ValidationError(str(error)) from None


_WRITE_FIELDS = {"subject": "subject", "bodyText": "body_text", "locale": "locale"}


def place_error(form: forms.Form, exc: ApiError, fields: dict[str, str]) -> None:
    """A service's refusal on the fields it names (the form's error list otherwise)."""
    placed = False
    for detail in exc.details:
        name = fields.get(detail.get("field", ""))
        if name and name in form.fields:
            form.add_error(name, detail.get("message") or exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def write_view(model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET: the form. POST: a CUSTOM message to the subject (`message_custom`), recorded on the timeline."""
    dsr = _acting_on(model_admin, request, object_id)
    form = WriteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _result, message = correspondence_services.message_custom(
                org=dsr.org,
                request_id=dsr.pk,
                actor=admin_actor(request),
                subject=data["subject"],
                body_text=data["body_text"],
                locale=data["locale"] or None,
            )
        except ValidationFailed as exc:
            place_error(form, exc, _WRITE_FIELDS)
        except ApiError as exc:  # 404, 409: refused, nothing written
            messages.error(request, f"Message refused: {exc.message}")
            return HttpResponseRedirect(change_url(dsr) + "#correspondence")
        else:
            if message.status == MessageStatus.SUPPRESSED:
                messages.warning(
                    request, f"Message {message.id} recorded but not sent: {message.status_reason}"
                )
            else:
                messages.success(request, f"Message {message.id} queued to {message.to_masked}.")
            return HttpResponseRedirect(change_url(dsr) + "#correspondence")

    now = timezone.now()
    spec = SimpleNamespace(
        name="message.send",
        label="Write to the subject",
        description="Your own message to the data subject, sent by e-mail and recorded on the timeline.",
        danger=False,
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Write to the subject: {subject_name(dsr)}",
        "subtitle": None,
        "original": dsr,
        "dsar_subject": subject_name(dsr),
        "dsar_status": status_words(dsr.status),
        "dsar_due": format_day(dsr.clock_due_date),
        "spec": spec,
        "form": form,
        "deadline": deadline_label(dsr, now=now),
        "ack_badge": acknowledgement_badge(dsr, now=now),
        "change_url": change_url(dsr),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/requests_app/datasubjectrequest/action_form.html", context)
