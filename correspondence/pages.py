"""What the subject-facing pages (verification, delivery) share: their language and their headers.

The language is `?lang=` when it names one of LANGUAGES, else the browser's Accept-Language, else
English. The pages are rendered with `templates/subject/base.html`, never cached, never framed, and send a
referrer only to this site (their URLs carry tokens). Not `no-referrer`: a browser under that policy posts
forms with `Origin: null`, which Django's CSRF check rightly refuses — the confirm button would fail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation


def subject_language(request: HttpRequest) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    asked = (request.GET.get("lang") or "").split("-")[0].lower()
    if asked in codes:
        return asked
    chosen = translation.get_language_from_request(request, check_path=False)
    base = (chosen or "en").split("-")[0]
    return base if base in codes else "en"


def subject_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    language = subject_language(request)
    with translation.override(language):
        response = render(request, template, {**context, "lang": language}, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = language
    return response
