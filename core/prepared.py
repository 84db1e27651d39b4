"""Hot queries compiled once per process instead of on every call: reads (`PreparedQuery`) and the inserts
of a new request, its first timeline entry and its event (`insert`).

Django compiles a queryset to SQL on every evaluation; for the handful of queries every API call makes (the
key lookup, one request by id) that compilation costs more CPU than the database spends answering. A
`PreparedQuery` is written as an ordinary `values_list` queryset, so the ORM still decides the SQL, the
joins and the converters; it is compiled the first time it runs on a database, and later calls only bind
new values and run it.

    by_prefix = PreparedQuery(lambda prefix: ApiKey.objects.filter(prefix=prefix).values_list("id", "name"))
    rows = by_prefix.rows(prefix="abc123")

Each parameter is stood in for by a marker string while compiling, so a parameter must reach the SQL as
that string unchanged (text columns: ids, prefixes, e-mail keys), as `contains` wraps it, or as a
`Derived` value computed from it (a lookup that binds a pattern made from its value). `rows()` raises if
a marker went missing, rather than run a query with the wrong values.

A paged query takes `offset` and `limit` as well: Django writes LIMIT and OFFSET into the SQL as numbers,
so the query is compiled with two sentinel numbers, which then become parameters.

**Server-side preparation** is a second, separate saving, on PostgreSQL: a statement the server has
prepared is parsed once per connection and, after five runs, planned once ("generic plan"), which for
the hot statements costs more than running them. A generic plan is chosen without the values, though, so
it is only safe for a statement whose best plan does not depend on them: equality on keys (the key
lookup, one request by id, a count by status), the rate counter, an INSERT. A query whose best plan
depends on its values can go badly wrong under one: a deferred page written `id IN (… LIMIT $n)` took
13 ms instead of 1 ms at offset 4,500, the generic plan having expected a tenth of the table (the
selectors now write it so that one plan fits every offset). So nothing is prepared unless it asks:
`PreparedQuery(..., server_prepare=True)`, `insert`, and `server_prepared()` for raw SQL.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Field, Model, QuerySet

# A parameter the ORM wrapped for a `contains` lookup: bound the same way.
_CONTAINS = object()
# Sentinels no real page uses, found again in the compiled SQL.
_OFFSET, _LIMIT = 987_654_321_001, 123_456_789


class Derived(str):
    """A bound parameter a lookup computed from its value (`derive(source)`): a prepared query computes it
    again from each call's value instead of binding the compile-time one as a constant."""

    source: Any
    derive: Callable[[Any], str]

    def __new__(cls, source: Any, derive: Callable[[Any], str]) -> Derived:
        derived = super().__new__(cls, derive(source))
        derived.source = source
        derived.derive = derive
        return derived


class _PreparedOnServer:
    """A psycopg cursor whose statements ask the server to prepare them (psycopg's `prepare=True`)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Any = None) -> Any:
        return self._cursor.execute(sql, params, prepare=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextlib.contextmanager
def server_prepared(connection: Any) -> Iterator[Any]:
    """A Django cursor whose statements are prepared on the server, on PostgreSQL (elsewhere a plain one).
    Only for statements whose best plan does not depend on their values (see the module docstring).
    psycopg keeps them per connection; `?prepare_threshold=off` in DATABASE_URL turns it off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.cursor = _PreparedOnServer(cursor.cursor)
        yield cursor


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _bound(connection: Any, slot: tuple[str | None, Any], values: dict[str, Any]) -> Any:
    """One parameter of a call: a constant of the compiled SQL, or the call's value (as given, wrapped as
    `contains` wraps it, or derived from it)."""
    name, how = slot
    if name is None:
        return how
    if how is _CONTAINS:
        return f"%{connection.ops.prep_for_like_query(values[name])}%"
    if how is not None:
        return how(values[name])
    return values[name]


def _parametrise_paging(
    connection: Any, sql: str, slots: list[tuple[str | None, Any]]
) -> tuple[str, list[tuple[str | None, Any]]]:
    literal = connection.ops.limit_offset_sql(_OFFSET, _OFFSET + _LIMIT)
    if literal != f"LIMIT {_LIMIT} OFFSET {_OFFSET}" or sql.count(literal) != 1:
        raise ValueError(f"Expected one `LIMIT n OFFSET m` in the paged query on {connection.vendor}: {sql}")
    position = sql.index(literal)
    before = sql[:position].count("%s")
    sql = f"{sql[:position]}LIMIT %s OFFSET %s{sql[position + len(literal) :]}"
    return sql, [*slots[:before], ("limit", None), ("offset", None), *slots[before:]]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each SQL parameter: the name of the call's argument, or the constant the ORM put there.
    slots: tuple[tuple[str | None, Any], ...]
    # Column position → (converters, expression), as the ORM would apply them.
    converters: dict[int, tuple[list[Callable[..., Any]], Any]]


class PreparedQuery:
    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        names: tuple[str, ...] | None = None,
        markers: dict[str, Any] | None = None,
        server_prepare: bool = False,
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        """`names`: the parameters `build` takes by keyword (default: its signature's). `markers`: a stand-in
        of the right type for a parameter that is not text (a date, say), unique within the query.
        `server_prepare`: also prepare it on the server — only where no value can change the best plan."""
        self._build = build
        self._server_prepare = server_prepare
        self._typed = dict(markers or {})
        parameters = names if names is not None else tuple(inspect.signature(build).parameters)
        self._paged = {"offset", "limit"} <= set(parameters)
        self._names = tuple(name for name in parameters if name not in ("offset", "limit"))
        self._using = using
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, connection: Any) -> _Compiled:
        markers = {name: self._typed.get(name, f"\x00prepared:{name}\x00") for name in self._names}
        paging = {"offset": _OFFSET, "limit": _LIMIT} if self._paged else {}
        queryset = self._build(**markers, **paging)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        by_marker = {marker: name for name, marker in markers.items()}
        by_pattern = {f"%{marker}%": name for name, marker in markers.items()}  # a `contains` lookup
        slots: list[tuple[str | None, Any]] = []
        for param in params:
            if isinstance(param, Derived) and _hashable(param.source) and param.source in by_marker:
                slots.append((by_marker[param.source], param.derive))
            elif _hashable(param) and param in by_marker:
                slots.append((by_marker[param], None))
            elif isinstance(param, str) and param in by_pattern:
                slots.append((by_pattern[param], _CONTAINS))
            else:
                slots.append((None, param))
        if self._paged:
            sql, slots = _parametrise_paging(connection, sql, slots)
        missing = set(self._names) - {name for name, _ in slots if name}
        if missing:
            raise ValueError(f"Parameters {sorted(missing)} did not reach the SQL unchanged: {sql}")
        expressions = [column for column, _, _ in compiler.select]
        return _Compiled(sql=sql, slots=tuple(slots), converters=compiler.get_converters(expressions))

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        connection = connections[self._using]
        key = (connection.alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(connection)
                self._compiled[key] = compiled
        params = [_bound(connection, slot, values) for slot in compiled.slots]
        opened = server_prepared(connection) if self._server_prepare else connection.cursor()
        with opened as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            converted = list(row)
            for position, (converters, expression) in compiled.converters.items():
                value = converted[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                converted[position] = value
            out.append(tuple(converted))
        return out


_INSERTS: dict[tuple[type[Model], str, str], tuple[str, tuple[Field, ...]]] = {}


def insert(obj: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """`obj.save(force_insert=True)` for a new row whose primary key is already set (this project's ids),
    with the INSERT built once per model and database instead of compiled on every save.

    Each field's value goes through `pre_save` and `get_db_prep_save`, as the ORM's own insert does. A value
    the database must compute (an expression, a `db_default` left unset) takes the ORM's path instead. No
    `pre_save`/`post_save` signals are sent: nothing in this project listens to them (its rule: no side
    effects in signals).
    """
    model = type(obj)
    connection = connections[using]
    key = (model, connection.alias, connection.vendor)
    if key not in _INSERTS:
        fields = tuple(model._meta.local_concrete_fields)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column or field.attname) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        table = quote(model._meta.db_table)
        _INSERTS[key] = (f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", fields)  # noqa: S608
    sql, fields = _INSERTS[key]
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = []
    for field in fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression") or (field.primary_key and value is None):
            obj.save_base(force_insert=True, using=using)
            return
        values.append(field.get_db_prep_save(value, connection))
    with transaction.mark_for_rollback_on_error(using), server_prepared(connection) as cursor:
        cursor.execute(sql, values)
    obj._state.adding = False
    obj._state.db = using
