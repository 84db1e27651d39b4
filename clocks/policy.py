"""Policy packs: the versioned rules of one law, bound to one jurisdiction code.

A pack holds the periods (RESPONSE per request type, and APPEAL where the law grants one), the
acknowledgement, extension, roll and pause rules with their citations, the holiday calendar (with any
further candidate calendars, legal-clocks.md §1 rule 4) and the regulator a requestor may complain to.

It also holds what the law says the data subject must be told (the legal minimum of each kind of message,
as named elements) and which request types need identity verification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from clocks.calendar import Calendar, ClosedPeriod, Source, get_calendar, source_label
from clocks.types import REQUEST_TYPES, Effect, EventKind, Period, Unit

# Kind of period a rule describes. An appeal is one more kind of period, counted like a response
# period from the appeal's receipt.
RESPONSE = "RESPONSE"
APPEAL = "APPEAL"

ROLL_RULES = (
    "NEXT_WORKING_DAY",
    "NEXT_BUSINESS_DAY_IF_HOLIDAY",
    # South Africa (Interpretation Act s.4): a Sunday or public holiday moves on; a Saturday stands.
    "NEXT_DAY_NOT_SUNDAY_OR_HOLIDAY",
    # Korea (Civil Act Art 161): a Saturday or public holiday (Sundays are public holidays) moves on.
    "NEXT_DAY_NOT_SATURDAY_OR_HOLIDAY",
    "NONE",
)

# Where a period's length comes from: the law, or (where the law sets none) a product decision.
STATUTE = "STATUTE"
PRODUCT_DECISION = "PRODUCT_DECISION"
BASES = (STATUTE, PRODUCT_DECISION)

# The elements a message to the data subject may be required to carry (the legal minimum of a kind).
NOTICE_ELEMENTS: tuple[str, ...] = (
    "reasons",  # the reasons for (justification of) the decision
    "regulator",  # the right to complain to the named regulator
    "judicialRemedy",  # the right to a judicial remedy
    "appealInstructions",  # how to appeal
    "appealDeadline",  # by when to appeal
    "newDueDate",  # the new due date
    "verificationProcess",  # how identity will be verified
    "expectedBy",  # when to expect the answer
)

# The kinds of message sent to the data subject (api-contract.md, Correspondence).
MESSAGE_KINDS: tuple[str, ...] = (
    "ACKNOWLEDGEMENT",
    "VERIFICATION_CODE",
    "VERIFICATION_LINK",
    "CLARIFICATION",
    "EXTENSION",
    "REFUSAL",
    "CLOSURE",
    "DELIVERY_READY",
    "APPEAL_DECISION",
    "CUSTOM",
)

_REASON_OF_KIND: Mapping[EventKind, str] = MappingProxyType(
    {
        EventKind.CLARIFICATION_REQUESTED: "CLARIFICATION",
        EventKind.CLARIFICATION_RECEIVED: "CLARIFICATION",
        EventKind.VERIFICATION_REQUESTED: "VERIFICATION",
        EventKind.VERIFICATION_RECEIVED: "VERIFICATION",
        EventKind.AUTHORITY_REQUESTED: "AUTHORITY",
        EventKind.AUTHORITY_SUBMITTED: "AUTHORITY",
    }
)


@dataclass(frozen=True, slots=True)
class PeriodRule:
    kind: str  # RESPONSE | APPEAL
    period: Period
    citation: str
    # Empty means "every request type not named by a more specific rule".
    request_types: tuple[str, ...] = ()
    # PRODUCT_DECISION: the law sets no period; this is the product's conservative working period.
    basis: str = STATUTE

    @property
    def statutory(self) -> bool:
        return self.basis == STATUTE

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "requestTypes": list(self.request_types) or ["*"],
            **self.period.as_dict(),
            "basis": self.basis,
            "citation": self.citation,
        }


@dataclass(frozen=True, slots=True)
class AckRule:
    period: Period
    request_types: tuple[str, ...]
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.period.as_dict(), "requestTypes": list(self.request_types), "citation": self.citation}


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    max_total: Period
    max_count: int | None
    citation: str
    # Types that cannot be extended (CCPA opt-out / limit sensitive).
    excluded_types: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "maxTotal": self.max_total.as_dict(),
            "maxCount": self.max_count,
            "excludedRequestTypes": list(self.excluded_types),
            "citation": self.citation,
        }


@dataclass(frozen=True, slots=True)
class RollRule:
    rule: str  # one of ROLL_RULES
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "citation": self.citation}


@dataclass(frozen=True, slots=True)
class EffectRule:
    reason: str  # CLARIFICATION | VERIFICATION | AUTHORITY
    effect: Effect
    citation: str
    # What the same request does when the organisation suspects fraud (Utah §13-61-203(2)(d)).
    fraud_effect: Effect | None = None
    fraud_citation: str = ""

    def applied(self, data: Mapping[str, Any]) -> tuple[Effect, str]:
        """The effect (and its citation) of a request carrying `data`."""
        if self.fraud_effect is not None and data.get("fraudSuspected") is True:
            return self.fraud_effect, self.fraud_citation
        return self.effect, self.citation

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason, "effect": self.effect.value, "citation": self.citation}
        if self.fraud_effect is not None:
            out["fraudSuspected"] = {"effect": self.fraud_effect.value, "citation": self.fraud_citation}
        return out


@dataclass(frozen=True, slots=True)
class Effective:
    """The day from which the law applies to requests received (local date of receipt)."""

    since: date
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.since.isoformat(), "citation": self.citation}


@dataclass(frozen=True, slots=True)
class Regulator:
    """Where a requestor may complain: the supervisory authority (or attorney general) for the code."""

    name: str
    url: str
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "citation": self.citation}


@dataclass(frozen=True, slots=True)
class Notice:
    """The legal minimum of one kind of message to the data subject: the elements it must carry."""

    kind: str  # one of MESSAGE_KINDS
    elements: tuple[str, ...]  # each one of NOTICE_ELEMENTS
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "elements": list(self.elements), "citation": self.citation}


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """Which request types need no identity verification, and when an unverified request may be denied."""

    not_required_for: tuple[str, ...]
    # Days from receipt after which a request still unverified may be denied (CCPA: 45); None: no such day.
    deny_after_days: int | None
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "notRequiredFor": list(self.not_required_for),
            "denyAfterDays": self.deny_after_days,
            "citation": self.citation,
        }


@dataclass(frozen=True, slots=True)
class PolicyPack:
    id: str
    version: str
    law: str
    citation: str
    jurisdiction: str
    timezone: str
    calendar_country: str | None  # None: weekends only (the EU-wide pack)
    calendar_subdiv: str | None
    periods: tuple[PeriodRule, ...]
    roll: RollRule
    effects: tuple[EffectRule, ...]
    acknowledgement: AckRule | None = None
    extension: ExtensionRule | None = None
    # Citations of the product-wide counting rules (anchor, months, days, business days).
    rule_citations: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    regulator: Regulator | None = None
    # Further candidate holiday calendars (legal-clocks §1 rule 4): a business day is skipped only if
    # the main calendar and every one of these observe a holiday on it.
    calendar_others: tuple[Source, ...] = ()
    # Spans of the year that are never working days (New Zealand: 25 December to 15 January).
    calendar_closed: tuple[ClosedPeriod, ...] = ()
    effective: Effective | None = None
    # Extension of an appeal's period (Colorado, Minnesota: +60 days with notice).
    appeal_extension: ExtensionRule | None = None
    # What each kind of message to the data subject must contain (kind -> Notice), the judicial remedy a
    # message names where the law requires one, and which request types need identity verification.
    notices: Mapping[str, Notice] = field(default_factory=dict, compare=False, hash=False)
    judicial_remedy: str | None = None
    verification_policy: VerificationPolicy | None = None

    # Lookup tables derived from `periods`, built once: the engine asks for them on every call.
    _period_index: Mapping[tuple[str, str], PeriodRule] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    # Whether any period is counted in hours (the engine then looks for an exact due instant).
    counts_hours: bool = field(init=False, repr=False, compare=False, hash=False, default=False)
    _calendar: Calendar | None = field(init=False, repr=False, compare=False, hash=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_citations", MappingProxyType(dict(self.rule_citations)))
        object.__setattr__(self, "notices", MappingProxyType(dict(self.notices)))
        index: dict[tuple[str, str], PeriodRule] = {}
        for kind in {rule.kind for rule in self.periods}:
            fallback = next((r for r in self.periods if r.kind == kind and not r.request_types), None)
            for request_type in REQUEST_TYPES:
                specific = next(
                    (r for r in self.periods if r.kind == kind and request_type in r.request_types), None
                )
                chosen = specific or fallback
                if chosen is not None:
                    index[(kind, request_type)] = chosen
        object.__setattr__(self, "_period_index", MappingProxyType(index))
        object.__setattr__(self, "counts_hours", any(r.period.unit is Unit.HOURS for r in self.periods))

    @property
    def calendar_label(self) -> str:
        if self.calendar_country is None:
            return self.jurisdiction
        labels = [source_label(self.calendar_country, self.calendar_subdiv)]
        labels += [source_label(country, subdiv) for country, subdiv in self.calendar_others]
        return " and ".join(labels)

    @property
    def calendar(self) -> Calendar:
        """The pack's business-day and roll calendar (every candidate calendar, rule 4); built once."""
        calendar = self._calendar
        if calendar is None:
            calendar = get_calendar(
                self.calendar_country,
                self.calendar_subdiv,
                self.calendar_label,
                self.calendar_others,
                self.calendar_closed,
            )
            object.__setattr__(self, "_calendar", calendar)
        return calendar

    def effect_rule(self, reason: str) -> EffectRule | None:
        for rule in self.effects:
            if rule.reason == reason:
                return rule
        return None

    def effect_of(self, kind: EventKind, data: Mapping[str, Any] | None = None) -> Effect:
        return self.applied_effect(kind, data or {})[0]

    def applied_effect(self, kind: EventKind, data: Mapping[str, Any]) -> tuple[Effect, str]:
        """The effect of a pause event carrying `data`, and the citation it rests on."""
        reason = _REASON_OF_KIND.get(kind)
        rule = self.effect_rule(reason) if reason else None
        if rule is None:
            return Effect.NONE, ""
        if rule.fraud_effect is None:
            return rule.effect, rule.citation
        return rule.applied(data)

    def meaningful_event_kinds(self) -> frozenset[EventKind]:
        fraud = {"fraudSuspected": True}
        kinds = {
            kind
            for kind in _REASON_OF_KIND
            if self.effect_of(kind) is not Effect.NONE or self.effect_of(kind, fraud) is not Effect.NONE
        }
        if self.appeal_extension is not None:
            kinds.add(EventKind.EXTENSION)
        if self.extendable:
            kinds.add(EventKind.EXTENSION)
        if self.acknowledgement is not None:
            kinds.add(EventKind.ACKNOWLEDGED)
        if self.appeal_rule is not None:
            kinds.update((EventKind.APPEAL_RECEIVED, EventKind.APPEAL_DECIDED))
        return frozenset(kinds)

    @property
    def extendable(self) -> bool:
        return self.extension is not None

    @property
    def default_extension(self) -> tuple[int, Unit] | None:
        if self.extension is None:
            return None
        return (self.extension.max_total.amount, self.extension.max_total.unit)

    def is_extendable_type(self, request_type: str) -> bool:
        return self.extension is not None and request_type not in self.extension.excluded_types

    def period_rule(self, request_type: str, kind: str = RESPONSE) -> PeriodRule:
        try:
            return self._period_index[(kind, request_type)]
        except KeyError:
            raise LookupError(f"{self.id} has no {kind} period for {request_type}") from None

    def period_for(self, request_type: str, kind: str = RESPONSE) -> Period:
        return self.period_rule(request_type, kind).period

    @property
    def appeal_rule(self) -> PeriodRule | None:
        """The period to decide an appeal, or None where the law grants no appeal."""
        appeals = [rule for rule in self.periods if rule.kind == APPEAL]
        general = [rule for rule in appeals if not rule.request_types]
        return next(iter(general or appeals), None)

    @property
    def appeal_period(self) -> Period | None:
        rule = self.appeal_rule
        return rule.period if rule is not None else None

    def in_force_on(self, day: date) -> bool:
        return self.effective is None or day >= self.effective.since

    @property
    def statutory(self) -> bool:
        """Whether every period of the pack comes from the law (not a product decision)."""
        return all(rule.statutory for rule in self.periods)

    def required_elements(self, kind: str) -> tuple[str, ...]:
        """The elements a message of `kind` must carry under this law (empty if the law names none)."""
        notice = self.notices.get(kind)
        return notice.elements if notice is not None else ()

    def verification_required(self, request_types: Sequence[str]) -> bool:
        """Whether a request of these types needs identity verification: yes unless every one of them is
        exempt (CCPA opt-out and limit requests), and yes when the pack has no verification policy or no
        types are given."""
        if isinstance(request_types, str):
            raise TypeError("request_types is a sequence of request types, not one string")
        policy = self.verification_policy
        if policy is None or not request_types:
            return True
        return not all(request_type in policy.not_required_for for request_type in request_types)

    def acknowledges(self, request_type: str) -> bool:
        return self.acknowledgement is not None and request_type in self.acknowledgement.request_types

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "law": self.law,
            "citation": self.citation,
            "jurisdiction": self.jurisdiction,
            "timezone": self.timezone,
            "calendar": {
                "country": self.calendar_country,
                "subdiv": self.calendar_subdiv,
                "otherCandidates": [{"country": c, "subdiv": s} for c, s in self.calendar_others],
                "closedPeriods": [closed.as_dict() for closed in self.calendar_closed],
            },
            "effective": self.effective.as_dict() if self.effective else None,
            "periods": [rule.as_dict() for rule in self.periods],
            "acknowledgement": self.acknowledgement.as_dict() if self.acknowledgement else None,
            "extension": self.extension.as_dict() if self.extension else None,
            "appeal": self._appeal_dict(),
            "roll": self.roll.as_dict(),
            "eventEffects": {rule.reason: rule.as_dict() for rule in self.effects},
            "regulator": self.regulator.as_dict() if self.regulator else None,
        }

    def _appeal_dict(self) -> dict[str, Any] | None:
        rule = self.appeal_rule
        if rule is None:
            return None
        return {
            **rule.period.as_dict(),
            "citation": rule.citation,
            "extension": self.appeal_extension.as_dict() if self.appeal_extension else None,
        }
