"""The contract's envelope: one renderer, one parser, one exception handler.

Success: ``{"ok": true, "data": ..., "contractVersion": "v1.0"}``.
Error:   ``{"ok": false, "error": {"code", "message", "details": [{"field", "message"}]},
"contractVersion": "v1.0"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import django_fsm
import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder as DrfJSONEncoder

log = logging.getLogger(__name__)

CONTRACT_VERSION = "v1.0"


class ApiError(exceptions.APIException):
    """An error with a contract code, a message and field details."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "validation_error"

    def __init__(self, message: str, *, details: Iterable[Mapping[str, str]] = (), code: str | None = None):
        super().__init__(detail=message)
        self.message = message
        self.details = [dict(d) for d in details]
        if code:
            self.code = code


class ValidationFailed(ApiError):
    status_code = 400
    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, details=[{"field": field, "message": message}])


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class InvalidTransition(ApiError):
    status_code = 409
    code = "invalid_transition"

    def __init__(self, message: str, *, allowed: Iterable[str] = ()):
        allowed = sorted(allowed)
        super().__init__(
            message,
            details=[
                {"field": "action", "message": f"allowed now: {a}", "allowedAction": a} for a in allowed
            ],
        )
        self.allowed = allowed


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class RateLimited(ApiError):
    """429 `rate_limited` for a quota other than the key's rate (e.g. replays of one event); the message
    names the quota, and `Retry-After` says when it frees up."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class TlsRequired(ApiError):
    status_code = 400
    code = "tls_required"


def error_body(code: str, message: str, details: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"code": code, "message": message, "details": [dict(d) for d in details]},
        "contractVersion": CONTRACT_VERSION,
    }


def error_json_response(status_code: int, code: str, message: str, **headers: str) -> JsonResponse:
    """For errors raised outside DRF (unknown URLs, oversized bodies, 500s)."""
    response = JsonResponse(error_body(code, message), status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error dict → ``[{"field": "intakeSource.receivedAt", "message": ...}]``."""
    if isinstance(detail, Mapping):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                out.extend(flatten_errors(value, prefix))
            else:
                out.extend(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (Mapping, list)) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if isinstance(item, (Mapping, list)):
                out.extend(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
            else:
                out.append({"field": prefix, "message": str(item)})
        return out
    return [{"field": prefix, "message": str(detail)}]


def _summary(details: list[dict[str, str]]) -> str:
    if not details:
        return "The request is not valid."
    first = details[0]
    where = f"{first['field']}: " if first["field"] else ""
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}{first['message']}{more}"


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    status_code: int
    if isinstance(exc, ApiError):
        code, status_code, message, details = exc.code, exc.status_code, exc.message, exc.details
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
            message = f"{message} Retry in {exc.retry_after} s."
    elif isinstance(exc, exceptions.ValidationError):
        details = flatten_errors(exc.detail)
        code, status_code, message = "validation_error", 400, _summary(details)
    elif isinstance(exc, DjangoValidationError):
        raw = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        details = flatten_errors(raw)
        code, status_code, message = "validation_error", 400, _summary(details)
    elif isinstance(exc, exceptions.ParseError):
        code, status_code, message, details = (
            "malformed_json",
            400,
            f"The body is not valid JSON: {exc.detail}",
            [],
        )
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        code, status_code, details = "unauthenticated", 401, []
        message = str(exc.detail)
        headers["WWW-Authenticate"] = 'Bearer realm="dsar"'
    elif isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        code, status_code, details = "forbidden", 403, []
        message = str(getattr(exc, "detail", "") or "This key lacks the scope for this action.")
    elif isinstance(exc, (exceptions.NotFound, Http404)):
        code, status_code, message, details = "not_found", 404, "No such object in this organisation.", []
    elif isinstance(exc, exceptions.MethodNotAllowed):
        code, status_code, message, details = "method_not_allowed", 405, str(exc.detail), []
    elif isinstance(exc, exceptions.NotAcceptable):
        code, status_code, message, details = "not_acceptable", 406, str(exc.detail), []
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        code, status_code, details = "unsupported_media_type", 415, []
        message = "The body must be application/json."
    elif isinstance(exc, exceptions.Throttled):
        code, status_code, details = "rate_limited", 429, []
        wait = int(exc.wait or 1)  # type: ignore[attr-defined]  # set in Throttled.__init__; the stubs omit it
        message = f"Too many requests for this key; retry in {wait} s."
        headers["Retry-After"] = str(max(wait, 1))
    elif isinstance(exc, RequestDataTooBig):
        code, status_code, message, details = "payload_too_large", 413, "The body is over the size limit.", []
    elif isinstance(exc, SuspiciousOperation):
        # Too many query or form fields, a malformed header...: the client's fault, answered as such.
        code, status_code, message, details = "validation_error", 400, suspicious_message(exc), []
    elif isinstance(exc, django_fsm.ConcurrentTransition):
        code, status_code, details = "conflict", 409, []
        message = "A concurrent change to this request won; reload it and try again."
    elif isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        # SQLite's busy timeout ran out: another writer held the database. A clean refusal, not a 500.
        code, status_code, details = "conflict", 409, []
        message = "The database is busy with another change; retry shortly."
        headers["Retry-After"] = "1"
    elif isinstance(exc, exceptions.APIException):
        code, status_code, message, details = "error", exc.status_code, str(exc.detail), []
    else:
        return None
    response = Response(error_body(code, message, details), status=status_code, headers=headers)
    return response


_ENCODER = DrfJSONEncoder()
# orjson writes what DRF's encoder writes (compact, UTF-8, insertion order), several times faster. Datetimes
# and anything orjson does not know go through DRF's encoder (`...Z` for UTC, lazy strings, decimals).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def json_bytes(data: Any) -> bytes:
    return orjson.dumps(data, default=_ENCODER.default, option=_ORJSON_OPTIONS)


class EnvelopeRenderer(JSONRenderer):
    """Wraps successful payloads in the success envelope; error payloads arrive already wrapped."""

    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code < 400 and not getattr(response, "raw_body", False):
            data = {"ok": True, "data": data, "contractVersion": CONTRACT_VERSION}
        return json_bytes(data)


def render_envelope(data: Any, status_code: int) -> bytes:
    """The exact bytes the API sends for ``data`` (used to store idempotent responses)."""
    if status_code < 400:
        data = {"ok": True, "data": data, "contractVersion": CONTRACT_VERSION}
    return json_bytes(data)


def suspicious_message(exc: SuspiciousOperation) -> str:
    from django.core.exceptions import TooManyFieldsSent

    if isinstance(exc, TooManyFieldsSent):
        return "Too many query or form fields."
    return "The request was refused as malformed."


MAX_JSON_DEPTH = 64


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than `limit` arrays/objects (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class StrictJSONParser(JSONParser):
    """JSON only; a body that is not a JSON object, or nests deeper than 64 levels, is a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ValidationFailed.field("", f"The body nests deeper than {MAX_JSON_DEPTH} levels.") from None
        if not isinstance(data, dict):
            raise ValidationFailed.field("", "The body must be a JSON object.")
        if json_depth_exceeds(data):
            raise ValidationFailed.field("", f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
        return data


class ServeJsonNegotiation(DefaultContentNegotiation):
    """`Accept` never gets in the way: a view's own media type is honoured when asked for by name, and any
    other `Accept` (absent, `*/*`, `application/*`, `text/html`...) gets the view's first renderer — JSON on
    every API view, the OpenAPI document included. There is no 406."""

    def select_renderer(
        self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type
