"""Holiday calendars and period arithmetic (pure; `holidays` and `dateutil` only).

A `Calendar` is one or more *candidate* holiday calendars. Where the law could mean more than one (a US
state's law: the federal calendar and the state's own), legal-clocks.md §1 rule 4 takes the earliest
arguable date: a weekday is skipped only if **every** candidate observes a holiday on it. A holiday of
only some candidates is counted as a business day, and reported as such (`partial_holiday`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from types import MappingProxyType
from typing import NamedTuple

import holidays
from dateutil.relativedelta import relativedelta

from clocks.types import Period, Unit

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ONE_DAY = timedelta(days=1)
# A run of non-working days longer than this means a broken calendar, not a long weekend.
_MAX_CLOSED_RUN = 31

# (country, subdiv): one candidate holiday calendar of the `holidays` package.
Source = tuple[str, str | None]


@cache
def holiday_table(country: str, subdiv: str | None, year: int) -> Mapping[date, str]:
    """Holidays of one calendar year, built once per (country, subdiv, year)."""
    table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    return MappingProxyType(dict(table.items()))


_SAT_SUN = frozenset({5, 6})
_PLAIN_WEEK: tuple[frozenset[int], frozenset[date]] = (_SAT_SUN, frozenset())


@cache
def week_table(country: str, subdiv: str | None, year: int) -> tuple[frozenset[int], frozenset[date]]:
    """The calendar's weekend (Friday and Saturday in Saudi Arabia and Israel) and the weekend days it
    makes working days in `year` (China's and Vietnam's swapped days around long holidays)."""
    table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    weekend = frozenset(getattr(table, "weekend", _SAT_SUN))
    workdays = frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)
    return weekend, workdays


def source_label(country: str, subdiv: str | None) -> str:
    """How a candidate calendar is named in explanations: "US", "US-CA", "GB-ENG"."""
    return f"{country}-{subdiv}" if subdiv else country


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    """A span of every year that holds no working day, from (month, day) to (month, day) inclusive; it
    may run over the year end (New Zealand's "working day" excludes 25 December to 15 January)."""

    start: tuple[int, int]
    end: tuple[int, int]
    name: str

    def __post_init__(self) -> None:
        for month, day in (self.start, self.end):
            date(2024, month, day)  # a real day of a leap year, or ValueError

    def contains(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end

    def as_dict(self) -> dict[str, str]:
        return {
            "from": f"{self.start[0]:02d}-{self.start[1]:02d}",
            "to": f"{self.end[0]:02d}-{self.end[1]:02d}",
            "name": self.name,
        }


class _Year(NamedTuple):
    """One calendar year as a count reads it."""

    weekend: frozenset[int]  # weekday numbers of the weekly rest days
    workdays: frozenset[date]  # weekend days the calendar makes working days
    closed: frozenset[date]  # days that `holiday` names: holidays of every candidate, closed periods
    partial: Mapping[date, CountedHoliday]  # holidays of only some candidates


class CountedHoliday(NamedTuple):
    """A holiday of only some candidate calendars, counted as a business day."""

    day: date
    name: str
    observed_by: str  # the labels of the candidates that observe it, e.g. "US" or "US-CA"


class Span(NamedTuple):
    """The end of a counted period, with the holidays the count skipped and those it counted anyway."""

    end: date
    skipped: tuple[date, ...] = ()
    counted: tuple[CountedHoliday, ...] = ()


@dataclass(frozen=True, slots=True)
class Calendar:
    country: str | None  # None: weekends only
    subdiv: str | None
    label: str  # how holiday names are qualified in explanations, e.g. "GB-ENG" or "US and US-CA"
    # Further candidate calendars: a day is a holiday only if this one *and* every one of these observe it.
    others: tuple[Source, ...] = ()
    # Spans of the year that are never working days, whatever the holiday calendars say.
    closed: tuple[ClosedPeriod, ...] = ()
    # year -> what a count asks of every day it passes, worked out once per year (`_year`).
    _years: dict[int, _Year] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def sources(self) -> tuple[Source, ...]:
        if self.country is None:
            return ()
        return ((self.country, self.subdiv), *self.others)

    def _names(self, day: date) -> list[tuple[str, str | None]]:
        """(candidate label, its holiday name or None) for every candidate calendar."""
        return [
            (source_label(country, subdiv), holiday_table(country, subdiv, day.year).get(day))
            for country, subdiv in self.sources
        ]

    def holiday(self, day: date) -> str | None:
        """The holiday on `day` if every candidate calendar observes one (the name of the first), or the
        closed period `day` falls in."""
        for closed in self.closed:
            if closed.contains(day):
                return closed.name
        if self.country is None:
            return None
        name = holiday_table(self.country, self.subdiv, day.year).get(day)
        if name is None or not self.others:
            return name
        if all(holiday_table(c, s, day.year).get(day) is not None for c, s in self.others):
            return name
        return None

    def partial_holiday(self, day: date) -> CountedHoliday | None:
        """A holiday of some but not all candidates: it does not close the day (rule 4)."""
        if not self.others or any(closed.contains(day) for closed in self.closed):
            return None
        names = self._names(day)
        observing = [(label, name) for label, name in names if name is not None]
        if not observing or len(observing) == len(names):
            return None
        return CountedHoliday(day, observing[0][1], ", ".join(label for label, _ in observing))

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            if self.country is None:
                weekend, workdays = _PLAIN_WEEK
            else:
                weekend, workdays = week_table(self.country, self.subdiv, year)
            candidates: set[date] = set()
            for country, subdiv in self.sources:
                candidates.update(holiday_table(country, subdiv, year))
            if self.closed:
                first = date(year, 1, 1)
                length = (date(year + 1, 1, 1) - first).days
                candidates.update(first + timedelta(days=i) for i in range(length))
            closed = frozenset(day for day in candidates if self.holiday(day) is not None)
            partial = {day: p for day in candidates if (p := self.partial_holiday(day)) is not None}
            table = self._years[year] = _Year(weekend, workdays, closed, MappingProxyType(partial))
        return table

    def is_weekend(self, day: date) -> bool:
        """A weekly rest day of the main calendar, unless the calendar makes it a working day that year."""
        weekend, workdays, _, _ = self._year(day.year)
        return day.weekday() in weekend and not (workdays and day in workdays)

    def is_working_day(self, day: date) -> bool:
        weekend, workdays, closed, _ = self._year(day.year)
        if day.weekday() in weekend and not (workdays and day in workdays):
            return False
        return day not in closed

    def describe(self, day: date) -> str:
        """Why `day` is not a working day, in words ("Saturday", "May Day (GB-ENG)")."""
        name = self.holiday(day)
        weekend = self.is_weekend(day)
        if name and weekend:
            return f"{name} ({self.label}), a {_WEEKDAY_NAMES[day.weekday()]}"
        if name:
            return f"{name} ({self.label})"
        return _WEEKDAY_NAMES[day.weekday()]

    def rule_text(self) -> str:
        """What counts as a business day under this calendar, for explanations."""
        closed = "".join(
            f", nor in {c.name} ({c.as_dict()['from']} to {c.as_dict()['to']})" for c in self.closed
        )
        if not self.others:
            return f"weekdays that are not {self.label} holidays{closed}"
        labels = [source_label(c, s) for c, s in self.sources]
        listed = ", ".join(labels[:-1]) + f" and {labels[-1]}"
        every, some = ("both the", "only one") if len(labels) == 2 else ("every one of the", "only some")
        return (
            f"weekdays that are not holidays of {every} {listed} calendars{closed}; "
            f"a holiday of {some} is counted"
        )

    def next_working_day_anywhere(self, day: date) -> date:
        """`day` or the first day after it that is a working day under *every* candidate calendar: the
        later reading, where a holiday of any one candidate closes the day."""
        for _ in range(_MAX_CLOSED_RUN):
            if self.is_working_day(day) and self.partial_holiday(day) is None:
                return day
            day += _ONE_DAY
        raise ValueError(f"No working day within {_MAX_CLOSED_RUN} days in calendar {self.label}")

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        for _ in range(_MAX_CLOSED_RUN):
            if self.is_working_day(day):
                return day
            day += _ONE_DAY
        raise ValueError(f"No working day within {_MAX_CLOSED_RUN} days in calendar {self.label}")

    def add_business_days(self, start: date, count: int) -> Span:
        """The `count`-th working day after `start`, the weekday holidays skipped on the way, and the
        holidays of only some candidate calendars that were counted as business days."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        skipped: list[date] = []
        counted: list[CountedHoliday] = []
        remaining = count
        year = start.year
        weekend, workdays, closed, partial = self._year(year)
        while remaining:
            day += _ONE_DAY
            if day.year != year:
                year = day.year
                weekend, workdays, closed, partial = self._year(year)
            if day.weekday() in weekend and not (workdays and day in workdays):
                continue
            if day in closed:
                skipped.append(day)
                continue
            if partial:
                counted_anyway = partial.get(day)
                if counted_anyway is not None:
                    counted.append(counted_anyway)
            remaining -= 1
        return Span(day, tuple(skipped), tuple(counted))


@cache
def get_calendar(
    country: str | None,
    subdiv: str | None,
    label: str,
    others: tuple[Source, ...] = (),
    closed: tuple[ClosedPeriod, ...] = (),
) -> Calendar:
    return Calendar(country, subdiv, label, others, closed)


@lru_cache(maxsize=65536)
def add_months(day: date, months: int) -> date:
    # relativedelta clamps to the month's last day: 31 Jan + 1 month = 28/29 Feb (Reg 1182/71, ICO).
    # Cached because building a relativedelta costs more than the rest of a plain deadline.
    return day + relativedelta(months=months)


def add_period(anchor: date, period: Period, calendar: Calendar) -> Span:
    """anchor + one period, with the holidays a business-day count skipped (and counted anyway)."""
    unit = period.unit
    if unit is Unit.CALENDAR_MONTHS:
        return Span(add_months(anchor, period.amount))
    if unit is Unit.CALENDAR_DAYS:
        return Span(anchor + timedelta(days=period.amount))
    if unit is Unit.HOURS:
        raise ValueError("a period in hours runs from an instant, not a date (Engine.unrolled counts it)")
    return calendar.add_business_days(anchor, period.amount)


def add_span(
    anchor: date, *, months: int = 0, days: int = 0, business_days: int = 0, calendar: Calendar
) -> Span:
    """anchor + months, then + calendar days, then + business days (in that fixed order)."""
    end = add_months(anchor, months) if months else anchor
    if days:
        end += timedelta(days=days)
    if business_days:
        return calendar.add_business_days(end, business_days)
    return Span(end)
