"""The subject's download portal: `/s/d/{deliveryId}?t=<token>` (the page) and `/s/d/{deliveryId}/download`
(its form's POST). The POST runs the same service as `POST /v1/subject/deliveries/{id}/download`.

The page shows the bundle's expiry, size and sha256 and changes nothing: mail scanners and link previews
open links. Every refusal of the link is the same page with the same words and status 401. The pages are
rendered by `correspondence.pages.subject_page` (language, no-store, no referrer: their URLs carry the
token). The form carries no CSRF token: the link's own token is what authorises the download, and a site
that could forge the form would need that token first — there is no session or cookie to ride on.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from core.api import InvalidTransition, RateLimited
from correspondence.pages import subject_page
from requests_app.clock import pack_for, zone

from .apis import bundle_response
from .services import deliveries as delivery_services
from .services.jobs import Unauthenticated

PAGE = "subject/delivery.html"
REFUSED = "subject/delivery_refused.html"


def _refused(request: HttpRequest, reason: str, status: int, **headers: str) -> HttpResponse:
    response = subject_page(request, REFUSED, {"reason": reason}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _context(view: delivery_services.PageView, token: str, **extra: Any) -> dict[str, Any]:
    job, delivery = view.job, view.delivery
    dsr = delivery.request
    expires = job.expires_at or delivery.expires_at
    local = expires.astimezone(zone(dsr.clock_timezone or pack_for(dsr).timezone))
    return {
        "org_name": delivery.org.name,
        "delivery_id": delivery.pk,
        "request_ref": delivery.request_id,
        "token": token,
        "expires_at": local,
        "expires_iso": expires.isoformat(),
        "size": job.bundle_size or 0,
        "sha256": job.bundle_sha256,
        "step_up": view.step_up,
        "ask_code": view.step_up and view.code_pending,
        **extra,
    }


@require_safe
def delivery_page(request: HttpRequest, delivery_id: str) -> HttpResponse:
    token = request.GET.get("t", "")
    try:
        view = delivery_services.delivery_for_page(delivery_id, token)
    except Unauthenticated:
        return _refused(request, "link", 401)
    return subject_page(request, PAGE, _context(view, token))


@csrf_exempt
@require_POST
def delivery_page_download(request: HttpRequest, delivery_id: str) -> HttpResponseBase:
    token = request.POST.get("token", "")
    code = request.POST.get("code")
    try:
        outcome = delivery_services.delivery_download(delivery_id, token, code)
    except delivery_services.WrongCode as error:
        try:
            view = delivery_services.delivery_for_page(delivery_id, token)
        except Unauthenticated:
            return _refused(request, "link", 401)
        return subject_page(
            request, PAGE, _context(view, token, wrong_code=error, ask_code=error.pending), status=401
        )
    except Unauthenticated:
        return _refused(request, "link", 401)
    except RateLimited as error:
        return _refused(request, "busy", 429, **{"Retry-After": str(error.retry_after)})
    except InvalidTransition:
        return _refused(request, "gone", 409)
    if isinstance(outcome, delivery_services.CodeSent):
        view = delivery_services.PageView(
            delivery=outcome.delivery, job=outcome.delivery.job, step_up=True, code_pending=True
        )
        return subject_page(
            request,
            PAGE,
            _context(view, token, code_sent_to=outcome.to_masked, code_expires_at=_local(outcome)),
        )
    return bundle_response(outcome.job, outcome.handle)


def _local(outcome: delivery_services.CodeSent) -> Any:
    dsr = outcome.delivery.request
    return timezone.localtime(outcome.expires_at, zone(dsr.clock_timezone or pack_for(dsr).timezone))
