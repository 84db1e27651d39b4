"""The engine: replay a request's events under a pack, keeping the state the deadlines depend on.

`Engine.apply` replays one event (pauses, restarts, extensions, acknowledgement, the stop and, after the
stop, an appeal); the deadline helpers (`unrolled`, `roll`, `due_dates`) and the extension rule
(`judge_extension`) read that state. Turning it into a `ClockResult` is `clocks.compute`'s job, and the
segment narrative is `clocks.segments`'s.

Everything is a function of (pack, receipt, request types, events, now): no wall clock, no I/O.
Events are replayed in a canonical order, so the caller's ordering never changes the answer.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from clocks.calendar import Calendar, Span, add_period, add_span
from clocks.policy import PeriodRule, PolicyPack
from clocks.types import (
    KIND_ORDER,
    PAUSE_CLOSERS,
    PAUSE_OPENERS,
    REQUEST_TYPES,
    Adjustment,
    ClockEvent,
    Effect,
    EventKind,
    ExtensionApplied,
    ExtensionCheck,
    Period,
    Unit,
    require_aware,
)
from clocks.zones import start_of_day, zone

ONE_DAY = timedelta(days=1)
UNIT_RULE = {
    Unit.CALENDAR_MONTHS: "months",
    Unit.CALENDAR_DAYS: "days",
    Unit.BUSINESS_DAYS: "businessDays",
    Unit.HOURS: "hours",
}
# The weekdays a roll rule names as closed on the final day (besides a public holiday); the other rules
# close the calendar's own weekend (Friday and Saturday in Saudi Arabia and Israel).
_ROLL_CLOSED_WEEKDAYS = {
    "NEXT_DAY_NOT_SUNDAY_OR_HOLIDAY": (6,),
    "NEXT_DAY_NOT_SATURDAY_OR_HOLIDAY": (5, 6),
}
WHAT_IS_AWAITED = {
    "VERIFICATION": "identity information",
    "AUTHORITY": "proof of authority",
    "CLARIFICATION": "clarification",
}


@dataclass(slots=True)
class Totals:
    """A length of time kept per unit, so that mixed-unit extensions add up without rounding."""

    months: int = 0
    days: int = 0
    business_days: int = 0

    def plus(self, amount: int, unit: Unit) -> Totals:
        months, days, bdays = self.months, self.days, self.business_days
        if unit is Unit.CALENDAR_MONTHS:
            months += amount
        elif unit is Unit.CALENDAR_DAYS:
            days += amount
        else:
            bdays += amount
        return Totals(months, days, bdays)


NOTHING = Totals()


@dataclass(slots=True)
class PauseRecord:
    reason: str
    requested_at: datetime
    requested_on: date
    applied: Effect  # the pack's effect, or NONE when the request came too late to have one
    note: str = ""
    citation: str = ""  # the rule the effect rests on (the fraud-suspected rule where it applied)
    received_at: datetime | None = None
    received_on: date | None = None


@dataclass(slots=True)
class Rejected:
    """An extension event that did not count, and why (shown as a NO_EFFECT segment)."""

    event: ClockEvent
    why: str


@dataclass(slots=True)
class Restart:
    """A completed restart: the anchor moved from `old_anchor` to `new_anchor`."""

    old_anchor: date
    new_anchor: date
    at: datetime


@dataclass(slots=True)
class AppealRecord:
    """An appeal against the answer (refusal or closure), with its own period from its receipt."""

    received_at: datetime
    received_on: date
    rule: PeriodRule
    decided_at: datetime | None = None
    outcome: str | None = None
    extensions: list[ExtensionApplied] = field(default_factory=list)


def totals_of(extensions: Sequence[ExtensionApplied]) -> Totals:
    """The extension granted by `extensions`, per unit."""
    totals = NOTHING
    for applied in extensions:
        totals = totals.plus(applied.amount, applied.unit)
    return totals


@dataclass(slots=True)
class Engine:
    pack: PolicyPack
    tz: ZoneInfo
    tz_name: str
    calendar: Calendar
    types: tuple[str, ...]
    received_at: datetime
    anchor: date
    anchor_at: datetime
    first_anchor: date
    pauses: list[PauseRecord] = field(default_factory=list)
    exclusions: list[PauseRecord] = field(default_factory=list)  # the pauses that exclude days
    open_pauses: dict[str, PauseRecord] = field(default_factory=dict)
    restarts: list[Restart] = field(default_factory=list)
    extensions: list[ExtensionApplied] = field(default_factory=list)
    due_before_extension: list[date] = field(default_factory=list)
    ext_totals: Totals = field(default_factory=Totals)
    rejected: list[Rejected] = field(default_factory=list)
    open_restarts: int = 0
    open_exclusions: int = 0
    stopped_at: datetime | None = None
    stop_reason: str = ""
    _floor: tuple[date, date] | None = None  # (anchor, floor_due) memo
    acknowledged_at: datetime | None = None
    appeal: AppealRecord | None = None
    # The pack rolls and its calendar has candidates that may close a day the pack keeps (AU's states).
    regional: bool = False
    # Memos for requests with exclusions, made on first use (most requests never need them), keyed by
    # (asof, anchor, number of exclusions): the clipped spans, and the excluded days of each prefix.
    _spans: dict[tuple[date, date, int], list[tuple[date, date, PauseRecord]]] | None = None
    _prefixes: dict[tuple[date, date, int], tuple[list[date], list[int]] | None] | None = None

    # ---- time helpers -------------------------------------------------------------------------

    def local_date(self, value: datetime) -> date:
        return value.astimezone(self.tz).date()

    def awaiting(self) -> bool:
        return self.open_restarts > 0

    def effective_anchor(self, asof: date) -> date:
        # While a restart is open, the clock is evaluated as if the item arrived on `asof`.
        if self.awaiting():
            opened = max(p.requested_on for p in self.open_pauses.values() if p.applied is Effect.RESTART)
            return max(asof, opened, self.anchor)
        return self.anchor

    def exclusion_intervals(self, asof: date, anchor: date) -> list[tuple[date, date, PauseRecord]]:
        """Applied exclusion spans clipped to the anchor; open ones end on `asof`. Worked out once per
        (asof, anchor) while the exclusions stay as they are.

        Already in start order: pauses are recorded in event order, so request dates never decrease.
        """
        key = (asof, anchor, len(self.exclusions))
        if self._spans is None:
            self._spans = {}
        spans = self._spans.get(key)
        if spans is None:
            spans = []
            for record in self.exclusions:
                start = record.requested_on if record.requested_on > anchor else anchor
                end = record.received_on if record.received_on is not None else max(asof, record.requested_on)
                if end >= start:
                    spans.append((start, end, record))
            if any(record.received_on is None for record in self.exclusions):
                return spans  # an open exclusion closes later without changing the count: no memo
            self._spans[key] = spans
        return spans

    def excluded_days(self, asof: date, anchor: date, through: date | None = None) -> int:
        """Days excluded by pauses, overlaps counted once; with `through`, only by the pauses that had
        ended by that day (what an officer saw "so far" when the clock resumed)."""
        if not self.exclusions:
            return 0
        if through is None:  # the hot path (every due date while replaying): one pass, nothing built
            total = 0
            covered_to: date | None = None
            for record in self.exclusions:
                start = record.requested_on if record.requested_on > anchor else anchor
                end = record.received_on if record.received_on is not None else max(asof, record.requested_on)
                if covered_to is not None and start <= covered_to:
                    start = covered_to + ONE_DAY
                if end >= start:
                    total += (end - start).days + 1
                if covered_to is None or end > covered_to:
                    covered_to = end
            return total
        spans = self.exclusion_intervals(asof, anchor)
        if self.open_exclusions == 0:
            prefix = self._prefix_totals(asof, anchor, spans)
            if prefix is not None:
                # Pauses answered in order: those ended by `through` are a prefix of the spans.
                received, totals = prefix
                return totals[bisect_right(received, through)]
        ended = [span for span in spans if span[2].received_on is not None and span[2].received_on <= through]
        return _union_days(ended)

    def _prefix_totals(
        self, asof: date, anchor: date, spans: list[tuple[date, date, PauseRecord]]
    ) -> tuple[list[date], list[int]] | None:
        """For spans whose pauses ended in order: their end dates and the excluded days of each prefix."""
        key = (asof, anchor, len(self.exclusions))
        if self._prefixes is None:
            self._prefixes = {}
        if key in self._prefixes:
            return self._prefixes[key]
        received = [span[2].received_on for span in spans]
        prefix: tuple[list[date], list[int]] | None = None
        if all(day is not None for day in received) and all(a <= b for a, b in pairwise(received)):  # type: ignore[operator]
            totals = [_union_days(spans[:i]) for i in range(len(spans) + 1)]
            prefix = ([day for day in received if day is not None], totals)
        self._prefixes[key] = prefix
        return prefix

    # ---- deadlines ----------------------------------------------------------------------------

    def anchor_instant(self, anchor: date) -> datetime:
        """Where a period in hours starts: the instant of receipt, or the start of a restarted clock's day."""
        return self.received_at if anchor == self.first_anchor else start_of_day(anchor, self.tz)

    def due_instant(self, request_type: str, anchor: date, excluded: int) -> datetime | None:
        """The exact end of a period in hours (+ excluded days), or None for a period counted in days."""
        if not self.pack.counts_hours:
            return None
        period = self.pack.period_for(request_type)
        if period.unit is not Unit.HOURS:
            return None
        extended = self.ext_totals if self.pack.is_extendable_type(request_type) else NOTHING
        if extended != NOTHING:
            return None  # an extended period ends with its last day
        end = self.anchor_instant(anchor) + timedelta(hours=period.amount)
        return end + timedelta(days=excluded) if excluded else end

    def unrolled(self, request_type: str, anchor: date, excluded: int, extension: Totals) -> Span:
        """anchor + the type's period (+ extension), then + excluded days; not yet rolled."""
        period = self.pack.period_for(request_type)
        if self.pack.counts_hours and period.unit is Unit.HOURS:
            end = self.local_date(self.anchor_instant(anchor) + timedelta(hours=period.amount))
            if extension != NOTHING and self.pack.is_extendable_type(request_type):
                end = add_span(
                    end,
                    months=extension.months,
                    days=extension.days,
                    business_days=extension.business_days,
                    calendar=self.calendar,
                ).end
            return Span(end + timedelta(days=excluded))
        if extension == NOTHING or not self.pack.is_extendable_type(request_type):
            span = add_period(anchor, period, self.calendar)
        else:
            totals = extension.plus(period.amount, period.unit)
            span = add_span(
                anchor,
                months=totals.months,
                days=totals.days,
                business_days=totals.business_days,
                calendar=self.calendar,
            )
        return span._replace(end=span.end + timedelta(days=excluded)) if excluded else span

    def roll(self, day: date) -> tuple[date, Adjustment | None]:
        """Apply the pack's roll rule once, to a final date."""
        rule = self.pack.roll.rule
        cal = self.calendar
        named = _ROLL_CLOSED_WEEKDAYS.get(rule)

        def closed(d: date) -> bool:
            if named is None:
                return not cal.is_working_day(d)
            return d.weekday() in named or cal.holiday(d) is not None

        if not closed(day):
            return day, None
        later = day
        while closed(later):
            later += ONE_DAY
            if (later - day).days > 31:
                raise ValueError(f"No open day within 31 days of {day.isoformat()} in calendar {cal.label}")
        why = "; ".join(cal.describe(d) for d in days_between(day, later))
        if rule in ("NEXT_WORKING_DAY", "NEXT_DAY_NOT_SUNDAY_OR_HOLIDAY", "NEXT_DAY_NOT_SATURDAY_OR_HOLIDAY"):
            return later, Adjustment(day, later, why, relied_upon=True)
        if rule == "NEXT_BUSINESS_DAY_IF_HOLIDAY" and cal.holiday(day) is not None:
            return later, Adjustment(day, later, why, relied_upon=True)
        if rule == "NEXT_BUSINESS_DAY_IF_HOLIDAY":
            why += ": not a public holiday, and only a holiday moves the last day; the earlier date is kept"
        else:
            why += ": no cited rule moves this deadline; the earlier date is kept"
        return day, Adjustment(day, later, why, relied_upon=False)

    def other_reading(self, day: date) -> Adjustment | None:
        """A final day that only some candidate calendars close (a state's holiday under a national pack):
        the pack keeps it, and the later date the other reading would give is shown, not relied upon."""
        cal = self.calendar
        if self.pack.roll.rule == "NONE" or not cal.others:
            return None
        partial = cal.partial_holiday(day)
        if partial is None:
            return None
        later = cal.next_working_day_anywhere(day)
        why = (
            f"{partial.name} is a holiday only in {partial.observed_by}; where the law's place is read as "
            f"there, the deadline moves to {later.isoformat()}. The earlier date is kept (product rule 4: "
            "a day is closed only if every candidate calendar closes it)"
        )
        return Adjustment(day, later, why, relied_upon=False)

    def due_dates(self, asof: date, extension: Totals | None = None) -> dict[str, date]:
        anchor = self.effective_anchor(asof)
        excluded = self.excluded_days(asof, anchor)
        ext = self.ext_totals if extension is None else extension
        return {t: self.roll(self.unrolled(t, anchor, excluded, ext)[0])[0] for t in self.types}

    def floor_due(self) -> date:
        if self._floor is None or self._floor[0] != self.anchor:
            floor = min(self.unrolled(t, self.anchor, 0, NOTHING)[0] for t in self.types)
            self._floor = (self.anchor, floor)
        return self._floor[1]

    def extendable_types(self) -> tuple[str, ...]:
        return tuple(t for t in self.types if self.pack.is_extendable_type(t))

    # ---- event replay -------------------------------------------------------------------------

    def apply(self, event: ClockEvent) -> None:
        kind = event.kind
        if self.stopped_at is not None:
            # A stopped clock is final; later events are history, not clock input. Only an appeal
            # against the answer opens (and its decision closes) a new clock of its own.
            if kind is EventKind.APPEAL_RECEIVED:
                self._receive_appeal(event)
            elif kind is EventKind.APPEAL_DECIDED:
                self._decide_appeal(event)
            elif kind is EventKind.EXTENSION and self.appeal is not None:
                self._extend_appeal(event)
            return
        if kind in PAUSE_OPENERS:
            self._open(event, PAUSE_OPENERS[kind])
        elif kind in PAUSE_CLOSERS:
            self._close(event, PAUSE_CLOSERS[kind])
        elif kind is EventKind.EXTENSION:
            self._extend(event)
        elif kind is EventKind.ACKNOWLEDGED:
            if self.acknowledged_at is None:
                self.acknowledged_at = event.occurred_at
        elif kind is EventKind.STOPPED:
            self.stopped_at = event.occurred_at
            self.stop_reason = str(event.data.get("reason") or "")
        # An appeal before the answer, or its decision, has nothing to appeal against: ignored.

    def _receive_appeal(self, event: ClockEvent) -> None:
        rule = self.pack.appeal_rule
        if rule is None or self.appeal is not None:
            return  # no appeal under this law, or one was already received: the first one counts
        on = self.local_date(event.occurred_at)
        self.appeal = AppealRecord(event.occurred_at, on, rule)

    def _decide_appeal(self, event: ClockEvent) -> None:
        appeal = self.appeal
        if appeal is None or appeal.decided_at is not None:
            return  # nothing open to decide
        appeal.decided_at = event.occurred_at
        outcome = event.data.get("outcome")
        appeal.outcome = str(outcome) if outcome not in (None, "") else None

    def appeal_due(self, extension: Totals | None = None) -> tuple[date, Span, Adjustment | None] | None:
        """The appeal's due date: its period (+ any appeal extension) from the local date of receipt, like
        a response period (calendar days: the day of receipt is not counted), then the roll once."""
        appeal = self.appeal
        if appeal is None:
            return None
        totals = totals_of(appeal.extensions) if extension is None else extension
        period = appeal.rule.period
        if totals == NOTHING:
            span = add_period(appeal.received_on, period, self.calendar)
        else:
            totals = totals.plus(period.amount, period.unit)
            span = add_span(
                appeal.received_on,
                months=totals.months,
                days=totals.days,
                business_days=totals.business_days,
                calendar=self.calendar,
            )
        due, adjustment = self.roll(span.end)
        return due, span, adjustment

    def _extend_appeal(self, event: ClockEvent) -> None:
        appeal = self.appeal
        assert appeal is not None
        data = event.data
        try:
            raw_amount = data.get("amount")
            amount = None if raw_amount is None else int(raw_amount)
            unit = None if data.get("unit") in (None, "") else Unit.parse(data["unit"])
        except (TypeError, ValueError) as exc:
            self.rejected.append(Rejected(event, f"unreadable extension ({exc})"))
            return
        check = self.judge_appeal_extension(event.occurred_at, amount, unit)
        if not check.allowed or check.amount is None or check.unit is None or check.due_date_after is None:
            self.rejected.append(Rejected(event, check.reason))
            return
        appeal.extensions.append(
            ExtensionApplied(
                granted_at=event.occurred_at,
                by=str(data.get("by") or ""),
                amount=check.amount,
                unit=check.unit,
                reason=str(data.get("reason") or ""),
                due_date_after=check.due_date_after,
            )
        )

    def judge_appeal_extension(self, at: datetime, amount: int | None, unit: Unit | None) -> ExtensionCheck:
        """An appeal's own extension (Colorado, Minnesota): once open, within the pack's maximum, granted on
        or before the appeal's unextended, unrolled due date (as for a response, §1.6)."""
        pack, appeal = self.pack, self.appeal
        rule = pack.appeal_extension
        if appeal is None:
            return _refuse("There is no open appeal to extend.")
        if rule is None:
            return _refuse(f"The {pack.id} pack ({pack.law}) provides no extension of the appeal period.")
        if appeal.decided_at is not None:
            return _refuse("The appeal has been decided; it cannot be extended.")
        if rule.max_count is not None and len(appeal.extensions) >= rule.max_count:
            first = self.local_date(appeal.extensions[0].granted_at).isoformat()
            times = "once" if rule.max_count == 1 else f"{rule.max_count} times"
            return _refuse(
                f"The appeal was already extended on {first}; it may be extended only {times}", rule.citation
            )
        day = self.local_date(at)
        window = add_period(appeal.received_on, appeal.rule.period, self.calendar).end
        if day > window:
            return _refuse(
                f"Too late to extend the appeal: granted on {day.isoformat()}, after its due date "
                f"{window.isoformat()}; the extension must be notified within the appeal period",
                rule.citation,
            )
        if amount is None:
            if all(e.unit is rule.max_total.unit for e in appeal.extensions):
                amount = rule.max_total.amount - sum(e.amount for e in appeal.extensions)
                unit = rule.max_total.unit
            else:
                why = "Say how long: the appeal's earlier extensions were in other units"
                return _refuse(why, rule.citation)
        unit = unit or rule.max_total.unit
        if amount <= 0:
            return _refuse(f"An extension must be a positive amount, got {amount} {unit.value}.")
        totals = totals_of(appeal.extensions).plus(amount, unit)
        limit = NOTHING.plus(rule.max_total.amount, rule.max_total.unit)
        wanted = self.appeal_due(totals)
        most = self.appeal_due(limit)
        assert wanted is not None and most is not None
        if wanted[1].end > most[1].end:
            return _refuse(
                f"Extending the appeal by {Period(amount, unit)} would end it on "
                f"{wanted[1].end.isoformat()}, "
                f"beyond the maximum extension of {rule.max_total} (until {most[1].end.isoformat()})",
                rule.citation,
            )
        return ExtensionCheck(True, "", wanted[0], amount, unit)

    def _open(self, event: ClockEvent, reason: str) -> None:
        if reason in self.open_pauses:
            return  # asking again while still waiting changes nothing: the first request counts
        on = self.local_date(event.occurred_at)
        effect, citation = self.pack.applied_effect(event.kind, event.data)
        record = PauseRecord(reason, event.occurred_at, on, effect, citation=citation)
        # The unextended, unpaused, unrolled end is a floor for every due date: below it, no need
        # to work out the exact current due date.
        if effect is not Effect.NONE and on > self.floor_due():
            current = min(self.due_dates(on).values())
            if on > current:
                # Pausing or restarting an already-missed deadline would hide a breach.
                record.applied = Effect.NONE
                record.note = (
                    f"requested on {on.isoformat()}, after the due date {current.isoformat()}: "
                    "a deadline that has passed cannot be paused or restarted"
                )
        self.pauses.append(record)
        self.open_pauses[reason] = record
        if record.applied is Effect.RESTART:
            self.open_restarts += 1
        elif record.applied is Effect.EXCLUDE:
            self.open_exclusions += 1
            self.exclusions.append(record)

    def _close(self, event: ClockEvent, reason: str) -> None:
        record = self.open_pauses.pop(reason, None)
        if record is None:
            return  # an answer nobody asked for has no effect on the clock
        record.received_at = event.occurred_at
        record.received_on = max(self.local_date(event.occurred_at), record.requested_on)
        if record.applied is Effect.EXCLUDE:
            self.open_exclusions -= 1
        if record.applied is Effect.RESTART:
            self.open_restarts -= 1
        if record.applied is Effect.RESTART and not self.awaiting():
            new_anchor = max(record.received_on, self.anchor)
            self.restarts.append(Restart(self.anchor, new_anchor, event.occurred_at))
            self.anchor = new_anchor
            self.anchor_at = start_of_day(new_anchor, self.tz)

    def _extend(self, event: ClockEvent) -> None:
        data = event.data
        try:
            raw_amount = data.get("amount")
            amount = None if raw_amount is None else int(raw_amount)
            unit = None if data.get("unit") in (None, "") else Unit.parse(data["unit"])
        except (TypeError, ValueError) as exc:
            self.rejected.append(Rejected(event, f"unreadable extension ({exc})"))
            return
        check, totals = self.judge_extension(event.occurred_at, amount, unit)
        if (
            not check.allowed
            or totals is None
            or check.amount is None
            or check.unit is None
            or check.due_date_after is None
        ):
            self.rejected.append(Rejected(event, check.reason))
            return
        on = self.local_date(event.occurred_at)
        self.due_before_extension.append(min(self.due_dates(on)[t] for t in self.extendable_types()))
        self.ext_totals = totals
        self.extensions.append(
            ExtensionApplied(
                granted_at=event.occurred_at,
                by=str(data.get("by") or ""),
                amount=check.amount,
                unit=check.unit,
                reason=str(data.get("reason") or ""),
                due_date_after=check.due_date_after,
            )
        )

    # ---- extension rule -----------------------------------------------------------------------

    def judge_extension(
        self, at: datetime, amount: int | None, unit: Unit | None
    ) -> tuple[ExtensionCheck, Totals | None]:
        pack = self.pack
        rule = pack.extension
        if rule is None:
            return _refuse(
                f"The {pack.id} pack ({pack.law}) provides no extension of the response period."
            ), None
        if self.stopped_at is not None and self.appeal is not None and pack.appeal_extension is not None:
            return self.judge_appeal_extension(at, amount, unit), None
        if self.stopped_at is not None:
            on = self.local_date(self.stopped_at).isoformat()
            why = f" ({self.stop_reason})" if self.stop_reason else ""
            return _refuse(f"The clock was stopped on {on}{why}; a stopped request cannot be extended."), None
        ext_types = self.extendable_types()
        if not ext_types:
            return _refuse(
                f"None of the request types ({', '.join(self.types)}) can be extended", rule.citation
            ), None
        if rule.max_count is not None and len(self.extensions) >= rule.max_count:
            first = self.local_date(self.extensions[0].granted_at).isoformat()
            times = "once" if rule.max_count == 1 else f"{rule.max_count} times"
            return _refuse(
                f"Already extended on {first}; the response period may be extended only {times}",
                rule.citation,
            ), None

        day = self.local_date(at)
        # legal-clocks §1.6: judged against the pause-adjusted *base* due date, which is an intermediate
        # date and so never rolled (§1.5: only the final date moves). Being early is never a breach.
        base_anchor = self.effective_anchor(day)
        excluded = self.excluded_days(day, base_anchor)
        window = min(self.unrolled(t, base_anchor, excluded, NOTHING)[0] for t in ext_types)
        if day > window:
            return _refuse(
                f"Too late to extend: granted on {day.isoformat()}, after the (pause-adjusted) base due "
                f"date {window.isoformat()}; an extension must be notified within the first period",
                rule.citation,
            ), None

        anchor = self.effective_anchor(day)
        limit_totals = NOTHING.plus(rule.max_total.amount, rule.max_total.unit)
        if amount is None:
            amount, unit = self._remaining(ext_types[0], anchor, limit_totals)
            if amount <= 0:
                return _refuse(
                    f"The full extension ({rule.max_total}) has already been granted", rule.citation
                ), None
        unit = unit or rule.max_total.unit
        if amount <= 0:
            return _refuse(f"An extension must be a positive amount, got {amount} {unit.value}."), None

        totals = self.ext_totals.plus(amount, unit)
        asked = Period(amount, unit)
        for request_type in ext_types:
            wanted = self.unrolled(request_type, anchor, 0, totals)[0]
            limit = self.unrolled(request_type, anchor, 0, limit_totals)[0]
            if wanted > limit:
                return _refuse(
                    f"Extending by {asked} would end the {request_type} period on {wanted.isoformat()}, "
                    f"beyond the maximum extension of {rule.max_total} (until {limit.isoformat()} before "
                    "excluded days)",
                    rule.citation,
                ), None

        after = min(self.due_dates(day, totals)[t] for t in ext_types)
        return ExtensionCheck(True, "", after, amount, unit), totals

    def _remaining(self, request_type: str, anchor: date, limit_totals: Totals) -> tuple[int, Unit]:
        rule = self.pack.extension
        assert rule is not None
        max_unit = rule.max_total.unit
        if all(e.unit is max_unit for e in self.extensions):
            return rule.max_total.amount - sum(e.amount for e in self.extensions), max_unit
        # Mixed units: what is left is the distance, in days, between now-extended and the maximum.
        current = self.unrolled(request_type, anchor, 0, self.ext_totals)[0]
        limit = self.unrolled(request_type, anchor, 0, limit_totals)[0]
        return (limit - current).days, Unit.CALENDAR_DAYS


def _union_days(spans: Sequence[tuple[date, date, PauseRecord]]) -> int:
    """How many days the spans (in start order) cover, each day once."""
    total = 0
    covered_to: date | None = None
    for start, end, _ in spans:
        if covered_to is not None and start <= covered_to:
            start = covered_to + ONE_DAY
        if end >= start:
            total += (end - start).days + 1
        if covered_to is None or end > covered_to:
            covered_to = end
    return total


def _quick_key(event: ClockEvent) -> tuple[datetime, int]:
    return (event.occurred_at, KIND_ORDER[event.kind])


def _refuse(reason: str, citation: str = "") -> ExtensionCheck:
    text = reason.rstrip(".") + "."
    if citation:
        text += f" Rule: {citation}."
    return ExtensionCheck(False, text, None)


def days_between(start: date, stop: date) -> list[date]:
    """Every day from `start` up to, not including, `stop`."""
    return [start + timedelta(days=i) for i in range((stop - start).days)]


def _request_types(request_types: Sequence[str]) -> tuple[str, ...]:
    if isinstance(request_types, str):
        request_types = (request_types,)
    seen: dict[str, None] = {}
    for value in request_types:
        text = str(value)
        if text not in REQUEST_TYPES:
            raise ValueError(f"Unknown request type {value!r}; expected one of {', '.join(REQUEST_TYPES)}")
        seen[text] = None
    return tuple(seen) or ("ACCESS",)


def build_engine(
    pack: PolicyPack,
    received_at: datetime,
    request_types: Sequence[str],
    events: Sequence[ClockEvent],
    timezone: str | None,
) -> tuple[Engine, list[ClockEvent]]:
    require_aware(received_at, "received_at")
    tz_name = timezone or pack.timezone
    tz = zone(tz_name)
    anchor = received_at.astimezone(tz).date()
    engine = Engine(
        pack=pack,
        tz=tz,
        tz_name=tz_name,
        calendar=pack.calendar,
        types=_request_types(request_types),
        # One canonical instant: equal inputs in different zones (even an ambiguous wall time at a DST fold,
        # which Python never compares equal across zones) give equal results.
        received_at=received_at.astimezone(UTC),
        anchor=anchor,
        anchor_at=start_of_day(anchor, tz),
        first_anchor=anchor,
        regional=pack.roll.rule != "NONE" and bool(pack.calendar.others),
    )
    for event in events:
        if not isinstance(event, ClockEvent):
            raise TypeError(f"events must be ClockEvent values, got {type(event).__name__}")
    ordered = sorted(events, key=_quick_key)
    # Same instant and kind: only then does the (costly) canonical form of `data` decide the order.
    if any(_quick_key(a) == _quick_key(b) for a, b in pairwise(ordered)):
        ordered = sorted(events, key=ClockEvent.sort_key)
    if pack.appeal_extension is not None:
        ordered = _appeal_extensions_last(ordered)
    return engine, ordered


def _appeal_extensions_last(ordered: list[ClockEvent]) -> list[ClockEvent]:
    """After the stop an extension can only extend the appeal: one recorded in the same instant as the
    appeal's receipt follows it (the canonical kind order would put it first, where it would be lost)."""
    stop = next((e.occurred_at for e in ordered if e.kind is EventKind.STOPPED), None)
    if stop is None:
        return ordered
    late = [e for e in ordered if e.kind is EventKind.EXTENSION and e.occurred_at > stop]
    if not late:
        return ordered
    appeal_order = KIND_ORDER[EventKind.APPEAL_RECEIVED]

    def key(event: ClockEvent) -> tuple[datetime, float]:
        if event.kind is EventKind.EXTENSION and event.occurred_at > stop:
            return (event.occurred_at, appeal_order + 0.5)
        return (event.occurred_at, KIND_ORDER[event.kind])

    return sorted(ordered, key=key)  # stable: equal keys keep the canonical order
