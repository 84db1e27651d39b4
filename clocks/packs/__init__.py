"""The pack registry: one JSON file per law in this folder, one PolicyPack per jurisdiction code.

Pack files are data, versioned by their "version" field; a result records the id and version it
was computed under so that editing a file never silently moves an existing request's deadline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from clocks.policy import ROLL_RULES, AckRule, EffectRule, ExtensionRule, PeriodRule, PolicyPack, RollRule
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
        "of the pack's calendar",
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


def _build(raw: Mapping[str, Any], code: str, place: Mapping[str, Any]) -> PolicyPack:
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
    calendar = place["calendar"]
    return PolicyPack(
        id=raw["id"],
        version=raw["version"],
        law=raw["law"],
        citation=raw["citation"],
        jurisdiction=code,
        timezone=place["timezone"],
        calendar_country=calendar.get("country"),
        calendar_subdiv=calendar.get("subdiv"),
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
    return _build(raw, code, raw["jurisdictions"][code])


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
