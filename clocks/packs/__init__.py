"""The pack registry: one JSON file per law in this folder, one PolicyPack per jurisdiction code.

Pack files are data, versioned by their "version" field; a result records the id and version it
was computed under so that editing a file never silently moves an existing request's deadline.

Per jurisdiction code (the `"jurisdictions"` map) a file gives the time zone, the holiday calendar and,
where member states differ, the regulator; a pack-level `"regulator"` serves every code without its own.
A calendar may name further candidate calendars (`"otherCandidates"`): a business day is then skipped
only if every candidate observes a holiday on it (legal-clocks.md §1 rule 4).

A file's `"subject"` block says what each kind of message to the data subject must contain (its legal
minimum, as named elements), the judicial remedy such a message names, and which request types need
identity verification. Who must be told what is a fact of today: an archived version takes it from the
current pack of the same id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from clocks.calendar import ClosedPeriod, Source, holiday_table
from clocks.policy import (
    APPEAL,
    BASES,
    MESSAGE_KINDS,
    NOTICE_ELEMENTS,
    RESPONSE,
    ROLL_RULES,
    STATUTE,
    AckRule,
    Effective,
    EffectRule,
    ExtensionRule,
    Notice,
    PeriodRule,
    PolicyPack,
    Regulator,
    RollRule,
    VerificationPolicy,
)
from clocks.types import (
    REQUEST_TYPES,
    Effect,
    LawNotInForce,
    Period,
    Unit,
    UnknownJurisdiction,
    require_aware,
)
from clocks.zones import zone

_REASONS = ("CLARIFICATION", "VERIFICATION", "AUTHORITY")

# The counting rules of legal-clocks.md §1, shared by every pack; a pack file may refine the wording.
DEFAULT_RULE_CITATIONS: Mapping[str, str] = MappingProxyType(
    {
        "anchor": "Product rule 1: the clock starts on the local date the organisation received the "
        "request, in the pack's time zone (never the UTC date)",
        "months": "Product rule 2: the same-numbered date N months later, or that month's last day",
        "days": "Product rule 3: start date + N calendar days; the day of receipt is not counted",
        "businessDays": "Product rule 4: the Nth weekday after the start date that is not a holiday "
        "of the pack's calendar (where several calendars could be meant, of every one of them)",
        "hours": "Hours run from the instant the request was received (from the start of the day when "
        "the clock restarts); the due date is the local date on which the last hour ends",
        "extensionFromAnchor": "Product rule 6: an extension is recomputed from the anchor (base + "
        "extension), then excluded days are added, then the roll applies once",
        "overlap": "Product rule 7: excluded spans are counted once where they overlap",
        "multipleTypes": "Product rule 10: one deadline per request type; the earliest is the due date",
    }
)


def _period(raw: Mapping[str, Any]) -> Period:
    amount = raw["amount"]
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"period amount must be a positive integer, got {amount!r}")
    return Period(amount, Unit(raw["unit"]))


def _types(raw: Any, where: str) -> tuple[str, ...]:
    values = tuple(raw or ())
    unknown = [t for t in values if t not in REQUEST_TYPES]
    if unknown:
        raise ValueError(f"{where}: unknown request types {unknown}")
    return values


_CALENDAR_KEYS = frozenset({"country", "subdiv", "otherCandidates", "closedPeriods"})
_SOURCE_KEYS = frozenset({"country", "subdiv"})
_REGULATOR_KEYS = ("name", "url", "citation")


def _source(raw: Any, where: str) -> Source:
    """One candidate holiday calendar, checked against the `holidays` package at load."""
    if not isinstance(raw, Mapping) or set(raw) - _SOURCE_KEYS or not raw.get("country"):
        raise ValueError(f"{where}: a calendar candidate is {{country, subdiv}}, got {raw!r}")
    country, subdiv = raw["country"], raw.get("subdiv")
    if not isinstance(country, str) or not (subdiv is None or isinstance(subdiv, str)):
        raise ValueError(f"{where}: calendar country and subdiv must be strings, got {raw!r}")
    try:
        holiday_table(country, subdiv, 2026)
    except NotImplementedError as exc:  # the `holidays` package's answer to an unknown country/subdiv
        raise ValueError(f"{where}: no holiday calendar {country!r} / {subdiv!r} ({exc})") from None
    return country, subdiv


def _month_day(text: Any, where: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(text).split("-"))
        date(2024, month, day)
    except ValueError:
        raise ValueError(f"{where}: a closed period's ends are MM-DD, got {text!r}") from None
    return month, day


def _closed_periods(raw: Any, where: str) -> tuple[ClosedPeriod, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: closedPeriods must be a list")
    periods = []
    for item in raw:
        if not isinstance(item, Mapping) or set(item) != {"from", "to", "name"}:
            raise ValueError(f"{where}: a closed period is {{from, to, name}}, got {item!r}")
        if not str(item["name"]).strip():
            raise ValueError(f"{where}: a closed period is {{from, to, name}}, got {item!r}")
        periods.append(
            ClosedPeriod(_month_day(item["from"], where), _month_day(item["to"], where), str(item["name"]))
        )
    return tuple(periods)


def _calendar(raw: Mapping[str, Any], where: str) -> tuple[str | None, str | None, tuple[Source, ...]]:
    if set(raw) - _CALENDAR_KEYS:
        raise ValueError(f"{where}: unknown calendar keys {sorted(set(raw) - _CALENDAR_KEYS)}")
    others_raw = raw.get("otherCandidates") or []
    if raw.get("country") is None:
        if others_raw or raw.get("subdiv") is not None:
            raise ValueError(f"{where}: a weekends-only calendar takes no subdiv or candidates")
        return None, None, ()
    country, subdiv = _source({"country": raw["country"], "subdiv": raw.get("subdiv")}, where)
    if not isinstance(others_raw, list):
        raise ValueError(f"{where}: otherCandidates must be a list")
    others = tuple(_source(other, where) for other in others_raw)
    if len({(country, subdiv), *others}) != 1 + len(others):
        raise ValueError(f"{where}: calendar candidates repeat")
    return country, subdiv, others


def _regulator(raw: Any, where: str) -> Regulator | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != set(_REGULATOR_KEYS):
        raise ValueError(f"{where}: a regulator is {{'name', 'url', 'citation'}}, got {raw!r}")
    if not all(isinstance(raw[key], str) and raw[key].strip() for key in _REGULATOR_KEYS):
        raise ValueError(f"{where}: regulator name, url and citation must be non-empty strings")
    if not raw["url"].startswith("https://"):
        raise ValueError(f"{where}: regulator url must be https, got {raw['url']!r}")
    return Regulator(name=raw["name"], url=raw["url"], citation=raw["citation"])


def _effective(raw: Any, where: str) -> Effective | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"from", "citation"} or not str(raw["citation"]).strip():
        raise ValueError(f"{where}: effective is {{from, citation}}, got {raw!r}")
    try:
        since = date.fromisoformat(str(raw["from"]))
    except ValueError:
        raise ValueError(f"{where}: effective.from must be YYYY-MM-DD, got {raw['from']!r}") from None
    return Effective(since=since, citation=str(raw["citation"]))


def _extension(raw: Any, where: str) -> ExtensionRule | None:
    if not raw:
        return None
    rule = ExtensionRule(
        max_total=_period(raw["maxTotal"]),
        max_count=raw.get("maxCount"),
        citation=raw["citation"],
        excluded_types=_types(raw.get("excludedRequestTypes"), where),
    )
    if rule.max_total.unit is Unit.HOURS:
        raise ValueError(f"{where}: an extension is in days or months, not hours")
    return rule


def _effect(reason: str, raw: Mapping[str, Any], where: str) -> EffectRule:
    fraud = raw.get("fraudSuspected")
    if fraud is not None and reason != "VERIFICATION":
        raise ValueError(f"{where}: only VERIFICATION has a fraudSuspected effect")
    return EffectRule(
        reason=reason,
        effect=Effect(raw["effect"]),
        citation=raw["citation"],
        fraud_effect=Effect(fraud["effect"]) if fraud else None,
        fraud_citation=fraud["citation"] if fraud else "",
    )


def _period_rule(raw: Mapping[str, Any], where: str) -> PeriodRule:
    basis = raw.get("basis", STATUTE)
    if basis not in BASES:
        raise ValueError(f"{where}: unknown period basis {basis!r}; expected one of {', '.join(BASES)}")
    rule = PeriodRule(
        kind=raw["kind"],
        period=_period(raw),
        citation=raw["citation"],
        request_types=_types(raw.get("requestTypes"), where),
        basis=basis,
    )
    if rule.kind not in (RESPONSE, APPEAL):
        raise ValueError(f"{where}: unknown period kind {rule.kind!r}")
    if rule.period.unit is Unit.HOURS and rule.kind != RESPONSE:
        raise ValueError(f"{where}: only a response period may be counted in hours")
    if basis != STATUTE and "product decision" not in rule.citation.lower():
        raise ValueError(f"{where}: a period that is not the law's says 'Product decision' in its citation")
    return rule


_SUBJECT_KEYS = frozenset({"notices", "judicialRemedy", "verification"})
_NOTICE_KEYS = frozenset({"elements", "citation"})
_VERIFICATION_KEYS = frozenset({"notRequiredFor", "denyAfterDays", "citation"})
_APPEAL_ELEMENTS = frozenset({"appealInstructions", "appealDeadline"})


class _Subject(NamedTuple):
    """A pack's "subject" block, parsed: what the data subject must be told, and verification."""

    notices: Mapping[str, Notice]
    judicial_remedy: str | None
    verification: VerificationPolicy | None

    @classmethod
    def of(cls, pack: PolicyPack) -> _Subject:
        return cls(pack.notices, pack.judicial_remedy, pack.verification_policy)


_NO_SUBJECT = _Subject(MappingProxyType({}), None, None)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _notice(kind: Any, raw: Any, where: str) -> Notice:
    if kind not in MESSAGE_KINDS:
        raise ValueError(
            f"{where}: unknown message kind {kind!r}; expected one of {', '.join(MESSAGE_KINDS)}"
        )
    if not isinstance(raw, Mapping) or set(raw) != _NOTICE_KEYS:
        raise ValueError(f"{where}: the {kind} notice is {{elements, citation}}, got {raw!r}")
    elements = raw["elements"]
    if not isinstance(elements, list) or not elements:
        raise ValueError(f"{where}: the {kind} notice needs a non-empty list of elements")
    unknown = [e for e in elements if e not in NOTICE_ELEMENTS]
    if unknown:
        raise ValueError(
            f"{where}: unknown {kind} notice elements {unknown}; "
            f"expected some of {', '.join(NOTICE_ELEMENTS)}"
        )
    if len(set(elements)) != len(elements):
        raise ValueError(f"{where}: the {kind} notice repeats an element")
    if not _text(raw["citation"]):
        raise ValueError(f"{where}: the {kind} notice needs a citation")
    return Notice(kind=kind, elements=tuple(elements), citation=raw["citation"])


def _verification(raw: Any, where: str) -> VerificationPolicy | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != _VERIFICATION_KEYS:
        raise ValueError(f"{where}: verification is {{notRequiredFor, denyAfterDays, citation}}, got {raw!r}")
    if not isinstance(raw["notRequiredFor"], list):
        raise ValueError(f"{where}: verification.notRequiredFor must be a list of request types")
    days = raw["denyAfterDays"]
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
        raise ValueError(
            f"{where}: verification.denyAfterDays must be a positive integer or null, got {days!r}"
        )
    if not _text(raw["citation"]):
        raise ValueError(f"{where}: verification needs a citation")
    return VerificationPolicy(
        not_required_for=_types(raw["notRequiredFor"], f"{where}: verification.notRequiredFor"),
        deny_after_days=days,
        citation=raw["citation"],
    )


def _subject(
    raw: Any, where: str, *, regulator: Regulator | None, periods: tuple[PeriodRule, ...]
) -> _Subject:
    """The "subject" block, checked against the pack: a `regulator` element needs a regulator, a
    `judicialRemedy` element a judicialRemedy text, an appeal element (or an APPEAL_DECISION notice) an
    APPEAL period."""
    if raw is None:
        return _NO_SUBJECT
    if not isinstance(raw, Mapping) or set(raw) - _SUBJECT_KEYS:
        raise ValueError(f"{where}: subject takes {sorted(_SUBJECT_KEYS)}, got {raw!r}")
    notices_raw = raw.get("notices") or {}
    if not isinstance(notices_raw, Mapping):
        raise ValueError(f"{where}: subject.notices maps a message kind to {{elements, citation}}")
    notices = {kind: _notice(kind, value, where) for kind, value in notices_raw.items()}
    remedy = raw.get("judicialRemedy")
    if remedy is not None and not _text(remedy):
        raise ValueError(f"{where}: subject.judicialRemedy must be a non-empty string or null")
    has_appeal = any(rule.kind == APPEAL for rule in periods)
    for notice in notices.values():
        if "regulator" in notice.elements and regulator is None:
            raise ValueError(f"{where}: the {notice.kind} notice names the regulator, but the pack has none")
        if "judicialRemedy" in notice.elements and remedy is None:
            raise ValueError(
                f"{where}: the {notice.kind} notice names a judicial remedy: give judicialRemedy"
            )
        if not has_appeal and (_APPEAL_ELEMENTS & set(notice.elements) or notice.kind == "APPEAL_DECISION"):
            raise ValueError(
                f"{where}: the {notice.kind} notice is about an appeal, but the pack has no APPEAL period"
            )
    return _Subject(
        notices=MappingProxyType(notices),
        judicial_remedy=remedy,
        verification=_verification(raw.get("verification"), where),
    )


def _build(
    raw: Mapping[str, Any],
    code: str,
    place: Mapping[str, Any],
    *,
    fallback_regulator: Regulator | None = None,
    current_subject: _Subject | None = None,
) -> PolicyPack:
    """One PolicyPack for `code`. `fallback_regulator` serves archived files written before packs named a
    regulator: who to complain to is a fact of today, not part of the rules a deadline was computed under.
    Likewise `current_subject` (the current pack's "subject" data) replaces an archived file's own: what the
    data subject must be told, and whose identity must be verified, is the law of today."""
    where = f"pack {raw['id']} ({code})"
    ZoneInfo(place["timezone"])  # fail at load, not at the first request in that zone
    periods = tuple(_period_rule(p, where) for p in raw["periods"])
    if not any(rule.kind == RESPONSE and not rule.request_types for rule in periods):
        raise ValueError(f"{where}: a pack needs a RESPONSE period without requestTypes (the fallback)")
    ack = raw.get("acknowledgement")
    ext = raw.get("extension")
    if ack and Unit(ack["unit"]) is Unit.HOURS:
        raise ValueError(f"{where}: an acknowledgement period is in days, not hours")
    roll = raw["roll"]
    if roll["rule"] not in ROLL_RULES:
        raise ValueError(f"{where}: unknown roll rule {roll['rule']!r}")
    effects = raw.get("eventEffects", {})
    if set(effects) - set(_REASONS):
        raise ValueError(f"{where}: unknown event effect reasons {sorted(set(effects) - set(_REASONS))}")
    country, subdiv, others = _calendar(place["calendar"], where)
    closed = _closed_periods(place["calendar"].get("closedPeriods") or [], where)
    appeal_extension = _extension(raw.get("appealExtension"), where)
    if appeal_extension is not None and not any(rule.kind == APPEAL for rule in periods):
        raise ValueError(f"{where}: an appealExtension needs an APPEAL period")
    regulator = _regulator(place.get("regulator", raw.get("regulator")), where) or fallback_regulator
    if current_subject is not None:
        subject = current_subject
    else:
        subject = _subject(raw.get("subject"), where, regulator=regulator, periods=periods)
    return PolicyPack(
        id=raw["id"],
        version=raw["version"],
        law=raw["law"],
        citation=raw["citation"],
        jurisdiction=code,
        timezone=place["timezone"],
        calendar_country=country,
        calendar_subdiv=subdiv,
        periods=periods,
        roll=RollRule(rule=roll["rule"], citation=roll["citation"]),
        effects=tuple(_effect(reason, effects[reason], where) for reason in _REASONS if reason in effects),
        acknowledgement=(
            AckRule(
                period=_period(ack),
                request_types=_types(ack["requestTypes"], where),
                citation=ack["citation"],
            )
            if ack
            else None
        ),
        extension=_extension(ext, where),
        rule_citations={**DEFAULT_RULE_CITATIONS, **raw.get("ruleCitations", {})},
        regulator=regulator,
        calendar_others=others,
        calendar_closed=closed,
        effective=_effective(place.get("effective", raw.get("effective")), where),
        appeal_extension=appeal_extension,
        notices=subject.notices,
        judicial_remedy=subject.judicial_remedy,
        verification_policy=subject.verification,
    )


@lru_cache(maxsize=1)
def _registry() -> Mapping[str, PolicyPack]:
    packs: dict[str, PolicyPack] = {}
    files = sorted(
        (entry for entry in resources.files(__name__).iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    for entry in files:
        raw = json.loads(entry.read_text(encoding="utf-8"))
        for code, place in raw["jurisdictions"].items():
            if code in packs:
                raise ValueError(f"jurisdiction {code} is claimed by {packs[code].id} and {raw['id']}")
            packs[code] = _build(raw, code, place)
    return MappingProxyType(dict(sorted(packs.items())))


def jurisdiction_codes() -> tuple[str, ...]:
    return tuple(_registry())


def get_pack(code: str, *, pack_id: str | None = None, version: str | None = None) -> PolicyPack:
    """The pack for a jurisdiction code: the current one, or the exact (pack_id, version) a request was
    computed under. Superseded versions live in `archive/<id>@<version>.json`; keeping them is what lets a
    new pack version leave existing deadlines alone until someone recomputes them on purpose."""
    try:
        current = _registry()[code]
    except (KeyError, TypeError):
        raise UnknownJurisdiction(code, jurisdiction_codes()) from None
    if (pack_id is None or pack_id == current.id) and (version is None or version == current.version):
        return current
    return _archived(code, pack_id or current.id, version or current.version)


@lru_cache(maxsize=256)
def _archived(code: str, pack_id: str, version: str) -> PolicyPack:
    raw = _archived_raw(pack_id, version)
    if raw is None or code not in raw.get("jurisdictions", {}):
        raise UnknownPackVersion(code, pack_id, version)
    current = _registry().get(code)
    if current is None or current.id != pack_id:
        return _build(raw, code, raw["jurisdictions"][code])
    return _build(
        raw,
        code,
        raw["jurisdictions"][code],
        fallback_regulator=current.regulator,
        current_subject=_Subject.of(current),
    )


def _archived_raw(pack_id: str, version: str) -> Mapping[str, Any] | None:
    entry = resources.files(__name__) / "archive" / f"{pack_id}@{version}.json"
    if not entry.is_file():
        return None
    raw: Mapping[str, Any] = json.loads(entry.read_text(encoding="utf-8"))
    return raw


class UnknownPackVersion(LookupError):
    def __init__(self, code: str, pack_id: str, version: str) -> None:
        self.code, self.pack_id, self.version = code, pack_id, version
        super().__init__(
            f"Policy pack {pack_id}@{version} (for {code}) is not available: keep superseded versions in "
            f"clocks/packs/archive/, or recompute the request under the current pack."
        )


def list_packs() -> list[PolicyPack]:
    return list(_registry().values())


def check_in_force(pack: PolicyPack, received_at: datetime, timezone: str | None = None) -> None:
    """Raise `LawNotInForce` if the request was received (local date, in the pack's or the given zone)
    before the law's effective date."""
    if pack.effective is None:
        return
    received_on = require_aware(received_at, "received_at").astimezone(zone(timezone or pack.timezone)).date()
    if not pack.in_force_on(received_on):
        raise LawNotInForce(pack.law, pack.jurisdiction, pack.effective.since, received_on)
