"""The officer's workspace beyond the stock admin: deadline buckets, the dashboard, the action forms and
notification replay. Reads use the org-scoped admin queryset; every write is a service call.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import django_fsm
from django import forms
from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.admin import admin_orgs
from core.api import ApiError, ValidationFailed
from core.models import Org

from . import services
from .admin_forms import ACTIONS, SERVICE_FIELDS, ActionSpec
from .clock import clock_block
from .filters import due_within
from .models import OPEN, DataSubjectRequest, Status

if TYPE_CHECKING:
    from .admin import DataSubjectRequestAdmin

log = logging.getLogger("dsar.admin")

ACT_PERMISSION = "requests_app.change_datasubjectrequest"
CHANGELIST = "admin:requests_app_datasubjectrequest_changelist"


def admin_actor(request: HttpRequest) -> str:
    """How the timeline and the outbox name a person acting through the admin."""
    return f"user:{request.user.get_username()}"


def can_act(request: HttpRequest) -> bool:
    """Privacy officers act; auditors (view only) never do. Org scope is the queryset's job."""
    return request.user.is_active and request.user.has_perm(ACT_PERMISSION)


# --- deadline buckets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    """SQL conditions for the buckets, as the API's `atRiskDays` filter computes them (open requests only).

    `at_risk` includes overdue requests, as the contract's `atRisk` does; "due soon" is at risk, not overdue.
    """

    now: datetime
    at_risk: Q
    overdue: Q

    @property
    def due_soon(self) -> Q:
        return self.at_risk & ~self.overdue

    @property
    def on_time(self) -> Q:
        return Q(status__in=OPEN) & ~self.at_risk


def deadlines(request: HttpRequest) -> Deadlines:
    """Computed once per admin request, so the dashboard and every filter agree on "now"."""
    cached = getattr(request, "_dsar_deadlines", None)
    if cached is not None:
        return cached
    now = timezone.now()
    orgs = admin_orgs(request)
    if orgs is None:  # a superuser without an org: each org keeps its own at-risk window and zone
        orgs = list(Org.objects.all())
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    for org in orgs:
        groups[(org.at_risk_days, org.timezone_override)].append(org.pk)
    at_risk, overdue = Q(pk__in=[]), Q(pk__in=[])
    for (days, zone), org_ids in groups.items():
        scope = Q() if len(groups) == 1 else Q(org_id__in=org_ids)
        at_risk |= scope & due_within(days, now=now, org_zone=zone)
        # Overdue: the due date is before today (local), i.e. "due within -1 days".
        overdue |= scope & due_within(-1, now=now, org_zone=zone)
    result = Deadlines(now=now, at_risk=at_risk, overdue=overdue)
    request._dsar_deadlines = result  # type: ignore[attr-defined]
    return result


@dataclass(frozen=True)
class DeadlineLabel:
    tone: str  # "overdue" | "at-risk" | "on-time" | "paused" | "stopped"
    text: str
    days: int | None


def deadline_label(dsr: DataSubjectRequest, *, now: datetime) -> DeadlineLabel:
    """The days-remaining cell: the API's clock block, put in words (colour is never the only signal)."""
    if dsr.status not in OPEN:
        return DeadlineLabel("stopped", f"Stopped ({dsr.status.lower()})", None)
    block = clock_block(dsr, now=now, at_risk_days=dsr.org.at_risk_days)
    days = block["daysRemaining"]
    unit = "day" if abs(days) == 1 else "days"
    if block["overdue"]:
        return DeadlineLabel("overdue", f"Overdue by {abs(days)} {unit}", days)
    if dsr.clock_state == "PAUSED":
        return DeadlineLabel("paused", f"Paused: {days} {unit} left", days)
    if dsr.clock_state == "AWAITING_START":
        return DeadlineLabel("paused", f"Awaiting start: {days} {unit}", days)
    if block["atRisk"]:
        return DeadlineLabel("at-risk", f"Due soon: {days} {unit} left" if days else "Due today", days)
    return DeadlineLabel("on-time", f"On time: {days} {unit} left", days)


# --- dashboard ----------------------------------------------------------------------------------------------


def _changelist_url(**params: str) -> str:
    return reverse(CHANGELIST) + "?" + urlencode(params)


def dashboard(request: HttpRequest, queryset: Any) -> dict[str, Any]:
    """Open requests on time / due soon / overdue, by status and by jurisdiction; each cell links the queue.

    Two grouped queries; the links use the very filters the queue applies, so the numbers match.
    """
    d = deadlines(request)
    counts = {
        "on_time": Count("pk", filter=d.on_time),
        "due_soon": Count("pk", filter=d.due_soon),
        "overdue": Count("pk", filter=d.overdue),
        "total": Count("pk"),
    }
    open_requests = queryset.filter(status__in=OPEN).order_by()
    buckets = {
        "on_time": {"at_risk": "no"},
        "due_soon": {"at_risk": "yes", "overdue": "no"},
        "overdue": {"overdue": "yes"},
        "total": {},
    }

    def rows(group_field: str, param: str, extra: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for row in open_requests.values(group_field).annotate(**counts).order_by(group_field):
            key = row[group_field]
            out.append(
                {
                    "key": key,
                    "label": key.replace("_", " ").capitalize() if group_field == "status" else key,
                    "cells": [
                        {
                            "bucket": bucket,
                            "count": row[bucket],
                            "url": _changelist_url(**{param: key, **extra, **params}),
                        }
                        for bucket, params in buckets.items()
                    ],
                }
            )
        return out

    by_status = rows("status", "status", {})
    order = [s.value for s in Status]  # the lifecycle's order, not the alphabet's
    by_status.sort(key=lambda r: order.index(r["key"]))
    by_jurisdiction = rows("jurisdiction", "jurisdiction", {"status": "open"})
    totals = open_requests.aggregate(**counts)
    return {
        "by_status": by_status,
        "by_jurisdiction": by_jurisdiction,
        "totals": [
            {"bucket": bucket, "count": totals[bucket], "url": _changelist_url(status="open", **params)}
            for bucket, params in buckets.items()
        ],
        "at_risk_days": _at_risk_days(request),
    }


def _at_risk_days(request: HttpRequest) -> str:
    orgs = admin_orgs(request)
    if orgs:
        return str(orgs[0].at_risk_days)
    return "each organisation's"


# --- action forms -------------------------------------------------------------------------------------------


def _request_or_404(model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str):
    # Through the admin's scoped queryset: another org's id answers 404, exactly like an unknown one.
    return model_admin.get_object_or_404(request, unquote(object_id))


def _change_url(dsr: DataSubjectRequest) -> str:
    return reverse("admin:requests_app_datasubjectrequest_change", args=[quote(dsr.pk)])


def _apply_service_error(form: forms.Form, exc: ValidationFailed) -> None:
    placed = False
    for detail in exc.details:
        name = SERVICE_FIELDS.get(detail.get("field", ""))
        if name and name in form.fields:
            form.add_error(name, detail.get("message") or exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def action_view(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str, action: str
) -> HttpResponse:
    """GET: the action's form. POST: validate, call the service, and go back to the request page."""
    spec: ActionSpec | None = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    dsr = _request_or_404(model_admin, request, object_id)
    if not can_act(request):
        raise PermissionDenied("Auditors can view requests but not act on them.")
    zone = ZoneInfo(dsr.clock_timezone)
    allowed = services.allowed_actions(dsr)
    if request.method == "GET" and action not in allowed:
        messages.error(request, f"“{spec.label}” is not possible now: the request is {dsr.status}.")
        return HttpResponseRedirect(_change_url(dsr))

    form = spec.form_class(request.POST if request.method == "POST" else None, dsr=dsr)
    if request.method == "POST":
        # Naive input is a local time in the clock's zone, as the form says.
        with timezone.override(zone):
            valid = form.is_valid()
        if valid:
            try:
                result = spec.run(form, org=dsr.org, request_id=dsr.pk, actor=admin_actor(request))
            except ValidationFailed as exc:
                _apply_service_error(form, exc)
                messages.error(request, exc.message)
            except ApiError as exc:  # InvalidTransition (409), NotFound, Conflict: refused, nothing written
                messages.error(request, f"{spec.label} refused: {exc.message}")
                return HttpResponseRedirect(_change_url(dsr))
            except (django_fsm.ConcurrentTransition, OperationalError) as exc:
                # Only a lost race or SQLite's busy timeout is the officer's to retry; anything else is a bug.
                if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
                    raise
                log.warning("admin action %s on %s collided: %s", action, dsr.pk, exc)
                messages.error(
                    request, "Another change to this request happened at the same time; try again."
                )
                return HttpResponseRedirect(_change_url(dsr))
            else:
                model_admin.log_change(
                    request, result.request, f"{spec.label} (timeline #{result.entry.seq})"
                )
                messages.success(request, _success_message(spec, result))
                return HttpResponseRedirect(_change_url(dsr))

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"{spec.label}: {dsr.pk}",
        "subtitle": None,
        "original": dsr,
        "spec": spec,
        "form": form,
        "deadline": deadline_label(dsr, now=timezone.now()),
        "change_url": _change_url(dsr),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(
        request, "admin/requests_app/datasubjectrequest/action_form.html", context, status=200
    )


def _success_message(spec: ActionSpec, result: services.ActionResult) -> str:
    due = result.clock.due_date.isoformat()
    moved = f" New due date {due}." if spec.name == "extend" else f" Due date {due}."
    status = (
        f" Status {result.from_status} → {result.to_status}."
        if result.from_status != result.to_status
        else ""
    )
    return f"{spec.label}: recorded on the timeline.{status}{moved}"


# --- notification history and replay ------------------------------------------------------------------------


def notification_history(*, org: Org, dsr: DataSubjectRequest) -> list[Any]:
    """The request's outbox events with their deliveries, oldest first (the notifications app's selector)."""
    from notifications import selectors as notification_selectors

    history = getattr(notification_selectors, "notification_history", None)
    if history is not None:
        return history(org=org, request_id=dsr.pk)
    from notifications.models import OutboxEvent

    return list(OutboxEvent.objects.filter(org=org, request=dsr).order_by("created_at", "id"))


def notification_rows(dsr: DataSubjectRequest, *, with_replay: bool) -> list[dict[str, Any]]:
    rows = []
    zone = ZoneInfo(dsr.clock_timezone)
    for event in notification_history(org=dsr.org, dsr=dsr):
        deliveries = list(event.deliveries.all()) if hasattr(event, "deliveries") else []
        rows.append(
            {
                "id": event.pk,
                "type": event.type,
                "created_at": _local(event.created_at, zone),
                "deliveries": [
                    {
                        "id": d.pk,
                        "endpoint": d.endpoint_id,
                        "status": d.status,
                        "attempt": d.attempt,
                        "response_code": d.last_response_code or "",
                        "error": d.last_error,
                        "replay_of": d.replay_of_id or "",
                        "actor": d.actor,
                    }
                    for d in deliveries
                ],
                "replay_url": reverse(
                    "admin:requests_app_datasubjectrequest_replay", args=[quote(dsr.pk), event.pk]
                )
                if with_replay
                else "",
            }
        )
    return rows


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


class ReplayForm(forms.Form):
    endpoint = forms.ChoiceField(required=False, label="Send to")


def _replay_service():
    from notifications import services as notification_services

    return getattr(notification_services, "event_replay", None)


def replay_view(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str, event_id: str
) -> HttpResponse:
    """GET: the event and a choice of endpoint. POST: a new delivery of the same event (replay service)."""
    from notifications.models import OutboxEvent, WebhookEndpoint

    dsr = _request_or_404(model_admin, request, object_id)
    event = OutboxEvent.objects.filter(org_id=dsr.org_id, request=dsr, pk=event_id).first()
    if event is None:
        raise Http404("No such event for this request.")
    if not can_act(request):
        raise PermissionDenied("Auditors can view notifications but not replay them.")
    replay = _replay_service()
    if replay is None:
        messages.error(request, "Replay is not available in this version.")
        return HttpResponseRedirect(_change_url(dsr) + "#notifications")

    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(org_id=dsr.org_id, deleted_at__isnull=True).order_by(
            "created_at"
        )
        if e.is_active and e.subscribes_to(event.type)
    ]
    form = ReplayForm(request.POST if request.method == "POST" else None)
    endpoint_field = cast(forms.ChoiceField, form.fields["endpoint"])
    endpoint_field.choices = [("", "every active endpoint subscribed to this event type")] + [
        (e.pk, f"{e.pk} — {e.url}") for e in endpoints
    ]
    if request.method == "POST" and form.is_valid():
        try:
            result = replay(
                org=dsr.org,
                request_id=dsr.pk,
                event_id=event.pk,
                endpoint_id=form.cleaned_data["endpoint"] or None,
                actor=admin_actor(request),
            )
        except ApiError as exc:
            messages.error(request, f"Replay refused: {exc.message}")
        else:
            count = len(result.deliveries)
            messages.success(
                request, f"Replay of {event.pk} queued: {count} new deliver{'y' if count == 1 else 'ies'}."
            )
        return HttpResponseRedirect(_change_url(dsr) + "#notifications")

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Replay {event.type}: {event.pk}",
        "subtitle": None,
        "original": dsr,
        "event": event,
        "payload": json.dumps(json.loads(event.body), indent=2, ensure_ascii=False),
        "form": form,
        "change_url": _change_url(dsr),
        "endpoints": endpoints,
    }
    return TemplateResponse(request, "admin/requests_app/datasubjectrequest/replay_form.html", context)
