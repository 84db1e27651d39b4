"""Reads. Every queryset starts from the caller's org: another org's id is simply not found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import F, Func, IntegerField, Lookup, Q, QuerySet, Subquery

from core.api import NotFound
from core.cursors import cursor_decode, cursor_encode
from core.models import Org
from core.prepared import PreparedQuery

from .filters import DueWindow, due_window, due_window_q, request_filter
from .models import DataSubjectRequest, TimelineEntry
from .resources import RESOURCE_COLUMNS
from .search import email_key, email_matches, needles, needles_match


def request_queryset(org: Org) -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.filter(org=org).select_related("authority_current")


def _with_org(rows: list[DataSubjectRequest], org: Org) -> list[DataSubjectRequest]:
    # Every row is the caller's org: share its instance instead of joining and rebuilding it per row.
    for row in rows:
        row.org = org
    return rows


def request_get(*, org: Org, request_id: str) -> DataSubjectRequest:
    try:
        dsr = request_queryset(org).get(pk=request_id)
    except DataSubjectRequest.DoesNotExist:
        raise NotFound("No such request in this organisation.") from None
    return _with_org([dsr], org)[0]


# Read on every GET of one request: compiled once per process (core.prepared).
_ROW_BY_ID = PreparedQuery(
    lambda org_id, request_id: DataSubjectRequest.objects.filter(org_id=org_id, pk=request_id).values_list(
        *RESOURCE_COLUMNS
    ),
    server_prepare=True,
)


def request_row(*, org: Org, request_id: str) -> tuple[Any, ...]:
    """One request as a row of `RESOURCE_COLUMNS`, for rendering."""
    rows = _ROW_BY_ID.rows(org_id=org.id, request_id=request_id)
    if not rows:
        raise NotFound("No such request in this organisation.")
    return rows[0]


# A page past this offset is read as a deferred join: its ids first, from an index alone where one covers
# the filters and the order (rows skipped by the offset are never read from the table), then their rows.
DEFERRED_FROM = 200
# Filters whose values reach the SQL as given: a list filtered by these alone runs SQL compiled once per
# process for its shape (core.prepared). `atRiskDays` is shaped by its window (`DueWindow`: how many zone
# groups, how many zones in each) on PostgreSQL, where dates reach the SQL as dates. `ackOverdue`, `q` on
# SQLite (the full-text mirror's phrase syntax) and `atRiskDays` on SQLite compile per call.
_SHAPED = frozenset({"status", "jurisdiction", "email", "q", "atRiskDays"})
_EQUALITY = frozenset({"status", "jurisdiction", "email"})
_shapes: dict[tuple[Any, ...], tuple[PreparedQuery, PreparedQuery]] = {}
_COUNT_ALL = Func(template="COUNT(*)", output_field=IntegerField())


def _page(qs: QuerySet, order: list[str], offset: int, limit: int, *, deferred: bool) -> QuerySet:
    if not deferred:
        return qs.order_by(*order).values_list(*RESOURCE_COLUMNS)[offset : offset + limit]
    ids = qs.order_by(*order).values("pk")[offset : offset + limit]
    # PostgreSQL: `id = ANY(ARRAY(…))` rather than `id IN (…)`. A plan made without the LIMIT's value takes
    # an IN for a tenth of the table and joins the whole table by hash (13 ms instead of 1 at offset
    # 4,500); an array of unknown length is looked up by primary key, whatever the values.
    on_postgres = connection.vendor == "postgresql"
    matching = Q(_InArray(F("pk"), Subquery(ids))) if on_postgres else Q(pk__in=ids)
    return DataSubjectRequest.objects.filter(matching).order_by(*order).values_list(*RESOURCE_COLUMNS)


class _InArray(Lookup):
    """PostgreSQL: `column = ANY(ARRAY(subquery))`."""

    lookup_name = "in_array"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column, column_params = self.process_lhs(compiler, connection)
        subquery, subquery_params = compiler.compile(self.rhs)
        return f"{column} = ANY(ARRAY{subquery})", (*column_params, *subquery_params)


def _shaped(names: tuple[str, ...], order: list[str], deferred: bool) -> tuple[PreparedQuery, PreparedQuery]:
    """The (count, page) queries for lists filtered by `names` (`q0`, `q1`: the needles of `q`)."""
    key = (names, tuple(order), deferred, connection.vendor)
    if key not in _shapes:

        def matching(org_id: str, **values: Any) -> QuerySet:
            q = Q(org_id=org_id)
            if "due_first" in values:
                q &= due_window_q(_window_of(values))
            for name in ("status", "jurisdiction"):
                if name in values:
                    q &= Q(**{name: values[name]})
            if "email" in values:
                q &= email_matches(values["email"])
            found = [values[name] for name in names if name.startswith("q")]
            if found:
                q &= needles_match(found)
            return DataSubjectRequest.objects.filter(q)

        # COUNT(*) as a plain expression: an aggregate in values_list would GROUP BY every column, and
        # COUNT(*) (not COUNT(id)) lets the narrowest index answer it alone.
        # Dates stand in as dates: year 1001, 1002, … (no real due date), one per date parameter.
        dates = [name for name in names if name.startswith("due_") and not name.endswith("zone")]
        markers = {name: date(1001 + i, 1, 1) for i, name in enumerate(dates)}
        # Which of these the server may keep a plan for (core.prepared): a count or a page by equality
        # (status, jurisdiction, e-mail) plans the same whatever the values — the deferred page too, since it
        # looks its ids up as an array (`_InArray`). So does a search: its count, and a page before the
        # deferred join, are found through the trigram index and sorted whatever the needle, so a kept plan
        # costs at most what the exact count costs anyway — and planning a trigram search (0.4 ms) costs
        # more than running it. A date window is planned per call.
        searching = {"q0", "q1"} & set(names)
        kept = set(names) <= _EQUALITY | {"q0", "q1"}
        count = PreparedQuery(
            lambda **v: matching(**v).order_by().values_list(_COUNT_ALL),
            names=("org_id", *names),
            markers=markers,
            server_prepare=kept,
        )
        page = PreparedQuery(
            lambda offset, limit, **v: _page(matching(**v), order, offset, limit, deferred=deferred),
            names=("org_id", *names, "offset", "limit"),
            markers=markers,
            server_prepare=kept and not (searching and deferred),
        )
        _shapes[key] = (count, page)
    return _shapes[key]


def _window_values(window: DueWindow) -> dict[str, Any]:
    """A `DueWindow` as named parameters (their names also say the shape: groups, zones per group)."""
    values: dict[str, Any] = {"due_first": window.first, "due_last": window.last}
    for g, (window_end, zones) in enumerate(window.groups):
        values[f"due_{g}"] = window_end
        values.update({f"due_{g}_{z}_zone": name for z, name in enumerate(zones)})
    return values


def _window_of(values: dict[str, Any]) -> DueWindow:
    groups = []
    g = 0
    while f"due_{g}" in values:
        zones: list[str] = []
        while f"due_{g}_{len(zones)}_zone" in values:
            zones.append(values[f"due_{g}_{len(zones)}_zone"])
        groups.append((values[f"due_{g}"], tuple(zones)))
        g += 1
    return DueWindow(first=values["due_first"], groups=tuple(groups), last=values["due_last"])


def request_list(
    *,
    org: Org,
    now: datetime,
    filters: dict[str, Any],
    sort_field: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[tuple[Any, ...]], int]:
    """A page of the queue as rows of `RESOURCE_COLUMNS` (no model instances), and the exact total."""
    given = {name: value for name, value in filters.items() if value is not None}
    order = [f"-{sort_field}", "-id"] if descending else [sort_field, "id"]
    on_sqlite = connection.vendor == "sqlite"
    if set(given) <= _SHAPED and not (on_sqlite and ("q" in given or "atRiskDays" in given)):
        values: dict[str, Any] = {name: given[name] for name in ("status", "jurisdiction") if name in given}
        if "atRiskDays" in given:
            window = due_window(int(given["atRiskDays"]), now=now, org_zone=org.timezone_override)
            values.update(_window_values(window))
        if "email" in given:
            values["email"] = email_key(given["email"])
        for i, needle in enumerate(needles(given["q"]) if "q" in given else []):
            values[f"q{i}"] = needle
        count, page = _shaped(tuple(values), order, deferred=offset >= DEFERRED_FROM)
        rows = page.rows(org_id=org.id, **values, offset=offset, limit=limit)
        return rows, _total(rows, offset, limit, lambda: count.rows(org_id=org.id, **values)[0][0])
    qs = DataSubjectRequest.objects.filter(org=org).filter(
        request_filter(given, now=now, org_zone=org.timezone_override)
    )
    rows = list(_page(qs, order, offset, limit, deferred=offset >= DEFERRED_FROM))
    return rows, _total(rows, offset, limit, qs.count)


def _total(rows: list[tuple[Any, ...]], offset: int, limit: int, count: Callable[[], int]) -> int:
    """The exact number of matches. A page that is neither full nor past the end says it without counting
    (most searches: a few matches, one page); otherwise the database counts."""
    if len(rows) < limit and (rows or offset == 0):
        return offset + len(rows)
    return count()


def timeline_list(*, org: Org, request_id: str) -> list[TimelineEntry]:
    dsr = request_get(org=org, request_id=request_id)
    return list(TimelineEntry.objects.filter(request=dsr).order_by("seq"))


def encode_cursor(dsr: DataSubjectRequest) -> str:
    return cursor_encode(dsr.created_at, dsr.id)


def dsr_page(*, org: Org, cursor: str | None, limit: int) -> tuple[list[DataSubjectRequest], str | None]:
    """Newest first, keyset-paginated on (created_at, id): stable while new requests arrive."""
    qs = request_queryset(org).order_by("-created_at", "-id")
    if cursor:
        created, pk = cursor_decode(cursor)
        qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    rows = _with_org(list(qs[: limit + 1]), org)
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor
