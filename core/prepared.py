"""Hot read queries compiled once per process instead of on every call.

Django compiles a queryset to SQL on every evaluation; for the handful of queries every API call makes (the
key lookup, one request by id) that compilation costs more CPU than the database spends answering. A
`PreparedQuery` is written as an ordinary `values_list` queryset, so the ORM still decides the SQL, the
joins and the converters; it is compiled the first time it runs on a database, and later calls only bind
new values and run it.

    by_prefix = PreparedQuery(lambda prefix: ApiKey.objects.filter(prefix=prefix).values_list("id", "name"))
    rows = by_prefix.rows(prefix="abc123")

Each parameter is stood in for by a marker string while compiling, so a parameter must reach the SQL as
that string unchanged: use it for text columns (ids, prefixes), as here. `rows()` raises if a marker went
missing, rather than run a query with the wrong values.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each SQL parameter: the name of the call's argument, or the constant the ORM put there.
    slots: tuple[tuple[str | None, Any], ...]
    # Column position → (converters, expression), as the ORM would apply them.
    converters: dict[int, tuple[list[Callable[..., Any]], Any]]


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, using: str = DEFAULT_DB_ALIAS) -> None:
        self._build = build
        self._names = tuple(inspect.signature(build).parameters)
        self._using = using
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, connection: Any) -> _Compiled:
        markers = {name: f"\x00prepared:{name}\x00" for name in self._names}
        queryset = self._build(**markers)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        by_marker = {marker: name for name, marker in markers.items()}
        slots = tuple((by_marker.get(p), None) if p in by_marker else (None, p) for p in params)
        missing = set(self._names) - {name for name, _ in slots if name}
        if missing:
            raise ValueError(f"Parameters {sorted(missing)} did not reach the SQL unchanged: {sql}")
        expressions = [column for column, _, _ in compiler.select]
        return _Compiled(sql=sql, slots=slots, converters=compiler.get_converters(expressions))

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        connection = connections[self._using]
        key = (connection.alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(connection)
                self._compiled[key] = compiled
        params = [values[name] if name else constant for name, constant in compiled.slots]
        with connection.cursor() as cursor:
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
