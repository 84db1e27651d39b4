"""`Idempotency-Key` on POST/PUT: the first response is stored in the same transaction as the work.

Same key and same body → that response, byte for byte, and nothing changes. Same key, other body (or
another endpoint) → 409 `conflict`. Keys are per org and expire after DSAR_IDEMPOTENCY_TTL_HOURS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from .api import Conflict, ValidationFailed, render_envelope
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 255


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


def idempotent(view_method: Callable[..., Any]) -> Callable[..., Any]:
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
                record.status_code = response.status_code
                record.response_body = body
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
