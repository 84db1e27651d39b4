"""Collect and package one job: rows flow source → redaction → writer → the bundle's ZIP entry, one section
at a time, so memory holds one chunk of rows whatever the export's size. Nothing is stored until the whole
bundle is written and hashed; any failure fails the job and leaves no bundle behind.

The worker holding the job (`worker_id`) heartbeats its progress in short writes of their own, outside any
collection transaction; every write it makes is fenced by its id (`LostJob` when another worker took over).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.utils import timezone

from .bundle import BundleResult, BundleWriter, readme_text
from .models import TERMINAL_STATES, ExportJob, Format
from .redaction import Redactor
from .scope import subject_scope
from .services.deliveries import delivery_offer
from .services.jobs import job_fail
from .services.machinery import LostJob, heartbeat, job_change
from .services.substrates import mappings_for
from .sources import open_source, plan_section
from .storage import bundle_delete, bundle_key_for, bundle_store, work_dir_create, work_dirs_remove
from .types import Mapping, SectionPlan, SourceError, SubjectScope, Table
from .writers import open_writer

log = logging.getLogger("dsar.exports")

CHUNK_ROWS = 2000
# zlib level for the bundle: fast levels keep up with the sources (measured in exports/writers.py's notes).
COMPRESS_LEVEL = 1
EXTENSIONS = {Format.JSON: "json", Format.CSV: "csv", Format.NDJSON: "ndjson", Format.PARQUET: "parquet"}


class PackagingError(Exception):
    """A value could not be written in the job's format; the message names the section and column, never
    the value."""


class StorageError(Exception):
    """The export storage refused the finished bundle; the message is the error's class name (botocore
    names its classes after the service's codes: NoSuchBucket, AccessDenied), never its text."""


def _sections(mapping: Mapping, scope: SubjectScope) -> Iterator[tuple[Table, SectionPlan]]:
    for table in mapping.tables:
        parent = mapping.table(table.subject.via.parent) if table.subject.via else None
        yield table, plan_section(table, scope, via_parent=parent, substrate=mapping.key)


def _open(mapping: Mapping, org_id: str) -> Any:
    return open_source(
        mapping,
        file_roots=settings.DSAR_EXPORT_FILE_ROOTS,
        statement_timeout=settings.DSAR_EXPORT_STATEMENT_TIMEOUT,
        org_id=org_id,
    )


def _failure_message(mapping: Mapping | None, error: SourceError) -> str:
    # The source's message names the substrate, table or column and the kind; never a DSN or a value.
    if mapping is not None and mapping.key not in error.message:
        return f"substrate {mapping.key}: {error.message} ({error.kind})"
    return f"{error.message} ({error.kind})" if error.kind not in error.message else error.message


def job_count(job: ExportJob, *, worker_id: str) -> int | None:
    """Check every source and count the rows the job will read; None when a source cannot count. Stores
    `rowsExpected`. A failing source fails the job (the caller sees it FAILED)."""
    scope = subject_scope(job.scope)
    total: int | None = 0
    current: Mapping | None = None
    try:
        for mapping in mappings_for(job.org, job.scope.get("substrates")):
            current = mapping
            with _open(mapping, job.org_id) as source:
                source.check()
                for _table, plan in _sections(mapping, scope):
                    counted = source.count(plan, scope)
                    total = None if counted is None or total is None else total + counted
    except SourceError as error:
        job_fail(job_id=job.pk, message=_failure_message(current, error), worker_id=worker_id)
        work_dirs_remove(job_id=job.pk)
        raise LostJob(job.pk) from None
    heartbeat(job_id=job.pk, worker_id=worker_id, now=timezone.now(), rows_expected=total)
    return total


class _Progress:
    def __init__(self, job_id: str, worker_id: str):
        self.job_id, self.worker_id = job_id, worker_id
        self.rows = 0
        self.bytes = 0
        self.every = settings.DSAR_EXPORT_HEARTBEAT_SECONDS
        self.last = time.monotonic()

    def add(self, rows: int, bytes_now: int) -> None:
        self.rows += rows
        self.bytes = bytes_now
        if time.monotonic() - self.last >= self.every:
            self.beat()

    def beat(self) -> None:
        self.last = time.monotonic()
        heartbeat(
            job_id=self.job_id,
            worker_id=self.worker_id,
            now=timezone.now(),
            rows_collected=self.rows,
            bytes_packaged=self.bytes,
        )


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


@dataclass
class _Collected:
    """What collection found, for the audit report and the manifest."""

    section_counts: dict[str, int] = field(default_factory=dict)
    redaction_notes: list[str] = field(default_factory=list)
    scope_notes: list[str] = field(default_factory=list)
    written: int = 0  # bytes of the finished sections' files

    @property
    def total(self) -> int:
        return sum(self.section_counts.values())


def _write_section(
    bundle: BundleWriter,
    *,
    path: str,
    name: str,
    rows: Iterator[tuple[Any, ...]],
    redactor: Redactor,
    format: str,
    progress: _Progress,
    written_before: int,
) -> tuple[int, int]:
    """Stream one section's rows through redaction into its ZIP entry; (rows, bytes) written."""
    count = 0
    with bundle.section(path, section=name) as sink:
        writer = open_writer(format, sink, redactor.output_columns, redactor.output_types)
        try:
            for chunk in _chunks(rows):
                writer.write_rows(redactor.apply_rows(chunk))
                count += len(chunk)
                progress.add(len(chunk), written_before + sink.bytes_written)
            writer.close()
        except BaseException as error:
            # Close the writer into the entry being discarded: a Parquet writer left open writes its
            # footer from its finaliser, later, into a closed entry.
            with contextlib.suppress(Exception):
                writer.close()
            if isinstance(error, ValueError):
                raise PackagingError(f"section {name}: {error}") from None
            raise
        size = sink.bytes_written
    bundle.set_rows(path, count)
    return count, size


def _collect(job: ExportJob, bundle: BundleWriter, progress: _Progress, failing: list[Mapping]) -> _Collected:
    """Every section of every substrate in scope, in order, into the bundle. `failing` holds the substrate
    being read, for the failure message."""
    scope = subject_scope(job.scope)
    extension = EXTENSIONS[Format(job.format)]
    collected = _Collected()
    if job.format_requested:
        collected.scope_notes.append(
            f"Format {job.format_requested!r} is not one of JSON, CSV, NDJSON, PARQUET: JSON was used."
        )
    for mapping in mappings_for(job.org, job.scope.get("substrates")):
        failing[:] = [mapping]
        with _open(mapping, job.org_id) as source:
            source.check()
            for table, plan in _sections(mapping, scope):
                name = f"{mapping.key}.{table.section}"
                collected.scope_notes.extend(plan.notes)
                redactor = Redactor(table)
                rows, size = _write_section(
                    bundle,
                    path=f"data/{mapping.key}/{table.section}.{extension}",
                    name=name,
                    rows=source.rows(plan, scope),
                    redactor=redactor,
                    format=job.format,
                    progress=progress,
                    written_before=collected.written,
                )
                collected.written += size
                collected.section_counts[name] = rows
                collected.redaction_notes.extend(redactor.notes(name))
    failing.clear()
    return collected


def _finish_bundle(
    job: ExportJob, bundle: BundleWriter, collected: _Collected, *, now: datetime
) -> tuple[dict[str, Any], BundleResult]:
    """Write the audit report, README.txt and manifest.json, close the ZIP and hash it."""
    audit = {
        "jobId": job.pk,
        "orgId": job.org_id,
        "requestedBy": job.requested_by,
        "requestedAt": job.created_at.isoformat(),
        "generatedAt": now.isoformat(),
        "sectionCounts": collected.section_counts,
        "totalRecords": collected.total,
        "redactionNotes": collected.redaction_notes,
        "scopeNotes": collected.scope_notes,
    }
    files = bundle.files
    bundle.add_json("audit_report.json", audit)
    bundle.add_text(
        "README.txt",
        readme_text(
            job_id=job.pk,
            org_id=job.org_id,
            org_name=job.org.name,
            generated_at=now.isoformat(),
            format=job.format,
            files=files,
        ),
    )
    bundle.add_json(
        "manifest.json",
        {
            "jobId": job.pk,
            "orgId": job.org_id,
            "format": job.format,
            "generatedAt": now.isoformat(),
            "scope": job.scope,
            "files": files,
            "totalRecords": collected.total,
            "redactionNotes": collected.redaction_notes,
            "scopeNotes": collected.scope_notes,
        },
    )
    return audit, bundle.close()


def _store(local_path: str, *, job: ExportJob, worker_id: str) -> str:
    attempt = worker_id.rsplit("-", 1)[-1] + f"-{int(time.time())}"
    try:
        return bundle_store(local_path, bundle_key_for(org_id=job.org_id, job_id=job.pk, attempt=attempt))
    except OSError:
        raise
    except Exception as error:
        # A remote storage's own errors (botocore's NoSuchBucket, AccessDenied, ...) are storage errors
        # too: say so, by the error's name only (its text may hold the bucket or the endpoint).
        raise StorageError(type(error).__name__) from None


def _mark_ready(
    job: ExportJob, *, worker_id: str, key: str, result: BundleResult, audit: dict[str, Any]
) -> None:
    ready_at = timezone.now()
    total = audit["totalRecords"]

    def make_ready(j: ExportJob) -> None:
        j.make_ready()
        j.bundle_key = key
        j.bundle_size = result.size_bytes
        j.bundle_sha256 = result.sha256
        j.ready_at = ready_at
        j.expires_at = ready_at + timedelta(seconds=settings.DSAR_EXPORT_TTL_SECONDS)
        j.bytes_packaged = result.size_bytes
        j.rows_collected = total
        j.audit_report = audit
        j.worker_id = ""
        j.last_heartbeat_at = ready_at

    actor = f"worker:{worker_id}"
    job_change(
        job_id=job.pk,
        now=ready_at,
        actor=actor,
        action="ready",
        notes=f"Bundle ready: {total:,} records, {result.size_bytes:,} bytes, sha256 {result.sha256}.",
        apply=make_ready,
        worker_id=worker_id,
        event_type="export.ready",
        request_note=(
            "export.ready",
            f"Export {job.pk} ready: {total:,} records ({job.format}).",
            {"bundleSha256": result.sha256, "totalRecords": total},
        ),
        # The subject's portal link (DELIVERY_READY), in the same transaction as READY.
        then=lambda j: delivery_offer(j, actor=actor, now=ready_at),
    )


def _failure_for(error: Exception, failing: list[Mapping], job_id: str) -> str:
    """The job's failure message: the substrate and the kind of error, never a DSN, a path or a value."""
    if isinstance(error, SourceError):
        return _failure_message(failing[0] if failing else None, error)
    if isinstance(error, PackagingError):
        return f"Packaging failed: {error}"
    if isinstance(error, StorageError):
        log.warning("Export %s: the storage refused the bundle (%s)", job_id, error)
        return f"Storing the bundle failed: storage error ({error})."
    if isinstance(error, OSError):
        log.warning("Export %s: storage or disk error (%s)", job_id, type(error).__name__)
        return f"Packaging failed: storage or disk error ({type(error).__name__}, errno {error.errno})."
    log.exception("Export %s failed", job_id)
    return f"Internal error while exporting ({type(error).__name__})."


def job_execute(job_id: str, *, worker_id: str) -> None:
    """Collect, package, store and mark READY — or FAILED with a message naming the substrate and the kind
    of error. Returns quietly if this worker loses the job on the way (its successor finishes it)."""
    job = ExportJob.objects.select_related("org").get(pk=job_id)
    work = work_dir_create(job_id=job.pk, worker_id=worker_id)
    stored_key = ""
    failing: list[Mapping] = []
    try:
        progress = _Progress(job.pk, worker_id)
        bundle = BundleWriter(str(work / "bundle.zip"), compresslevel=COMPRESS_LEVEL)
        try:
            collected = _collect(job, bundle, progress, failing)
            progress.beat()
            now = timezone.now()
            job_change(
                job_id=job.pk,
                now=now,
                actor=f"worker:{worker_id}",
                action="package",
                notes=f"{progress.rows:,} rows collected from {len(collected.section_counts)} sections; "
                "packaging.",
                apply=lambda j: j.package(),
                worker_id=worker_id,
            )
            audit, result = _finish_bundle(job, bundle, collected, now=now)
        finally:
            bundle.abort()
        stored_key = _store(str(work / "bundle.zip"), job=job, worker_id=worker_id)
        _mark_ready(job, worker_id=worker_id, key=stored_key, result=result, audit=audit)
        stored_key = ""  # it is the job's now
    except LostJob:
        log.info("Export %s: worker %s lost the job; stopping without writing.", job_id, worker_id)
    except Exception as error:
        job_fail(job_id=job_id, message=_failure_for(error, failing, job_id), worker_id=worker_id)
    finally:
        if stored_key:  # stored, but the job never became READY with it
            bundle_delete(stored_key)
        shutil.rmtree(work, ignore_errors=True)
        if ExportJob.objects.filter(pk=job_id, state__in=TERMINAL_STATES).exists():
            work_dirs_remove(job_id=job_id)  # also those of workers that died holding it
