"""The Job resource as the API, the outbox and the admin show it (api-contract.md, "Export jobs")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from .models import ExportJob, ExportJobEntry, State
from .tokens import token_issue

DOWNLOADABLE = (State.READY, State.DELIVERED)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def bundle_available(job: ExportJob, *, now: datetime) -> bool:
    return (
        job.state in DOWNLOADABLE
        and bool(job.bundle_key)
        and job.bundle_deleted_at is None
        and job.expires_at is not None
        and now < job.expires_at
    )


def bundle_url(job: ExportJob, *, base_url: str | None, now: datetime) -> str | None:
    """The signed download link, on `base_url` (the public base URL or the calling host); None when there
    is no bundle to download or no base to build an absolute URL on (events, sweeps)."""
    if not base_url or not bundle_available(job, now=now):
        return None
    assert job.expires_at is not None
    token = token_issue(job_id=job.id, org_id=job.org_id, nonce=job.link_nonce, expires_at=job.expires_at)
    path = f"/v1/compliance/dsar/{quote(job.id, safe=':')}/download"
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def entry_resource(entry: ExportJobEntry) -> dict[str, Any]:
    return {"at": entry.at.isoformat(), "actor": entry.actor, "notes": entry.notes}


def job_resource(
    job: ExportJob,
    *,
    now: datetime,
    base_url: str | None = None,
    entries: Iterable[ExportJobEntry] | None = None,
) -> dict[str, Any]:
    timeline = list(entries) if entries is not None else list(job.timeline.all())
    failure = None
    if job.state == State.FAILED:
        failure = {
            "message": job.failure_message,
            "failedAt": _iso(job.failed_at),
            "workerId": job.failure_worker_id or None,
        }
    return {
        "id": job.id,
        "orgId": job.org_id,
        "state": job.state,
        "format": job.format,
        "createdAt": job.created_at.isoformat(),
        "updatedAt": job.updated_at.isoformat(),
        "scope": job.scope,
        "requestedBy": job.requested_by,
        "requestNotes": job.request_notes,
        "requestId": job.request_id,
        "notify": job.notify,
        "progress": {
            "rowsCollected": job.rows_collected,
            "rowsExpected": job.rows_expected,
            "bytesPackaged": job.bytes_packaged,
            "lastHeartbeatAt": _iso(job.last_heartbeat_at),
            # "" (waiting for a worker) and "queued" (sent to the exports queue) are held by no worker.
            "workerId": job.worker_id if job.worker_id not in ("", "queued") else None,
        },
        "delivery": {
            "bundleR2Key": job.bundle_key or None,
            "bundleSizeBytes": job.bundle_size,
            "bundleSha256": job.bundle_sha256 or None,
            "bundleUrl": bundle_url(job, base_url=base_url, now=now),
            "expiresAt": _iso(job.expires_at),
            "downloadedAt": _iso(job.downloaded_at),
            "downloadedBy": job.downloaded_by or None,
        },
        "failure": failure,
        "timeline": [entry_resource(e) for e in sorted(timeline, key=lambda e: e.seq)],
    }


def audit_report_resource(job: ExportJob) -> dict[str, Any] | None:
    """Null until the job is READY; kept after delivery and expiry."""
    if job.state not in (State.READY, State.DELIVERED, State.EXPIRED):
        return None
    return job.audit_report
