"""The pack registry: one JSON file per law in this folder, one PolicyPack per jurisdiction code.

Pack files are data, versioned by their "version" field; a result records the id and version it
was computed under so that editing a file never silently moves an existing request's deadline.

Per jurisdiction code (the `"jurisdictions"` map) a file gives the time zone, the holiday calendar and,
where member states differ, the regulator; a pack-level `"regulator"` serves every code without its own.
A calendar may name further candidate calendars (`"otherCandidates"`): a business day is then skipped
only if every candidate observes a holiday on it (legal-clocks.md §1 rule 4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from clocks.calendar import Source, holiday_table
from clocks.policy import (
    ROLL_RULES,
    AckRule,
    EffectRule,
    ExtensionRule,
    PeriodRule,
    PolicyPack,
    Regulator,
    RollRule,
)
from clocks.types import REQUEST_TYPES, Effect, Period, Unit, UnknownJurisdiction

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


_CALENDAR_KEYS = frozenset({"country", "subdiv", "otherCandidates"})
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


def _build(
    raw: Mapping[str, Any],
    code: str,
    place: Mapping[str, Any],
    *,
    fallback_regulator: Regulator | None = None,
) -> PolicyPack:
    """One PolicyPack for `code`. `fallback_regulator` serves archived files written before packs named a
    regulator: who to complain to is a fact of today, not part of the rules a deadline was computed under."""
    where = f"pack {raw['id']} ({code})"
    ZoneInfo(place["timezone"])  # fail at load, not at the first request in that zone
    periods = tuple(
        PeriodRule(
            kind=p["kind"],
            period=_period(p),
            citation=p["citation"],
            request_types=_types(p.get("requestTypes"), where),
        )
        for p in raw["periods"]
    )
    ack = raw.get("acknowledgement")
    ext = raw.get("extension")
    roll = raw["roll"]
    if roll["rule"] not in ROLL_RULES:
        raise ValueError(f"{where}: unknown roll rule {roll['rule']!r}")
    effects = raw.get("eventEffects", {})
    if set(effects) - set(_REASONS):
        raise ValueError(f"{where}: unknown event effect reasons {sorted(set(effects) - set(_REASONS))}")
    country, subdiv, others = _calendar(place["calendar"], where)
    regulator = _regulator(place.get("regulator", raw.get("regulator")), where) or fallback_regulator
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
        effects=tuple(
            EffectRule(
                reason=reason, effect=Effect(effects[reason]["effect"]), citation=effects[reason]["citation"]
            )
            for reason in _REASONS
            if reason in effects
        ),
        acknowledgement=(
            AckRule(
                period=_period(ack),
                request_types=_types(ack["requestTypes"], where),
                citation=ack["citation"],
            )
            if ack
            else None
        ),
        extension=(
            ExtensionRule(
                max_total=_period(ext["maxTotal"]),
                max_count=ext.get("maxCount"),
                citation=ext["citation"],
                excluded_types=_types(ext.get("excludedRequestTypes"), where),
            )
            if ext
            else None
        ),
        rule_citations={**DEFAULT_RULE_CITATIONS, **raw.get("ruleCitations", {})},
        regulator=regulator,
        calendar_others=others,
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
    fallback = current.regulator if current is not None and current.id == pack_id else None
    return _build(raw, code, raw["jurisdictions"][code], fallback_regulator=fallback)


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
