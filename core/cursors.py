"""Keyset-pagination cursors: opaque to the client, checked part by part when they come back.

A cursor names the last row of a page by its (created_at, id). It is ours, but it arrives from outside,
so `cursor_decode` checks every part before it reaches a query and refuses anything else with a 400 on
`cursor`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime

from .api import ValidationFailed

_ID = re.compile(r"[a-z]{2,8}_[0-9A-Za-z]{1,32}")


def cursor_encode(created_at: datetime, pk: str) -> str:
    raw = json.dumps([created_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, str]:
    """(created_at, id) of the row a cursor names; 400 `validation_error` on `cursor` if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, pk = json.loads(raw)
        parsed = datetime.fromisoformat(created)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        at = parsed.astimezone(UTC)  # OverflowError at the edges of datetime's range
        if not 1900 <= at.year < 2200:
            raise ValueError("out of range")
        if not isinstance(pk, str) or not _ID.fullmatch(pk):
            raise ValueError("not an id")
        return at, pk
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError, RecursionError):
        raise ValidationFailed.field("cursor", "Not a cursor this API returned.") from None
