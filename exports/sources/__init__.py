"""Substrates as sources of rows: deciding what a section reads (`plan_section`, pure) and opening the
source a mapping describes (`open_source`).

A source never sees a job or the database of this system (except the built-in `dsar_core`): it is given
a mapping, a plan and the subject's scope, and yields tuples of the declared columns.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import abc
from collections.abc import Sequence

from ..types import Mapping, SectionPlan, Source, SubjectScope, Table

__all__ = ["digits", "open_source", "plan_section"]

_NOT_DIGITS = re.compile(r"[^0-9]")


def digits(value: str) -> str:
    """Only the digits of a phone number, as ASCII: how every source compares phones (SQL sources strip
    `[^0-9]` in the database). Other decimal digits (full-width, Arabic-Indic) count as their ASCII selves,
    so a subject who typed them still matches."""
    if not value.isascii():
        value = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)
    return _NOT_DIGITS.sub("", value)


def plan_section(
    table: Table, scope: SubjectScope, *, via_parent: Table | None = None, substrate: str = ""
) -> SectionPlan:
    """What `table` will read for `scope`. A table matched through a parent (`subject.via`) takes its match
    value from the parent's identity, so `via_parent` is required for it. `substrate` (the mapping's key)
    makes the notes name the section as the audit report does, `<substrate>.<section>`.

    Notes are sentences for the audit report's scopeNotes: they name the section and the identity or
    filter, never a value from the scope."""
    section = f"{substrate}.{table.section}" if substrate else table.section
    if table.subject.via is not None:
        if via_parent is None or via_parent.name != table.subject.via.parent:
            raise ValueError(
                f"section {section} is matched through {table.subject.via.parent}: pass it as via_parent"
            )
        identity = via_parent.subject.identity
        through = f" (through {via_parent.section})"
    else:
        identity = table.subject.identity
        through = ""
    if identity is None:
        raise ValueError(f"section {section}: its subject has no identity")
    match_value = _match_value(identity, scope)
    has_window = scope.window_start is not None or scope.window_end is not None
    has_campaigns = bool(scope.campaign_ids)
    if match_value is None:
        label = identity.replace("_", " ")
        return SectionPlan(
            table=table,
            match_value=None,
            apply_window=False,
            apply_campaigns=False,
            skipped=True,
            notes=(
                f"Section {section} is matched by {label}{through}; the scope has no {label}, "
                "so it was not read and holds no rows.",
            ),
        )
    notes: list[str] = []
    apply_window = has_window and table.time_column is not None
    if has_window and not apply_window:
        notes.append(
            f"Section {section} has no time column, so the date window could not be applied: "
            "it holds every matching row whatever its date."
        )
    apply_campaigns = has_campaigns and table.campaign_column is not None
    if has_campaigns and not apply_campaigns:
        notes.append(
            f"Section {section} has no campaign column, so the campaign filter could not be applied: "
            "it holds every matching row whatever its campaign."
        )
    return SectionPlan(
        table=table,
        match_value=match_value,
        apply_window=apply_window,
        apply_campaigns=apply_campaigns,
        notes=tuple(notes),
    )


def _match_value(identity: str, scope: SubjectScope) -> str | None:
    """The value the identity's column is compared with, normalised as sources compare it, or None when the
    scope has none (an e-mail of blanks or a phone without digits counts as none: it would match rows whose
    column is empty)."""
    if identity == "subject_id":
        return scope.data_subject_id or None
    if identity == "email":
        email = (scope.email or "").strip().casefold()
        return email or None
    if identity == "phone":
        return digits(scope.phone or "") or None
    raise ValueError(f"unknown identity {identity!r}")


def open_source(
    mapping: Mapping,
    *,
    env: abc.Mapping[str, str] | None = None,
    file_roots: Sequence[str] = (),
    statement_timeout: float = 30.0,
    org_id: str | None = None,
) -> Source:
    """The source for `mapping`, not yet connected: connecting happens on first use, so every failure
    (an unset DSN variable included) arrives as a SourceError from `check`, `count` or `rows`."""
    if mapping.kind == "sql":
        from .sql import SqlSource

        environ = os.environ if env is None else env
        dsn = environ.get(mapping.dsn_env) if mapping.dsn_env else None
        return SqlSource(mapping, dsn=dsn or None, statement_timeout=statement_timeout)
    if mapping.kind == "files":
        from .files import FileSource

        return FileSource(mapping, file_roots=file_roots)
    if mapping.kind == "dsar_core":
        from .dsar_core import DsarCoreSource

        source: Source = DsarCoreSource(mapping, org_id=org_id)
        return source
    raise ValueError(f"unknown substrate kind {mapping.kind!r}")
