"""SQL substrates: SQLite, PostgreSQL and MySQL/MariaDB, read-only, with a statement timeout, streamed.

The rules the contract sets for every SQL read, and where each is kept:

- read-only: SQLite is opened `mode=ro` (and `query_only`); PostgreSQL sessions default to read-only
  transactions and each read is `BEGIN READ ONLY`; MySQL/MariaDB sessions are `TRANSACTION READ ONLY` and
  each read is `START TRANSACTION READ ONLY`. A mapping cannot make a source write anything.
- a statement timeout: PostgreSQL `statement_timeout`; MariaDB `max_statement_time` (seconds), MySQL
  `max_execution_time` (milliseconds); SQLite a progress handler with a deadline. A server-side cursor
  fetches in chunks, so the deadline applies to each chunk, never to how slowly a writer consumes rows.
- only declared columns, names checked against the live catalog (in `check` and before every read), and
  quoted; every value from the scope or the mapping is a bound parameter.
- errors are SourceError with a kind; a message names the substrate, the table or column and the kind,
  never the DSN, a host, a user, a path or a value (driver messages are not passed through: they quote
  values, e.g. "invalid input syntax for type integer: ...").
"""

from __future__ import annotations

import contextlib
import itertools
import re
import sqlite3
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..types import Mapping, SectionPlan, SourceError, SubjectScope, Table
from . import digits

CHUNK = 2000  # rows per fetch: memory stays bounded whatever the table's size
CONNECT_TIMEOUT = 10  # seconds

# A value that cannot equal anything in the column (e.g. "abc" for an integer column): the condition
# becomes false instead of an error or, worse, MySQL's "42abc" = 42.
_NOTHING = object()
_INT_RE = re.compile(r"-?[0-9]{1,19}")
_INT64 = (-(2**63), 2**63 - 1)


class _Columns:
    """A table's columns in the live catalog: name → type category ("int", "decimal", "uuid", "other").
    Lookups follow the database's rules: exact in PostgreSQL, case-insensitive in SQLite and MySQL."""

    def __init__(self, types: dict[str, str], *, case_sensitive: bool):
        self.case_sensitive = case_sensitive
        self.types = {self._key(name): kind for name, kind in types.items()}

    def _key(self, name: str) -> str:
        return name if self.case_sensitive else name.casefold()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self.types

    def kind(self, name: str) -> str:
        return self.types.get(self._key(name), "other")


def _bind(kind: str, value: str) -> object:
    """`value` typed like its column, so the comparison uses the column's index (and MySQL never casts the
    column to a number); _NOTHING when the value cannot be of that type."""
    if kind == "int":
        if not _INT_RE.fullmatch(value):
            return _NOTHING
        number = int(value)
        return number if _INT64[0] <= number <= _INT64[1] else _NOTHING
    if kind == "decimal":
        try:
            decimal = Decimal(value)
        except (InvalidOperation, ValueError):
            return _NOTHING
        return decimal if decimal.is_finite() else _NOTHING
    if kind == "uuid":
        try:
            return uuid.UUID(value)
        except ValueError:
            return _NOTHING
    return value


class _Dialect(ABC):
    """What differs between the three databases. Every method may raise the driver's exceptions; SqlSource
    maps them with `classify`."""

    placeholder = "%s"
    case_sensitive = False

    def __init__(self, timeout: float):
        self.timeout = timeout

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def end(self) -> None:
        """Ends the current read transaction (nothing was written: it is rolled back). SQLite keeps
        this default: its reads run in autocommit on a read-only file, with no transaction to end."""
        return None

    @abstractmethod
    def catalog(self, table: str) -> _Columns | None: ...

    def quote_table(self, name: str) -> str:
        return ".".join(self.quote_column(part) for part in name.split("."))

    def quote_column(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def email(self, ref: str) -> str:
        return f"LOWER(TRIM({ref})) = {self.placeholder}"

    @abstractmethod
    def phone(self, ref: str) -> str: ...

    def time_bound(self, ref: str, operator: str, moment: datetime) -> tuple[str, object]:
        return f"{ref} {operator} {self.placeholder}", moment

    @abstractmethod
    def count(self, query: str, params: list[object]) -> int: ...

    @abstractmethod
    def stream(self, query: str, params: list[object]) -> Generator[tuple[Any, ...], None, None]: ...

    @abstractmethod
    def classify(self, exc: BaseException) -> tuple[str, str]:
        """(kind, a short code to show such as "SQLSTATE 42P01") for a driver exception."""

    @abstractmethod
    def is_driver_error(self, exc: BaseException) -> bool: ...


# -- SQLite ------------------------------------------------------------------------------------------


def _sqlite_digits(value: object) -> str | None:
    return None if value is None else digits(str(value))


def _sqlite_email(value: object) -> str | None:
    return None if value is None else str(value).strip().casefold()


class _Sqlite(_Dialect):
    placeholder = "?"

    def __init__(self, path: str, timeout: float):
        super().__init__(timeout)
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.deadline: float | None = None
        self.timed_out = False

    def _progress(self) -> int:
        # Called every few thousand VM steps while a statement runs; non-zero interrupts it.
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            return 1
        return 0

    def _arm(self) -> None:
        self.timed_out = False
        self.deadline = time.monotonic() + self.timeout

    def connect(self) -> None:
        uri = "file:" + quote(self.path, safe="/") + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA query_only = ON")
            # The same normalisation as the files source, in Python: SQLite's LOWER() folds ASCII only.
            conn.create_function("dsar_digits", 1, _sqlite_digits, deterministic=True)
            conn.create_function("dsar_email", 1, _sqlite_email, deterministic=True)
            conn.set_progress_handler(self._progress, 1000)
            conn.execute(
                "SELECT count(*) FROM sqlite_master"
            ).fetchone()  # a file that is not a database fails here
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def catalog(self, table: str) -> _Columns | None:
        assert self.conn is not None
        schema, _, name = table.rpartition(".")
        self._arm()
        if schema:
            rows = self.conn.execute(
                "SELECT name, type FROM pragma_table_info(?, ?)", (name, schema)
            ).fetchall()
        else:
            rows = self.conn.execute("SELECT name, type FROM pragma_table_info(?)", (name,)).fetchall()
        if not rows:
            return None
        # SQLite's type affinity: a declared type containing INT is an integer column.
        return _Columns(
            {column: "int" if "INT" in (declared or "").upper() else "other" for column, declared in rows},
            case_sensitive=False,
        )

    def email(self, ref: str) -> str:
        return f"dsar_email({ref}) = ?"

    def phone(self, ref: str) -> str:
        return f"dsar_digits({ref}) = ?"

    def time_bound(self, ref: str, operator: str, moment: datetime) -> tuple[str, object]:
        # Compared through julianday() so 'YYYY-MM-DD HH:MM:SS', ISO 'T' forms and offsets all work; a
        # stored value without an offset is read as UTC, as julianday() does.
        text = moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return f"julianday({ref}) {operator} julianday(?)", text

    def count(self, query: str, params: list[object]) -> int:
        assert self.conn is not None
        self._arm()
        row = self.conn.execute(query, params).fetchone()
        return int(row[0])

    def stream(self, query: str, params: list[object]) -> Generator[tuple[Any, ...], None, None]:
        assert self.conn is not None
        self._arm()
        cursor = self.conn.execute(query, params)
        try:
            while True:
                self._arm()
                batch = cursor.fetchmany(CHUNK)
                if not batch:
                    return
                yield from batch
        finally:
            self.deadline = None
            cursor.close()

    def is_driver_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def classify(self, exc: BaseException) -> tuple[str, str]:
        text = str(exc).lower()
        code = f"SQLite {type(exc).__name__}"
        if self.timed_out or "interrupted" in text:
            return "timeout", code
        if "no such table" in text or "no such column" in text:
            return "schema_mismatch", code
        if "readonly" in text or "read-only" in text or "not authorized" in text or "permission" in text:
            return "permission_denied", code
        if "unable to open" in text or "not a database" in text:
            return "connection_refused", code
        return "read_error", code


# -- PostgreSQL --------------------------------------------------------------------------------------

_PG_TYPES = {
    "smallint": "int",
    "integer": "int",
    "bigint": "int",
    "numeric": "decimal",
    "uuid": "uuid",
}


class _Postgres(_Dialect):
    case_sensitive = True

    def __init__(self, dsn: str, timeout: float):
        super().__init__(timeout)
        self.dsn = dsn
        self.conn: Any = None
        self.names = itertools.count(1)

    def connect(self) -> None:
        import psycopg

        conn = psycopg.connect(
            self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="dsar-export"
        )
        try:
            # Session defaults first (a read that forgets BEGIN READ ONLY is still read-only), then every
            # transaction explicitly BEGIN READ ONLY. TimeZone UTC: a `timestamp without time zone` column
            # is compared with the window's aware bounds as UTC.
            conn.execute(
                "SELECT set_config('default_transaction_read_only', 'on', false),"
                " set_config('statement_timeout', %s, false), set_config('TimeZone', 'UTC', false)",
                [str(max(1, int(self.timeout * 1000)))],
            )
            conn.autocommit = False
            conn.read_only = True
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def end(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.rollback()

    def quote_table(self, name: str) -> str:
        from psycopg import sql

        return str(sql.Identifier(*name.split(".")).as_string(self.conn))

    def quote_column(self, name: str) -> str:
        from psycopg import sql

        return str(sql.Identifier(name).as_string(self.conn))

    def catalog(self, table: str) -> _Columns | None:
        schema, _, name = table.rpartition(".")
        # Without a schema, the first existing schema of the search_path (current_schema()), which is
        # where an unqualified name in the SELECT resolves first too.
        rows = self.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = COALESCE(%s, current_schema()) AND table_name = %s",
            [schema or None, name],
        ).fetchall()
        if not rows:
            return None
        return _Columns({column: _PG_TYPES.get(kind, "other") for column, kind in rows}, case_sensitive=True)

    def email(self, ref: str) -> str:
        return f"LOWER(TRIM(CAST({ref} AS text))) = %s"

    def phone(self, ref: str) -> str:
        # A constant pattern, in the SQL: an expression index on the same expression can serve it.
        return f"regexp_replace(CAST({ref} AS text), '[^0-9]', '', 'g') = %s"

    def count(self, query: str, params: list[object]) -> int:
        row = self.conn.execute(query, params).fetchone()
        return int(row[0])

    def stream(self, query: str, params: list[object]) -> Generator[tuple[Any, ...], None, None]:
        # A named (server-side) cursor: the server keeps the result, each fetchmany is one FETCH.
        cursor = self.conn.cursor(name=f"dsar_export_{next(self.names)}")
        cursor.itersize = CHUNK
        try:
            cursor.execute(query, params)
            while True:
                batch = cursor.fetchmany(CHUNK)
                if not batch:
                    return
                yield from batch
        finally:
            if not self.conn.closed and not cursor.closed:
                # A failure here leaves nothing behind: end() rolls the transaction back anyway.
                with contextlib.suppress(Exception):
                    cursor.close()

    def is_driver_error(self, exc: BaseException) -> bool:
        import psycopg

        return isinstance(exc, psycopg.Error)

    def classify(self, exc: BaseException) -> tuple[str, str]:
        state = str(getattr(exc, "sqlstate", "") or "")
        code = f"SQLSTATE {state}" if state else f"psycopg {type(exc).__name__}"
        if state == "57014":  # query_canceled: statement_timeout
            return "timeout", code
        if state in ("42P01", "42703", "3F000", "42704"):
            return "schema_mismatch", code
        if state in ("42501", "25006"):  # insufficient privilege; a write in a read-only transaction
            return "permission_denied", code
        if state[:2] in ("08", "28", "3D", "57") or (not state and type(exc).__name__ == "OperationalError"):
            return "connection_refused", code
        return "read_error", code


# -- MySQL / MariaDB ---------------------------------------------------------------------------------

_MYSQL_TYPES = {
    "tinyint": "int",
    "smallint": "int",
    "mediumint": "int",
    "int": "int",
    "integer": "int",
    "bigint": "int",
    "decimal": "decimal",
}
_MYSQL_CONNECT = {1044, 1045, 1049, 1130, 2002, 2003, 2005, 2006, 2013, 2059, 2061}
_MYSQL_TIMEOUT = {1969, 3024, 1317, 1028}
_MYSQL_SCHEMA = {1146, 1054, 1051, 1356}
_MYSQL_PERMISSION = {1142, 1143, 1227, 1370, 1792}


class _MySql(_Dialect):
    def __init__(self, dsn: str, timeout: float):
        super().__init__(timeout)
        self.dsn = dsn
        self.conn: Any = None
        self.mariadb = False

    def connect(self) -> None:
        import pymysql

        parts = urlsplit(self.dsn)
        options = parse_qs(parts.query)
        kwargs: dict[str, Any] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 3306,
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "database": unquote(parts.path.lstrip("/")) or None,
            "charset": "utf8mb4",
            "connect_timeout": CONNECT_TIMEOUT,
            "autocommit": True,
        }
        if "unix_socket" in options:
            kwargs["unix_socket"] = options["unix_socket"][0]
        conn = pymysql.connect(**kwargs)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                self.mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
                if self.mariadb:
                    cursor.execute("SET SESSION max_statement_time = %s", [float(self.timeout)])
                else:
                    cursor.execute("SET SESSION max_execution_time = %s", [max(1, int(self.timeout * 1000))])
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
                # DATETIME values carry no zone: they are read as UTC, like TIMESTAMP under this setting.
                cursor.execute("SET SESSION time_zone = '+00:00'")
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # already gone
                self.conn.close()
            self.conn = None

    def end(self) -> None:
        if self.conn is not None and self.conn.open:
            self.conn.rollback()

    def quote_column(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def catalog(self, table: str) -> _Columns | None:
        schema, _, name = table.rpartition(".")
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s",
                [schema or None, name],
            )
            rows = cursor.fetchall()
        # information_schema may compare names case-insensitively; the table is matched exactly.
        columns = {
            column: _MYSQL_TYPES.get(str(kind).lower(), "other")
            for found, column, kind in rows
            if found == name
        }
        return _Columns(columns, case_sensitive=False) if columns else None

    def phone(self, ref: str) -> str:
        return f"REGEXP_REPLACE({ref}, '[^0-9]', '') = %s"

    def time_bound(self, ref: str, operator: str, moment: datetime) -> tuple[str, object]:
        # PyMySQL would render an aware datetime's offset into the literal; the session is UTC.
        return f"{ref} {operator} %s", moment.astimezone(UTC).replace(tzinfo=None)

    def _begin(self) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute("START TRANSACTION READ ONLY")

    def count(self, query: str, params: list[object]) -> int:
        self._begin()
        with self.conn.cursor() as cursor:
            cursor.execute(query, params)
            row = cursor.fetchone()
        return int(row[0])

    def stream(self, query: str, params: list[object]) -> Generator[tuple[Any, ...], None, None]:
        import pymysql.cursors

        self._begin()
        cursor = self.conn.cursor(
            pymysql.cursors.SSCursor
        )  # unbuffered: rows stay on the server until fetched
        finished = False
        try:
            cursor.execute(query, params)
            while True:
                batch = cursor.fetchmany(CHUNK)
                if not batch:
                    finished = True
                    return
                yield from batch
        finally:
            if finished:
                cursor.close()
            else:
                # Closing an unbuffered cursor early reads every remaining row first; dropping the
                # connection is cheaper (the next read reconnects). The pending result is marked done
                # so PyMySQL does not try to drain it from the closed socket when it is collected.
                for holder in (cursor, self.conn):
                    result = getattr(holder, "_result", None)
                    if result is not None and getattr(result, "unbuffered_active", False):
                        result.unbuffered_active = False
                self.close()

    def is_driver_error(self, exc: BaseException) -> bool:
        import pymysql

        return isinstance(exc, pymysql.MySQLError)

    def classify(self, exc: BaseException) -> tuple[str, str]:
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        code = f"MySQL error {errno}" if errno is not None else f"PyMySQL {type(exc).__name__}"
        if errno in _MYSQL_TIMEOUT:
            return "timeout", code
        if errno in _MYSQL_SCHEMA:
            return "schema_mismatch", code
        if errno in _MYSQL_PERMISSION:
            return "permission_denied", code
        if errno in _MYSQL_CONNECT:
            return "connection_refused", code
        return "read_error", code


# -- the source --------------------------------------------------------------------------------------

_KIND_TEXT = {
    "connection_refused": "cannot connect to the database",
    "timeout": "the statement timed out",
    "schema_mismatch": "a declared table or column does not exist in the database",
    "permission_denied": "the database refused access",
    "read_error": "the database failed the read",
}


class SqlSource:
    """A `sql` substrate. Connects on first use; `dsn` is the value of the mapping's `dsnEnv` (None when the
    variable is unset, reported as `not_configured` on first use)."""

    def __init__(self, mapping: Mapping, *, dsn: str | None, statement_timeout: float = 30.0):
        self.mapping = mapping
        self._dsn = dsn
        self._timeout = statement_timeout
        self._dialect: _Dialect | None = None
        # Each table's catalog, read once while the source is open: `check` reads it when a job starts,
        # and the reads that follow reuse it (a column dropped meanwhile fails the read itself).
        self._catalogs: dict[str, _Columns | None] = {}

    def __repr__(self) -> str:  # never the DSN
        return f"<SqlSource {self.mapping.key}>"

    # -- errors ------------------------------------------------------------------------------------------

    def _error(self, kind: str, detail: str, *, table: str | None = None) -> SourceError:
        where = f" table {table}:" if table else ""
        return SourceError(kind, f"substrate {self.mapping.key}:{where} {detail} ({kind})")

    def _driver_error(
        self, exc: BaseException, *, table: str | None, connecting: bool = False
    ) -> SourceError:
        dialect = self._dialect
        if dialect is None:
            return self._error("read_error", "the database failed", table=table)
        kind, code = dialect.classify(exc)
        if connecting:  # refused, unknown host or database, bad credentials: all "cannot connect"
            kind = "connection_refused"
        detail = _KIND_TEXT[kind]
        if kind == "timeout":
            detail = f"the statement timed out after {self._timeout:g} s"
        return self._error(kind, f"{detail}; {code}", table=None if connecting else table)

    # -- connection --------------------------------------------------------------------------------------

    def _new_dialect(self) -> _Dialect:
        variable = self.mapping.dsn_env or "(no dsnEnv)"
        dsn = self._dsn
        if not dsn:
            raise self._error("not_configured", f"the environment variable {variable} is not set")
        scheme = dsn.split("://", 1)[0].lower() if "://" in dsn else ""
        if scheme == "sqlite":
            path = dsn[len("sqlite:///") :] if dsn.lower().startswith("sqlite:///") else ""
            if not path:
                raise self._error("not_configured", f"{variable} holds a sqlite URL without a file")
            return _Sqlite(path, self._timeout)
        if scheme in ("postgres", "postgresql"):
            return _Postgres(dsn, self._timeout)
        if scheme in ("mysql", "mariadb"):
            return _MySql(dsn, self._timeout)
        raise self._error(
            "not_configured", f"{variable} does not hold a sqlite://, postgres:// or mysql:// URL"
        )

    def _connected(self) -> _Dialect:
        dialect = self._dialect
        if dialect is None:
            dialect = self._dialect = self._new_dialect()
        if getattr(dialect, "conn", None) is None:
            try:
                dialect.connect()
            except Exception as exc:
                if not dialect.is_driver_error(exc) and not isinstance(exc, OSError):
                    raise
                raise self._driver_error(exc, table=None, connecting=True) from None
        return dialect

    def close(self) -> None:
        self._catalogs.clear()
        if self._dialect is not None:
            try:
                self._dialect.close()
            finally:
                self._dialect = None

    def __enter__(self) -> SqlSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _guarded(self, table: str | None, run: Callable[[_Dialect], Any]) -> Any:
        """`run(dialect)` with driver errors mapped, and the read transaction ended either way."""
        dialect = self._connected()
        try:
            return run(dialect)
        except SourceError:
            raise
        except Exception as exc:
            if not dialect.is_driver_error(exc):
                raise
            raise self._driver_error(exc, table=table) from None
        finally:
            self._end(dialect)

    def _end(self, dialect: _Dialect) -> None:
        try:
            dialect.end()
        except Exception:
            # The connection is in a state we cannot vouch for: drop it, the next call reconnects.
            dialect.close()

    # -- the catalog -------------------------------------------------------------------------------------

    def _columns(self, dialect: _Dialect, table: Table, *, require_tenant: bool) -> _Columns:
        """The live catalog's columns of `table`, after checking every name the mapping uses in it."""
        if table.name not in self._catalogs:
            self._catalogs[table.name] = dialect.catalog(table.name)
        columns = self._catalogs[table.name]
        if columns is None:
            raise self._error("schema_mismatch", "the table does not exist in the database", table=table.name)
        names = list(table.columns)
        names += [c for c in (table.time_column, table.campaign_column) if c is not None]
        if table.subject.column is not None:
            names.append(table.subject.column)
        if table.subject.via is not None:
            names.append(table.subject.via.column)
        missing = sorted({name for name in names if name not in columns})
        if missing:
            raise self._error(
                "schema_mismatch", f"no column {', '.join(missing)} in the database", table=table.name
            )
        tenant = self.mapping.tenant_filter
        if require_tenant and tenant is not None and tenant.column not in columns:
            raise self._error(
                "schema_mismatch",
                f"the tenant filter column {tenant.column} is missing, and the table is matched directly",
                table=table.name,
            )
        return columns

    def _check_table(self, dialect: _Dialect, table: Table) -> tuple[_Columns, Table | None, _Columns | None]:
        columns = self._columns(dialect, table, require_tenant=table.subject.via is None)
        via = table.subject.via
        if via is None:
            return columns, None, None
        parent = self.mapping.table(via.parent)
        parent_columns = self._columns(dialect, parent, require_tenant=True)
        if via.parent_column not in parent_columns:
            raise self._error(
                "schema_mismatch", f"no column {via.parent_column} in the database", table=parent.name
            )
        return columns, parent, parent_columns

    def check(self) -> None:
        self._catalogs.clear()  # a check always reads the live catalog

        def run(dialect: _Dialect) -> None:
            for table in self.mapping.tables:
                self._check_table(dialect, table)

        self._guarded(None, run)

    # -- the query ---------------------------------------------------------------------------------------

    def _query(
        self, dialect: _Dialect, plan: SectionPlan, scope: SubjectScope, select: str
    ) -> tuple[str, list[object]]:
        table = plan.table
        columns, parent, parent_columns = self._check_table(dialect, table)
        if plan.match_value is None:
            raise ValueError("a plan without a match value is skipped, not read")
        params: list[object] = []
        conditions: list[str] = []
        ph = dialect.placeholder
        col = dialect.quote_column

        def ref(alias: str, name: str) -> str:
            return f"{alias}.{col(name)}"

        def add(condition: str, *values: object) -> None:
            conditions.append(condition)
            params.extend(values)

        via = table.subject.via
        if via is None:
            identity, column = table.subject.identity, table.subject.column
            assert identity is not None and column is not None
            self._match(dialect, identity, ref("t", column), columns.kind(column), plan.match_value, add)
        else:
            assert parent is not None and parent_columns is not None
            identity, column = parent.subject.identity, parent.subject.column
            assert identity is not None and column is not None
            inner: list[str] = []

            def add_inner(condition: str, *values: object) -> None:
                inner.append(condition)
                params.extend(values)

            self._match(
                dialect, identity, ref("p", column), parent_columns.kind(column), plan.match_value, add_inner
            )
            self._tenant(dialect, "p", parent_columns, add_inner)
            # S608: only quoted identifiers (checked against the catalog) and placeholders are formatted in.
            conditions.append(
                f"{ref('t', via.column)} IN (SELECT {ref('p', via.parent_column)}"  # noqa: S608
                f" FROM {dialect.quote_table(parent.name)} p WHERE {' AND '.join(inner)})"
            )
        self._tenant(dialect, "t", columns, add)
        if plan.apply_window and table.time_column is not None:
            for operator, moment in ((">=", scope.window_start), ("<", scope.window_end)):
                if moment is not None:
                    if moment.tzinfo is None:  # naive bounds are UTC, like naive stored values
                        moment = moment.replace(tzinfo=UTC)
                    condition, value = dialect.time_bound(ref("t", table.time_column), operator, moment)
                    add(condition, value)
        if plan.apply_campaigns and table.campaign_column is not None and scope.campaign_ids:
            kind = columns.kind(table.campaign_column)
            bound = [b for b in (_bind(kind, c) for c in scope.campaign_ids) if b is not _NOTHING]
            if bound:
                marks = ", ".join([ph] * len(bound))
                add(f"{ref('t', table.campaign_column)} IN ({marks})", *bound)
            else:
                add("1 = 0")
        where = " AND ".join(conditions)
        query = f"SELECT {select} FROM {dialect.quote_table(table.name)} t WHERE {where}"  # noqa: S608 - as above
        return query, params

    def _match(
        self,
        dialect: _Dialect,
        identity: str,
        column_ref: str,
        kind: str,
        value: str,
        add: Callable[..., None],
    ) -> None:
        if identity == "subject_id":
            bound = _bind(kind, value)
            if bound is _NOTHING:
                add("1 = 0")
            else:
                add(f"{column_ref} = {dialect.placeholder}", bound)
        elif identity == "email":
            add(dialect.email(column_ref), value.strip().casefold())
        elif identity == "phone":
            add(dialect.phone(column_ref), digits(value))
        else:
            raise ValueError(f"unknown identity {identity!r}")

    def _tenant(self, dialect: _Dialect, alias: str, columns: _Columns, add: Callable[..., None]) -> None:
        tenant = self.mapping.tenant_filter
        if tenant is None or tenant.column not in columns:
            return
        bound = _bind(columns.kind(tenant.column), tenant.value)
        if bound is _NOTHING:
            add("1 = 0")
        else:
            add(f"{alias}.{dialect.quote_column(tenant.column)} = {dialect.placeholder}", bound)

    # -- reading -----------------------------------------------------------------------------------------

    def count(self, plan: SectionPlan, scope: SubjectScope) -> int | None:
        if plan.skipped or plan.match_value is None:
            return 0

        def run(dialect: _Dialect) -> int:
            query, params = self._query(dialect, plan, scope, "COUNT(*)")
            return dialect.count(query, params)

        result: int = self._guarded(plan.table.name, run)
        return result

    def rows(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[tuple[Any, ...]]:
        if plan.skipped or plan.match_value is None:
            return iter(())
        return self._rows(plan, scope)

    def _rows(self, plan: SectionPlan, scope: SubjectScope) -> Iterator[tuple[Any, ...]]:
        table = plan.table.name
        dialect = self._connected()
        stream: Generator[tuple[Any, ...], None, None] | None = None
        try:
            select = ", ".join(f"t.{dialect.quote_column(name)}" for name in plan.table.columns)
            query, params = self._query(dialect, plan, scope, select)
            stream = dialect.stream(query, params)
            for row in stream:
                yield tuple(row)
        except SourceError:
            raise
        except Exception as exc:
            if not dialect.is_driver_error(exc):
                raise
            raise self._driver_error(exc, table=table) from None
        finally:
            # The cursor first (a consumer may stop early), then the transaction: closing a server-side
            # cursor after its transaction ended would fail and leave the connection in error.
            try:
                if stream is not None:
                    stream.close()
            finally:
                self._end(dialect)
