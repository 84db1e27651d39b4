"""The packs as Markdown, for the clock guide (`docs/clock.md`): the table of jurisdiction codes and, per
pack, every rule with its citation. Generated from the packs themselves so that the guide never says what
the code does not do; `python scripts/clock_reference.py` rewrites the guide's generated sections, and a
test fails when they are out of date.
"""

from __future__ import annotations

from collections.abc import Iterable

from clocks.packs import DEFAULT_RULE_CITATIONS, jurisdiction_codes, list_packs
from clocks.policy import APPEAL, PRODUCT_DECISION, RESPONSE, ExtensionRule, PeriodRule, PolicyPack

ROLL_WORDS = {
    "NEXT_WORKING_DAY": "next working day",
    "NEXT_BUSINESS_DAY_IF_HOLIDAY": "next business day if a public holiday",
    "NEXT_DAY_NOT_SUNDAY_OR_HOLIDAY": "next day not a Sunday or public holiday",
    "NEXT_DAY_NOT_SATURDAY_OR_HOLIDAY": "next day not a Saturday or public holiday",
    "NONE": "none (earlier date kept)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _period(rule: PeriodRule) -> str:
    text = str(rule.period)
    if rule.basis == PRODUCT_DECISION:
        text += " (product decision)"
    return text


def _periods(pack: PolicyPack) -> str:
    parts = []
    for rule in pack.periods:
        if rule.kind != RESPONSE:
            continue
        text = _period(rule)
        if rule.request_types:
            text += f" ({', '.join(rule.request_types)})"
        parts.append(text)
    return "; ".join(parts)


def _extension(rule: ExtensionRule | None) -> str:
    if rule is None:
        return "none"
    if rule.max_count == 1:
        text = f"+{rule.max_total}, once"
    elif rule.max_count is None:
        text = f"+{rule.max_total} in all, in one or more grants"
    else:
        text = f"+{rule.max_total} in all, at most {rule.max_count} times"
    if rule.excluded_types:
        text += f" (not {', '.join(rule.excluded_types)})"
    return text


def _appeal(pack: PolicyPack) -> str:
    rule = pack.appeal_rule
    if rule is None:
        return "none"
    text = str(rule.period)
    if pack.appeal_extension is not None:
        text += f" (+{pack.appeal_extension.max_total})"
    return text


def jurisdiction_table() -> str:
    """One row per jurisdiction code."""
    lines = [
        "| code | pack | in force from | time zone | holiday calendar | response period | extension | appeal "
        "| roll |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for code in jurisdiction_codes():
        pack = next(p for p in list_packs() if p.jurisdiction == code)
        calendar = "weekends only" if pack.calendar_country is None else pack.calendar_label
        if pack.calendar_closed:
            calendar += "; closed " + ", ".join(
                f"{c.as_dict()['from']} to {c.as_dict()['to']}" for c in pack.calendar_closed
            )
        since = pack.effective.since.isoformat() if pack.effective else "—"
        lines.append(
            f"| `{code}` | `{pack.id}` {pack.version} | {since} | {pack.timezone} | {_cell(calendar)} | "
            f"{_cell(_periods(pack))} | {_cell(_extension(pack.extension))} | {_appeal(pack)} | "
            f"{ROLL_WORDS[pack.roll.rule]} |"
        )
    return "\n".join(lines)


def _limit(rule: ExtensionRule) -> str:
    text = f"up to {rule.max_total}"
    if rule.max_count == 1:
        text += ", once"
    if rule.excluded_types:
        text += f"; not for {', '.join(rule.excluded_types)}"
    return text


def _rows(pack: PolicyPack) -> Iterable[str]:
    specific = any(rule.request_types for rule in pack.periods if rule.kind == RESPONSE)
    for rule in pack.periods:
        if rule.request_types:
            which = ", ".join(rule.request_types)
        else:
            which = "every other type" if specific and rule.kind == RESPONSE else "every type"
        kind = {RESPONSE: "response period", APPEAL: "appeal period"}.get(rule.kind, rule.kind)
        yield f"| {kind} ({which}) | {_period(rule)} | {_cell(rule.citation)} |"
    ack = pack.acknowledgement
    if ack is not None:
        yield f"| acknowledgement ({', '.join(ack.request_types)}) | {ack.period} | {_cell(ack.citation)} |"
    if pack.extension is None:
        yield "| extension | none | — |"
    else:
        yield f"| extension | {_limit(pack.extension)} | {_cell(pack.extension.citation)} |"
    appeal_extension = pack.appeal_extension
    if appeal_extension is not None:
        yield f"| appeal extension | {_limit(appeal_extension)} | {_cell(appeal_extension.citation)} |"
    yield f"| roll | {pack.roll.rule} | {_cell(pack.roll.citation)} |"
    for effect in pack.effects:
        yield f"| {effect.reason.lower()} | {effect.effect.value} | {_cell(effect.citation)} |"
        if effect.fraud_effect is not None:
            yield (
                f"| {effect.reason.lower()} (fraud suspected) | {effect.fraud_effect.value} | "
                f"{_cell(effect.fraud_citation)} |"
            )
    if pack.calendar_closed:
        for closed in pack.calendar_closed:
            span = f"{closed.as_dict()['from']} to {closed.as_dict()['to']}"
            yield f"| closed period | {span} | {_cell(closed.name)} |"
    if pack.effective is not None:
        yield f"| in force from | {pack.effective.since.isoformat()} | {_cell(pack.effective.citation)} |"
    if pack.regulator is not None:
        regulator = pack.regulator
        yield f"| regulator | {_cell(regulator.name)} ({regulator.url}) | {_cell(regulator.citation)} |"
    for name, text in pack.rule_citations.items():
        if text != DEFAULT_RULE_CITATIONS.get(name):
            yield f"| counting rule `{name}` | — | {_cell(text)} |"


def pack_citations() -> str:
    """Per pack (as its first code has it), every rule with its citation; the codes it serves."""
    by_id: dict[str, list[PolicyPack]] = {}
    for pack in list_packs():
        by_id.setdefault(pack.id, []).append(pack)
    sections = []
    for pack_id in sorted(by_id):
        packs = by_id[pack_id]
        pack = packs[0]
        codes = ", ".join(f"`{p.jurisdiction}`" for p in packs)
        lines = [
            f"#### `{pack.id}` {pack.version} — {pack.law}",
            "",
            f"Codes: {codes}. Citation: {pack.citation}.",
            "",
            "| rule | value | citation |",
            "|---|---|---|",
            *_rows(pack),
        ]
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


SECTIONS = {"jurisdictions": jurisdiction_table, "pack-citations": pack_citations}


def render(text: str) -> str:
    """`text` (the guide) with every generated section replaced by its current rendering."""
    for name, build in SECTIONS.items():
        start, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
        before, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"the guide has no {start} marker")
        _, found, after = rest.partition(end)
        if not found:
            raise ValueError(f"the guide has no {end} marker")
        text = f"{before}{start}\n{build()}\n{end}{after}"
    return text
