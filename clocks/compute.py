"""The public entry points: `compute` a request's clock, `check_extension` / `extension_available`.

`compute` replays the events (`clocks.engine`), then assembles the `ClockResult`: one deadline per
request type (and acknowledgement, and appeal), the state, what is due now and whether it was met, the
citations relied on, and the segment narrative (`clocks.segments`).

Everything is a function of (pack, receipt, request types, events, now): no wall clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from clocks.calendar import CountedHoliday, Span, add_period
from clocks.engine import NOTHING, UNIT_RULE, Engine, build_engine, days_between
from clocks.policy import PeriodRule, PolicyPack
from clocks.result import ClockResult
from clocks.segments import appeal_segment, segments_for
from clocks.types import (
    Adjustment,
    ClockEvent,
    ClockState,
    Deadline,
    ExtensionCheck,
    Pause,
    Segment,
    TypePeriod,
    Unit,
    require_aware,
)
from clocks.zones import end_of_day, start_of_day


@dataclass(slots=True)
class _Sources:
    """What a result relied on, gathered while its deadlines are worked out (insertion-ordered)."""

    citations: dict[str, None] = field(default_factory=dict)
    relied: dict[date, str] = field(default_factory=dict)
    counted: dict[date, CountedHoliday] = field(default_factory=dict)
    adjustments: dict[Adjustment, None] = field(default_factory=dict)

    def cite(self, *citations: str) -> None:
        cited = self.citations
        for citation in citations:
            cited[citation] = None

    def span(self, engine: Engine, span: Span, due: date, adjustment: Adjustment | None) -> None:
        """Record the holidays a count skipped or counted anyway, the roll that moved (or did not move)
        its final date, and the later date a regional reading of the final date would give."""
        cal = engine.calendar
        if span.skipped:
            for day in span.skipped:
                self.relied[day] = cal.describe(day)
        if span.counted:
            for holiday in span.counted:
                self.counted[holiday.day] = holiday
        if adjustment is not None:
            self.adjustments[adjustment] = None
            self.cite(engine.pack.roll.citation)
            if adjustment.relied_upon:
                for day in days_between(span.end, due):
                    if not cal.is_weekend(day) and cal.holiday(day) is not None:
                        self.relied[day] = cal.describe(day)
        if engine.regional:
            other = engine.other_reading(due)
            if other is not None:
                self.adjustments[other] = None
                self.cite(engine.pack.roll.citation)


def _overlapping(engine: Engine, asof: date, anchor: date) -> bool:
    covered_to: date | None = None
    for start, end, _ in engine.exclusion_intervals(asof, anchor):
        if covered_to is not None and start <= covered_to:
            return True
        covered_to = end if covered_to is None else max(covered_to, end)
    return False


def _cite_rules(engine: Engine, sources: _Sources, asof: date, anchor: date, excluded: int) -> None:
    """The rules a result rests on beyond its periods: what pauses did, overlaps, extensions, and a
    period that is a product decision rather than the law's."""
    pack = engine.pack
    for record in engine.pauses:
        if record.citation:
            sources.cite(record.citation)
        else:
            effect_rule = pack.effect_rule(record.reason)
            if effect_rule is not None:
                sources.cite(effect_rule.citation)
    if excluded and _overlapping(engine, asof, anchor):
        sources.cite(pack.rule_citations["overlap"])
    if (engine.extensions or engine.rejected) and pack.extension is not None:
        sources.cite(pack.extension.citation)
    if engine.extensions:
        sources.cite(pack.rule_citations["extensionFromAnchor"])
    appeal = engine.appeal
    if appeal is not None and appeal.extensions and pack.appeal_extension is not None:
        sources.cite(pack.appeal_extension.citation)


def _cite_period(engine: Engine, sources: _Sources, rule: PeriodRule) -> None:
    sources.cite(rule.citation, engine.pack.rule_citations[UNIT_RULE[rule.period.unit]])


def _result(engine: Engine, now: datetime, at_risk_days: int) -> ClockResult:
    pack, tz = engine.pack, engine.tz
    stopped_at = engine.stopped_at
    asof = engine.local_date(stopped_at if stopped_at is not None else now)
    anchor = engine.effective_anchor(asof)
    awaiting = engine.awaiting()
    anchor_at = start_of_day(anchor, tz) if awaiting else engine.anchor_at
    excluded = engine.excluded_days(asof, anchor)
    types = engine.types

    sources = _Sources()
    sources.cite(pack.rule_citations["anchor"])
    deadlines: list[Deadline] = []
    response: dict[str, date] = {}
    ends: dict[str, date] = {}
    for request_type in types:
        _cite_period(engine, sources, pack.period_rule(request_type))
        span = engine.unrolled(request_type, anchor, excluded, engine.ext_totals)
        due, adjustment = engine.roll(span.end)
        sources.span(engine, span, due, adjustment)
        ends[request_type] = span.end
        response[request_type] = due
        deadlines.append(Deadline("RESPONSE", request_type, due))

    primary = min(types, key=lambda t: (response[t], types.index(t)))
    period = pack.period_for(primary)
    if excluded == 0 and (engine.ext_totals == NOTHING or not pack.is_extendable_type(primary)):
        base_due = ends[primary]
    else:
        base_due = engine.unrolled(primary, anchor, 0, NOTHING).end
    response_due = response[primary]
    # A period in hours ends at an instant (unless a roll moved its last day); any other at the day's end.
    instant = engine.due_instant(primary, anchor, excluded) if pack.counts_hours else None
    exact = instant is not None and response_due == ends[primary]
    response_due_at = instant if exact and instant is not None else end_of_day(response_due, tz)

    acknowledge_by: date | None = None
    ack = pack.acknowledgement
    if ack is not None:
        for request_type in types:
            if not pack.acknowledges(request_type):
                continue
            span = add_period(anchor, ack.period, engine.calendar)
            ack_due, adjustment = engine.roll(span.end)
            sources.span(engine, span, ack_due, adjustment)
            deadlines.append(Deadline("ACKNOWLEDGEMENT", request_type, ack_due))
            acknowledge_by = ack_due if acknowledge_by is None else min(acknowledge_by, ack_due)
        if acknowledge_by is not None:
            sources.cite(ack.citation, pack.rule_citations[UNIT_RULE[ack.period.unit]])
    if len(set(response.values())) > 1:
        sources.cite(pack.rule_citations["multipleTypes"])
    if engine.pauses or engine.extensions or engine.rejected or engine.appeal is not None:
        _cite_rules(engine, sources, asof, anchor, excluded)

    if stopped_at is not None:
        state = ClockState.STOPPED
    elif awaiting:
        state = ClockState.AWAITING_START
    elif engine.open_exclusions:
        state = ClockState.PAUSED
    else:
        state = ClockState.RUNNING

    # Segments: the primary type's, and every type's where their periods differ.
    keyed = {primary: segments_for(engine, primary, asof, anchor, response[primary])}
    differ = len({(pack.period_rule(t), pack.is_extendable_type(t)) for t in types}) > 1
    if differ:
        for request_type in types:
            if request_type not in keyed:
                keyed[request_type] = segments_for(engine, request_type, asof, anchor, response[request_type])

    live = stopped_at is None
    response_late = stopped_at > response_due_at if stopped_at is not None else None
    acknowledge_due_at = end_of_day(acknowledge_by, tz) if acknowledge_by is not None else None
    acknowledged = engine.acknowledged_at is not None and engine.acknowledged_at <= now
    acknowledge_overdue = (
        live and acknowledge_due_at is not None and not acknowledged and now > acknowledge_due_at
    )

    # What is due now: the response, or, once an appeal against the answer was received, the appeal.
    deadline_kind = "RESPONSE"
    due_date, due_at = response_due, response_due_at
    final_stopped_at = stopped_at
    answered_late = response_late
    days_remaining: int | None = None if stopped_at is not None else (response_due - asof).days
    at_risk = live and days_remaining is not None and days_remaining <= at_risk_days
    overdue = live and now > response_due_at
    appeal = engine.appeal
    appeal_due: date | None = None
    appealed = engine.appeal_due()
    if appeal is not None and appealed is not None:
        appeal_due, span, adjustment = appealed
        sources.span(engine, span, appeal_due, adjustment)
        _cite_period(engine, sources, appeal.rule)
        deadlines.append(Deadline("APPEAL", None, appeal_due))
        segment = appeal_segment(engine, now, appeal_due)
        if segment is not None:
            for items in keyed.values():
                items.append((segment.start, 0, segment))
        deadline_kind = "APPEAL"
        due_date, due_at = appeal_due, end_of_day(appeal_due, tz)
        final_stopped_at = appeal.decided_at
        if appeal.decided_at is not None:
            state = ClockState.STOPPED
            answered_late = appeal.decided_at > due_at
            days_remaining, at_risk, overdue = None, False, False
        else:
            state = ClockState.RUNNING
            answered_late = None
            days_remaining = (appeal_due - engine.local_date(now)).days
            at_risk = days_remaining <= at_risk_days
            overdue = now > due_at

    ordered = {t: _ordered(keyed[t]) for t in types if t in keyed}
    return ClockResult(
        pack_id=pack.id,
        pack_version=pack.version,
        law=pack.law,
        citation=pack.citation,
        jurisdiction=pack.jurisdiction,
        timezone=engine.tz_name,
        request_types=types,
        received_at=engine.received_at,
        clock_starts_at=anchor_at,
        anchor_date=anchor,
        period=period,
        base_due_date=base_due,
        due_date=due_date,
        due_at=due_at,
        acknowledge_by=acknowledge_by,
        acknowledged_at=engine.acknowledged_at,
        state=state,
        days_remaining=days_remaining,
        at_risk=at_risk,
        overdue=overdue,
        deadlines=tuple(deadlines),
        segments=ordered[primary],
        pauses=tuple(Pause(p.requested_at, p.received_at, p.reason, p.applied) for p in engine.pauses),
        extensions=tuple(engine.extensions),
        adjustments=tuple(sources.adjustments),
        holidays_relied_on=tuple(sorted(sources.relied.items())),
        citations=tuple(sources.citations),
        computed_at=now,
        excluded_days=excluded,
        stopped_at=final_stopped_at,
        provisional=live and state is not ClockState.RUNNING,
        answered_late=answered_late,
        acknowledge_due_at=acknowledge_due_at,
        acknowledge_overdue=acknowledge_overdue,
        deadline_kind=deadline_kind,
        appeal_received_at=appeal.received_at if appeal is not None else None,
        appeal_due_date=appeal_due,
        appeal_decided_at=appeal.decided_at if appeal is not None else None,
        appeal_outcome=appeal.outcome if appeal is not None else None,
        appeal_period=appeal.rule.period if appeal is not None else None,
        appeal_extensions=tuple(appeal.extensions) if appeal is not None else (),
        appeal_citation=appeal.rule.citation if appeal is not None else "",
        response_stopped_at=stopped_at,
        response_answered_late=response_late,
        segments_by_type=MappingProxyType(ordered if differ else {}),
        type_periods=tuple(_type_period(pack, t) for t in types),
        holidays_counted=tuple((h.day, h.name, h.observed_by) for _, h in sorted(sources.counted.items())),
    )


def _type_period(pack: PolicyPack, request_type: str) -> TypePeriod:
    rule = pack.period_rule(request_type)
    return TypePeriod(
        request_type, rule.period, rule.citation, pack.is_extendable_type(request_type), rule.basis
    )


def _ordered(items: list[tuple[datetime, int, Segment]]) -> tuple[Segment, ...]:
    return tuple(segment for _, _, segment in sorted(items, key=lambda item: (item[0], item[1])))


def _replayed(
    pack: PolicyPack,
    received_at: datetime,
    request_types: Sequence[str],
    events: Sequence[ClockEvent],
    timezone: str | None,
) -> Engine:
    engine, ordered = build_engine(pack, received_at, request_types, events, timezone)
    for event in ordered:
        engine.apply(event)
    return engine


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
    return _result(_replayed(pack, received_at, request_types, events, timezone), now, at_risk_days)


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
    """Would an extension granted at `at` be valid? Judged at `at`, as compute() will judge it.

    With `amount` None: the pack's remaining extension (refused once none is left, after a stop, for a
    pack or request types that cannot be extended)."""
    require_aware(at, "at")
    engine = _replayed(pack, received_at, request_types, events, timezone)
    return engine.judge_extension(at, amount, None if unit is None else Unit.parse(unit))[0]


def extension_available(
    pack: PolicyPack,
    *,
    received_at: datetime,
    request_types: Sequence[str],
    events: Sequence[ClockEvent],
    at: datetime,
    timezone: str | None = None,
) -> ExtensionCheck:
    """Is "extend" an allowed action at `at`? `check_extension` for the remaining extension."""
    return check_extension(
        pack,
        received_at=received_at,
        request_types=request_types,
        events=events,
        at=at,
        amount=None,
        timezone=timezone,
    )
