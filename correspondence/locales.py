"""Locales of messages: BCP 47 tags (`en`, `fr-CA`, `pt-BR`) whose language Django knows, and the order in
which a message falls back when no template speaks the asked locale: `fr-CA → fr → the org's default → en`.
"""

from __future__ import annotations

import re

from django.conf.locale import LANG_INFO

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")
# The same syntax, for the OpenAPI schema (whether Django knows the language is judged at run time).
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z]{4})?([-_]([A-Za-z]{2}|[0-9]{3}))?$"


class BadLocale(ValueError):
    """Not a BCP 47 tag of a language Django knows; the message says which part is wrong."""


def locale_normalise(tag: str) -> str:
    """`fr_ca` → `fr-CA`. BadLocale for anything that is not a language Django knows, with an optional
    script and region."""
    match = _TAG.match(tag.strip()) if isinstance(tag, str) else None
    if match is None:
        raise BadLocale(f"'{tag}' is not a locale: use a BCP 47 tag such as en, fr, fr-CA or pt-BR.")
    language, script, region = match.groups()
    language = language.lower()
    if language not in LANG_INFO:
        raise BadLocale(f"'{tag}': unknown language '{language}'.")
    parts = [language]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def locale_chain(asked: str | None, org_default: str) -> list[str]:
    """The locales to try, in order, without repeats."""
    chain: list[str] = []
    for tag in (asked, org_default, "en"):
        if not tag:
            continue
        parts = tag.split("-")
        for n in range(len(parts), 0, -1):
            candidate = "-".join(parts[:n])
            if candidate not in chain:
                chain.append(candidate)
    return chain


def language_of(tag: str) -> str:
    return tag.split("-")[0]
