"""Everything that turns a request's values into words for officers: dates, names, statuses, deadlines,
outcomes and timeline entries.

One date formatter for the whole workspace: a local time in the request's clock zone (the zone the law
counts days in), e.g. "Tue 24 Nov 2026, 14:05 GMT"; a date alone reads "Tue 24 Nov 2026". Never
microseconds, never a raw UTC stamp. The names are spelt here rather than by strftime, so the output does
not depend on the server's locale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import clocks

from ..models import ACTIVE, OPEN, ClockState, Status

if TYPE_CHECKING:
    from ..models import DataSubjectRequest, TimelineEntry

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOTHING = "—"
UNNAMED = "Unnamed requestor"

# --- dates and times ----------------------------------------------------------------------------------------


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _as_zone(zone: str | tzinfo) -> tzinfo:
    return _zone(zone) if isinstance(zone, str) else zone


def _zone_abbreviation(local: datetime) -> str:
    """GMT, BST, PDT, CET…; zones without a letter abbreviation (tzdata writes "-03") read "UTC-03"."""
    name = local.tzname() or ""
    if name and name[0] in "+-":
        return f"UTC{name}"
    return name


def format_day(day: date | datetime | str | None) -> str:
    """ "Tue 24 Nov 2026". A datetime is taken as is (convert it to the right zone first); an ISO string
    is parsed; None is a dash."""
    if day is None or day == "":
        return NOTHING
    if isinstance(day, str):
        text = day
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            return text
    if isinstance(day, datetime):
        day = day.date()
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def format_when(value: datetime | str | None, zone: str | tzinfo) -> str:
    """ "Tue 24 Nov 2026, 14:05 GMT": the instant as a local time in `zone` (the request's clock zone)."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
        if value.tzinfo is None:  # a stored instant always has an offset; a naive one is taken as UTC
            value = value.replace(tzinfo=_zone("UTC"))
    local = value.astimezone(_as_zone(zone))
    return f"{format_day(local)}, {local:%H:%M} {_zone_abbreviation(local)}"


_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")


def localise_message(text: str, zone: str | tzinfo) -> str:
    """A service's message with every ISO instant in it written as the workspace writes times (the API's
    messages speak ISO 8601; officers read "Tue 24 Nov 2026, 14:05 GMT")."""
    return _ISO_INSTANT.sub(lambda m: format_when(m.group(0).replace("Z", "+00:00"), zone), text)


def end_of_day(day: date, zone: str | tzinfo) -> datetime:
    """The first instant after the local day `day`: a deadline "by Tue 24 Nov" holds until then."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), _as_zone(zone))


def plural(count: int, unit: str, units: str | None = None) -> str:
    return f"{count} {unit if abs(count) == 1 else (units or unit + 's')}"


# --- vocabulary ---------------------------------------------------------------------------------------------

STATUS_WORDS: dict[str, str] = {
    Status.RECEIVED: "Received",
    Status.ACKNOWLEDGED: "Acknowledged",
    Status.AWAITING_CLARIFICATION: "Awaiting clarification",
    Status.REFUSED: "Refused",
    Status.CLOSED: "Closed",
    Status.APPEALED: "Appealed",
    Status.APPEAL_DECIDED: "Appeal decided",
}

TYPE_WORDS: dict[str, str] = {
    "ACCESS": "Access",
    "ERASURE": "Erasure",
    "RECTIFICATION": "Rectification",
    "PORTABILITY": "Portability",
    "RESTRICTION": "Restriction",
    "OBJECTION": "Objection",
    "OPT_OUT_SALE": "Opt out of sale/sharing",
    "LIMIT_SENSITIVE": "Limit use of sensitive data",
    "WITHDRAW_CONSENT": "Withdraw consent",
}

CHANNEL_WORDS: dict[str, str] = {
    "EMAIL": "e-mail",
    "WEB_FORM": "web form",
    "PHONE": "phone",
    "MAIL": "post",
    "IN_PERSON": "in person",
    "API": "API",
    "OTHER": "other channel",
}

OUTCOME_WORDS: dict[str, str] = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partially fulfilled",
    "WITHDRAWN": "withdrawn",
    "REFUSED": "refused",
    "UPHELD": "upheld (the answer stands)",
    "REVERSED": "reversed",
    "PARTIALLY_REVERSED": "partially reversed",
}

REQUESTOR_WORDS: dict[str, str] = {
    "DATA_SUBJECT": "the data subject",
    "AUTHORIZED_AGENT": "an authorised agent",
    "PARENT_GUARDIAN": "a parent or guardian",
    "LEGAL_REPRESENTATIVE": "a legal representative",
}

# The timeline's action names, as officers say them.
ACTION_WORDS: dict[str, str] = {
    "create": "Request received",
    "acknowledge": "Acknowledged",
    "clarification.request": "Clarification requested",
    "clarification.receive": "Clarification received",
    "verification.request": "Identity verification requested",
    "verification.receive": "Identity information received",
    "authority.request": "Proof of authority requested",
    "authority.submit": "Authority evidence recorded",
    "authority.approve": "Authority approved",
    "authority.reject": "Authority rejected",
    "requestor.set": "Requestor changed",
    "types.set": "Request types corrected",
    "extend": "Deadline extended",
    "refuse": "Refused",
    "close": "Closed",
    "appeal": "Appeal received",
    "appeal.decide": "Appeal decided",
    "clock.upgrade": "Clock recomputed under a new pack version",
}


def _humanise(code: str) -> str:
    return code.replace("_", " ").replace(".", " ").strip().capitalize() if code else ""


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, _humanise(status))


def type_words(request_type: str | None) -> str:
    if not request_type:
        return ""
    return TYPE_WORDS.get(request_type, _humanise(request_type))


def types_words(request_types: Iterable[str]) -> str:
    return ", ".join(type_words(t) for t in request_types) or NOTHING


def outcome_words(kind: str | None) -> str:
    return OUTCOME_WORDS.get(kind or "", _humanise(kind or "").lower()) or "not recorded"


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, _humanise(action))


def actor_words(actor: str) -> str:
    """ "user:olivia" → "olivia"; an API key, a command or the system say what they are."""
    kind, _, name = actor.partition(":")
    if not name:
        return actor
    return {
        "user": name,
        "apikey": f"API key {name}",
        "command": f"command {name}",
        "system": "the system",
    }.get(kind, actor)


def subject_name(dsr: DataSubjectRequest) -> str:
    """Who the request is about, as the page heads it: the requestor's name, else the contact."""
    name = dsr.requestor_name or ((dsr.requestor or {}).get("name") or "")
    return name.strip() or dsr.contact.strip() or UNNAMED


def requestor_words(requestor: Mapping[str, Any] | None) -> str:
    if not requestor:
        return "none recorded"
    name = requestor.get("name") or "unnamed"
    details = [REQUESTOR_WORDS.get(requestor.get("type") or "", _humanise(requestor.get("type") or ""))]
    if requestor.get("email"):
        details.append(str(requestor["email"]))
    if requestor.get("relation"):
        details.append(f"relation: {str(requestor['relation']).lower()}")
    return f"{name} ({', '.join(d for d in details if d)})"


def _quote(text: str) -> str:
    return f"“{text.strip()}”"


def _told(data: Mapping[str, Any], lead: str = "told the requestor") -> str | None:
    """The officer's words to the requestor on a timeline entry (`message`), and the letter the action
    sent the subject (`letter`, from correspondence: `{id, kind, status, ...}`), if any."""
    parts = []
    message = data.get("message")
    if isinstance(message, str) and message:
        parts.append(f"{lead}: {_quote(message)}")
    letter = data.get("letter")
    if isinstance(letter, dict):
        status = str(letter.get("status") or "").lower()
        parts.append(
            f"wrote to the subject: {letter.get('kind') or 'message'} {letter.get('id') or ''} ({status})"
        )
    return "; ".join(parts) or None


def _join(parts: Iterable[str | None]) -> str:
    return "; ".join(p for p in parts if p)


# --- deadlines ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A deadline an action moved, from → to: of one request type (named when the request has several),
    or None for the request's due date."""

    request_type: str | None
    before: date | None
    after: date


@dataclass(frozen=True)
class DeadlineLabel:
    """The days-remaining badge: colour is never the only signal, the text says it all."""

    tone: str  # "overdue" | "at-risk" | "on-time" | "pending" | "paused" | "stopped"
    text: str
    days: int | None


def acknowledgement_due_at(dsr: DataSubjectRequest) -> datetime | None:
    """The end of the local acknowledgement day (the stored column; computed for rows that predate it)."""
    if dsr.clock_acknowledge_due_at is not None:
        return dsr.clock_acknowledge_due_at
    if dsr.clock_acknowledge_by is None:
        return None
    return end_of_day(dsr.clock_acknowledge_by, dsr.clock_timezone)


def acknowledgement_state(dsr: DataSubjectRequest, *, now: datetime) -> str:
    """ "not_required" | "done" | "overdue" | "due" | "lapsed" (closed without one), as the queue filters."""
    due_at = acknowledgement_due_at(dsr)
    if due_at is None:
        return "not_required"
    if dsr.clock_acknowledged_at is not None:
        return "done"
    if dsr.status not in OPEN:
        return "lapsed"
    return "overdue" if now > due_at else "due"


def acknowledgement_badge(dsr: DataSubjectRequest, *, now: datetime) -> DeadlineLabel | None:
    """ "Acknowledgement overdue" once the acknowledgement day has ended unacknowledged; "Acknowledge by …"
    while one is owed; nothing otherwise."""
    state = acknowledgement_state(dsr, now=now)
    if state == "overdue":
        return DeadlineLabel("overdue", "Acknowledgement overdue", None)
    if state == "due" and dsr.clock_acknowledge_by is not None:
        return DeadlineLabel("pending", f"Acknowledge by {format_day(dsr.clock_acknowledge_by)}", None)
    return None


def _days_left(dsr: DataSubjectRequest, *, now: datetime) -> tuple[int, bool]:
    """(days remaining, overdue) as the API's clock block computes them from the stored columns."""
    if dsr.clock_state == ClockState.RUNNING:
        today = now.astimezone(_zone(dsr.clock_timezone)).date()
        return (dsr.clock_due_date - today).days, now > dsr.clock_due_at
    days = dsr.clock_days_remaining
    if days is None:  # frozen value missing: count to the stored due date
        days = (dsr.clock_due_date - now.astimezone(_zone(dsr.clock_timezone)).date()).days
    return days, days < 0


def stopped_words(dsr: DataSubjectRequest) -> str:
    """ "Closed on Tue 24 Nov 2026 — answered on time" / "Refused on … — answered 3 days late"."""
    verb = status_words(dsr.status)
    stopped_at = dsr.clock_stopped_at
    if stopped_at is None:
        return verb
    local_day = stopped_at.astimezone(_zone(dsr.clock_timezone)).date()
    text = f"{verb} on {format_day(local_day)}"
    answer = "the appeal decided" if dsr.status == Status.APPEAL_DECIDED else "answered"
    if dsr.clock_answered_late is True:
        late = max((local_day - dsr.clock_due_date).days, 1)
        return f"{text} — {answer} {plural(late, 'day')} late"
    if dsr.clock_answered_late is False:
        return f"{text} — {answer} on time"
    return text


def _about(what: str, text: str) -> str:
    """ "Overdue by 3 days" → "Appeal decision overdue by 3 days" when `what` is given."""
    return f"{what} {text[0].lower()}{text[1:]}" if what else text


def deadline_label(dsr: DataSubjectRequest, *, now: datetime) -> DeadlineLabel:
    """The days-remaining cell. A stopped request has no days remaining: it says when it stopped and
    whether in time. An appealed request counts to the appeal's deadline. Never "On time" while the
    acknowledgement is overdue."""
    if dsr.status not in ACTIVE or dsr.clock_state == ClockState.STOPPED:
        return DeadlineLabel("stopped", stopped_words(dsr), None)
    days, overdue = _days_left(dsr, now=now)
    left = plural(days, "day")
    what = "Appeal decision" if dsr.clock_deadline_kind == "APPEAL" else ""
    if overdue:
        return DeadlineLabel("overdue", _about(what, f"Overdue by {plural(abs(days), 'day')}"), days)
    if dsr.clock_state == ClockState.PAUSED:
        return DeadlineLabel("paused", _about(what, f"Paused: {left} left"), days)
    if dsr.clock_state == ClockState.AWAITING_START:
        return DeadlineLabel("paused", _about(what, f"Awaiting start: {left}"), days)
    if days <= dsr.org.at_risk_days:
        return DeadlineLabel("at-risk", _about(what, f"Due soon: {left} left" if days else "Due today"), days)
    if acknowledgement_state(dsr, now=now) == "overdue":
        return DeadlineLabel("pending", f"Response due in {left}", days)
    return DeadlineLabel("on-time", _about(what, f"On time: {left} left"), days)


def deadline_words(dsr: DataSubjectRequest) -> str:
    """The due date line of the request page, e.g. "due Tue 24 Nov 2026 (end of that day, Europe/London)";
    in the past tense once the clock has stopped."""
    which = "appeal decision due" if dsr.clock_deadline_kind == "APPEAL" else "due"
    if dsr.status not in ACTIVE or dsr.clock_state == ClockState.STOPPED:
        which = f"it was {which}"
    return f"{which} {format_day(dsr.clock_due_date)} (end of that day, {dsr.clock_timezone})"


# --- outcomes, appeals and the timeline ---------------------------------------------------------------------


def outcome_sentence(outcome: Mapping[str, Any] | None, *, notes: str = "") -> str:
    """ "Closed — outcome: fulfilled; told the requestor: “…”; internal notes: …"."""
    if not outcome:
        return "Open: no outcome yet"
    kind = outcome.get("kind") or ""
    if kind == "REFUSED":
        return "Refused — " + _join(
            [
                f"reason: {outcome['reason']}" if outcome.get("reason") else None,
                f"told the requestor: {_quote(outcome['message'])}" if outcome.get("message") else None,
                f"rationale: {outcome['rationale']}" if outcome.get("rationale") else None,
                f"internal notes: {notes}" if notes else None,
            ]
        )
    return "Closed — " + _join(
        [
            f"outcome: {outcome_words(kind)}",
            f"told the requestor: {_quote(outcome['message'])}" if outcome.get("message") else None,
            f"internal notes: {notes}" if notes else None,
        ]
    )


def appeal_sentence(appeal: Mapping[str, Any] | None, zone: str) -> str:
    if not appeal:
        return "No appeal"
    received = format_when(appeal.get("receivedAt"), zone)
    channel = CHANNEL_WORDS.get(appeal.get("channel") or "", "")
    text = f"Appeal received {received}" + (f" by {channel}" if channel else "")
    if appeal.get("rawText"):
        text += f": {_quote(appeal['rawText'])}"
    decision = appeal.get("decision")
    if not decision:
        return text + "; not yet decided"
    return (
        text
        + ". Decided "
        + format_when(decision.get("at"), zone)
        + " — "
        + _join(
            [
                f"outcome: {outcome_words(decision.get('outcome'))}",
                f"told the requestor: {_quote(decision['message'])}" if decision.get("message") else None,
                f"rationale: {decision['rationale']}" if decision.get("rationale") else None,
            ]
        )
    )


def _period(amount: Any, unit: Any) -> str:
    try:
        return str(clocks.Period(int(amount), clocks.Unit.parse(unit)))
    except (TypeError, ValueError):
        return f"{amount} {str(unit).lower()}"


def _was(before: Any, after: Any) -> str | None:
    if not after:
        return None
    if before and before != after:
        return f"due {format_day(after)} (was {format_day(before)})"
    return f"due {format_day(after)}"


def _moves(moves: list[Move] | None) -> str | None:
    """ "due Tue 31 Mar 2026 (was Wed 31 Dec 2025)", prefixed with the request type when a move names one."""
    if moves is None:
        return None
    if not moves:
        return "no due date moved"
    return ", ".join(
        (f"{type_words(m.request_type)} " if m.request_type else "") + (_was(m.before, m.after) or "")
        for m in moves
    )


def _generic(data: Mapping[str, Any], zone: str) -> str:
    """Any other entry's data, key by key in words (never a JSON dump)."""
    parts = []
    for key, value in data.items():
        if key == "clock" or value in (None, "", [], {}):
            continue
        label = "".join(f" {c.lower()}" if c.isupper() else c for c in key).strip()
        if isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, ""))
        else:
            shown = str(value)
        parts.append(f"{label}: {shown}")
    return _join(parts)


def timeline_sentence(entry: TimelineEntry, zone: str, *, moves: list[Move] | None = None) -> str:
    """What one timeline entry recorded, in words. `moves`: the deadlines the entry moved (recomputed by the
    caller for extensions and corrections of types)."""
    data: Mapping[str, Any] = entry.data or {}
    clock = data.get("clock") or {}
    action = entry.action
    if action == "create":
        channel = CHANNEL_WORDS.get(data.get("channel") or "", "")
        inferred = " (inferred from the text)" if data.get("requestTypesInferred") else ""
        return _join(
            [
                f"Received by {channel}" if channel else "Received",
                f"types: {types_words(data.get('requestTypes') or [])}{inferred}",
            ]
        )
    if action == "extend":
        amount = clock.get("amount")
        head = f"Extended by {_period(amount, clock.get('unit'))}" if amount else "Extended"
        due = _moves(moves) or _was(data.get("dueDateBefore"), data.get("dueDateAfter"))
        return f"{head} — " + _join([f"reason: {data.get('reason') or NOTHING}", due])
    if action == "close":
        return "Closed — " + _join(
            [
                f"outcome: {outcome_words(data.get('outcome'))}",
                _told(data),
                f"internal notes: {entry.notes}" if entry.notes else None,
            ]
        )
    if action == "refuse":
        return "Refused — " + (
            _join(
                [
                    f"reason: {data['reason']}" if data.get("reason") else None,
                    _told(data),
                    f"rationale: {data['rationale']}" if data.get("rationale") else None,
                    f"internal notes: {entry.notes}"
                    if entry.notes and entry.notes != data.get("rationale")
                    else None,
                ]
            )
            or "no reason recorded"
        )
    if action == "clarification.request":
        return _told(data, "Asked the requestor") or "Asked to clarify"
    if action == "requestor.set":
        return (
            f"Requestor changed to {requestor_words(data.get('requestor'))} "
            f"(was {requestor_words(data.get('previous'))})"
        )
    if action == "types.set":
        return _join(
            [
                f"Request types corrected to {types_words(data.get('requestTypes') or [])} "
                f"(were {types_words(data.get('previous') or [])})",
                _moves(moves) or _was(data.get("dueDateBefore"), data.get("dueDateAfter")),
            ]
        )
    if action == "verification.request":
        method = data.get("method")
        return (
            f"Identity verification requested (method: {method})"
            if method
            else "Identity verification requested"
        )
    if action == "authority.submit":
        count = int(data.get("artifacts") or 0)
        status = str(data.get("status") or "").lower()
        return f"Authority evidence recorded: {plural(count, 'item')}, {status or 'pending'}"
    if action == "authority.reject":
        return (
            f"Authority rejected — reason: {data['reason']}" if data.get("reason") else "Authority rejected"
        )
    if action == "appeal":
        channel = CHANNEL_WORDS.get(data.get("channel") or "", "")
        text = "Appeal received" + (f" by {channel}" if channel else "")
        return text + (f": {_quote(data['rawText'])}" if data.get("rawText") else "")
    if action == "appeal.decide":
        return "Appeal decided — " + _join(
            [
                f"outcome: {outcome_words(data.get('outcome'))}",
                _told(data),
                f"rationale: {data['rationale']}" if data.get("rationale") else None,
            ]
        )
    if action == "clock.upgrade":
        return _join(
            [
                f"Recomputed under {data.get('to')} (was {data.get('from')})",
                _was(data.get("dueDateBefore"), data.get("dueDateAfter")),
            ]
        )
    return _generic(data, zone)


def timeline_rows(
    entries: list[TimelineEntry], *, zone: str, moves: dict[int, list[Move]] | None = None
) -> list[dict[str, Any]]:
    moves = moves or {}
    rows = []
    for e in entries:
        moved = moves.get(e.seq)
        rows.append(
            {
                "seq": e.seq,
                "at": format_when(e.at, zone),
                "recorded_at": format_when(e.recorded_at, zone)
                if abs((e.recorded_at - e.at).total_seconds()) >= 60
                else "",
                "actor": actor_words(e.actor),
                "action": e.action,
                "action_words": action_words(e.action),
                "from_status": status_words(e.from_status) if e.from_status else "",
                "to_status": status_words(e.to_status) if e.to_status else "",
                # Internal notes: shown once, in the sentence, for the actions whose sentence names them.
                "notes": "" if e.action in {"close", "refuse"} else e.notes,
                "sentence": timeline_sentence(e, zone, moves=moved),
            }
        )
    return rows


# --- the clock's explanation --------------------------------------------------------------------------------

DEADLINE_WORDS = {"RESPONSE": "Response", "ACKNOWLEDGEMENT": "Acknowledgement", "APPEAL": "Appeal decision"}

SEGMENT_WORDS = {
    "RUNNING": "Running",
    "REMAINING": "Still to run",
    "OVERDUE": "Overdue",
    "PAUSED": "Paused / excluded",
    "AWAITING_START": "Awaiting start",
    "EXTENDED": "Extension",
    "NO_EFFECT": "No effect",
}

EFFECT_WORDS = {
    "EXCLUDE": "excluded: these days do not count",
    "RESTART": "restart: the clock starts again when it arrives",
    "NONE": "no effect on the deadline",
}


def deadline_kind_words(kind: str) -> str:
    return DEADLINE_WORDS.get(kind, _humanise(kind))


def _remaining(result: clocks.ClockResult) -> str:
    days = result.days_remaining
    if result.state is clocks.ClockState.STOPPED or days is None:
        stopped = getattr(result, "stopped_at", None)
        late = getattr(result, "answered_late", None)
        when = f" on {format_day(stopped.astimezone(_zone(result.timezone)))}" if stopped else ""
        verdict = " — answered late" if late is True else " — answered on time" if late is False else ""
        return f"stopped{when}{verdict}"
    if result.overdue:
        return f"overdue by {plural(abs(days), 'day')}"
    frozen = " (frozen while the clock waits)" if result.state is not clocks.ClockState.RUNNING else ""
    return f"{plural(days, 'day')} remaining{frozen}"


def clock_explanation(result: clocks.ClockResult) -> dict[str, Any]:
    """The engine's explanation as display strings, in the clock's own zone. A stopped clock speaks in the
    past tense: nothing on it is provisional or still open."""
    tz = result.timezone
    stopped = result.state is clocks.ClockState.STOPPED
    return {
        "law": result.law,
        "pack": f"{result.pack_id} {result.pack_version}",
        "citation": result.citation,
        "timezone": tz,
        "received_at": format_when(result.received_at, tz),
        "clock_starts_on": format_day(result.clock_starts_at.astimezone(_zone(tz))),
        "period": str(result.period),
        "base_due_date": format_day(result.base_due_date),
        "due_date": format_day(result.due_date),
        "due_date_iso": result.due_date.isoformat(),
        "due_at": format_when(result.due_at, tz),
        "provisional": result.provisional and not stopped,
        "stopped": stopped,
        "state": result.state.value.replace("_", " ").lower(),
        "days_remaining": result.days_remaining,
        "remaining_text": _remaining(result),
        "excluded_days": result.excluded_days,
        "acknowledge_by": format_day(result.acknowledge_by) if result.acknowledge_by else "",
        "acknowledged_at": format_when(result.acknowledged_at, tz) if result.acknowledged_at else "",
        "deadlines": [
            {
                "kind": d.kind,
                "kind_words": deadline_kind_words(d.kind),
                "request_type": type_words(d.request_type) or "the appeal",
                "due_date": format_day(d.due_date),
            }
            for d in result.deadlines
        ],
        "pauses": [
            {
                "reason": p.reason.title(),
                "paused_at": format_when(p.paused_at, tz),
                "resumed_at": format_when(p.resumed_at, tz)
                if p.resumed_at
                else ("never resumed" if stopped else "still open"),
                "effect": EFFECT_WORDS.get(p.effect.value, p.effect.value),
            }
            for p in result.pauses
        ],
        "extensions": [
            {
                "granted_at": format_when(e.granted_at, tz),
                "by": actor_words(e.by),
                "period": str(clocks.Period(e.amount, e.unit)),
                "reason": e.reason,
                "due_after": format_day(e.due_date_after),
            }
            for e in result.extensions
        ],
        "adjustments": [
            {
                "from": format_day(a.from_date),
                "to": format_day(a.to_date),
                "why": a.why,
                "relied_upon": a.relied_upon,
            }
            for a in result.adjustments
        ],
        "holidays": [{"date": format_day(day), "name": name} for day, name in result.holidays_relied_on],
        "segments": [
            {
                "kind": s.kind,
                "label": SEGMENT_WORDS.get(s.kind, s.kind),
                "start": format_when(s.start, tz),
                "end": format_when(s.end, tz) if s.end else ("the stop" if stopped else "open"),
                "days": s.days,
                "note": s.note,
                "rule": s.rule,
            }
            for s in result.segments
        ],
        "citations": list(result.citations),
    }
