"""Value types shared by the clock engine, the packs and the explanation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

REQUEST_TYPES: tuple[str, ...] = (
    "ACCESS",
    "ERASURE",
    "RECTIFICATION",
    "PORTABILITY",
    "RESTRICTION",
    "OBJECTION",
    "OPT_OUT_SALE",
    "LIMIT_SENSITIVE",
    # Withdrawal (revocation) of consent: some laws give it a clock of its own (RI 15 days, VN 15 days).
    "WITHDRAW_CONSENT",
)


class UnknownJurisdiction(LookupError):
    def __init__(self, code: object, known: tuple[str, ...] = ()) -> None:
        self.code = code
        self.known = known
        hint = ""
        if isinstance(code, str):
            # Codes are case-sensitive (ISO spelling); a near miss deserves a pointer, not a shrug.
            near = [k for k in known if k.lower() == code.strip().lower()]
            if near:
                hint = f" (codes are case-sensitive: did you mean {near[0]!r}?)"
        supported = f" Supported codes: {', '.join(known)}." if known else ""
        super().__init__(f"Unknown jurisdiction {code!r}{hint}: no policy pack covers it.{supported}")


class LawNotInForce(ValueError):
    """A request received before the law's effective date: no clock of that law can run for it."""

    def __init__(self, law: str, code: str, effective_from: date, received_on: date) -> None:
        self.law, self.code, self.effective_from, self.received_on = law, code, effective_from, received_on
        super().__init__(
            f"Law not yet in force: {law} applies to requests received from {effective_from.isoformat()} "
            f"({code}); this request was received on {received_on.isoformat()}."
        )


class Unit(StrEnum):
    CALENDAR_DAYS = "CALENDAR_DAYS"
    CALENDAR_MONTHS = "CALENDAR_MONTHS"
    BUSINESS_DAYS = "BUSINESS_DAYS"
    # Hours from the instant of receipt (Indonesia: "at the latest 3 x 24 hours").
    HOURS = "HOURS"

    @classmethod
    def parse(cls, value: str | Unit) -> Unit:
        """Accept the enum, its value, or the API's short spelling ("DAYS", "MONTHS")."""
        if isinstance(value, Unit):
            return value
        text = str(value).strip().upper()
        text = {"DAYS": "CALENDAR_DAYS", "MONTHS": "CALENDAR_MONTHS"}.get(text, text)
        try:
            return cls(text)
        except ValueError:
            raise ValueError(
                f"Unknown period unit {value!r}; expected one of {', '.join(u.value for u in cls)}"
            ) from None


class Effect(StrEnum):
    EXCLUDE = "EXCLUDE"
    RESTART = "RESTART"
    NONE = "NONE"


class ClockState(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    AWAITING_START = "AWAITING_START"
    STOPPED = "STOPPED"


class SegmentKind(StrEnum):
    """The kinds of segment an explanation is made of."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    AWAITING_START = "AWAITING_START"
    EXTENDED = "EXTENDED"
    NO_EFFECT = "NO_EFFECT"


class DeadlineKind(StrEnum):
    """The kinds of deadline an explanation lists."""

    RESPONSE = "RESPONSE"
    ACKNOWLEDGEMENT = "ACKNOWLEDGEMENT"
    APPEAL = "APPEAL"


class PauseReason(StrEnum):
    """What an organisation may be waiting for from the requestor."""

    CLARIFICATION = "CLARIFICATION"
    VERIFICATION = "VERIFICATION"
    AUTHORITY = "AUTHORITY"


class EventKind(StrEnum):
    CLARIFICATION_REQUESTED = "CLARIFICATION_REQUESTED"
    CLARIFICATION_RECEIVED = "CLARIFICATION_RECEIVED"
    VERIFICATION_REQUESTED = "VERIFICATION_REQUESTED"
    VERIFICATION_RECEIVED = "VERIFICATION_RECEIVED"
    AUTHORITY_REQUESTED = "AUTHORITY_REQUESTED"
    AUTHORITY_SUBMITTED = "AUTHORITY_SUBMITTED"
    EXTENSION = "EXTENSION"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    STOPPED = "STOPPED"
    # Appeals come after the stop (refusal or closure) and are the only events a stopped clock accepts.
    APPEAL_RECEIVED = "APPEAL_RECEIVED"
    APPEAL_DECIDED = "APPEAL_DECIDED"


# Tie-break for events sharing an instant: a request must be seen before its answer, and a stop
# after them, so that "asked and answered in the same second" still produces a (zero-length) pause;
# an appeal received in the same second as the stop still follows it.
KIND_ORDER: Mapping[EventKind, int] = MappingProxyType({kind: i for i, kind in enumerate(EventKind)})

# Which pause "reason" each requested/received kind belongs to, and which side of the pair it is.
PAUSE_OPENERS: Mapping[EventKind, str] = MappingProxyType(
    {
        EventKind.CLARIFICATION_REQUESTED: "CLARIFICATION",
        EventKind.VERIFICATION_REQUESTED: "VERIFICATION",
        EventKind.AUTHORITY_REQUESTED: "AUTHORITY",
    }
)
PAUSE_CLOSERS: Mapping[EventKind, str] = MappingProxyType(
    {
        EventKind.CLARIFICATION_RECEIVED: "CLARIFICATION",
        EventKind.VERIFICATION_RECEIVED: "VERIFICATION",
        EventKind.AUTHORITY_SUBMITTED: "AUTHORITY",
    }
)


def require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class ClockEvent:
    kind: EventKind
    occurred_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EventKind(self.kind))
        require_aware(self.occurred_at, "ClockEvent.occurred_at")
        # A read-only copy: the caller's dict can change after the fact, the event must not.
        object.__setattr__(self, "data", MappingProxyType(dict(self.data or {})))

    def __hash__(self) -> int:
        return hash((self.kind, self.occurred_at, canonical_json(self.data)))

    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.occurred_at, KIND_ORDER[self.kind], canonical_json(self.data))


@dataclass(frozen=True, slots=True)
class Period:
    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", Unit.parse(self.unit))

    def as_dict(self) -> dict[str, Any]:
        return {"amount": self.amount, "unit": self.unit.value}

    def __str__(self) -> str:
        words = {
            Unit.CALENDAR_DAYS: ("calendar day", "calendar days"),
            Unit.CALENDAR_MONTHS: ("month", "months"),
            Unit.BUSINESS_DAYS: ("business day", "business days"),
            Unit.HOURS: ("hour", "hours"),
        }[self.unit]
        return f"{self.amount} {words[0] if self.amount == 1 else words[1]}"


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str  # "RESPONSE" | "ACKNOWLEDGEMENT" | "APPEAL"
    request_type: str | None  # None for an APPEAL: it answers the request as a whole
    due_date: date


@dataclass(frozen=True, slots=True)
class TypePeriod:
    """The response period that applies to one request type (explanation `periods`)."""

    request_type: str
    period: Period
    citation: str
    extendable: bool
    basis: str = "STATUTE"  # or "PRODUCT_DECISION": the law sets no period; the product chose this one


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # "RUNNING" | "PAUSED" | "AWAITING_START" | "EXTENDED" | "NO_EFFECT"
    start: datetime
    end: datetime | None
    days: int
    note: str
    rule: str


@dataclass(frozen=True, slots=True)
class Pause:
    paused_at: datetime
    resumed_at: datetime | None
    reason: str  # "CLARIFICATION" | "VERIFICATION" | "AUTHORITY"
    effect: Effect


@dataclass(frozen=True, slots=True)
class ExtensionApplied:
    granted_at: datetime
    by: str
    amount: int
    unit: Unit
    reason: str
    due_date_after: date


@dataclass(frozen=True, slots=True)
class Adjustment:
    from_date: date
    to_date: date
    why: str
    relied_upon: bool


@dataclass(frozen=True, slots=True)
class ExtensionCheck:
    allowed: bool
    reason: str
    due_date_after: date | None = None
    # The extension as it would be recorded: the pack's remaining extension when none was asked for.
    amount: int | None = None
    unit: Unit | None = None
