"""Reads. Every queryset starts from the caller's org: another org's id is simply not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from core.api import NotFound
from core.cursors import cursor_decode, cursor_encode
from core.models import Org
from core.prepared import PreparedQuery

from .filters import RequestFilter
from .models import DataSubjectRequest, TimelineEntry
from .resources import RESOURCE_COLUMNS


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
    )
)


def request_row(*, org: Org, request_id: str) -> tuple[Any, ...]:
    """One request as a row of `RESOURCE_COLUMNS`, for rendering."""
    rows = _ROW_BY_ID.rows(org_id=org.id, request_id=request_id)
    if not rows:
        raise NotFound("No such request in this organisation.")
    return rows[0]


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
    filterset = RequestFilter(
        data={k: v for k, v in filters.items() if v is not None},
        queryset=DataSubjectRequest.objects.filter(org=org),
        now=now,
        org_zone=org.timezone_override,
    )
    qs = filterset.qs
    order = [f"-{sort_field}", "-id"] if descending else [sort_field, "id"]
    total = qs.count()
    if offset >= total:
        return [], total
    # A deferred join: the page's ids first, from the index alone where one covers the filter and the order
    # (rows skipped by the offset are never read from the table), then those rows' columns.
    page = qs.order_by(*order).values("pk")[offset : offset + limit]
    rows = DataSubjectRequest.objects.filter(pk__in=page).order_by(*order).values_list(*RESOURCE_COLUMNS)
    return list(rows), total


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
