"""A substrate's mapping JSON (api-contract.md, "Substrates"): validated into `exports.types.Mapping`, and
written back to the same JSON so a parsed mapping can be stored and parsed again to an equal value.

Validation reports every problem it finds, each with the dotted path of the field (`tables.1.columns.3`),
so an officer fixes a mapping in one round. Messages never repeat the value they reject: a `dsnEnv` that
holds a DSN by mistake must not be echoed back into an admin page or a log line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, cast

from .types import (
    COLUMN_TYPES,
    IDENTITIES,
    REDACT_ACTIONS,
    ColumnType,
    Identity,
    Mapping,
    RedactAction,
    Redaction,
    SubjectMatch,
    Table,
    TenantFilter,
    Via,
)

KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
RESERVED_KEYS = ("dsar_core",)
ENV_NAME_RE = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
# An SQL table, optionally schema-qualified. No quotes, spaces or dots beyond the one separator: the name
# is later quoted as an identifier, and anything fancier is a sign of an injection attempt.
SQL_TABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?")
# Column names: letters, digits, `_`, `$`, `-` and inner spaces (CSV headers such as "First name"), never a
# quote, a backtick, a bracket, a semicolon or a control character.
COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_ $-]{0,127}")
FILE_TABLE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_. -]{0,250}\.(csv|ndjson)")
FILE_SUFFIXES = (".csv", ".ndjson")

MAX_DESCRIPTION = 500
MAX_TABLES = 100
MAX_COLUMNS = 500
MAX_REASON = 500
MAX_TENANT_VALUE = 256
MAX_ROOT = 4096

_TOP_KEYS = ("key", "kind", "dsnEnv", "root", "description", "tenantFilter", "tables")
_TABLE_KEYS = ("name", "subject", "columns", "timeColumn", "campaignColumn", "types", "redact")
_SUBJECT_KEYS = ("column", "identity", "via")
_VIA_KEYS = ("parent", "parentColumn", "column")
_REDACT_KEYS = ("column", "action", "reason")
_TENANT_KEYS = ("column", "value")


class MappingError(ValueError):
    """A mapping failed validation. `problems` lists every (dotted field path, message) found."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        summary = "; ".join(f"{path or '(mapping)'}: {message}" for path, message in problems)
        super().__init__(f"invalid mapping: {summary}")


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


class _Parser:
    def __init__(self, file_roots: Sequence[str]):
        self.file_roots = tuple(file_roots)
        self.problems: list[tuple[str, str]] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def obj(self, value: object, path: str, allowed: Sequence[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, "must be an object")
            return None
        for name in value:
            if not isinstance(name, str) or name not in allowed:
                shown = name if isinstance(name, str) and COLUMN_RE.fullmatch(name) else "?"
                self.problem(_join(path, shown), f"unknown field (allowed: {', '.join(allowed)})")
        return value

    def string(self, value: object, path: str, *, optional: bool = False) -> str | None:
        """A string, or None after a problem. `optional`: a missing or null value is None without one."""
        if value is None:
            if not optional:
                self.problem(path, "is required")
            return None
        if not isinstance(value, str):
            self.problem(path, "must be a string")
            return None
        return value

    def column_ref(
        self, value: object, path: str, columns: Sequence[str], *, optional: bool = False
    ) -> str | None:
        name = self.string(value, path, optional=optional)
        if name is None:
            return None
        if name not in columns:
            self.problem(path, "must be one of the table's columns")
            return None
        return name

    # -- the mapping -------------------------------------------------------------------------------------

    def mapping(self, data: object) -> Mapping | None:
        top = self.obj(data, "", _TOP_KEYS)
        if top is None:
            return None
        key = self.string(top.get("key"), "key")
        if key is not None:
            if key in RESERVED_KEYS:
                self.problem("key", "is reserved for the built-in substrate")
                key = None
            elif not KEY_RE.fullmatch(key):
                self.problem("key", "must be 1-40 lower-case letters, digits or `_`, starting with a letter")
                key = None
        kind = self.string(top.get("kind"), "kind")
        if kind is not None and kind not in ("sql", "files"):
            if kind == "dsar_core":
                self.problem("kind", "dsar_core is built in and cannot be registered")
            else:
                self.problem("kind", "must be `sql` or `files`")
            kind = None
        dsn_env = self.dsn_env(top, kind)
        root = self.root(top, kind)
        description = self.string(top.get("description"), "description", optional=True) or ""
        if len(description) > MAX_DESCRIPTION:
            self.problem("description", f"must be at most {MAX_DESCRIPTION} characters")
        tenant_filter = self.tenant_filter(top.get("tenantFilter"))
        tables = self.tables(top.get("tables"), kind)
        if self.problems or key is None or kind is None or tables is None:
            return None
        return Mapping(
            key=key,
            kind=cast(Any, kind),
            tables=tables,
            description=description,
            dsn_env=dsn_env,
            root=root,
            tenant_filter=tenant_filter,
        )

    def dsn_env(self, top: dict[str, Any], kind: str | None) -> str | None:
        if kind == "files":
            if "dsnEnv" in top:
                self.problem("dsnEnv", "is only for `sql` substrates")
            return None
        value = self.string(top.get("dsnEnv"), "dsnEnv", optional=kind != "sql")
        if value is None:
            return None
        if "://" in value:
            # Someone pasted the DSN itself: refuse it, and do not repeat it.
            self.problem("dsnEnv", "must name an environment variable holding the DSN, never the DSN itself")
            return None
        if not ENV_NAME_RE.fullmatch(value):
            self.problem(
                "dsnEnv", "must be an environment variable name (A-Z, 0-9, `_`, not starting with a digit)"
            )
            return None
        return value

    def root(self, top: dict[str, Any], kind: str | None) -> str | None:
        if kind == "sql":
            if "root" in top:
                self.problem("root", "is only for `files` substrates")
            return None
        value = self.string(top.get("root"), "root", optional=kind != "files")
        if value is None:
            return None
        if not value or "\x00" in value or len(value) > MAX_ROOT or not os.path.isabs(value):
            self.problem("root", "must be an absolute directory path")
            return None
        if not self.file_roots:
            self.problem("root", "files substrates are disabled until DSAR_EXPORT_FILE_ROOTS is set")
            return None
        if not root_allowed(value, self.file_roots):
            self.problem("root", "must lie inside one of DSAR_EXPORT_FILE_ROOTS")
            return None
        return value

    def tenant_filter(self, value: object) -> TenantFilter | None:
        if value is None:
            return None
        tf = self.obj(value, "tenantFilter", _TENANT_KEYS)
        if tf is None:
            return None
        column = self.string(tf.get("column"), "tenantFilter.column")
        if column is not None and not COLUMN_RE.fullmatch(column):
            self.problem("tenantFilter.column", "is not a valid column name")
            column = None
        tenant = self.string(tf.get("value"), "tenantFilter.value")
        if tenant is not None and not 1 <= len(tenant) <= MAX_TENANT_VALUE:
            self.problem("tenantFilter.value", f"must be 1-{MAX_TENANT_VALUE} characters")
            tenant = None
        if column is None or tenant is None:
            return None
        return TenantFilter(column=column, value=tenant)

    # -- tables ------------------------------------------------------------------------------------------

    def tables(self, value: object, kind: str | None) -> tuple[Table, ...] | None:
        if value is None:
            self.problem("tables", "is required")
            return None
        if not isinstance(value, list):
            self.problem("tables", "must be a list")
            return None
        if not 1 <= len(value) <= MAX_TABLES:
            self.problem("tables", f"must hold 1-{MAX_TABLES} tables")
            if not value:
                return None
        # First each table on its own, then the `via` hops, which need every table's columns and subject.
        raw: list[tuple[int, dict[str, Any], str | None, tuple[str, ...] | None]] = []
        names: dict[str, int] = {}
        sections: dict[str, int] = {}
        for index, item in enumerate(value[:MAX_TABLES]):
            path = _join("tables", index)
            table = self.obj(item, path, _TABLE_KEYS)
            if table is None:
                continue
            name = self.table_name(table.get("name"), _join(path, "name"), kind)
            if name is not None:
                if name in names:
                    self.problem(_join(path, "name"), f"repeats tables.{names[name]}.name")
                    name = None
                else:
                    names[name] = index
            if name is not None and kind == "files":
                section = Table(name=name, subject=SubjectMatch(), columns=()).section
                if section in sections:
                    self.problem(
                        _join(path, "name"), f"has the same section name as tables.{sections[section]}"
                    )
                else:
                    sections[section] = index
            columns = self.columns(table.get("columns"), _join(path, "columns"))
            raw.append((index, table, name, columns))
        direct: dict[str, tuple[str, ...]] = {}  # tables matched by an identity, and their columns
        for _index, table, name, columns in raw:
            subject = table.get("subject")
            if (
                name is not None
                and columns is not None
                and isinstance(subject, dict)
                and "via" not in subject
                and isinstance(subject.get("identity"), str)
            ):
                direct[name] = columns
        parsed: list[Table] = []
        for index, table, name, columns in raw:
            built = self.table(index, table, name, columns, direct, names)
            if built is not None:
                parsed.append(built)
        return tuple(parsed)

    def table_name(self, value: object, path: str, kind: str | None) -> str | None:
        name = self.string(value, path)
        if name is None:
            return None
        if kind == "files":
            if "/" in name or "\\" in name:
                self.problem(path, "must be a file name in the root, without `/` or `\\`")
                return None
            if not name.endswith(FILE_SUFFIXES):
                self.problem(path, "must end in `.csv` or `.ndjson`")
                return None
            stem = Table(name=name, subject=SubjectMatch(), columns=()).section
            if not FILE_TABLE_RE.fullmatch(name) or stem.strip(".") == "" or name.startswith("."):
                self.problem(path, "must be a plain file name (letters, digits, `_`, `-`, `.`, spaces)")
                return None
            return name
        if kind == "sql" and not SQL_TABLE_RE.fullmatch(name):
            self.problem(
                path, "must be an SQL table name, optionally `schema.table` (letters, digits, `_`, `$`)"
            )
            return None
        return name

    def columns(self, value: object, path: str) -> tuple[str, ...] | None:
        if value is None:
            self.problem(path, "is required")
            return None
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return None
        if not 1 <= len(value) <= MAX_COLUMNS:
            self.problem(path, f"must hold 1-{MAX_COLUMNS} columns")
            if not value:
                return None
        columns: list[str] = []
        ok = True
        for index, item in enumerate(value[:MAX_COLUMNS]):
            column = self.string(item, _join(path, index))
            if column is None:
                ok = False
            elif not COLUMN_RE.fullmatch(column):
                self.problem(_join(path, index), "is not a valid column name")
                ok = False
            elif column in columns:
                self.problem(_join(path, index), "repeats a column")
                ok = False
            else:
                columns.append(column)
        return tuple(columns) if ok else None

    def table(
        self,
        index: int,
        table: dict[str, Any],
        name: str | None,
        columns: tuple[str, ...] | None,
        direct: dict[str, tuple[str, ...]],
        names: dict[str, int],
    ) -> Table | None:
        path = _join("tables", index)
        # Without valid columns, references to them cannot be checked: report the columns' problems only.
        known: tuple[str, ...] = columns or ()
        check_refs = columns is not None
        subject = self.subject(
            table.get("subject"), _join(path, "subject"), name, known, check_refs, direct, names
        )
        time_column = campaign_column = None
        types: dict[str, ColumnType] = {}
        redact: tuple[Redaction, ...] = ()
        if check_refs:
            time_column = self.column_ref(
                table.get("timeColumn"), _join(path, "timeColumn"), known, optional=True
            )
            campaign_column = self.column_ref(
                table.get("campaignColumn"), _join(path, "campaignColumn"), known, optional=True
            )
            types = self.types(table.get("types"), _join(path, "types"), known)
            redact = self.redact(table.get("redact"), _join(path, "redact"), known)
        if name is None or columns is None or subject is None:
            return None
        return Table(
            name=name,
            subject=subject,
            columns=columns,
            time_column=time_column,
            campaign_column=campaign_column,
            types=types,
            redact=redact,
        )

    def subject(
        self,
        value: object,
        path: str,
        name: str | None,
        columns: tuple[str, ...],
        check_refs: bool,
        direct: dict[str, tuple[str, ...]],
        names: dict[str, int],
    ) -> SubjectMatch | None:
        if value is None:
            self.problem(path, "is required")
            return None
        subject = self.obj(value, path, _SUBJECT_KEYS)
        if subject is None:
            return None
        if "via" in subject:
            if "column" in subject or "identity" in subject:
                self.problem(path, "must be either {column, identity} or {via}, not both")
                return None
            return self.via(subject["via"], _join(path, "via"), name, columns, check_refs, direct, names)
        identity = self.string(subject.get("identity"), _join(path, "identity"))
        if identity is not None and identity not in IDENTITIES:
            self.problem(_join(path, "identity"), f"must be one of {', '.join(IDENTITIES)}")
            identity = None
        if check_refs:
            column = self.column_ref(subject.get("column"), _join(path, "column"), columns)
        else:
            column = self.string(subject.get("column"), _join(path, "column"))
        if identity is None or column is None:
            return None
        return SubjectMatch(column=column, identity=cast(Identity, identity))

    def via(
        self,
        value: object,
        path: str,
        name: str | None,
        columns: tuple[str, ...],
        check_refs: bool,
        direct: dict[str, tuple[str, ...]],
        names: dict[str, int],
    ) -> SubjectMatch | None:
        via = self.obj(value, path, _VIA_KEYS)
        if via is None:
            return None
        parent = self.string(via.get("parent"), _join(path, "parent"))
        parent_columns: tuple[str, ...] | None = None
        if parent is not None:
            if parent == name:
                self.problem(_join(path, "parent"), "must be another table, not this one")
                parent = None
            elif parent not in names:
                self.problem(_join(path, "parent"), "must be the name of another table of this mapping")
                parent = None
            elif parent not in direct:
                # The parent may itself be invalid (its own problems are reported at its path), or be
                # matched through another hop: only one hop is followed.
                self.problem(_join(path, "parent"), "must be a table matched by an identity (one hop only)")
                parent = None
            else:
                parent_columns = direct[parent]
        parent_column = self.string(via.get("parentColumn"), _join(path, "parentColumn"))
        if parent_column is not None and parent_columns is not None and parent_column not in parent_columns:
            self.problem(_join(path, "parentColumn"), "must be one of the parent table's columns")
            parent_column = None
        if check_refs:
            column = self.column_ref(via.get("column"), _join(path, "column"), columns)
        else:
            column = self.string(via.get("column"), _join(path, "column"))
        if parent is None or parent_column is None or column is None:
            return None
        return SubjectMatch(via=Via(parent=parent, parent_column=parent_column, column=column))

    def types(self, value: object, path: str, columns: tuple[str, ...]) -> dict[str, ColumnType]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, "must be an object")
            return {}
        types: dict[str, ColumnType] = {}
        for column, declared in value.items():
            item_path = _join(
                path, column if isinstance(column, str) and COLUMN_RE.fullmatch(column) else "?"
            )
            if column not in columns:
                self.problem(item_path, "must be one of the table's columns")
            elif not isinstance(declared, str) or declared not in COLUMN_TYPES:
                self.problem(item_path, f"must be one of {', '.join(COLUMN_TYPES)}")
            else:
                types[column] = cast(ColumnType, declared)
        return types

    def redact(self, value: object, path: str, columns: tuple[str, ...]) -> tuple[Redaction, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return ()
        rules: list[Redaction] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            item_path = _join(path, index)
            rule = self.obj(item, item_path, _REDACT_KEYS)
            if rule is None:
                continue
            column = self.column_ref(rule.get("column"), _join(item_path, "column"), columns)
            if column is not None and column in seen:
                self.problem(_join(item_path, "column"), "already has a redaction rule")
                column = None
            action = self.string(rule.get("action"), _join(item_path, "action"))
            if action is not None and action not in REDACT_ACTIONS:
                self.problem(_join(item_path, "action"), f"must be one of {', '.join(REDACT_ACTIONS)}")
                action = None
            reason = self.string(rule.get("reason"), _join(item_path, "reason"), optional=True) or ""
            if len(reason) > MAX_REASON:
                self.problem(_join(item_path, "reason"), f"must be at most {MAX_REASON} characters")
            elif action == "withhold" and not reason.strip():
                self.problem(_join(item_path, "reason"), "is required for `withhold`")
                action = None
            if column is not None and action is not None:
                seen.add(column)
                rules.append(Redaction(column=column, action=cast(RedactAction, action), reason=reason))
        return tuple(rules)


def root_allowed(root: str, file_roots: Sequence[str]) -> bool:
    """Whether `root`, symlinks resolved, is one of `file_roots` or lies below one (also resolved)."""
    try:
        real = os.path.realpath(root)
        for allowed in file_roots:
            if not allowed or "\x00" in allowed:
                continue
            base = os.path.realpath(allowed)
            if os.path.commonpath([real, base]) == base:
                return True
    except (ValueError, OSError):
        return False
    return False


def parse_mapping(data: object, *, file_roots: Sequence[str] = ()) -> Mapping:
    """Validate the contract's mapping JSON (already decoded) into a Mapping, or raise MappingError with
    every problem found. `file_roots` are the allowed roots of `files` substrates (DSAR_EXPORT_FILE_ROOTS)."""
    parser = _Parser(file_roots)
    try:
        mapping = parser.mapping(data)
    except RecursionError:  # absurdly nested input: still a MappingError, never a crash
        parser.problem("", "is nested too deeply")
        mapping = None
    if parser.problems or mapping is None:
        raise MappingError(parser.problems or [("", "is not a valid mapping")])
    return mapping


def mapping_to_json(mapping: Mapping) -> dict[str, Any]:
    """The contract's JSON for `mapping` (camelCase); `parse_mapping` of it gives an equal Mapping."""
    data: dict[str, Any] = {"key": mapping.key, "kind": mapping.kind, "description": mapping.description}
    if mapping.dsn_env is not None:
        data["dsnEnv"] = mapping.dsn_env
    if mapping.root is not None:
        data["root"] = mapping.root
    if mapping.tenant_filter is not None:
        data["tenantFilter"] = {"column": mapping.tenant_filter.column, "value": mapping.tenant_filter.value}
    data["tables"] = [_table_to_json(table) for table in mapping.tables]
    return data


def _table_to_json(table: Table) -> dict[str, Any]:
    subject: dict[str, Any]
    if table.subject.via is not None:
        via = table.subject.via
        subject = {"via": {"parent": via.parent, "parentColumn": via.parent_column, "column": via.column}}
    else:
        subject = {"column": table.subject.column, "identity": table.subject.identity}
    data: dict[str, Any] = {"name": table.name, "subject": subject, "columns": list(table.columns)}
    if table.time_column is not None:
        data["timeColumn"] = table.time_column
    if table.campaign_column is not None:
        data["campaignColumn"] = table.campaign_column
    if table.types:
        data["types"] = dict(table.types)
    if table.redact:
        data["redact"] = [_redaction_to_json(rule) for rule in table.redact]
    return data


def _redaction_to_json(rule: Redaction) -> dict[str, Any]:
    data: dict[str, Any] = {"column": rule.column, "action": rule.action}
    if rule.reason:
        data["reason"] = rule.reason
    return data
