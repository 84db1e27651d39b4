"""Errors raised outside DRF on API paths answer in the contract envelope, never as HTML."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from .api import error_json_response

log = logging.getLogger("dsar.api")

API_PREFIX = "/v1/"
_CODES = {
    400: ("validation_error", "The request is not valid."),
    403: ("forbidden", "Forbidden."),
    404: ("not_found", "No such endpoint or object."),
    405: ("method_not_allowed", "Method not allowed on this endpoint."),
    413: ("payload_too_large", "The body is over the size limit."),
}


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        length = request.META.get("CONTENT_LENGTH") or "0"
        from django.conf import settings

        if length.isdigit() and int(length) > settings.DSAR_MAX_BODY_BYTES:
            return error_json_response(
                413,
                "payload_too_large",
                f"The body is over the limit of {settings.DSAR_MAX_BODY_BYTES} bytes.",
            )
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            code, message = _CODES.get(response.status_code, ("internal_error", "Internal error."))
            if response.status_code >= 500:
                code, message = "internal_error", "An internal error occurred; it has been logged."
            return error_json_response(response.status_code, code, message)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_json_response(413, "payload_too_large", "The body is over the size limit.")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_json_response(500, "internal_error", "An internal error occurred; it has been logged.")
