"""Which actions a request accepts now, and why not: one table that the services, the API's 409s and the
admin's buttons all read, so they can never disagree.

Each rule takes the request (and, lazily, its timeline and the time) and returns None when the action is
allowed, or the reason it is not, in words an officer can act on. `allowed_actions` is every action whose
rule returns None; a 409 lists exactly those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import django_fsm as fsm
from django.utils import timezone

import clocks
from core.api import InvalidTransition, ValidationFailed

from .clock import clock_events, pack_for
from .models import ANSWERED, OPEN, DataSubjectRequest, Status, TimelineEntry, VerificationStatus


@dataclass
class Situation:
    """What a rule may look at. The timeline is read only if a rule needs it (the extension rule)."""

    dsr: DataSubjectRequest
    now: datetime
    entries: list[TimelineEntry] | None = None

    @cached_property
    def pack(self) -> clocks.PolicyPack:
        return pack_for(self.dsr)

    def timeline(self) -> list[TimelineEntry]:
        if self.entries is None:
            self.entries = list(TimelineEntry.objects.filter(request=self.dsr).order_by("seq"))
        return self.entries


Rule = Callable[[Situation], str | None]


def _open(s: Situation) -> str | None:
    status = s.dsr.status
    if status in OPEN:
        return None
    if status == Status.APPEALED:
        return "The request is APPEALED: only the decision on the appeal can be recorded."
    if status in ANSWERED and s.pack.appeal_period is not None:
        return f"The request is {status}; the requestor may appeal, and nothing else can change."
    return f"The request is {status}; no further action is possible."


def _all(*rules: Rule) -> Rule:
    def rule(s: Situation) -> str | None:
        for one in rules:
            why = one(s)
            if why is not None:
                return why
        return None

    return rule


def _can_acknowledge(s: Situation) -> str | None:
    if not fsm.can_proceed(s.dsr.acknowledge):
        return "Only a request in RECEIVED can be acknowledged."
    return None


def _can_ask_clarification(s: Situation) -> str | None:
    if not fsm.can_proceed(s.dsr.request_clarification):
        return "A clarification is already awaited."
    return None


def _can_receive_clarification(s: Situation) -> str | None:
    if not fsm.can_proceed(s.dsr.receive_clarification):
        return "No clarification is awaited."
    return None


def _open_or_appealed(s: Situation) -> str | None:
    """Open, or APPEALED under a law that lets the organisation extend the appeal (Colorado, Minnesota)."""
    if s.dsr.status == Status.APPEALED and s.pack.appeal_extension is not None:
        return None
    return _open(s)


def _can_extend(s: Situation) -> str | None:
    """Extendable at all, an extension left, the window still open: judged now, as the engine judges it.
    On an open appeal, the appeal's own extension."""
    pack = s.pack
    appealed = s.dsr.status == Status.APPEALED
    if not appealed and not pack.extendable:
        return f"{pack.law} allows no extension of the response period ({pack.id})."
    dsr = s.dsr
    check = clocks.check_extension(
        pack,
        received_at=dsr.intake_received_at,
        request_types=dsr.request_types,
        events=clock_events(s.timeline()),
        at=s.now,
        timezone=dsr.org.timezone_override or None,
    )
    return None if check.allowed else check.reason


def _can_ask_verification(s: Situation) -> str | None:
    if s.dsr.verification_status == VerificationStatus.REQUESTED:
        return "Identity information is already awaited."
    return None


def _can_receive_verification(s: Situation) -> str | None:
    if s.dsr.verification_status != VerificationStatus.REQUESTED:
        return "No identity information has been requested."
    return None


def _can_decide_authority(s: Situation) -> str | None:
    current = s.dsr.authority_current
    if current is None or current.status != "PENDING":
        return "There is no pending authority evidence to decide on."
    return None


def _can_appeal(s: Situation) -> str | None:
    dsr = s.dsr
    if s.pack.appeal_period is None:
        return no_appeal_reason(s.pack)
    if dsr.status not in ANSWERED:
        if dsr.status == Status.APPEALED:
            return "An appeal is already open."
        if dsr.status == Status.APPEAL_DECIDED:
            return "The appeal has been decided; no further action is possible."
        return f"Only a refused or closed request can be appealed; this one is {dsr.status}."
    return None


def _can_decide_appeal(s: Situation) -> str | None:
    if s.dsr.status != Status.APPEALED:
        return f"There is no open appeal to decide; the request is {s.dsr.status}."
    return None


# In the order the admin offers them: the usual path first, the terminal ones last.
RULES: dict[str, Rule] = {
    "acknowledge": _all(_open, _can_acknowledge),
    "clarification.request": _all(_open, _can_ask_clarification),
    "clarification.receive": _all(_open, _can_receive_clarification),
    "verification.request": _all(_open, _can_ask_verification),
    "verification.receive": _all(_open, _can_receive_verification),
    "authority.request": _open,
    "authority.submit": _open,
    "authority.approve": _all(_open, _can_decide_authority),
    "authority.reject": _all(_open, _can_decide_authority),
    "requestor.set": _open,
    "types.set": _open,
    "extend": _all(_open_or_appealed, _can_extend),
    "close": _open,
    "refuse": _open,
    "appeal": _can_appeal,
    "appeal.decide": _can_decide_appeal,
}

ACTIONS: tuple[str, ...] = tuple(RULES)


# Operations that are not officers' actions (never offered, never listed in a 409) but obey the same rules.
def _any_status(s: Situation) -> str | None:
    """Writing to the subject is possible whatever the request's status (a follow-up after closure)."""
    return None


# `verification.challenge`: sending the subject a code or link needs an open request, even while identity
# information is already awaited (a new challenge after one expired or was locked).
INTERNAL_RULES: dict[str, Rule] = {
    "clock.upgrade": _open,
    "message.send": _any_status,
    "verification.challenge": _open,
}


def why_not(
    dsr: DataSubjectRequest,
    action: str,
    *,
    now: datetime | None = None,
    entries: list[TimelineEntry] | None = None,
) -> str | None:
    """None if `action` is allowed now, else why not."""
    return RULES[action](Situation(dsr, now or timezone.now(), entries))


def allowed_actions(
    dsr: DataSubjectRequest, *, now: datetime | None = None, entries: list[TimelineEntry] | None = None
) -> list[str]:
    """The actions that would succeed now, sorted: what a 409 lists and what the admin offers."""
    situation = Situation(dsr, now or timezone.now(), entries)
    return sorted(action for action, rule in RULES.items() if rule(situation) is None)


def refuse_unless_allowed(
    dsr: DataSubjectRequest,
    action: str,
    *,
    now: datetime | None = None,
    at: datetime | None = None,
    entries: list[TimelineEntry] | None = None,
) -> None:
    """Raise the 409 `invalid_transition` if `action` is not allowed; its `details` list what is allowed now.

    `at` is the action's `occurredAt` when one was given: a rule that depends on time (an extension's
    window) is judged when the action really happened, as the law judges it — an extension granted in time
    and recorded late is valid. It is never later than `now`.
    """
    now = now or timezone.now()
    judged_at = min(at, now) if at is not None else now
    why = (RULES.get(action) or INTERNAL_RULES[action])(Situation(dsr, judged_at, entries))
    if why is not None:
        situation = Situation(dsr, now, entries)
        allowed = sorted(name for name, rule in RULES.items() if rule(situation) is None)
        raise InvalidTransition(why, allowed=allowed)


def invalid_action(dsr: DataSubjectRequest, action: str, why: str) -> InvalidTransition:
    """A 409 for a rule only the action's own step can judge (e.g. an extension at a past `occurredAt`)."""
    return InvalidTransition(why, allowed=allowed_actions(dsr))


# --- appeals and regulators -----------------------------------------------------------------------------


def no_appeal_reason(pack: clocks.PolicyPack) -> str:
    regulator = getattr(pack, "regulator", None)
    where = (
        f" The requestor may complain to {regulator.name} ({regulator.url})."
        if regulator is not None
        else " The requestor may complain to the data protection regulator."
    )
    return f"{pack.law} grants no appeal to the organisation ({pack.id}).{where}"


# --- input rules shared by the API and the admin ----------------------------------------------------------


def check_refusal_input(*, reason: str, message: str, rationale: str) -> None:
    """A refusal says why: at least one of reason, message (to the requestor) or rationale (internal)."""
    if not (reason.strip() or message.strip() or rationale.strip()):
        raise ValidationFailed(
            "A refusal needs at least one of reason, message or rationale.",
            details=[{"field": "reason", "message": "reason, message or rationale is required"}],
        )


# Laws under which a refusal must state its reasons to the subject in so many words (GDPR and UK GDPR
# Art 12(4)): there, `reason` itself is required, whatever else the refusal records.
REASON_REQUIRED_PACKS = frozenset({"eu-gdpr", "uk-gdpr"})


def check_refusal_reason(pack: clocks.PolicyPack, *, reason: str) -> None:
    if pack.id in REASON_REQUIRED_PACKS and not reason.strip():
        raise ValidationFailed.field(
            "reason",
            f"Required under {pack.law}: a refusal tells the subject its reasons (Art 12(4)); give `reason`.",
        )


def check_closure_input(*, outcome: str) -> None:
    """A closure records its outcome; nothing is assumed."""
    from .models import ClosureOutcome

    if not outcome:
        raise ValidationFailed.field(
            "outcome",
            f"Required: one of {', '.join(ClosureOutcome.values)} "
            "(a refusal is recorded with POST …/refusals).",
        )
    if outcome not in ClosureOutcome.values:
        raise ValidationFailed.field("outcome", f"Must be one of {', '.join(ClosureOutcome.values)}.")
