"""Render a ClockResult into the API contract's camelCase shapes (ISO strings, pack-local offsets).

`clock_block` is the Request resource's `clock`; `explanation` is `/clock/explain` (and capture's
`dueContext`). Keys beyond the contract are additions, never renames.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from clocks.types import ExtensionApplied, Segment
from clocks.zones import zone

if TYPE_CHECKING:
    from clocks.result import ClockResult


class _Render:
    """Formats datetimes in the pack's zone; segments repeat pause instants, so each is done once."""

    __slots__ = ("memo", "tz")

    def __init__(self, tz_name: str) -> None:
        self.tz = zone(tz_name)
        self.memo: dict[datetime, str] = {}

    def __call__(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        text = self.memo.get(value)
        if text is None:
            text = self.memo[value] = value.astimezone(self.tz).isoformat()
        return text


def _d(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def clock_block(result: ClockResult) -> dict[str, Any]:
    tz = result.timezone
    _dt = _Render(tz)
    return {
        "policyPack": result.pack_id,
        "policyVersion": result.pack_version,
        "timezone": tz,
        "state": result.state.value,
        "startedAt": _dt(result.clock_starts_at),
        "baseDueDate": _d(result.base_due_date),
        "dueDate": _d(result.due_date),
        "dueAt": _dt(result.due_at),
        "acknowledgeBy": _d(result.acknowledge_by),
        "acknowledgedAt": _dt(result.acknowledged_at),
        "daysRemaining": result.days_remaining,
        "atRisk": result.at_risk,
        "overdue": result.overdue,
        "answeredLate": result.answered_late,
        "acknowledgeOverdue": result.acknowledge_overdue,
        "deadlineKind": result.deadline_kind,
    }


def _segments(segments: tuple[Segment, ...], _dt: _Render) -> list[dict[str, Any]]:
    return [
        {
            "kind": s.kind,
            "start": _dt(s.start),
            "end": _dt(s.end),
            "days": s.days,
            "note": s.note,
            "rule": s.rule,
        }
        for s in segments
    ]


def _extensions(extensions: tuple[ExtensionApplied, ...], _dt: _Render) -> list[dict[str, Any]]:
    return [
        {
            "grantedAt": _dt(e.granted_at),
            "by": e.by,
            "amount": e.amount,
            "unit": e.unit.value,
            "reason": e.reason,
            "dueDateAfter": _d(e.due_date_after),
        }
        for e in extensions
    ]


def _appeal(result: ClockResult, _dt: _Render) -> dict[str, Any] | None:
    if result.appeal_received_at is None or result.appeal_period is None:
        return None
    decided = result.appeal_decided_at is not None
    return {
        "receivedAt": _dt(result.appeal_received_at),
        "period": result.appeal_period.as_dict(),
        "citation": result.appeal_citation,
        "dueDate": _d(result.appeal_due_date),
        "dueAt": _dt(result.due_at),
        "decidedAt": _dt(result.appeal_decided_at),
        "outcome": result.appeal_outcome,
        "answeredLate": result.answered_late if decided else None,
        "extensions": _extensions(result.appeal_extensions, _dt),
    }


def explanation(result: ClockResult, request_id: str) -> dict[str, Any]:
    tz = result.timezone
    _dt = _Render(tz)
    return {
        "requestId": request_id,
        "policyPack": {
            "id": result.pack_id,
            "version": result.pack_version,
            "law": result.law,
            "citation": result.citation,
        },
        "jurisdiction": result.jurisdiction,
        "timezone": tz,
        "receivedAt": _dt(result.received_at),
        "clockStartsAt": _dt(result.clock_starts_at),
        "period": result.period.as_dict(),
        "baseDueDate": _d(result.base_due_date),
        "dueDate": _d(result.due_date),
        "dueAt": _dt(result.due_at),
        "provisional": result.provisional,
        "extensions": _extensions(result.extensions, _dt),
        "pauses": [
            {
                "pausedAt": _dt(p.paused_at),
                "resumedAt": _dt(p.resumed_at),
                "reason": p.reason,
                "effect": p.effect.value,
            }
            for p in result.pauses
        ],
        "segments": _segments(result.segments, _dt),
        "segmentsByType": {t: _segments(s, _dt) for t, s in result.segments_by_type.items()},
        "periods": [
            {
                "requestType": p.request_type,
                **p.period.as_dict(),
                "citation": p.citation,
                "extendable": p.extendable,
                "basis": p.basis,
            }
            for p in result.type_periods
        ],
        "deadlines": [
            {"kind": d.kind, "requestType": d.request_type, "dueDate": _d(d.due_date)}
            for d in result.deadlines
        ],
        "adjustments": [
            {"from": _d(a.from_date), "to": _d(a.to_date), "why": a.why, "reliedUpon": a.relied_upon}
            for a in result.adjustments
        ],
        "acknowledgement": {
            "dueDate": _d(result.acknowledge_by),
            "dueAt": _dt(result.acknowledge_due_at),
            "at": _dt(result.acknowledged_at),
            "overdue": result.acknowledge_overdue,
        },
        "appeal": _appeal(result, _dt),
        "deadlineKind": result.deadline_kind,
        "state": result.state.value,
        "daysRemaining": result.days_remaining,
        "atRisk": result.at_risk,
        "overdue": result.overdue,
        "answeredLate": result.answered_late,
        "computedAt": _dt(result.computed_at),
        "excludedDays": result.excluded_days,
        "holidaysReliedOn": [{"date": _d(day), "name": name} for day, name in result.holidays_relied_on],
        "holidaysCounted": [
            {"date": _d(day), "name": name, "observedBy": observed_by}
            for day, name, observed_by in result.holidays_counted
        ],
        "citations": list(result.citations),
    }
