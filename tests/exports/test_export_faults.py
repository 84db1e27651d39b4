"""Faults while exporting (the issue's fault list): a source that refuses the connection, times out or lost a
column; a storage that fails while saving; a disk that fills up while the bundle is written.

Each one fails the job — `run` answers 200 with the job FAILED when it happens inline — with a message that
names the substrate and the kind of error, never a DSN, host, port, user, password or row value, and leaves
no bundle in storage and no work directory behind.

The PostgreSQL faults read a scratch database of this module's own on the local server (the one
DATABASE_URL names when the suite runs on PostgreSQL), created and dropped here: they need no particular
suite database, so they run in both passes.
"""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.files.storage import FileSystemStorage
from psycopg import sql

from exports.background import export_take_and_run
from exports.models import ExportJob, State
from exports.services.substrates import substrate_register
from notifications.models import OutboxEvent
from tests.exports.conftest import create_job
from tests.notifications.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=False)

JANE = {"dataSubjectId": "jane@example.org", "subjectIdentities": {"email": "jane@example.org"}}
# What the demo database and the scratch database hold about Jane: none of it may be in a failure.
ROW_VALUES = (
    "Jane",
    "jane@example.org",
    "7946",
    "0018",
    "203.0.113",
    "pbkdf2",
    "notarealhash",
    "charged twice",
    "fraud list",
    "Invoice question",
    "secret-note",
)
# What a DSN holds: none of it may be in a failure either.
DSN_PARTS = ("127.0.0.1", "localhost", "s3cr3t-pw", "exporter", "postgres://", "mysql://", "sqlite://")


def scope_of(*substrates: str) -> dict:
    return {**JANE, "substrates": list(substrates)}


# --- what a failed job must (not) leave --------------------------------------------------------------------


def stored_files(settings) -> list[Path]:
    root = Path(settings.DSAR_EXPORT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def work_dirs(settings) -> list[Path]:
    root = Path(settings.DSAR_EXPORT_WORK_DIR)
    return sorted(root.iterdir()) if root.exists() else []


def run_inline(exporter, job_id: str) -> dict:
    """POST run; a fault found inline still answers 200 with the job in its end state (the contract)."""
    response = exporter.post(f"/v1/compliance/dsar/{job_id}/run")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    if data["job"]["state"] == "FAILED":
        assert data["auditReport"] is None
    return data["job"]


def job_now(exporter, job_id: str) -> dict:
    return exporter.get(f"/v1/compliance/dsar/{job_id}").json()["data"]["job"]


def assert_failed_cleanly(job: dict, settings, *, kind: str, substrate: str | None, extra=()) -> str:
    """FAILED with `failure` naming the substrate and the kind; no DSN part or row value anywhere in the
    failure or the timeline; no bundle, no work directory, no export.ready event."""
    assert job["state"] == "FAILED", job
    failure = job["failure"]
    message = failure["message"]
    assert failure["failedAt"] and failure["workerId"]
    assert kind in message, message
    if substrate is not None:
        assert f"substrate {substrate}" in message, message
    notes = " ".join(entry["notes"] for entry in job["timeline"])
    for forbidden in (*DSN_PARTS, *ROW_VALUES, *extra):
        assert forbidden not in message, (forbidden, message)
        assert forbidden not in notes, (forbidden, notes)
    assert job["delivery"]["bundleR2Key"] is None and job["delivery"]["bundleSha256"] is None
    assert job["delivery"]["bundleUrl"] is None
    assert stored_files(settings) == []
    assert work_dirs(settings) == []
    row = ExportJob.objects.get(pk=job["id"])
    assert row.worker_id == "" and row.bundle_key == ""
    types_ = list(OutboxEvent.objects.filter(org_id=job["orgId"]).values_list("type", flat=True))
    assert "export.failed" in types_ and "export.ready" not in types_
    return message


# --- a PostgreSQL scratch database --------------------------------------------------------------------------


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


SCRATCH_SCHEMA = """
CREATE TABLE control (delay float8 NOT NULL, at_id int NOT NULL);
INSERT INTO control VALUES (0, 0);
-- Sleeps control.delay seconds when it reaches the row whose id is control.at_id: a source that stalls
-- part-way through, at a point the test chooses.
CREATE FUNCTION stall_at(i int) RETURNS boolean LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN i = c.at_id AND c.delay > 0 THEN pg_sleep(c.delay) IS NOT NULL ELSE true END
    FROM control c
$$;
CREATE TABLE people (id int PRIMARY KEY, account_id text, email text, name text, note text);
INSERT INTO people SELECT n, 'acme', 'jane@example.org', 'Jane', 'secret-note ' || n
    FROM generate_series(1, 3000) n;
CREATE VIEW people_slow AS SELECT id, account_id, email, name, note FROM people WHERE stall_at(id);
"""


@pytest.fixture(scope="module")
def pg_scratch():
    server = _server_url()
    name = f"dsar_export_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(server)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    try:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(SCRATCH_SCHEMA)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def stall(pg_scratch):
    """`stall(delay, at_id)`: make `people_slow` sleep `delay` s at row `at_id` (reset after the test)."""

    def set_stall(delay: float, at_id: int = 1) -> None:
        with psycopg.connect(pg_scratch, autocommit=True) as db:
            db.execute("UPDATE control SET delay = %s, at_id = %s", [delay, at_id])

    yield set_stall
    set_stall(0, 0)


@pytest.fixture
def slowdb(org, pg_scratch, monkeypatch, stall):
    """Substrate `slowdb`: the scratch database's `people_slow` view (3,000 rows, all Jane's)."""
    monkeypatch.setenv("SLOWDB_URL", pg_scratch)
    mapping = {
        "key": "slowdb",
        "kind": "sql",
        "dsnEnv": "SLOWDB_URL",
        "tenantFilter": {"column": "account_id", "value": "acme"},
        "tables": [
            {
                "name": "people_slow",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email", "name", "note"],
            }
        ],
    }
    return substrate_register(org=org, data=mapping).substrate


# --- a source that refuses the connection -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgres", "mysql"])
def test_a_source_refusing_the_connection_fails_the_job_naming_it_and_never_the_dsn(
    exporter, org, settings, monkeypatch, scheme
):
    port = free_port()  # nothing listens there: the connection is refused
    monkeypatch.setenv("LEGACY_DB_URL", f"{scheme}://exporter:s3cr3t-pw@127.0.0.1:{port}/legacy")
    mapping = {
        "key": "legacy",
        "kind": "sql",
        "dsnEnv": "LEGACY_DB_URL",
        "tables": [
            {
                "name": "people",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email"],
            }
        ],
    }
    substrate_register(org=org, data=mapping, check=False)  # registered while it was up, say
    job = create_job(exporter, scope=scope_of("legacy"))
    failed = run_inline(exporter, job["id"])
    message = assert_failed_cleanly(
        failed, settings, kind="connection_refused", substrate="legacy", extra=(str(port), "LEGACY_DB_URL")
    )
    assert failed["failure"]["workerId"]
    assert failed["timeline"][-1]["notes"] == message
    assert ExportJob.objects.get(pk=job["id"]).state == State.FAILED


def test_a_sqlite_source_whose_file_is_gone_is_refused_too(exporter, crm, settings, tmp_path):
    (tmp_path / "crm.sqlite3").unlink()
    job = create_job(exporter, scope=scope_of("crm"))
    failed = run_inline(exporter, job["id"])
    assert_failed_cleanly(
        failed, settings, kind="connection_refused", substrate="crm", extra=("crm.sqlite3",)
    )


# --- a source that times out -------------------------------------------------------------------------------


def test_a_statement_timeout_while_counting_fails_the_job_inline(exporter, slowdb, stall, settings):
    settings.DSAR_EXPORT_STATEMENT_TIMEOUT = 0.2
    stall(3, at_id=1)
    job = create_job(exporter, scope=scope_of("slowdb"))
    failed = run_inline(exporter, job["id"])
    message = assert_failed_cleanly(failed, settings, kind="timeout", substrate="slowdb")
    assert "people_slow" in message


@pytest.mark.django_db(transaction=True)  # export_take_and_run closes its connection
def test_a_statement_timeout_mid_collection_fails_the_job_and_drops_the_partial_bundle(
    exporter, slowdb, stall, settings
):
    """The first 2,000 rows are read and written into the bundle; the next fetch times out."""
    settings.DSAR_EXPORT_STATEMENT_TIMEOUT = 0.3
    settings.DSAR_EXPORT_INLINE_ROWS = 0  # counted (fast), then handed to the background
    job = create_job(exporter, scope=scope_of("slowdb"))
    response = exporter.post(f"/v1/compliance/dsar/{job['id']}/run")
    assert response.status_code == 202
    assert response.json()["data"]["job"]["progress"]["rowsExpected"] == 3000
    stall(3, at_id=2500)
    assert export_take_and_run(job["id"]) is True
    failed = job_now(exporter, job["id"])
    message = assert_failed_cleanly(failed, settings, kind="timeout", substrate="slowdb")
    assert "people_slow" in message
    assert "secret-note" not in message


# --- a source that lost a column -------------------------------------------------------------------------


def _drop_column(path: Path, table: str, column: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


def test_a_column_dropped_after_registration_fails_the_run_as_a_schema_mismatch(
    exporter, crm, settings, tmp_path
):
    _drop_column(tmp_path / "crm.sqlite3", "customers", "phone")
    job = create_job(exporter, scope=scope_of("crm"))
    failed = run_inline(exporter, job["id"])
    message = assert_failed_cleanly(failed, settings, kind="schema_mismatch", substrate="crm")
    assert "customers" in message and "phone" in message


@pytest.mark.django_db(transaction=True)  # export_take_and_run closes its connection
def test_a_column_dropped_while_the_job_waits_for_the_worker_fails_it_without_a_bundle(
    exporter, crm, settings, tmp_path
):
    settings.DSAR_EXPORT_INLINE_ROWS = 0
    job = create_job(exporter, scope=scope_of("crm"))
    assert exporter.post(f"/v1/compliance/dsar/{job['id']}/run").status_code == 202
    _drop_column(tmp_path / "crm.sqlite3", "support_tickets", "body")
    assert export_take_and_run(job["id"]) is True
    failed = job_now(exporter, job["id"])
    message = assert_failed_cleanly(failed, settings, kind="schema_mismatch", substrate="crm")
    assert "support_tickets" in message and "body" in message


def test_a_lost_column_on_postgresql_is_a_schema_mismatch(exporter, org, pg_scratch, settings, monkeypatch):
    with psycopg.connect(pg_scratch, autocommit=True) as db:
        db.execute("CREATE TABLE shrinking AS SELECT id, account_id, email, name, note FROM people LIMIT 3")
    try:
        monkeypatch.setenv("SHRINKING_URL", pg_scratch)
        substrate_register(
            org=org,
            data={
                "key": "shrinking",
                "kind": "sql",
                "dsnEnv": "SHRINKING_URL",
                "tables": [
                    {
                        "name": "shrinking",
                        "subject": {"column": "email", "identity": "email"},
                        "columns": ["id", "email", "note"],
                    }
                ],
            },
        )
        with psycopg.connect(pg_scratch, autocommit=True) as db:
            db.execute("ALTER TABLE shrinking DROP COLUMN note")
        job = create_job(exporter, scope=scope_of("shrinking"))
        failed = run_inline(exporter, job["id"])
        message = assert_failed_cleanly(failed, settings, kind="schema_mismatch", substrate="shrinking")
        assert "note" in message
    finally:
        with psycopg.connect(pg_scratch, autocommit=True) as db:
            db.execute("DROP TABLE IF EXISTS shrinking")


# --- a value the format cannot hold -------------------------------------------------------------------------


def test_a_value_that_cannot_be_written_fails_naming_the_column_never_the_value(exporter, org, crm, settings):
    from exports.demo import MAPPING

    mapping = {**MAPPING, "tables": [dict(t) for t in MAPPING["tables"]]}
    mapping["tables"][0]["types"] = {**mapping["tables"][0]["types"], "name": "int64"}  # names are not ints
    substrate_register(org=org, data=mapping)
    job = create_job(exporter, scope=scope_of("crm"), format="PARQUET")
    failed = run_inline(exporter, job["id"])
    message = assert_failed_cleanly(failed, settings, kind="Packaging failed", substrate=None)
    assert "crm.customers" in message and "name" in message


# --- a storage that fails while saving ----------------------------------------------------------------------

FULL_AFTER = 4096


class _FillsUp:
    """The bundle as the storage reads it: the first FULL_AFTER bytes, then the disk is full."""

    def __init__(self, content) -> None:
        self.content = content

    def chunks(self, chunk_size=None):
        self.content.seek(0)
        yield self.content.read(FULL_AFTER)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FullDiskStorage(FileSystemStorage):
    """Django's local storage on a disk that fills up part-way through saving a bundle: like the real
    thing, it leaves the part it wrote on disk when the write fails."""

    def _save(self, name, content):
        return super()._save(name, _FillsUp(content))


class RefusingStorage(FileSystemStorage):
    """A storage whose every save fails before writing anything (a remote store answering 503, say)."""

    def _save(self, name, content):
        raise OSError(errno.EIO, "the storage refused the upload")


@pytest.fixture
def storage_class(settings):
    def use(cls) -> None:
        settings.STORAGES = {
            **settings.STORAGES,
            "exports": {
                "BACKEND": f"{cls.__module__}.{cls.__qualname__}",
                "OPTIONS": {"location": settings.DSAR_EXPORT_DIR},
            },
        }

    return use


@pytest.mark.parametrize(
    "storage, errno_",
    [(FullDiskStorage, errno.ENOSPC), (RefusingStorage, errno.EIO)],
    ids=["full", "refusing"],
)
def test_a_storage_failing_on_save_fails_the_job_and_leaves_nothing_behind(
    exporter, crm, settings, storage_class, storage, errno_
):
    storage_class(storage)
    job = create_job(exporter, scope=scope_of("crm", "dsar_core"))
    failed = run_inline(exporter, job["id"])
    message = assert_failed_cleanly(failed, settings, kind="storage or disk error", substrate=None)
    assert f"errno {errno_}" in message


# --- a disk that fills up while the bundle is written -------------------------------------------------------


class _FillingFile(io.FileIO):
    """A local file on a disk with `room` bytes free: the write that would pass it fails with ENOSPC."""

    def __init__(self, path: str, room: int) -> None:
        super().__init__(path, "w+")
        self.room = room
        self.written = 0

    def write(self, data) -> int:
        size = len(memoryview(data).cast("B"))
        if self.written + size > self.room:
            free = self.room - self.written
            if free > 0:
                super().write(memoryview(data).cast("B")[:free])
                self.written += free
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.written += size
        return super().write(data)


def disk_with_room(monkeypatch, room: int) -> None:
    """BundleWriter's ZIP goes to a file on a disk with `room` bytes free."""
    import exports.bundle

    class ZipOnFullDisk(zipfile.ZipFile):
        def __init__(self, file, mode="r", *args, **kwargs):
            if isinstance(file, str) and mode == "w":
                super().__init__(_FillingFile(file, room), mode, *args, **kwargs)
                self._filePassed = 0  # closed with the archive, as when zipfile opens the path itself
            else:
                super().__init__(file, mode, *args, **kwargs)

    monkeypatch.setattr(exports.bundle.zipfile, "ZipFile", ZipOnFullDisk)


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.7, 0.99])
def test_a_disk_filling_up_while_packaging_fails_the_job_and_leaves_nothing_behind(
    exporter, crm, settings, monkeypatch, fraction
):
    """The disk fills at the start, in the data files, in the fixed files, or at the ZIP's central
    directory: each time FAILED, naming the error, and no half-written bundle anywhere."""
    first = create_job(exporter, scope=scope_of("crm", "dsar_core"))
    size = run_inline(exporter, first["id"])["delivery"]["bundleSizeBytes"]  # a whole bundle's size
    (kept,) = stored_files(settings)
    job = create_job(exporter, scope=scope_of("crm", "dsar_core"))
    disk_with_room(monkeypatch, int(size * fraction))
    failed = run_inline(exporter, job["id"])
    assert failed["state"] == "FAILED"
    message = failed["failure"]["message"]
    assert "storage or disk error" in message and f"errno {errno.ENOSPC}" in message, message
    for forbidden in (*DSN_PARTS, *ROW_VALUES):
        assert forbidden not in message
    assert stored_files(settings) == [kept]  # only the first job's bundle
    assert work_dirs(settings) == []
    assert failed["delivery"]["bundleR2Key"] is None
