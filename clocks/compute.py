"""The engine: replay a request's events under a pack and derive its deadlines.

Everything is a function of (pack, receipt, request types, events, now): no wall clock, no I/O.
Events are replayed in a canonical order, so the caller's ordering never changes the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from clocks.calendar import Calendar, add_period, add_span, get_calendar
from clocks.policy import PolicyPack
from clocks.result import ClockResult
from clocks.types import (
    KIND_ORDER,
    PAUSE_CLOSERS,
    PAUSE_OPENERS,
    REQUEST_TYPES,
    Adjustment,
    ClockEvent,
    ClockState,
    Deadline,
    Effect,
    EventKind,
    ExtensionApplied,
    ExtensionCheck,
    Pause,
    Period,
    Segment,
    Unit,
    require_aware,
)
from clocks.zones import end_of_day, start_of_day, zone

_ONE_DAY = timedelta(days=1)
_UNIT_RULE = {Unit.CALENDAR_MONTHS: "months", Unit.CALENDAR_DAYS: "days", Unit.BUSINESS_DAYS: "businessDays"}
_WHAT_IS_AWAITED = {
    "VERIFICATION": "identity information",
    "AUTHORITY": "proof of authority",
    "CLARIFICATION": "clarification",
}


@dataclass(slots=True)
class _Totals:
    """A length of time kept per unit, so that mixed-unit extensions add up without rounding."""

    months: int = 0
    days: int = 0
    business_days: int = 0

    def plus(self, amount: int, unit: Unit) -> _Totals:
        months, days, bdays = self.months, self.days, self.business_days
        if unit is Unit.CALENDAR_MONTHS:
            months += amount
        elif unit is Unit.CALENDAR_DAYS:
            days += amount
        else:
            bdays += amount
        return _Totals(months, days, bdays)


_NOTHING = _Totals()


@dataclass(slots=True)
class _PauseRecord:
    reason: str
    requested_at: datetime
    requested_on: date
    applied: Effect  # the pack's effect, or NONE when the request came too late to have one
    note: str = ""
    received_at: datetime | None = None
    received_on: date | None = None


@dataclass(slots=True)
class _Rejected:
    """An extension event that did not count, and why (shown as a NO_EFFECT segment)."""

    event: ClockEvent
    why: str


@dataclass(slots=True)
class _Restart:
    """A completed restart: the anchor moved from `old_anchor` to `new_anchor`."""

    old_anchor: date
    new_anchor: date
    at: datetime


@dataclass(slots=True)
class _Engine:
    pack: PolicyPack
    tz: ZoneInfo
    tz_name: str
    calendar: Calendar
    types: tuple[str, ...]
    received_at: datetime
    anchor: date
    anchor_at: datetime
    first_anchor: date
    pauses: list[_PauseRecord] = field(default_factory=list)
    exclusions: list[_PauseRecord] = field(default_factory=list)  # the pauses that exclude days
    open_pauses: dict[str, _PauseRecord] = field(default_factory=dict)
    restarts: list[_Restart] = field(default_factory=list)
    extensions: list[ExtensionApplied] = field(default_factory=list)
    due_before_extension: list[date] = field(default_factory=list)
    ext_totals: _Totals = field(default_factory=_Totals)
    rejected: list[_Rejected] = field(default_factory=list)
    open_restarts: int = 0
    open_exclusions: int = 0
    stopped_at: datetime | None = None
    stop_reason: str = ""
    _floor: tuple[date, date] | None = None  # (anchor, floor_due) memo
    acknowledged_at: datetime | None = None

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

    def exclusion_intervals(self, asof: date, anchor: date) -> list[tuple[date, date, _PauseRecord]]:
        """Applied exclusion spans clipped to the anchor; open ones end on `asof`.

        Already in start order: pauses are recorded in event order, so request dates never decrease.
        """
        spans = []
        for record in self.exclusions:
            start = record.requested_on if record.requested_on > anchor else anchor
            end = record.received_on if record.received_on is not None else max(asof, record.requested_on)
            if end >= start:
                spans.append((start, end, record))
        return spans

    def excluded_days(self, asof: date, anchor: date) -> int:
        total = 0
        covered_to: date | None = None
        for record in self.exclusions:
            start = record.requested_on if record.requested_on > anchor else anchor
            end = record.received_on if record.received_on is not None else max(asof, record.requested_on)
            if covered_to is not None and start <= covered_to:
                start = covered_to + _ONE_DAY
            if end >= start:
                total += (end - start).days + 1
            if covered_to is None or end > covered_to:
                covered_to = end
        return total

    # ---- deadlines ----------------------------------------------------------------------------

    def unrolled(
        self, request_type: str, anchor: date, excluded: int, extension: _Totals
    ) -> tuple[date, tuple[date, ...]]:
        period = self.pack.period_for(request_type)
        if extension == _NOTHING or not self.pack.is_extendable_type(request_type):
            end, skipped = add_period(anchor, period, self.calendar)
            return (end + timedelta(days=excluded) if excluded else end), skipped
        totals = extension.plus(period.amount, period.unit)
        end, skipped = add_span(
            anchor,
            months=totals.months,
            days=totals.days,
            business_days=totals.business_days,
            calendar=self.calendar,
        )
        return end + timedelta(days=excluded), skipped

    def roll(self, day: date) -> tuple[date, Adjustment | None]:
        """Apply the pack's roll rule once, to a final date."""
        rule = self.pack.roll.rule
        cal = self.calendar
        if cal.is_working_day(day):
            return day, None
        later = cal.next_working_day(day)
        why = "; ".join(cal.describe(d) for d in _days(day, later))
        if rule == "NEXT_WORKING_DAY":
            return later, Adjustment(day, later, why, relied_upon=True)
        if rule == "NEXT_BUSINESS_DAY_IF_HOLIDAY" and cal.holiday(day) is not None:
            return later, Adjustment(day, later, why, relied_upon=True)
        if rule == "NEXT_BUSINESS_DAY_IF_HOLIDAY":
            why += ": not a public holiday, and only a holiday moves the last day; the earlier date is kept"
        else:
            why += ": no cited rule moves this deadline; the earlier date is kept"
        return day, Adjustment(day, later, why, relied_upon=False)

    def due_dates(self, asof: date, extension: _Totals | None = None) -> dict[str, date]:
        anchor = self.effective_anchor(asof)
        excluded = self.excluded_days(asof, anchor)
        ext = self.ext_totals if extension is None else extension
        return {t: self.roll(self.unrolled(t, anchor, excluded, ext)[0])[0] for t in self.types}

    def floor_due(self) -> date:
        if self._floor is None or self._floor[0] != self.anchor:
            floor = min(self.unrolled(t, self.anchor, 0, _NOTHING)[0] for t in self.types)
            self._floor = (self.anchor, floor)
        return self._floor[1]

    def extendable_types(self) -> tuple[str, ...]:
        return tuple(t for t in self.types if self.pack.is_extendable_type(t))

    # ---- event replay -------------------------------------------------------------------------

    def apply(self, event: ClockEvent) -> None:
        if self.stopped_at is not None:
            return  # a stopped clock is final; later events are history, not clock input
        kind = event.kind
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

    def _open(self, event: ClockEvent, reason: str) -> None:
        if reason in self.open_pauses:
            return  # asking again while still waiting changes nothing: the first request counts
        on = self.local_date(event.occurred_at)
        effect = self.pack.effect_of(event.kind)
        record = _PauseRecord(reason, event.occurred_at, on, effect)
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
            self.restarts.append(_Restart(self.anchor, new_anchor, event.occurred_at))
            self.anchor = new_anchor
            self.anchor_at = start_of_day(new_anchor, self.tz)

    def _extend(self, event: ClockEvent) -> None:
        data = event.data
        try:
            raw_amount = data.get("amount")
            amount = None if raw_amount is None else int(raw_amount)
            unit = None if data.get("unit") in (None, "") else Unit.parse(data["unit"])
        except (TypeError, ValueError) as exc:
            self.rejected.append(_Rejected(event, f"unreadable extension ({exc})"))
            return
        check, totals = self.judge_extension(event.occurred_at, amount, unit)
        if (
            not check.allowed
            or totals is None
            or check.amount is None
            or check.unit is None
            or check.due_date_after is None
        ):
            self.rejected.append(_Rejected(event, check.reason))
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
    ) -> tuple[ExtensionCheck, _Totals | None]:
        pack = self.pack
        rule = pack.extension
        if rule is None:
            return _refuse(
                f"The {pack.id} pack ({pack.law}) provides no extension of the response period."
            ), None
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
        window = min(self.unrolled(t, base_anchor, excluded, _NOTHING)[0] for t in ext_types)
        if day > window:
            return _refuse(
                f"Too late to extend: granted on {day.isoformat()}, after the (pause-adjusted) base due "
                f"date {window.isoformat()}; an extension must be notified within the first period",
                rule.citation,
            ), None

        anchor = self.effective_anchor(day)
        limit_totals = _NOTHING.plus(rule.max_total.amount, rule.max_total.unit)
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

    def _remaining(self, request_type: str, anchor: date, limit_totals: _Totals) -> tuple[int, Unit]:
        rule = self.pack.extension
        assert rule is not None
        max_unit = rule.max_total.unit
        if all(e.unit is max_unit for e in self.extensions):
            return rule.max_total.amount - sum(e.amount for e in self.extensions), max_unit
        # Mixed units: what is left is the distance, in days, between now-extended and the maximum.
        current = self.unrolled(request_type, anchor, 0, self.ext_totals)[0]
        limit = self.unrolled(request_type, anchor, 0, limit_totals)[0]
        return (limit - current).days, Unit.CALENDAR_DAYS

    # ---- final answer -------------------------------------------------------------------------

    def result(self, now: datetime, at_risk_days: int) -> ClockResult:
        pack = self.pack
        stopped = self.stopped_at is not None
        asof = self.local_date(self.stopped_at if self.stopped_at is not None else now)
        anchor = self.effective_anchor(asof)
        awaiting = self.awaiting()
        anchor_at = start_of_day(anchor, self.tz) if awaiting else self.anchor_at
        excluded = self.excluded_days(asof, anchor)

        citations: dict[str, None] = dict.fromkeys([pack.rule_citations["anchor"]])
        relied: dict[date, str] = {}
        adjustments: dict[Adjustment, None] = {}
        deadlines: list[Deadline] = []
        response: dict[str, date] = {}
        ends: dict[str, date] = {}
        for request_type in self.types:
            rule = pack.period_rule(request_type)
            citations.update(
                dict.fromkeys([rule.citation, pack.rule_citations[_UNIT_RULE[rule.period.unit]]])
            )
            end, skipped = self.unrolled(request_type, anchor, excluded, self.ext_totals)
            ends[request_type] = end
            due, adjustment = self.roll(end)
            self._rely(relied, skipped, end, due, adjustment)
            if adjustment is not None:
                adjustments[adjustment] = None
                citations[pack.roll.citation] = None
            response[request_type] = due
            deadlines.append(Deadline("RESPONSE", request_type, due))

        primary = min(self.types, key=lambda t: (response[t], self.types.index(t)))
        period = pack.period_for(primary)
        if excluded == 0 and (self.ext_totals == _NOTHING or not pack.is_extendable_type(primary)):
            base_due = ends[primary]
        else:
            base_due = self.unrolled(primary, anchor, 0, _NOTHING)[0]
        due_date = response[primary]

        acknowledge_by: date | None = None
        ack = pack.acknowledgement
        if ack is not None:
            for request_type in self.types:
                if not pack.acknowledges(request_type):
                    continue
                end, skipped = add_period(anchor, ack.period, self.calendar)
                ack_due, adjustment = self.roll(end)
                self._rely(relied, skipped, end, ack_due, adjustment)
                if adjustment is not None:
                    adjustments[adjustment] = None
                deadlines.append(Deadline("ACKNOWLEDGEMENT", request_type, ack_due))
                acknowledge_by = ack_due if acknowledge_by is None else min(acknowledge_by, ack_due)
            if acknowledge_by is not None:
                citations.update(
                    dict.fromkeys([ack.citation, pack.rule_citations[_UNIT_RULE[ack.period.unit]]])
                )
        if len(set(response.values())) > 1:
            citations[pack.rule_citations["multipleTypes"]] = None

        for record in self.pauses:
            rule_ = pack.effect_rule(record.reason)
            if rule_ is not None:
                citations[rule_.citation] = None
        if excluded and self._overlapping(asof, anchor):
            citations[pack.rule_citations["overlap"]] = None
        if (self.extensions or self.rejected) and pack.extension is not None:
            citations[pack.extension.citation] = None
        if self.extensions:
            citations[pack.rule_citations["extensionFromAnchor"]] = None

        if stopped:
            state = ClockState.STOPPED
        elif awaiting:
            state = ClockState.AWAITING_START
        elif self.open_exclusions:
            state = ClockState.PAUSED
        else:
            state = ClockState.RUNNING

        due_at = end_of_day(due_date, self.tz)
        days_remaining = (due_date - asof).days
        live = not stopped
        return ClockResult(
            pack_id=pack.id,
            pack_version=pack.version,
            law=pack.law,
            citation=pack.citation,
            jurisdiction=pack.jurisdiction,
            timezone=self.tz_name,
            request_types=self.types,
            received_at=self.received_at,
            clock_starts_at=anchor_at,
            anchor_date=anchor,
            period=period,
            base_due_date=base_due,
            due_date=due_date,
            due_at=due_at,
            acknowledge_by=acknowledge_by,
            acknowledged_at=self.acknowledged_at,
            state=state,
            days_remaining=days_remaining,
            at_risk=live and days_remaining <= at_risk_days,
            overdue=live and now > due_at,
            deadlines=tuple(deadlines),
            segments=self._segments(asof, anchor, due_date),
            pauses=tuple(Pause(p.requested_at, p.received_at, p.reason, p.applied) for p in self.pauses),
            extensions=tuple(self.extensions),
            adjustments=tuple(adjustments),
            holidays_relied_on=tuple(sorted(relied.items())),
            citations=tuple(citations),
            computed_at=now,
            excluded_days=excluded,
            stopped_at=self.stopped_at,
            provisional=live and (state is not ClockState.RUNNING),
        )

    def _rely(
        self,
        relied: dict[date, str],
        skipped: tuple[date, ...],
        end: date,
        due: date,
        adjustment: Adjustment | None,
    ) -> None:
        cal = self.calendar
        for day in skipped:
            relied[day] = cal.describe(day)
        if adjustment is not None and adjustment.relied_upon:
            for day in _days(end, due):
                if day.weekday() < 5 and cal.holiday(day) is not None:
                    relied[day] = cal.describe(day)

    def _overlapping(self, asof: date, anchor: date) -> bool:
        covered_to: date | None = None
        for start, end, _ in self.exclusion_intervals(asof, anchor):
            if covered_to is not None and start <= covered_to:
                return True
            covered_to = end if covered_to is None else max(covered_to, end)
        return False

    # ---- segments -----------------------------------------------------------------------------

    def _segments(self, asof: date, anchor: date, due: date) -> tuple[Segment, ...]:
        pack = self.pack
        tz = self.tz
        if not (self.pauses or self.extensions or self.rejected):
            return (self._last_running(self.anchor_at, anchor, asof, due),)
        out: list[tuple[datetime, int, Segment]] = []
        running_rule = pack.period_rule(self.types[0]).citation
        # Intervals in which the clock did not run: (first held day, held from, resume day, resumes at).
        holds: list[tuple[date, datetime, date | None, datetime | None]] = []

        # Counted exclusions, each showing only the days it adds to those already shown.
        covered_to: date | None = None
        for start, end, record in self.exclusion_intervals(asof, anchor):
            fresh_from = start if covered_to is None else max(start, covered_to + _ONE_DAY)
            days = (end - fresh_from).days + 1 if end >= fresh_from else 0
            covered_to = end if covered_to is None else max(covered_to, end)
            what = _WHAT_IS_AWAITED[record.reason]
            if record.received_on is None:
                note = (
                    f"paused: {what} requested on {record.requested_on.isoformat()} and not yet received; "
                    "days are excluded up to today, so the due date is provisional and the days "
                    "remaining are frozen"
                )
            else:
                note = (
                    f"paused: {what} requested {record.requested_on.isoformat()}, received "
                    f"{record.received_on.isoformat()}; {days} day(s) excluded, both days included"
                )
                if days < (end - start).days + 1:
                    note += " (days overlapping another pause are counted once)"
            out.append(
                (
                    record.requested_at,
                    1,
                    Segment(
                        "PAUSED",
                        record.requested_at,
                        record.received_at,
                        days,
                        note,
                        self._effect_citation(record),
                    ),
                )
            )
            if record.received_on is None:
                holds.append((start, record.requested_at, None, None))
            else:
                holds.append((start, record.requested_at, end + _ONE_DAY, start_of_day(end + _ONE_DAY, tz)))

        restart_cut: datetime | None = None
        for record in self.pauses:
            citation = self._effect_citation(record)
            what = _WHAT_IS_AWAITED[record.reason]
            if record.applied is Effect.EXCLUDE:
                if record.received_on is not None and record.received_on < anchor:
                    out.append(
                        (
                            record.requested_at,
                            1,
                            Segment(
                                "PAUSED",
                                record.requested_at,
                                record.received_at,
                                0,
                                f"paused for {what}, then discarded: the clock restarted on "
                                f"{anchor.isoformat()}",
                                citation,
                            ),
                        )
                    )
                    holds.append(
                        (
                            record.requested_on,
                            record.requested_at,
                            record.received_on + _ONE_DAY,
                            start_of_day(record.received_on + _ONE_DAY, tz),
                        )
                    )
            elif record.applied is Effect.RESTART:
                restart_cut = (
                    record.requested_at if restart_cut is None else max(restart_cut, record.requested_at)
                )
                if record.received_on is None:
                    days = max((asof - record.requested_on).days, 0)
                    note = (
                        f"awaiting start: {what} requested on {record.requested_on.isoformat()}; the clock "
                        "restarts on the day it arrives, shown as if today (provisional)"
                    )
                    holds.append((record.requested_on, record.requested_at, None, None))
                else:
                    days = (record.received_on - record.requested_on).days
                    note = (
                        f"awaiting start: {what} requested {record.requested_on.isoformat()}, received "
                        f"{record.received_on.isoformat()}; the clock restarted that day and the time "
                        "before it was discarded"
                    )
                    holds.append(
                        (
                            record.requested_on,
                            record.requested_at,
                            record.received_on,
                            start_of_day(record.received_on, tz),
                        )
                    )
                out.append(
                    (
                        record.requested_at,
                        1,
                        Segment(
                            "AWAITING_START", record.requested_at, record.received_at, days, note, citation
                        ),
                    )
                )
            else:
                end_on = record.received_on if record.received_on is not None else asof
                note = record.note or f"{what} requested: no effect on the deadline under {pack.id}"
                out.append(
                    (
                        record.requested_at,
                        2,
                        Segment(
                            "NO_EFFECT",
                            record.requested_at,
                            record.received_at,
                            max((end_on - record.requested_on).days, 0),
                            f"no effect on the deadline: {note}" if record.note else note,
                            citation,
                        ),
                    )
                )

        ext_rule = pack.extension.citation if pack.extension else pack.citation
        for applied, before in zip(self.extensions, self.due_before_extension, strict=True):
            reason = f" ({applied.reason})" if applied.reason else ""
            out.append(
                (
                    applied.granted_at,
                    3,
                    Segment(
                        "EXTENDED",
                        applied.granted_at,
                        None,
                        max((applied.due_date_after - before).days, 0),
                        f"extended by {Period(applied.amount, applied.unit)}{reason}, counted from the "
                        f"start date: due {applied.due_date_after.isoformat()} (was {before.isoformat()})",
                        ext_rule,
                    ),
                )
            )
        for rejected in self.rejected:
            at = rejected.event.occurred_at
            out.append(
                (at, 3, Segment("NO_EFFECT", at, at, 0, f"extension not applied: {rejected.why}", ext_rule))
            )

        # RUNNING: the gaps between holds, from the day of receipt until the stop (or still open).
        holds.sort(key=lambda hold: (hold[0], hold[1]))
        cursor_on: date | None = self.first_anchor
        cursor_at: datetime | None = start_of_day(self.first_anchor, tz)
        for start_on, start_at, resume_on, resume_at in holds:
            if cursor_on is None or cursor_at is None:
                break
            if resume_on is not None and resume_on <= cursor_on:
                continue
            if start_at > cursor_at:
                discarded = restart_cut is not None and start_at <= restart_cut
                note = self._running_note(cursor_on)
                if discarded:
                    note += "; discarded by the restart"
                out.append(
                    (
                        cursor_at,
                        0,
                        Segment(
                            "RUNNING",
                            cursor_at,
                            start_at,
                            max((start_on - cursor_on).days, 0),
                            note,
                            running_rule,
                        ),
                    )
                )
            cursor_on, cursor_at = resume_on, resume_at
        if cursor_on is not None and cursor_at is not None:
            out.append((cursor_at, 0, self._last_running(cursor_at, cursor_on, asof, due)))
        out.sort(key=lambda item: (item[0], item[1]))
        return tuple(segment for _, _, segment in out)

    def _running_note(self, since: date) -> str:
        """What is running, in words an officer can check: "1 month from 2026-03-02 (...)"."""
        period = self.pack.period_for(self.types[0])
        start = since.isoformat()
        if since != self.first_anchor:
            start += " (restarted on receipt of what was asked for)"
        if period.unit is Unit.CALENDAR_MONTHS:
            how = "the same date in the later month, or its last day; the day of receipt is day one"
        elif period.unit is Unit.CALENDAR_DAYS:
            how = "the day of receipt is not counted"
        else:
            how = f"weekdays that are not {self.pack.calendar_label} holidays; receipt day not counted"
        return f"{period} from {start} ({how})"

    def _last_running(self, start_at: datetime, start_on: date, asof: date, due: date) -> Segment:
        note = self._running_note(start_on)
        if self.stopped_at is not None:
            note += f"; ran until the clock stopped ({self.stop_reason or 'STOPPED'})"
        elif asof > due:
            note += f"; the due date {due.isoformat()} has passed"
        rule = self.pack.period_rule(self.types[0]).citation
        return Segment("RUNNING", start_at, self.stopped_at, max((asof - start_on).days, 0), note, rule)

    def _effect_citation(self, record: _PauseRecord) -> str:
        rule = self.pack.effect_rule(record.reason)
        return rule.citation if rule else self.pack.citation


def _quick_key(event: ClockEvent) -> tuple[datetime, int]:
    return (event.occurred_at, KIND_ORDER[event.kind])


def _refuse(reason: str, citation: str = "") -> ExtensionCheck:
    text = reason.rstrip(".") + "."
    if citation:
        text += f" Rule: {citation}."
    return ExtensionCheck(False, text, None)


def _days(start: date, stop: date) -> list[date]:
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


def _engine(
    pack: PolicyPack,
    received_at: datetime,
    request_types: Sequence[str],
    events: Sequence[ClockEvent],
    timezone: str | None,
) -> tuple[_Engine, list[ClockEvent]]:
    require_aware(received_at, "received_at")
    tz_name = timezone or pack.timezone
    tz = zone(tz_name)
    anchor = received_at.astimezone(tz).date()
    engine = _Engine(
        pack=pack,
        tz=tz,
        tz_name=tz_name,
        calendar=get_calendar(pack.calendar_country, pack.calendar_subdiv, pack.calendar_label),
        types=_request_types(request_types),
        # One canonical instant: equal inputs in different zones (even an ambiguous wall time at a DST fold,
        # which Python never compares equal across zones) give equal results.
        received_at=received_at.astimezone(UTC),
        anchor=anchor,
        anchor_at=start_of_day(anchor, tz),
        first_anchor=anchor,
    )
    for event in events:
        if not isinstance(event, ClockEvent):
            raise TypeError(f"events must be ClockEvent values, got {type(event).__name__}")
    ordered = sorted(events, key=_quick_key)
    # Same instant and kind: only then does the (costly) canonical form of `data` decide the order.
    if any(_quick_key(a) == _quick_key(b) for a, b in pairwise(ordered)):
        ordered = sorted(events, key=ClockEvent.sort_key)
    return engine, ordered


def compute(
    pack: PolicyPack,
    *,
    received_at: datetime,
    request_types: Sequence[str],
    events: Sequence[ClockEvent],
    now: datetime,
    timezone: str | None = None,
    at_risk_days: int = 7,
) -> ClockResult:
    """The request's clock at `now`: deadlines, state and a full explanation."""
    require_aware(now, "now")
    engine, ordered = _engine(pack, received_at, request_types, events, timezone)
    for event in ordered:
        engine.apply(event)
    return engine.result(now, at_risk_days)


def check_extension(
    pack: PolicyPack,
    *,
    received_at: datetime,
    request_types: Sequence[str],
    events: Sequence[ClockEvent],
    at: datetime,
    amount: int | None = None,
    unit: Unit | None = None,
    timezone: str | None = None,
) -> ExtensionCheck:
    """Would an extension granted at `at` be valid? Judged at `at`, as compute() will judge it."""
    require_aware(at, "at")
    engine, ordered = _engine(pack, received_at, request_types, events, timezone)
    for event in ordered:
        engine.apply(event)
    return engine.judge_extension(at, amount, None if unit is None else Unit.parse(unit))[0]
