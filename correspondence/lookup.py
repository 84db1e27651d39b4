"""Which template a message uses: the org's for the pack and locale, then the org's for every pack, then
the built-in one — for each locale of the fallback chain in turn (`locales.locale_chain`). An org template
that lacks an element the request's pack requires is passed over (the built-in ones carry every pack's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import Org

from .builtin import ANY_PACK, BUILTINS, builtin_id, parse_builtin_id
from .engine import check_template, elements_shown
from .locales import locale_chain
from .models import MessageTemplate


@dataclass(frozen=True)
class Resolved:
    id: str
    version: int
    kind: str
    pack: str
    locale: str
    subject: str
    body_text: str
    body_html: str
    built_in: bool

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "pack": self.pack or None,
            "locale": self.locale,
            "subject": self.subject,
            "bodyText": self.body_text,
            "bodyHtml": self.body_html or None,
            "version": self.version,
            "builtIn": self.built_in,
        }


def from_row(row: MessageTemplate) -> Resolved:
    return Resolved(
        id=row.id,
        version=row.version,
        kind=row.kind,
        pack=row.pack,
        locale=row.locale,
        subject=row.subject,
        body_text=row.body_text,
        body_html=row.body_html,
        built_in=False,
    )


def builtin(pack: str, kind: str, locale: str) -> Resolved | None:
    found = BUILTINS.get((kind, locale))
    if found is None:
        return None
    return Resolved(
        id=builtin_id(pack, kind, locale),
        version=found.version,
        kind=kind,
        pack=pack,
        locale=locale,
        subject=found.subject,
        body_text=found.body_text,
        body_html="",
        built_in=True,
    )


def template_by_id(org: Org, template_id: str) -> Resolved | None:
    """An org's template (its current version) or a built-in one, by id; None if there is none."""
    parsed = parse_builtin_id(template_id)
    if parsed is not None:
        pack, kind, locale = parsed
        if pack == ANY_PACK:
            return builtin("", kind, locale)
        if pack not in pack_ids():
            return None
        return builtin(pack, kind, locale)
    row = MessageTemplate.objects.filter(org=org, pk=template_id).first()
    return from_row(row) if row is not None else None


def pack_ids() -> set[str]:
    from clocks.packs import list_packs

    return {p.id for p in list_packs()}


def resolve(*, org: Org, pack: str, kind: str, locale: str | None, required: tuple[str, ...]) -> Resolved:
    current = {
        (row.pack, row.locale): row
        for row in MessageTemplate.objects.filter(org=org, kind=kind, retired_at__isnull=True)
    }
    for tag in locale_chain(locale, org.default_locale):
        for key in ((pack, tag), ("", tag)):
            row = current.get(key)
            if row is not None and _carries(row, required):
                return from_row(row)
        found = builtin(pack, kind, tag)
        if found is not None:
            return found
    fallback = builtin(pack, kind, "en")
    assert fallback is not None  # every kind has an English built-in
    return fallback


def _carries(row: MessageTemplate, required: tuple[str, ...]) -> bool:
    used = check_template(subject=row.subject, body_text=row.body_text, body_html=row.body_html)
    return set(required) <= elements_shown(used)
