"""The explanation's segments: what the clock did, span by span, in words an officer can check.

One segment list per request type (`segments_for`): RUNNING spans between the holds (excluded pauses,
waits for a restart), PAUSED / AWAITING_START / NO_EFFECT spans for what was asked of the requestor,
EXTENDED for extensions, and a RUNNING span for an appeal. Each note says what the rule did: the first
span counts the period from receipt, a span after an excluded pause says how many days were excluded so
far and where that puts the due date, and only a real restart says "restarted". A stopped clock is told
in the past tense.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from clocks.engine import WHAT_IS_AWAITED, Engine, PauseRecord, totals_of
from clocks.types import Effect, Period, Segment, Unit
from clocks.zones import end_of_day, start_of_day

_ONE_DAY = timedelta(days=1)

# Order of segments sharing a start instant: running first, then holds, then what had no effect.
_RUNNING, _HOLD, _NO_EFFECT, _EXTENSION = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Hold:
    """A span in which the clock did not run, and what ended it."""

    start_on: date  # first held day
    start_at: datetime
    resume_on: date | None  # None: still held (or held when the clock stopped)
    resume_at: datetime | None
    kind: str  # "EXCLUDE" (days excluded) | "DISCARDED" (excluded, then wiped by a restart) | "RESTART"
    record: PauseRecord


def how_counted(period: Period, engine: Engine) -> str:
    """How a period of this unit is counted, for notes."""
    if period.unit is Unit.CALENDAR_MONTHS:
        return "the same date in the later month, or its last day; the day of receipt is day one"
    if period.unit is Unit.CALENDAR_DAYS:
        return "the day of receipt is not counted"
    if period.unit is Unit.HOURS:
        return "from the instant of receipt; due on the local date the last hour ends"
    return f"{engine.calendar.rule_text()}; the day of receipt is not counted"


def _d(day: date) -> str:
    return day.isoformat()


class _Narrator:
    """Builds the segments of one request type; `asof` is the local date the clock is read at (the stop
    date for a stopped clock), `anchor` the effective anchor, `due` this type's due date."""

    def __init__(self, engine: Engine, request_type: str, asof: date, anchor: date, due: date) -> None:
        self.engine = engine
        self.pack = engine.pack
        self.request_type = request_type
        self.asof = asof
        self.anchor = anchor
        self.due = due
        self.period = self.pack.period_for(request_type)
        self.rule = self.pack.period_rule(request_type).citation
        self.stopped_at = engine.stopped_at
        self.stop_on = engine.local_date(engine.stopped_at) if engine.stopped_at is not None else None

    # ---- notes --------------------------------------------------------------------------------

    def _stopped_phrase(self) -> str:
        return f"the clock stopped on {_d(self.stop_on)}" if self.stop_on is not None else ""

    def running_note(self, since: date, after: _Hold | None) -> str:
        """What is running from `since`, given the hold that ended just before (None: from receipt)."""
        engine = self.engine
        counted = f"{self.period} from {_d(since)} ({how_counted(self.period, engine)})"
        if after is None:
            return counted
        what = WHAT_IS_AWAITED[after.record.reason]
        if after.kind == "RESTART":
            if any(restart.new_anchor == since for restart in engine.restarts):
                return f"restarted on {_d(since)} on receipt of the {what}: {counted}"
            return f"resumed on {_d(since)} after the {what}"
        if after.kind == "EXCLUDE":
            excluded = engine.excluded_days(self.asof, self.anchor, through=since - _ONE_DAY)
            resumed_at = after.resume_at
            granted = [e for e in engine.extensions if resumed_at is None or e.granted_at < resumed_at]
            base = engine.unrolled(self.request_type, self.anchor, 0, totals_of(granted)).end
            return (
                f"resumed on {_d(since)} after the {what}; with the {excluded} excluded day(s), "
                f"due {_d(base)} + {excluded} = {_d(base + timedelta(days=excluded))}"
            )
        return f"resumed on {_d(since)} after the {what}"

    def _last_running(self, start_at: datetime, start_on: date, after: _Hold | None) -> Segment:
        note = self.running_note(start_on, after)
        if self.stopped_at is not None and self.stop_on is not None:
            reason = self.engine.stop_reason or "STOPPED"
            note += f"; ran until {self._stopped_phrase()} ({reason}), "
            if self.stopped_at > end_of_day(self.due, self.engine.tz):
                note += f"{(self.stop_on - self.due).days} day(s) after the due date {_d(self.due)}"
            else:
                note += f"on time: due {_d(self.due)}"
        elif self.asof > self.due:
            note += f"; the due date {_d(self.due)} has passed"
        days = max((self.asof - start_on).days, 0)
        return Segment("RUNNING", start_at, self.stopped_at, days, note, self.rule)

    def _discarded(self, before: datetime) -> str:
        """What became of running time that a restart request cut short."""
        wiped_by = next((r for r in self.engine.restarts if r.at > before), None)
        if wiped_by is not None:
            return f"; discarded by the restart on {_d(wiped_by.new_anchor)}"
        if self.stop_on is not None:
            return f"; then the clock waited for what was asked for until {self._stopped_phrase()}"
        return "; discarded once the clock restarts"

    def _effect_citation(self, record: PauseRecord) -> str:
        if record.citation:
            return record.citation
        rule = self.pack.effect_rule(record.reason)
        return rule.citation if rule else self.pack.citation

    # ---- segments -----------------------------------------------------------------------------

    def segments(self) -> list[tuple[datetime, int, Segment]]:
        engine = self.engine
        if not (engine.pauses or engine.extensions or engine.rejected):
            return [(engine.anchor_at, _RUNNING, self._last_running(engine.anchor_at, self.anchor, None))]
        out: list[tuple[datetime, int, Segment]] = []
        holds = self._exclusions(out)
        restart_cut = self._other_pauses(out, holds)
        self._extensions(out)
        self._running(out, holds, restart_cut)
        return out

    def _exclusions(self, out: list[tuple[datetime, int, Segment]]) -> list[_Hold]:
        """Counted exclusions, each showing only the days it adds to those already shown."""
        engine, tz = self.engine, self.engine.tz
        holds: list[_Hold] = []
        covered_to: date | None = None
        for start, end, record in engine.exclusion_intervals(self.asof, self.anchor):
            fresh_from = start if covered_to is None else max(start, covered_to + _ONE_DAY)
            days = (end - fresh_from).days + 1 if end >= fresh_from else 0
            covered_to = end if covered_to is None else max(covered_to, end)
            what = WHAT_IS_AWAITED[record.reason]
            seg_end = record.received_at
            if record.received_on is not None:
                note = (
                    f"paused: {what} requested {_d(record.requested_on)}, received "
                    f"{_d(record.received_on)}; {days} day(s) excluded, both days included"
                )
                if days < (end - start).days + 1:
                    note += " (days overlapping another pause are counted once)"
            elif self.stop_on is not None:
                seg_end = self.stopped_at
                note = (
                    f"paused: {what} requested on {_d(record.requested_on)}, not received before "
                    f"{self._stopped_phrase()}; {days} day(s) excluded"
                )
            else:
                note = (
                    f"paused: {what} requested on {_d(record.requested_on)} and not yet received; "
                    "days are excluded up to today, so the due date is provisional and the days "
                    "remaining are frozen"
                )
            citation = self._effect_citation(record)
            segment = Segment("PAUSED", record.requested_at, seg_end, days, note, citation)
            out.append((record.requested_at, _HOLD, segment))
            if record.received_on is None:
                holds.append(_Hold(start, record.requested_at, None, None, "EXCLUDE", record))
            else:
                resume = end + _ONE_DAY
                holds.append(
                    _Hold(start, record.requested_at, resume, start_of_day(resume, tz), "EXCLUDE", record)
                )
        return holds

    def _other_pauses(self, out: list[tuple[datetime, int, Segment]], holds: list[_Hold]) -> datetime | None:
        """Exclusions wiped by a restart, waits for a restart, and requests with no effect. Returns the
        latest instant a restart was asked for: running time before it was discarded."""
        engine, tz, anchor = self.engine, self.engine.tz, self.anchor
        restart_cut: datetime | None = None
        for record in engine.pauses:
            citation = self._effect_citation(record)
            what = WHAT_IS_AWAITED[record.reason]
            if record.applied is Effect.EXCLUDE:
                if record.received_on is not None and record.received_on < anchor:
                    note = f"paused for {what}, then discarded: the clock restarted on {_d(anchor)}"
                    out.append(
                        (
                            record.requested_at,
                            _HOLD,
                            Segment("PAUSED", record.requested_at, record.received_at, 0, note, citation),
                        )
                    )
                    resume = record.received_on + _ONE_DAY
                    holds.append(
                        _Hold(
                            record.requested_on,
                            record.requested_at,
                            resume,
                            start_of_day(resume, tz),
                            "DISCARDED",
                            record,
                        )
                    )
            elif record.applied is Effect.RESTART:
                asked = record.requested_at
                restart_cut = asked if restart_cut is None else max(restart_cut, asked)
                out.append((record.requested_at, _HOLD, self._awaiting(record, citation, what, holds)))
            else:
                end_on = record.received_on if record.received_on is not None else self.asof
                seg_end = record.received_at
                if record.received_at is None and self.stopped_at is not None:
                    seg_end = self.stopped_at
                note = record.note or f"{what} requested: no effect on the deadline under {self.pack.id}"
                out.append(
                    (
                        record.requested_at,
                        _NO_EFFECT,
                        Segment(
                            "NO_EFFECT",
                            record.requested_at,
                            seg_end,
                            max((end_on - record.requested_on).days, 0),
                            f"no effect on the deadline: {note}" if record.note else note,
                            citation,
                        ),
                    )
                )
        return restart_cut

    def _awaiting(self, record: PauseRecord, citation: str, what: str, holds: list[_Hold]) -> Segment:
        engine, tz = self.engine, self.engine.tz
        seg_end = record.received_at
        if record.received_on is None:
            days = max((self.asof - record.requested_on).days, 0)
            if self.stop_on is not None:
                seg_end = self.stopped_at
                note = (
                    f"awaiting start: {what} requested on {_d(record.requested_on)}, not received before "
                    f"{self._stopped_phrase()}; the clock never restarted"
                )
            else:
                note = (
                    f"awaiting start: {what} requested on {_d(record.requested_on)}; the clock "
                    "restarts on the day it arrives, shown as if today (provisional)"
                )
            holds.append(_Hold(record.requested_on, record.requested_at, None, None, "RESTART", record))
        else:
            days = (record.received_on - record.requested_on).days
            restarted = any(restart.at == record.received_at for restart in engine.restarts)
            note = (
                f"awaiting start: {what} requested {_d(record.requested_on)}, received "
                f"{_d(record.received_on)}; "
                + (
                    "the clock restarted that day and the time before it was discarded"
                    if restarted
                    else "the clock restarted only once everything asked for had arrived"
                )
            )
            holds.append(
                _Hold(
                    record.requested_on,
                    record.requested_at,
                    record.received_on,
                    start_of_day(record.received_on, tz),
                    "RESTART",
                    record,
                )
            )
        return Segment("AWAITING_START", record.requested_at, seg_end, days, note, citation)

    def _extensions(self, out: list[tuple[datetime, int, Segment]]) -> None:
        engine, pack = self.engine, self.pack
        ext_rule = pack.extension.citation if pack.extension else pack.citation
        extendable = pack.is_extendable_type(self.request_type)
        for applied, before in zip(engine.extensions, engine.due_before_extension, strict=True):
            reason = f" ({applied.reason})" if applied.reason else ""
            at = applied.granted_at
            extended = f"extended by {Period(applied.amount, applied.unit)}{reason}"
            if extendable:
                note = (
                    f"{extended}, counted from the start date: due {_d(applied.due_date_after)} "
                    f"(was {_d(before)})"
                )
                days = max((applied.due_date_after - before).days, 0)
                out.append((at, _EXTENSION, Segment("EXTENDED", at, None, days, note, ext_rule)))
            else:
                note = f"{extended} for the other request types; {self.request_type} cannot be extended"
                out.append((at, _EXTENSION, Segment("NO_EFFECT", at, at, 0, note, ext_rule)))
        for rejected in engine.rejected:
            at = rejected.event.occurred_at
            note = f"extension not applied: {rejected.why}"
            out.append((at, _EXTENSION, Segment("NO_EFFECT", at, at, 0, note, ext_rule)))

    def _running(
        self, out: list[tuple[datetime, int, Segment]], holds: list[_Hold], restart_cut: datetime | None
    ) -> None:
        """RUNNING: the gaps between holds, from the day of receipt until the stop (or still running)."""
        engine, tz = self.engine, self.engine.tz
        holds.sort(key=lambda hold: (hold.start_on, hold.start_at))
        cursor_on: date | None = engine.first_anchor
        cursor_at: datetime | None = start_of_day(engine.first_anchor, tz)
        after: _Hold | None = None
        for hold in holds:
            if cursor_on is None or cursor_at is None:
                break
            if hold.resume_on is not None and hold.resume_on <= cursor_on:
                continue
            if hold.start_at > cursor_at:
                note = self.running_note(cursor_on, after)
                if restart_cut is not None and hold.start_at <= restart_cut:
                    note += self._discarded(hold.start_at)
                days = max((hold.start_on - cursor_on).days, 0)
                out.append(
                    (cursor_at, _RUNNING, Segment("RUNNING", cursor_at, hold.start_at, days, note, self.rule))
                )
            cursor_on, cursor_at, after = hold.resume_on, hold.resume_at, hold
        if cursor_on is not None and cursor_at is not None:
            out.append((cursor_at, _RUNNING, self._last_running(cursor_at, cursor_on, after)))


def segments_for(
    engine: Engine, request_type: str, asof: date, anchor: date, due: date
) -> list[tuple[datetime, int, Segment]]:
    """The response clock's segments for one request type, with their sort keys."""
    return _Narrator(engine, request_type, asof, anchor, due).segments()


def appeal_segment(engine: Engine, now: datetime, due: date) -> Segment | None:
    """The appeal's own RUNNING span, from its receipt to its decision (or still running at `now`)."""
    appeal = engine.appeal
    if appeal is None:
        return None
    period = appeal.rule.period
    how = how_counted(period, engine)
    decided = appeal.decided_at
    asof = engine.local_date(decided if decided is not None else now)
    received = _d(appeal.received_on)
    for applied in appeal.extensions:
        reason = f" ({applied.reason})" if applied.reason else ""
        how += (
            f"; extended on {_d(engine.local_date(applied.granted_at))} by "
            f"{Period(applied.amount, applied.unit)}{reason}, counted from the appeal's receipt"
        )
    if decided is None:
        note = f"appeal received {received}: {period} to decide, due {_d(due)} ({how})"
        if asof > due:
            note += f"; the due date {_d(due)} has passed"
    else:
        how = how.replace(" is not counted", " was not counted").replace(" is day one", " was day one")
        outcome = f" ({appeal.outcome})" if appeal.outcome else ""
        note = (
            f"appeal received {received}: {period} to decide, due {_d(due)} ({how}); "
            f"decided on {_d(asof)}{outcome}, "
        )
        if decided > end_of_day(due, engine.tz):
            note += f"{(asof - due).days} day(s) after the due date"
        else:
            note += "on time"
    days = max((asof - appeal.received_on).days, 0)
    rule = appeal.rule.citation
    if appeal.extensions and engine.pack.appeal_extension is not None:
        rule = f"{rule}; {engine.pack.appeal_extension.citation}"
    return Segment("RUNNING", appeal.received_at, decided, days, note, rule)
