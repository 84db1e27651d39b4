"""The workspace's views beyond the stock admin: the action forms, notification replay, and what the
request page shows. Reads use the org-scoped admin queryset; every write is a service call.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import django_fsm
from django import forms
from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

import clocks
from core.api import ApiError, InvalidTransition, ValidationFailed
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from notifications.models import OutboxEvent, WebhookEndpoint
from notifications.services import ReplayQuotaExceeded

from .. import clock_picture, services
from ..clock import compute_clock
from ..models import ANSWERED, DataSubjectRequest, TimelineEntry
from .actions import ACTIONS, ActionSpec, place_service_error
from .presenters import (
    Move,
    acknowledgement_badge,
    clock_explanation,
    deadline_label,
    format_day,
    format_when,
    localise_message,
    status_words,
    subject_name,
    timeline_rows,
)

if TYPE_CHECKING:
    from . import DataSubjectRequestAdmin

log = logging.getLogger("dsar.admin")

ACT_PERMISSION = "requests_app.change_datasubjectrequest"


def admin_actor(request: HttpRequest) -> str:
    """How the timeline and the outbox name a person acting through the admin."""
    return f"user:{request.user.get_username()}"


def can_act(request: HttpRequest) -> bool:
    """Privacy officers act; auditors (view only) never do. Org scope is the queryset's job."""
    return request.user.is_active and request.user.has_perm(ACT_PERMISSION)


def change_url(dsr: DataSubjectRequest) -> str:
    return reverse("admin:requests_app_datasubjectrequest_change", args=[quote(dsr.pk)])


def act_url(dsr: DataSubjectRequest, action: str) -> str:
    return reverse("admin:requests_app_datasubjectrequest_act", args=[quote(dsr.pk), action])


def _request_or_404(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str
) -> DataSubjectRequest:
    # Through the admin's scoped queryset: another org's id answers 404, exactly like an unknown one.
    return cast(DataSubjectRequest, model_admin.get_object_or_404(request, unquote(object_id)))


# --- the request page ---------------------------------------------------------------------------------------


def regulator_note(dsr: DataSubjectRequest) -> dict[str, str] | None:
    """For an answered request whose law grants no appeal to the organisation: whom the requestor may
    complain to instead (None where an appeal exists, or the request is not answered)."""
    if dsr.status not in ANSWERED:
        return None
    pack = clocks.get_pack(dsr.jurisdiction)
    if pack.appeal_period is not None:
        return None
    regulator = getattr(pack, "regulator", None)
    return {
        "law": pack.law,
        "name": getattr(regulator, "name", "") or "the data protection regulator",
        "url": getattr(regulator, "url", "") or "",
        "citation": getattr(regulator, "citation", "") or "",
    }


def _clock_as_of(
    dsr: DataSubjectRequest, entries: list[TimelineEntry], request_types: list[str], at: datetime
) -> clocks.ClockResult:
    then = copy.copy(dsr)  # the request as it stood: its types then, its timeline up to `entries`
    then.request_types = request_types
    return compute_clock(then, entries, now=at)


def deadline_moves(dsr: DataSubjectRequest, entries: list[TimelineEntry]) -> dict[int, list[Move]]:
    """What each extension or correction of types did to the response deadlines: the clock recomputed
    just before and just after the entry (with the request types of that moment), per request type."""
    moves: dict[int, list[Move]] = {}
    types = list(dsr.request_types)
    for i, entry in enumerate(entries):
        data = entry.data or {}
        if entry.action == "create":
            types = list(data.get("requestTypes") or types)
        if entry.action not in {"extend", "types.set"}:
            continue
        types_before = types
        if entry.action == "types.set":
            types = list(data.get("requestTypes") or types)
        before = _clock_as_of(dsr, entries[:i], types_before, entry.at)
        after = _clock_as_of(dsr, entries[: i + 1], types, entry.at)
        if entry.action == "types.set":
            moves[entry.seq] = [Move(None, before.due_date, after.due_date)]
            continue
        was = {d.request_type: d.due_date for d in before.deadlines if d.kind == "RESPONSE"}
        named = len(types) > 1
        moves[entry.seq] = [
            Move(d.request_type if named else None, was.get(d.request_type), d.due_date)
            for d in after.deadlines
            if d.kind == "RESPONSE" and was.get(d.request_type) != d.due_date
        ]
    return moves


def request_page(request: HttpRequest, dsr: DataSubjectRequest) -> dict[str, Any]:
    """The request page's own parts: its heading, the actions offered (exactly the ones the services would
    accept now), the clock drawn and explained, the timeline in words and the notifications."""
    now = timezone.now()
    entries = list(TimelineEntry.objects.filter(request=dsr).order_by("seq"))
    result = compute_clock(dsr, entries, now=now)
    acting = can_act(request)
    allowed = set(services.allowed_actions(dsr, now=now, entries=entries)) if acting else set()
    notifications = notification_history(dsr)
    return {
        "title": subject_name(dsr),
        "subtitle": f"{dsr.pk} · {dsr.jurisdiction} · {status_words(dsr.status)}",
        "dsar_can_act": acting,
        "dsar_status": status_words(dsr.status),
        "dsar_deadline": deadline_label(dsr, now=now),
        "dsar_ack_badge": acknowledgement_badge(dsr, now=now),
        "dsar_actions": [
            {
                "name": spec.name,
                "label": spec.label,
                "description": spec.description,
                "danger": spec.danger,
                "url": act_url(dsr, spec.name),
            }
            for spec in ACTIONS.values()
            if spec.name in allowed
        ],
        "dsar_regulator": regulator_note(dsr),
        "dsar_clock": clock_picture.build_picture(result, now=now),
        "dsar_explanation": clock_explanation(result),
        "dsar_timeline": timeline_rows(entries, zone=dsr.clock_timezone, moves=deadline_moves(dsr, entries)),
        "dsar_notifications": notification_rows(dsr, notifications, with_replay=acting),
        # Older events than those shown exist: the page says so (the API pages through all of them).
        "dsar_notifications_older": notifications.next_cursor is not None,
    }


# --- action forms -------------------------------------------------------------------------------------------


def action_view(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str, action: str
) -> HttpResponse:
    """GET: the action's form. POST: validate, call the service, and go back to the request page — or, when
    the service refuses, show the form again with what was typed and why."""
    spec: ActionSpec | None = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    dsr = _request_or_404(model_admin, request, object_id)
    if not can_act(request):
        raise PermissionDenied("Auditors can view requests but not act on them.")
    zone = dsr.clock_timezone
    if request.method == "GET":
        why = services.why_not(dsr, action)
        if why is not None:
            messages.error(request, f"“{spec.label}” is not possible now: {localise_message(why, zone)}")
            return HttpResponseRedirect(change_url(dsr))

    form = spec.form_class(request.POST if request.method == "POST" else None, dsr=dsr)
    if request.method == "POST":
        # Naive input is a local time in the clock's zone, as the form says.
        with timezone.override(zone):
            valid = form.is_valid()
        if valid:
            try:
                result = spec.run(form, org=dsr.org, request_id=dsr.pk, actor=admin_actor(request))
            except ValidationFailed as exc:
                place_service_error(form, exc, zone=zone)
            except InvalidTransition as exc:  # 409: not possible now; nothing written, the input kept
                form.add_error(None, f"{spec.label} refused: {localise_message(exc.message, zone)}")
            except ApiError as exc:  # NotFound, Conflict: refused, nothing written
                messages.error(request, f"{spec.label} refused: {localise_message(exc.message, zone)}")
                return HttpResponseRedirect(change_url(dsr))
            except (django_fsm.ConcurrentTransition, OperationalError) as exc:
                # Only a lost race or SQLite's busy timeout is the officer's to retry; anything else is a bug.
                if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
                    raise
                log.warning("admin action %s on %s collided: %s", action, dsr.pk, exc)
                form.add_error(None, "Another change to this request happened at the same time; try again.")
            else:
                model_admin.log_change(
                    request, result.request, f"{spec.label} (timeline #{result.entry.seq})"
                )
                messages.success(request, success_message(spec, result))
                return HttpResponseRedirect(change_url(dsr))
        dsr.refresh_from_db()  # what the request is now (a refusal may be because it changed meanwhile)

    now = timezone.now()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"{spec.label}: {subject_name(dsr)}",
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


def success_message(spec: ActionSpec, result: services.ActionResult) -> str:
    due = format_day(result.clock.due_date)
    moved = f" New due date {due}." if spec.name in {"extend", "types.set"} else f" Due date {due}."
    if result.request.status in ANSWERED or result.request.status == "APPEAL_DECIDED":
        moved = ""
    elif result.request.clock_deadline_kind == "APPEAL":
        moved = f" The appeal decision is due {due}."
    status = (
        f" Status {status_words(result.from_status)} → {status_words(result.to_status)}."
        if result.from_status != result.to_status
        else ""
    )
    return f"{spec.label}: recorded on the timeline.{status}{moved}"


# --- notification history and replay ------------------------------------------------------------------------

# The request page shows the latest events; the API pages through all of them.
ADMIN_EVENTS_SHOWN = 50


def notification_history(dsr: DataSubjectRequest) -> notification_selectors.HistoryPage:
    """The request's latest events (up to ADMIN_EVENTS_SHOWN) with their latest deliveries."""
    return notification_selectors.notification_history(
        org=dsr.org, request_id=dsr.pk, limit=ADMIN_EVENTS_SHOWN, newest_first=True
    )


def notification_rows(
    dsr: DataSubjectRequest, page: notification_selectors.HistoryPage, *, with_replay: bool
) -> list[dict[str, Any]]:
    """The page's events oldest first, like the timeline; each says how many earlier deliveries it hides."""
    rows = []
    for history in reversed(page.events):
        event = history.event
        rows.append(
            {
                "id": event.pk,
                "type": event.type,
                "created_at": format_when(event.created_at, dsr.clock_timezone),
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
                    for d in history.deliveries
                ],
                "delivery_count": history.delivery_count,
                "deliveries_hidden": history.delivery_count - len(history.deliveries),
                "replay_url": reverse(
                    "admin:requests_app_datasubjectrequest_replay", args=[quote(dsr.pk), event.pk]
                )
                if with_replay
                else "",
            }
        )
    return rows


class ReplayForm(forms.Form):
    endpoint = forms.ChoiceField(required=False, label="Send to")


def replay_view(
    model_admin: DataSubjectRequestAdmin, request: HttpRequest, object_id: str, event_id: str
) -> HttpResponse:
    """GET: the event and a choice of endpoint. POST: a new delivery of the same event (replay service)."""
    dsr = _request_or_404(model_admin, request, object_id)
    event = OutboxEvent.objects.filter(org_id=dsr.org_id, request=dsr, pk=event_id).first()
    if event is None:
        raise Http404("No such event for this request.")
    if not can_act(request):
        raise PermissionDenied("Auditors can view notifications but not replay them.")

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
            result = notification_services.event_replay(
                org=dsr.org,
                request_id=dsr.pk,
                event_id=event.pk,
                endpoint_id=form.cleaned_data["endpoint"] or None,
                actor=admin_actor(request),
            )
        except ReplayQuotaExceeded as exc:
            minutes = max(1, math.ceil(exc.retry_after / 60))
            times = "once" if exc.limit == 1 else f"{exc.limit} times"
            messages.error(
                request,
                f"Replay refused: this event was already replayed {times} in the last hour, the most "
                f"allowed. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            )
        except ApiError as exc:  # 404 (endpoint deleted meanwhile), 409 (disabled, not subscribed, none)
            messages.error(request, f"Replay refused: {localise_message(exc.message, dsr.clock_timezone)}")
        else:
            count = len(result.deliveries)
            messages.success(
                request, f"Replay of {event.pk} queued: {count} new deliver{'y' if count == 1 else 'ies'}."
            )
        return HttpResponseRedirect(change_url(dsr) + "#notifications")

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Replay {event.type}: {subject_name(dsr)}",
        "subtitle": None,
        "original": dsr,
        "dsar_subject": subject_name(dsr),
        "event": event,
        "event_created": format_when(event.created_at, dsr.clock_timezone),
        "payload": json.dumps(json.loads(event.body), indent=2, ensure_ascii=False),
        "form": form,
        "change_url": change_url(dsr),
        "endpoints": endpoints,
    }
    return TemplateResponse(request, "admin/requests_app/datasubjectrequest/replay_form.html", context)
