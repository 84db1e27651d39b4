"""Django's PostgreSQL backend, with timestamps read by psycopg's C loader.

Django reads every `timestamptz` through a Python subclass of psycopg's loader (to attach its own time
zone), which gives up the C loader's speed: a queue page of 50 requests reads about 300 timestamps. When
Django's zone is UTC — always, here: `TIME_ZONE = "UTC"` with `USE_TZ` — the C loader answers with
`datetime.timezone.utc` already, the very value Django's loader would attach, so each cursor gets it back.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.pq import Format

_TIMESTAMPTZ = adapters.types["timestamptz"].oid
# psycopg's own registration: the C implementation when psycopg[binary] or [c] is installed.
_C_LOADER = adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        if self.timezone == UTC:
            cursor.adapters.register_loader(_TIMESTAMPTZ, _C_LOADER)
        return cursor
