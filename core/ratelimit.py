"""Fixed-window rate limits shared by every web process: one counter per name and window.

With Redis configured (`REDIS_URL`), the counter is a Redis key incremented with INCR. Otherwise it is
a row of `core_ratecounter` (one row per counter, restarted when a new window begins), incremented by
one upsert (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`), atomic on SQLite and PostgreSQL alike.
Django's database cache is not used for the counter: its `incr` is a read followed by a write, so two
gunicorn workers could both read 19 and both let a 21st call through. Either way each call costs one
round trip, whatever the rate (no list of timestamps to re-pickle).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from .prepared import server_prepared

_UNITS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
    **dict.fromkeys(("d", "day"), 86400),
}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*")


@dataclass(frozen=True)
class Rate:
    """`limit` calls per window of `seconds`; written `1200/min`, `10/15min`, `5/s`, `1000/day`."""

    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.fullmatch(text.lower())
        unit = _UNITS.get(match.group(3).rstrip("s") or "s") if match else None
        if match is None or unit is None:
            raise ValueError(f"A rate reads like 1200/min or 10/15min, not {text!r}.")
        limit, multiple = int(match.group(1)), int(match.group(2) or 1)
        if limit < 1 or multiple < 1:
            raise ValueError(f"A rate needs at least 1 call per window of at least 1 unit: {text!r}.")
        return cls(limit=limit, seconds=multiple * unit)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # whole seconds until the window ends (at least 1)


def _window(rate: Rate, now: float) -> tuple[int, int]:
    window = int(now // rate.seconds)
    retry_after = max(1, int((window + 1) * rate.seconds - now + 0.999))
    return window, retry_after


def hit(name: str, rate: Rate, *, now: float | None = None) -> Decision:
    """Count one call against `name` in the current window and say whether it is within the rate."""
    now = time.time() if now is None else now
    window, retry_after = _window(rate, now)
    count = _increment(f"rl:{name}:{rate.seconds}:{window}", expires_at=(window + 1) * rate.seconds, now=now)
    return Decision(allowed=count <= rate.limit, count=count, retry_after=retry_after)


def peek(name: str, rate: Rate, *, now: float | None = None) -> Decision:
    """The current window's count without counting a call (for limits on failures, such as sign-ins)."""
    now = time.time() if now is None else now
    window, retry_after = _window(rate, now)
    count = _read(f"rl:{name}:{rate.seconds}:{window}", expires_at=(window + 1) * rate.seconds)
    return Decision(allowed=count < rate.limit, count=count, retry_after=retry_after)


def _uses_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def _increment(key: str, *, expires_at: int, now: float) -> int:
    if _uses_redis():
        # INCR and EXPIRE in one pipeline: one round trip; INCR is atomic and creates the key at 1. The
        # client comes from Django's RedisCache (its `_cache.get_client`), so keys carry the cache's prefix.
        redis_cache = caches["default"]
        full_key = redis_cache.make_key(key)
        client = redis_cache._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expireat(full_key, expires_at + 1)
        count, _ = pipe.execute()
        return int(count)
    # One row per counter: a call in a new window starts it again at 1, in the same statement.
    with server_prepared(connection) as cursor:
        cursor.execute(
            "INSERT INTO core_ratecounter (name, expires_at, hits) VALUES (%s, %s, 1) "
            "ON CONFLICT (name) DO UPDATE SET "
            "hits = CASE WHEN core_ratecounter.expires_at = excluded.expires_at "
            "THEN core_ratecounter.hits + 1 ELSE 1 END, expires_at = excluded.expires_at "
            "RETURNING hits",
            [_row_name(key), expires_at],
        )
        return int(cursor.fetchone()[0])


def purge_ended(now: float | None = None) -> int:
    """Delete database counters whose window has ended (the background sweep calls this)."""
    if _uses_redis():
        return 0  # Redis expires its keys itself
    from .models import RateCounter

    cutoff = int(time.time() if now is None else now)
    deleted, _ = RateCounter.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def _row_name(key: str) -> str:
    return key.rsplit(":", 1)[0]  # the window number is in `expires_at`, not in the row's name


def _read(key: str, *, expires_at: int) -> int:
    if _uses_redis():
        redis_cache = caches["default"]
        full_key = redis_cache.make_key(key)
        value = redis_cache._cache.get_client(full_key).get(full_key)  # type: ignore[attr-defined]
        return int(value or 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hits FROM core_ratecounter WHERE name = %s AND expires_at = %s",
            [_row_name(key), expires_at],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0
