"""The subject's confirm page for a verification link: `/s/verify/{token}`.

Opening it (GET) changes nothing — mail scanners and link previews open links — and only shows a confirm
button. The button is an ordinary form POST to the same URL (Django's CSRF protection on), which runs the
same service as `POST /v1/subject/verify` and shows the result. Every failure is the same page with the
same words and status 401. Pages are rendered by `correspondence.pages.subject_page` (language, no-store,
no referrer: the URL carries the token).
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from core.api import RateLimited
from correspondence.pages import subject_page
from requests_app.clock import pack_for, zone

from . import services
from .apis import subject_rate_check
from .serializers import MAX_TOKEN_LENGTH, TOKEN_PATTERN

PAGE = "subject/verify.html"
DONE = "subject/verify_done.html"
REFUSED = "subject/verify_refused.html"
_TOKEN = re.compile(TOKEN_PATTERN)


def _refused(request: HttpRequest, *, busy: bool = False, retry_after: int = 0) -> HttpResponse:
    response = subject_page(request, REFUSED, {"busy": busy}, status=429 if busy else 401)
    if busy:
        response["Retry-After"] = str(retry_after)
    return response


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def verify_page(request: HttpRequest, token: str) -> HttpResponse:
    well_formed = len(token) <= MAX_TOKEN_LENGTH and _TOKEN.fullmatch(token) is not None
    if request.method == "POST":
        try:
            subject_rate_check(request)
        except RateLimited as error:
            return _refused(request, busy=True, retry_after=error.retry_after)
        if not well_formed:
            return _refused(request)
        try:
            verified = services.subject_verify(token=token)
        except services.VerificationFailed:
            return _refused(request)
        return subject_page(
            request, DONE, {"org_name": verified.org_name, "request_ref": verified.request_ref}
        )
    challenge = services.challenge_for_page(token) if well_formed else None
    if challenge is None:
        return _refused(request)
    dsr = challenge.request
    expires = challenge.expires_at.astimezone(zone(dsr.clock_timezone or pack_for(dsr).timezone))
    return subject_page(
        request,
        PAGE,
        {
            "org_name": challenge.org.name,
            "request_ref": challenge.request_id,
            "expires_at": expires,
            "expires_iso": challenge.expires_at.isoformat(),
        },
    )
