"""`Idempotency-Key` on POST/PUT: the first response is stored in the same transaction as the work.

Same key and same body → that response, byte for byte, and nothing changes. Same key, other body (or
another endpoint) → 409 `conflict`. Keys are per org and expire after DSAR_IDEMPOTENCY_TTL_HOURS.

A value shown once (a webhook signing secret) must not be kept here:
`@idempotent(redact=("endpoint.secret",))` stores those paths of the answer's `data` as null, so the first
answer carries the value and a replay answers the same object with null in its place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, overload

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from .api import Conflict, ValidationFailed, render_envelope
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# Answers that say "try again later" (a quota, the database busy): never stored under the key.
TRANSIENT = frozenset({429, 503})

ViewMethod = Callable[..., Any]


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.body_sha256 != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body or endpoint.",
            details=[{"field": "Idempotency-Key", "message": "reused with a different request"}],
        )
    response = HttpResponse(
        bytes(record.response_body), status=record.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def redacted(data: Any, paths: Sequence[str]) -> Any:
    """`data` with the value at each dotted path (`"endpoint.secret"`) replaced by None; paths that are
    absent (an error answer) are left alone. Copies what it changes, never the caller's object."""
    for path in paths:
        data = _null_at(data, path.split("."))
    return data


def _null_at(data: Any, keys: list[str]) -> Any:
    if not isinstance(data, Mapping) or keys[0] not in data:
        return data
    head, rest = keys[0], keys[1:]
    return {**data, head: _null_at(data[head], rest) if rest else None}


@overload
def idempotent(view_method: ViewMethod, /) -> ViewMethod: ...


@overload
def idempotent(*, redact: Sequence[str] = ()) -> Callable[[ViewMethod], ViewMethod]: ...


def idempotent(
    view_method: ViewMethod | None = None, /, *, redact: Sequence[str] = ()
) -> ViewMethod | Callable[[ViewMethod], ViewMethod]:
    """`@idempotent`, or `@idempotent(redact=("endpoint.secret",))` for an answer with a value shown once:
    the stored (and replayed) answer has null at those paths of `data`."""
    if view_method is None:
        return lambda method: _idempotent(method, tuple(redact))
    return _idempotent(view_method, tuple(redact))


def _idempotent(view_method: ViewMethod, redact: tuple[str, ...]) -> ViewMethod:
    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ValidationFailed.field(
                "Idempotency-Key", f"Must be 1-{MAX_KEY_LENGTH} printable characters."
            )
        org = request.user.org
        fingerprint = _fingerprint(request)
        cutoff = timezone.now() - timedelta(hours=settings.DSAR_IDEMPOTENCY_TTL_HOURS)
        existing = IdempotencyRecord.objects.filter(org=org, key=key).first()
        if existing is not None and existing.created_at >= cutoff:
            return _replay(existing, fingerprint)
        try:
            with transaction.atomic():
                if existing is not None:
                    existing.delete()
                # Insert first: a concurrent twin waits on the unique index (PostgreSQL) or at BEGIN (SQLite).
                record = IdempotencyRecord.objects.create(
                    org=org,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    body_sha256=fingerprint,
                    status_code=0,
                    response_body=b"",
                )
                try:
                    with transaction.atomic():
                        response = view_method(self, request, *args, **kwargs)
                except Exception as exc:
                    response = self.handle_exception(exc)
                body = render_envelope(response.data, response.status_code)
                if response.status_code in TRANSIENT:
                    # "Not now" is not an answer to keep: the same call with the same key may succeed
                    # later, so it must reach the view again rather than get this refusal back.
                    record.delete()
                else:
                    record.status_code = response.status_code
                    record.response_body = (
                        render_envelope(redacted(response.data, redact), response.status_code)
                        if redact
                        else body
                    )
                    record.save(update_fields=["status_code", "response_body"])
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(org=org, key=key).first()
            if existing is None:
                raise
            return _replay(existing, fingerprint)
        out = HttpResponse(body, status=response.status_code, content_type="application/json")
        for header in ("Retry-After", "WWW-Authenticate", "Location"):
            if header in response:
                out[header] = response[header]
        return out

    return wrapper


def idempotency_purge(*, now: datetime) -> int:
    """Forget the responses older than `DSAR_IDEMPOTENCY_TTL_HOURS` (run by the periodic sweeps)."""
    cutoff = now - timedelta(hours=settings.DSAR_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
