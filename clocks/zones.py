"""Time-zone helpers: local dates and day boundaries that survive DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"Unknown time zone {name!r}") from None


def _normalise(value: datetime) -> datetime:
    # A wall time inside a spring-forward gap does not exist; the UTC round trip moves it to the
    # first real instant after the gap (e.g. a midnight skipped by DST becomes 01:00).
    return value.astimezone(UTC).astimezone(value.tzinfo)


@lru_cache(maxsize=16384)
def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    return _normalise(datetime.combine(day, time.min, tzinfo=tz))


@lru_cache(maxsize=16384)
def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    return _normalise(datetime.combine(day, _END_OF_DAY, tzinfo=tz))
