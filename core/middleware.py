"""What happens to a request before and after the API views, so that every answer is in the envelope.

- `ChunkedBodyMiddleware` (first): a body sent with `Transfer-Encoding: chunked` has no Content-Length,
  and Django reads such a body as empty. It is read here, up to the size limit, and handed on like any
  other body.
- `ApiErrorMiddleware` (last): on API paths, refuses what must never reach a view (a body over the limit,
  a NUL byte in the path or query, too many query fields, plain http behind TLS) and turns any non-JSON
  error (Django's own 400/404/500 pages) into the contract's envelope.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse

from .api import error_json_response, suspicious_message

log = logging.getLogger("dsar.api")

API_PREFIX = "/v1/"
_CODES = {
    400: ("validation_error", "The request is not valid."),
    403: ("forbidden", "Forbidden."),
    404: ("not_found", "No such endpoint or object."),
    405: ("method_not_allowed", "Method not allowed on this endpoint."),
    413: ("payload_too_large", "The body is over the size limit."),
}

Handler = Callable[[HttpRequest], HttpResponse]


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class ChunkedBodyMiddleware:
    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get("CONTENT_LENGTH"):
            stream = meta.get("wsgi.input")
            if stream is not None:
                # One byte past the limit is enough to know it is too big (413 further on).
                data = stream.read(settings.DSAR_MAX_BODY_BYTES + 1)
                meta["CONTENT_LENGTH"] = str(len(data))
                request._stream = LimitedStream(io.BytesIO(data), len(data))  # type: ignore[assignment]
        return self.get_response(request)


class ApiErrorMiddleware:
    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request):
            return self.get_response(request)
        refusal = self._refuse_early(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            code, message = _CODES.get(response.status_code, ("internal_error", "Internal error."))
            if response.status_code >= 500:
                code, message = "internal_error", "An internal error occurred; it has been logged."
            return error_json_response(response.status_code, code, message)
        return response

    def _refuse_early(self, request: HttpRequest) -> HttpResponse | None:
        if settings.DSAR_BEHIND_TLS and not request.is_secure():
            # Not a redirect: the key has already crossed the wire in clear; the client must be fixed.
            return error_json_response(
                400, "tls_required", "This API is served over https only; the call came over plain http."
            )
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.DSAR_MAX_BODY_BYTES:
            return error_json_response(
                413,
                "payload_too_large",
                f"The body is over the limit of {settings.DSAR_MAX_BODY_BYTES} bytes.",
            )
        if "\x00" in request.path:
            return error_json_response(400, "validation_error", "NUL bytes are not allowed in the path.")
        try:
            query = request.GET  # parsed once here: too many fields is refused before any view
        except SuspiciousOperation as exc:
            return error_json_response(400, "validation_error", suspicious_message(exc))
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists()):
            return error_json_response(400, "validation_error", "NUL bytes are not allowed in the query.")
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_json_response(413, "payload_too_large", "The body is over the size limit.")
        if isinstance(exception, SuspiciousOperation):
            return error_json_response(400, "validation_error", suspicious_message(exception))
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_json_response(500, "internal_error", "An internal error occurred; it has been logged.")
