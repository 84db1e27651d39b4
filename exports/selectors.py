"""Reads for the export endpoints and the admin. Every query is filtered by the caller's org."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch

from core.api import ValidationFailed
from core.models import Org

from .models import ACTIVE_STATES, ExportJob, ExportJobEntry, State, Substrate
from .sources.dsar_core import builtin_mapping
from .types import Mapping


@dataclass(frozen=True)
class JobPage:
    jobs: list[ExportJob]
    total: int
    filtered: int
    counts: dict[str, int]
    active: int


def job_page(*, org: Org, state: str | None, limit: int, offset: int) -> JobPage:
    by_state = dict(
        ExportJob.objects.filter(org=org)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    counts = {s: by_state.get(s, 0) for s in State.values}
    rows = ExportJob.objects.filter(org=org)
    if state:
        rows = rows.filter(state=state)
    page = list(
        rows.order_by("-created_at", "-id").prefetch_related(
            Prefetch("timeline", queryset=ExportJobEntry.objects.order_by("seq"))
        )[offset : offset + limit]
    )
    total = sum(counts.values())
    return JobPage(
        jobs=page,
        total=total,
        filtered=counts[state] if state else total,
        counts=counts,
        active=sum(counts[s] for s in ACTIVE_STATES),
    )


def _substrate_row(mapping: Mapping, *, enabled: bool) -> dict[str, Any]:
    return {
        "key": mapping.key,
        "kind": mapping.kind,
        "description": mapping.description,
        "enabled": enabled,
        "sections": [
            {"name": f"{mapping.key}.{t.section}", "columns": list(t.columns)} for t in mapping.tables
        ],
    }


def substrate_list(*, org: Org) -> list[dict[str, Any]]:
    """The built-in first, then the org's by key: names, kinds, sections and columns — never a DSN,
    an environment variable's name, a path or a secret."""
    from .services.substrates import substrate_mapping

    rows = [_substrate_row(builtin_mapping(), enabled=True)]
    for substrate in Substrate.objects.filter(org=org).order_by("key"):
        try:
            rows.append(_substrate_row(substrate_mapping(substrate), enabled=substrate.enabled))
        except ValidationFailed:  # its mapping no longer validates here: listed, without sections
            rows.append(
                {
                    "key": substrate.key,
                    "kind": substrate.kind,
                    "description": substrate.description,
                    "enabled": substrate.enabled,
                    "sections": [],
                }
            )
    return rows


def export_urls_for_requests(*, org: Org, request_ids: list[str], base_url: str) -> dict[str, str]:
    """For `/v1/dsr`'s `export_url`: each request's newest downloadable bundle, as its signed URL."""
    from django.utils import timezone

    from .resources import bundle_url

    now = timezone.now()
    urls: dict[str, str] = {}
    jobs = ExportJob.objects.filter(
        org=org,
        request_id__in=request_ids,
        state__in=(State.READY, State.DELIVERED),
        bundle_deleted_at__isnull=True,
        expires_at__gt=now,
    ).order_by("request_id", "-created_at")
    for job in jobs:
        if job.request_id and job.request_id not in urls:
            url = bundle_url(job, base_url=base_url, now=now)
            if url:
                urls[job.request_id] = url
    return urls
