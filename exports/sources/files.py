"""`files` substrates: `.csv` and `.ndjson` files directly inside a root under DSAR_EXPORT_FILE_ROOTS.

Matching happens in Python with the same meaning as the SQL sources (exports/sources/sql.py): subject ids
compared as strings, e-mails trimmed and case-folded, phones by their digits, windows `[start, end)` on the
time column read as ISO 8601 (no offset = UTC), campaigns, the tenant filter on files that have its
column, and one `via` hop through a parent file. Files are streamed line by line; only the parent's
matching keys of a `via` hop are held in memory.

Paths never leave this module: messages name the substrate and the table (its file name in the root).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from ..mapping import root_allowed
from ..types import Mapping, SectionPlan, SourceError, SubjectScope, Table
from . import digits

COUNT_LIMIT = 50 * 1024 * 1024  # bytes: larger files are not counted before reading (the contract's rule)

# A record as read: column name → value (CSV: str, or None past a short row; NDJSON: any JSON value).
Record = dict[str, Any]


def _identity_key(identity: str, value: object) -> str | None:
    """A stored value normalised as the identity compares it; None never matches."""
    if value is None:
        return None
    text = value if isinstance(value, str) else _text(value)
    if identity == "email":
        return text.strip().casefold()
    if identity == "phone":
        return digits(text) or None
    return text


def _text(value: object) -> str:
    """A JSON scalar as the string a CSV would hold: `true`, not `True`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _moment(value: object) -> datetime | None:
    """An ISO 8601 time column value as an aware datetime (no offset = UTC); None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class FileSource:
    """A `files` substrate. `file_roots` are DSAR_EXPORT_FILE_ROOTS: the root is checked against them on
    every use, not only when the mapping was registered."""

    def __init__(self, mapping: Mapping, *, file_roots: Sequence[str] = ()):
        self.mapping = mapping
        self.file_roots = tuple(file_roots)

    def __repr__(self) -> str:  # never the root
        return f"<FileSource {self.mapping.key}>"

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass  # every read opens and closes its own file

    def _error(self, kind: str, detail: str, *, table: str | None = None) -> SourceError:
        where = f" table {table}:" if table else ""
        return SourceError(kind, f"substrate {self.mapping.key}:{where} {detail} ({kind})")

    # -- paths -------------------------------------------------------------------------------------------

    def _root(self) -> str:
        root = self.mapping.root
        if not root:
            raise self._error("not_configured", "the mapping has no root")
        if not self.file_roots:
            raise self._error(
                "not_configured", "files substrates are disabled until DSAR_EXPORT_FILE_ROOTS is set"
            )
        if not root_allowed(root, self.file_roots):
            raise self._error("not_configured", "its root is not inside DSAR_EXPORT_FILE_ROOTS")
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise self._error("connection_refused", "its root directory cannot be opened")
        return real

    def _path(self, root: str, table: Table) -> str:
        """The real path of `table`'s file: a regular file directly inside the (real) root."""
        name = table.name
        if (
            not name
            or name in (".", "..")
            or os.path.basename(name) != name
            or "\\" in name
            or "\x00" in name
        ):
            raise self._error(
                "permission_denied", "the file name is not a plain name in the root", table=name
            )
        real = os.path.realpath(os.path.join(root, name))
        if os.path.dirname(real) != root:
            # A symlink pointing elsewhere: the file is not the root's to give.
            raise self._error(
                "permission_denied", "the file resolves outside the substrate's root", table=name
            )
        if not os.path.lexists(real):
            raise self._error("schema_mismatch", "the file does not exist in the root", table=name)
        if not os.path.isfile(real):
            raise self._error("schema_mismatch", "the name is not a regular file", table=name)
        return real

    def _open(self, root: str, table: Table) -> io.TextIOWrapper:
        path = self._path(root, table)
        try:
            # O_NOFOLLOW and a regular-file check on the open descriptor: the file that is read is the one
            # that was checked, even if the name is swapped for a symlink in between.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except PermissionError:
            raise self._error("permission_denied", "the file cannot be read", table=table.name) from None
        except FileNotFoundError:
            raise self._error(
                "schema_mismatch", "the file does not exist in the root", table=table.name
            ) from None
        except OSError:
            raise self._error("permission_denied", "the file cannot be opened", table=table.name) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise self._error("schema_mismatch", "the name is not a regular file", table=table.name)
            os.set_blocking(fd, True)
            # utf-8-sig: a byte-order mark (Excel's CSV export) is not part of the first column's name.
            return open(fd, encoding="utf-8-sig", newline="")  # closed by the caller
        except BaseException:
            os.close(fd)
            raise

    # -- records -----------------------------------------------------------------------------------------

    def _records(self, root: str, table: Table) -> Generator[tuple[list[str] | None, Record], None, None]:
        """(header or first record's keys — once, with an empty record —, then every record). The first item
        is always the header, so `check` can stop there."""
        handle = self._open(root, table)
        with handle:
            try:
                if table.name.endswith(".ndjson"):
                    yield from self._ndjson(handle, table)
                else:
                    yield from self._csv(handle, table)
            except UnicodeDecodeError:
                raise self._error("read_error", "the file is not UTF-8 text", table=table.name) from None
            except OSError:
                raise self._error("read_error", "the file could not be read", table=table.name) from None

    def _csv(self, handle: io.TextIOWrapper, table: Table) -> Iterator[tuple[list[str] | None, Record]]:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise self._error("schema_mismatch", "the file has no header row", table=table.name)
            yield header, {}
            index: dict[str, int] = {}
            for position, column in enumerate(header):
                index.setdefault(column, position)
            for row in reader:
                if not row:
                    continue  # csv yields [] for a blank line
                record = {
                    column: (row[position] if position < len(row) else None)
                    for column, position in index.items()
                }
                yield None, record
        except csv.Error:
            raise self._error(
                "read_error", f"the CSV is malformed at line {reader.line_num}", table=table.name
            ) from None

    def _ndjson(self, handle: io.TextIOWrapper, table: Table) -> Iterator[tuple[list[str] | None, Record]]:
        first = True
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                raise self._error("read_error", f"line {number} is not a JSON object", table=table.name)
            if first:
                first = False
                yield list(record), {}
            yield None, record
        if first:
            yield [], {}  # no record at all: nothing to check, no rows

    def _header(self, root: str, table: Table) -> list[str] | None:
        """The columns the file has (CSV header, the first NDJSON record's keys); None for an NDJSON file
        without any record."""
        records = self._records(root, table)
        try:
            header, _ = next(records)
        finally:
            records.close()
        if not header and table.name.endswith(".ndjson"):
            return None
        return header

    def _check_table(self, root: str, table: Table) -> list[str] | None:
        header = self._header(root, table)
        if header is None:
            return None
        missing = sorted({name for name in table.columns if name not in header})
        if missing:
            raise self._error(
                "schema_mismatch", f"no column {', '.join(missing)} in the file", table=table.name
            )
        tenant = self.mapping.tenant_filter
        if table.subject.via is None and tenant is not None and tenant.column not in header:
            raise self._error(
                "schema_mismatch",
                f"the tenant filter column {tenant.column} is missing, and the table is matched directly",
                table=table.name,
            )
        return header

    def check(self) -> None:
        root = self._root()
        for table in self.mapping.tables:
            self._check_table(root, table)

    # -- matching ----------------------------------------------------------------------------------------

    def _matches(
        self,
        root: str,
        table: Table,
        header: list[str] | None,
        identity: str,
        column: str,
        value: str,
    ) -> Iterator[Record]:
        """Records of `table` whose `column` matches `value` as `identity`, within the tenant filter."""
        want = _identity_key(identity, value)
        if want is None:
            return
        tenant = self.mapping.tenant_filter
        filter_tenant = tenant is not None and header is not None and tenant.column in header
        records = self._records(root, table)
        try:
            next(records)  # the header
            for _, record in records:
                if _identity_key(identity, record.get(column)) != want:
                    continue
                if filter_tenant:
                    assert tenant is not None
                    stored = record.get(tenant.column)
                    if stored is None or _text(stored) != tenant.value:
                        continue
                yield record
        finally:
            records.close()

    def _selected(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[Record]:
        root = self._root()
        table = plan.table
        header = self._check_table(root, table)
        value = plan.match_value
        assert value is not None
        via = table.subject.via
        if via is None:
            identity, column = table.subject.identity, table.subject.column
            assert identity is not None and column is not None
            candidates = self._matches(root, table, header, identity, column, value)
        else:
            parent = self.mapping.table(via.parent)
            parent_header = self._check_table(root, parent)
            if parent_header is not None and via.parent_column not in parent_header:
                raise self._error(
                    "schema_mismatch", f"no column {via.parent_column} in the file", table=parent.name
                )
            identity, column = parent.subject.identity, parent.subject.column
            assert identity is not None and column is not None
            # The parent's matching keys, compared as text (an NDJSON 42 and a CSV "42" are the same key).
            keys = {
                _text(record.get(via.parent_column))
                for record in self._matches(root, parent, parent_header, identity, column, value)
                if record.get(via.parent_column) is not None
            }
            candidates = self._children(root, table, header, via.column, keys)
        window = plan.apply_window and table.time_column is not None
        campaigns = (
            set(scope.campaign_ids) if plan.apply_campaigns and table.campaign_column is not None else None
        )
        start, end = scope.window_start, scope.window_end
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if end is not None and end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        for record in candidates:
            if window:
                assert table.time_column is not None
                moment = _moment(record.get(table.time_column))
                if (
                    moment is None
                    or (start is not None and moment < start)
                    or (end is not None and moment >= end)
                ):
                    continue
            if campaigns is not None:
                assert table.campaign_column is not None
                campaign = record.get(table.campaign_column)
                if campaign is None or _text(campaign) not in campaigns:
                    continue
            yield record

    def _children(
        self, root: str, table: Table, header: list[str] | None, column: str, keys: set[str]
    ) -> Iterator[Record]:
        tenant = self.mapping.tenant_filter
        filter_tenant = tenant is not None and header is not None and tenant.column in header
        if not keys:
            return
        records = self._records(root, table)
        try:
            next(records)
            for _, record in records:
                stored = record.get(column)
                if stored is None or _text(stored) not in keys:
                    continue
                if filter_tenant:
                    assert tenant is not None
                    owner = record.get(tenant.column)
                    if owner is None or _text(owner) != tenant.value:
                        continue
                yield record
        finally:
            records.close()

    # -- the Source protocol -----------------------------------------------------------------------------

    def count(self, plan: SectionPlan, scope: SubjectScope) -> int | None:
        """Counted by reading, when the files involved are under COUNT_LIMIT together; else None."""
        if plan.skipped or plan.match_value is None:
            return 0
        root = self._root()
        tables = [plan.table]
        if plan.table.subject.via is not None:
            tables.append(self.mapping.table(plan.table.subject.via.parent))
        size = 0
        for table in tables:
            try:
                size += os.stat(self._path(root, table)).st_size
            except OSError:
                raise self._error("read_error", "the file cannot be read", table=table.name) from None
        if size >= COUNT_LIMIT:
            return None
        return sum(1 for _ in self._selected(plan, scope))

    def rows(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[tuple[Any, ...]]:
        if plan.skipped or plan.match_value is None:
            return iter(())
        return self._rows(plan, scope)

    def _rows(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[tuple[Any, ...]]:
        columns = plan.table.columns
        for record in self._selected(plan, scope):
            yield tuple(record.get(column) for column in columns)
