"""Holiday calendars and period arithmetic (pure; `holidays` and `dateutil` only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from types import MappingProxyType

import holidays
from dateutil.relativedelta import relativedelta

from clocks.types import Period, Unit

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ONE_DAY = timedelta(days=1)
# A run of non-working days longer than this means a broken calendar, not a long weekend.
_MAX_CLOSED_RUN = 31


@cache
def holiday_table(country: str, subdiv: str | None, year: int) -> Mapping[date, str]:
    """Holidays of one calendar year, built once per (country, subdiv, year)."""
    table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    return MappingProxyType(dict(table.items()))


@dataclass(frozen=True, slots=True)
class Calendar:
    country: str | None  # None: weekends only
    subdiv: str | None
    label: str  # how holiday names are qualified in explanations, e.g. "GB-ENG"

    def holiday(self, day: date) -> str | None:
        if self.country is None:
            return None
        return holiday_table(self.country, self.subdiv, day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        return self.holiday(day) is None

    def describe(self, day: date) -> str:
        """Why `day` is not a working day, in words ("Saturday", "May Day (GB-ENG)")."""
        name = self.holiday(day)
        weekend = day.weekday() >= 5
        if name and weekend:
            return f"{name} ({self.label}), a {_WEEKDAY_NAMES[day.weekday()]}"
        if name:
            return f"{name} ({self.label})"
        return _WEEKDAY_NAMES[day.weekday()]

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        for _ in range(_MAX_CLOSED_RUN):
            if self.is_working_day(day):
                return day
            day += _ONE_DAY
        raise ValueError(f"No working day within {_MAX_CLOSED_RUN} days in calendar {self.label}")

    def add_business_days(self, start: date, count: int) -> tuple[date, tuple[date, ...]]:
        """The `count`-th working day after `start`, and the weekday holidays skipped on the way."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        skipped: list[date] = []
        remaining = count
        while remaining:
            day += _ONE_DAY
            if day.weekday() >= 5:
                continue
            if self.holiday(day) is not None:
                skipped.append(day)
                continue
            remaining -= 1
        return day, tuple(skipped)


@cache
def get_calendar(country: str | None, subdiv: str | None, label: str) -> Calendar:
    return Calendar(country, subdiv, label)


@lru_cache(maxsize=65536)
def add_months(day: date, months: int) -> date:
    # relativedelta clamps to the month's last day: 31 Jan + 1 month = 28/29 Feb (Reg 1182/71, ICO).
    # Cached because building a relativedelta costs more than the rest of a plain deadline.
    return day + relativedelta(months=months)


def add_period(anchor: date, period: Period, calendar: Calendar) -> tuple[date, tuple[date, ...]]:
    """anchor + one period; the second item lists the weekday holidays a business-day count skipped."""
    unit = period.unit
    if unit is Unit.CALENDAR_MONTHS:
        return add_months(anchor, period.amount), ()
    if unit is Unit.CALENDAR_DAYS:
        return anchor + timedelta(days=period.amount), ()
    return calendar.add_business_days(anchor, period.amount)


def add_span(
    anchor: date, *, months: int = 0, days: int = 0, business_days: int = 0, calendar: Calendar
) -> tuple[date, tuple[date, ...]]:
    """anchor + months, then + calendar days, then + business days (in that fixed order)."""
    end = add_months(anchor, months) if months else anchor
    if days:
        end += timedelta(days=days)
    if business_days:
        return calendar.add_business_days(end, business_days)
    return end, ()
