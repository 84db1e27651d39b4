"""The shapes every part of an export shares: a substrate's mapping, a job's subject scope, what a source
and a writer promise. Pure Python: no Django, so sources and writers are tested on their own.

The mapping is the contract's JSON (api-contract.md, "Substrates"), parsed and validated by
`exports.mapping.parse_mapping` into these frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Kind = Literal["dsar_core", "sql", "files"]
Identity = Literal["subject_id", "email", "phone"]
IDENTITIES: tuple[str, ...] = ("subject_id", "email", "phone")
# Declared column types (mapping `types`); a column without one is "string" in Parquet and passed as read
# elsewhere.
ColumnType = Literal["string", "int64", "float64", "bool", "timestamp", "date", "decimal", "json"]
COLUMN_TYPES: tuple[str, ...] = ("string", "int64", "float64", "bool", "timestamp", "date", "decimal", "json")
RedactAction = Literal["drop", "mask_last4", "hash_sha256", "truncate_ip", "withhold"]
REDACT_ACTIONS: tuple[str, ...] = ("drop", "mask_last4", "hash_sha256", "truncate_ip", "withhold")
FORMATS: tuple[str, ...] = ("JSON", "CSV", "NDJSON", "PARQUET")


@dataclass(frozen=True)
class Redaction:
    column: str
    action: RedactAction
    reason: str = ""  # required for `withhold`


@dataclass(frozen=True)
class Via:
    """One parent hop: this table's `column` holds the parent row's `parent_column`."""

    parent: str  # the parent table's `name` in the same mapping
    parent_column: str
    column: str


@dataclass(frozen=True)
class SubjectMatch:
    """How a table's rows are matched to the subject: a column mapped as an identity, or a hop to a parent
    table that is."""

    column: str | None = None
    identity: Identity | None = None
    via: Via | None = None


@dataclass(frozen=True)
class TenantFilter:
    column: str
    value: str


@dataclass(frozen=True)
class Table:
    name: str  # an SQL table, or a `.csv` / `.ndjson` file name under the substrate's root
    subject: SubjectMatch
    columns: tuple[str, ...]
    time_column: str | None = None
    campaign_column: str | None = None
    types: dict[str, ColumnType] = field(default_factory=dict)
    redact: tuple[Redaction, ...] = ()

    @property
    def section(self) -> str:
        """The section's name inside its substrate: the table's name, a file's without its extension."""
        for suffix in (".csv", ".ndjson"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


@dataclass(frozen=True)
class Mapping:
    key: str
    kind: Kind
    tables: tuple[Table, ...]
    description: str = ""
    dsn_env: str | None = None  # sql: the environment variable holding the DSN (never the DSN itself)
    root: str | None = None  # files: a directory under one of DSAR_EXPORT_FILE_ROOTS
    tenant_filter: TenantFilter | None = None

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


@dataclass(frozen=True)
class SubjectScope:
    """Who and what a job asks for, as every section sees it. `email` is already trimmed and case-folded;
    `phone` is as given (sources compare digits)."""

    data_subject_id: str
    email: str | None = None
    phone: str | None = None
    window_start: datetime | None = None  # aware; rows with time in [start, end)
    window_end: datetime | None = None
    campaign_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionPlan:
    """What one section will read, decided before reading (`exports.sources.plan_section`).

    `skipped`: the table's identity has no value in the scope (e.g. matched by phone, scope has no phone):
    nothing is read, the section is written with zero rows and `notes` says why. `apply_window` and
    `apply_campaigns` are False when the scope asks for them but the table has no such column (`notes`
    says the filter could not be applied: the section is read without it)."""

    table: Table
    match_value: str | None
    apply_window: bool
    apply_campaigns: bool
    skipped: bool = False
    notes: tuple[str, ...] = ()


class SourceError(Exception):
    """A source failed. `kind` is one of SOURCE_ERROR_KINDS; the message names what failed (the substrate,
    the table or column) and never carries a DSN, a credential, a path outside the mapping or a row value."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


SOURCE_ERROR_KINDS: tuple[str, ...] = (
    "not_configured",  # the DSN variable is unset, the root is not allowed
    "connection_refused",  # cannot connect / cannot open
    "timeout",  # a statement or read timed out
    "schema_mismatch",  # a declared table or column does not exist in the source (any more)
    "permission_denied",
    "read_error",  # anything else the source raised while reading
)


class Source(Protocol):
    """One open substrate. Opened with `exports.sources.open_source(mapping, ...)`, used as a context
    manager; every method may raise SourceError."""

    def check(self) -> None:
        """Connect and check every declared table and column against the live catalog (or file header)."""

    def count(self, plan: SectionPlan, scope: SubjectScope) -> int | None:
        """The rows `rows` will yield, or None when the source cannot count cheaply."""

    def rows(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[tuple[Any, ...]]:
        """The matching rows, values in `plan.table.columns` order, streamed (bounded memory)."""

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...
