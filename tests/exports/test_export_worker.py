"""Export jobs in the background: handed off by `run`, claimed and finished by the embedded worker or by the
Celery task on its own `exports` queue, requeued when a queued task never ran, and taken over once when a
worker dies mid-collection (a real `manage.py run_worker` process, SIGKILLed), then failed naming the
second worker if that one dies too.

`export_take_and_run` closes its thread's database connection when it ends (it runs on worker threads), so
every test that calls it in-process commits for real (`transaction=True`).

The SIGKILL tests read a PostgreSQL scratch database of this module's own (on the local server, or the one
DATABASE_URL names), whose `people_slow` view stalls at a row the test chooses: the worker has read and
heartbeated its first chunk, then waits there until it is killed. They run in both passes of the suite.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.utils import timezone
from psycopg import sql

from dsar_project.background.tasks import EXPORT_RUN_TASK, dispatch_task, export_run_task
from dsar_project.background.worker import run_loop
from exports.background import export_take_and_run, exports_enqueue, jobs_waiting
from exports.models import ExportJob, State
from exports.services.substrates import substrate_register
from exports.sweeps import sweep_exports
from tests.exports.conftest import bundle_json, create_job
from tests.notifications.conftest import ROOT, Procs, database_url_for_subprocesses

pytestmark = pytest.mark.django_db(transaction=True)

JANE = {"dataSubjectId": "jane@example.org", "subjectIdentities": {"email": "jane@example.org"}}
CRM = {**JANE, "substrates": ["crm"]}


def job_now(exporter, job_id: str) -> dict:
    return exporter.get(f"/v1/compliance/dsar/{job_id}").json()["data"]["job"]


def hand_off(exporter, scope: dict) -> dict:
    """Create and run a job that `run` hands to the background (DSAR_EXPORT_INLINE_ROWS = 0)."""
    job = create_job(exporter, scope=scope)
    response = exporter.post(f"/v1/compliance/dsar/{job['id']}/run")
    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["auditReport"] is None
    return data["job"]


def stored_files(settings) -> list[Path]:
    root = Path(settings.DSAR_EXPORT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def work_dirs(settings) -> list[Path]:
    root = Path(settings.DSAR_EXPORT_WORK_DIR)
    return sorted(root.iterdir()) if root.exists() else []


@pytest.fixture
def background(settings):
    settings.DSAR_EXPORT_INLINE_ROWS = 0
    settings.CELERY_BROKER_URL = ""
    return settings


# --- the embedded worker ------------------------------------------------------------------------------------


def test_a_handed_off_job_is_collecting_with_no_worker_until_one_takes_it(exporter, crm, background):
    job = hand_off(exporter, CRM)
    assert job["state"] == "COLLECTING"
    assert job["progress"]["workerId"] is None
    assert job["progress"]["rowsExpected"] > 0
    assert "finishing in the background" in job["timeline"][-1]["notes"]
    assert jobs_waiting(10) == [job["id"]]

    assert export_take_and_run(job["id"]) is True
    done = job_now(exporter, job["id"])
    assert done["state"] == "READY"
    assert done["progress"]["workerId"] is None
    assert done["progress"]["rowsCollected"] == job["progress"]["rowsExpected"]
    worker_actor = done["timeline"][-1]["actor"]
    assert worker_actor.startswith("worker:") and f"/{os.getpid()}/worker-" in worker_actor
    assert len(stored_files(background)) == 1 and work_dirs(background) == []

    assert export_take_and_run(job["id"]) is False  # a second take finds nothing to do
    assert jobs_waiting(10) == []
    assert job_now(exporter, job["id"])["timeline"] == done["timeline"]


def test_two_workers_taking_the_same_job_at_once_run_it_once(exporter, crm, background):
    job = hand_off(exporter, CRM)
    start = threading.Barrier(2)
    results: list[bool] = []

    def take() -> None:
        start.wait(5)
        results.append(export_take_and_run(job["id"]))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False, True]
    assert job_now(exporter, job["id"])["state"] == "READY"
    assert len(stored_files(background)) == 1


def test_one_pass_of_the_embedded_loop_finishes_a_waiting_job(exporter, crm, background):
    job = hand_off(exporter, CRM)
    run_loop(threading.Event(), once=True, poll_seconds=0.01, sweep_seconds=3600)
    assert job_now(exporter, job["id"])["state"] == "READY"


# --- Celery: the `exports` queue ---------------------------------------------------------------------------


def test_the_run_task_is_on_the_exports_queue_acks_late_and_never_retries_by_itself():
    from dsar_project.celery import app

    route = app.amqp.router.route({}, EXPORT_RUN_TASK)
    assert route["queue"].name == "exports"
    assert app.amqp.router.route({}, dispatch_task.name)["queue"].name != "exports"
    task = app.tasks[EXPORT_RUN_TASK]
    assert task is export_run_task or task.name == export_run_task.name
    assert task.acks_late is True
    assert not getattr(task, "autoretry_for", ())
    assert not getattr(task, "retry_backoff", False)
    assert app.conf.task_reject_on_worker_lost is True  # a killed worker's task goes back to the queue


def test_enqueue_marks_the_job_queued_and_sends_it_once(exporter, crm, background):
    job = hand_off(exporter, CRM)
    sent: list[str] = []
    assert exports_enqueue(sent.append) == 1
    assert sent == [job["id"]]
    assert ExportJob.objects.get(pk=job["id"]).worker_id == "queued"
    assert exports_enqueue(sent.append) == 0  # already queued: not sent again
    assert sent == [job["id"]]

    assert export_run_task(job["id"]) is True  # what a Celery worker runs for the message
    assert job_now(exporter, job["id"])["state"] == "READY"
    assert export_run_task(job["id"]) is False  # a redelivered message does nothing


def test_a_queued_job_no_worker_picked_up_is_requeued_by_the_sweep(exporter, crm, background):
    background.DSAR_EXPORT_STALE_SECONDS = 30
    job = hand_off(exporter, CRM)
    sent: list[str] = []
    exports_enqueue(sent.append)
    assert sweep_exports(now=timezone.now()).requeued == 0  # not stale yet
    later = timezone.now() + timedelta(seconds=31)
    result = sweep_exports(now=later)
    assert result.requeued == 1 and result.taken_over == 0
    row = ExportJob.objects.get(pk=job["id"])
    assert row.worker_id == "" and row.state == State.COLLECTING and row.takeovers == 0
    assert exports_enqueue(sent.append) == 1
    assert sent == [job["id"], job["id"]]
    assert export_run_task(job["id"]) is True
    assert job_now(exporter, job["id"])["state"] == "READY"


def test_the_dispatch_task_sends_waiting_jobs_to_the_run_task_by_name(exporter, crm, background, monkeypatch):
    from dsar_project.celery import app

    job = hand_off(exporter, CRM)
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **kw: sent.append((name, args)))
    monkeypatch.setattr("dsar_project.background.periodic.dispatch_pass", lambda: 0)
    dispatch_task.apply()
    assert sent == [(EXPORT_RUN_TASK, [job["id"]])]
    assert ExportJob.objects.get(pk=job["id"]).worker_id == "queued"


# --- a worker SIGKILLed mid-collection ----------------------------------------------------------------------

ROWS = 5000
STALL_AT = 3000  # past the first chunk of 2,000 rows: the worker has heartbeated before it stalls

SCRATCH_SCHEMA = f"""
CREATE TABLE control (delay float8 NOT NULL, at_id int NOT NULL);
INSERT INTO control VALUES (0, 0);
CREATE FUNCTION stall_at(i int) RETURNS boolean LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN i = c.at_id AND c.delay > 0 THEN pg_sleep(c.delay) IS NOT NULL ELSE true END
    FROM control c
$$;
CREATE TABLE people (id int PRIMARY KEY, account_id text, email text, name text, note text);
INSERT INTO people SELECT n, 'acme', 'jane@example.org', 'Jane', 'note ' || n
    FROM generate_series(1, {ROWS}) n;
CREATE VIEW people_slow AS SELECT id, account_id, email, name, note FROM people WHERE stall_at(id);
"""


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


@pytest.fixture(scope="module")
def pg_scratch():
    server = _server_url()
    name = f"dsar_export_worker_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # A killed worker's backend stops at once instead of sleeping out its stall.
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET client_connection_check_interval = '200ms'").format(
                sql.Identifier(name)
            )
        )
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
    def set_stall(delay: float, at_id: int = STALL_AT) -> None:
        with psycopg.connect(pg_scratch, autocommit=True) as db:
            db.execute("UPDATE control SET delay = %s, at_id = %s", [delay, at_id])

    yield set_stall
    set_stall(0, 0)


@pytest.fixture
def slowdb(org, pg_scratch, monkeypatch, stall):
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


@pytest.fixture
def workers(transactional_db, tmp_path, settings, pg_scratch):
    """`workers.start()`: a real `manage.py run_worker` on this test database, the test's export folders
    and the scratch database; every one is stopped (or already killed) when the test ends, before the
    test database is flushed."""
    procs = Procs(tmp_path)

    class Workers:
        count = 0

        def start(self):
            self.count += 1
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))}
            env.pop("CELERY_BROKER_URL", None)
            env.pop("DSAR_WORKER_WAKE_PORT", None)
            env.update(
                DATABASE_URL=database_url_for_subprocesses(),
                DJANGO_SETTINGS_MODULE="dsar_project.settings",
                PYTHONPATH=str(ROOT),
                PYTHONUNBUFFERED="1",
                DSAR_EXPORT_DIR=settings.DSAR_EXPORT_DIR,
                DSAR_EXPORT_WORK_DIR=settings.DSAR_EXPORT_WORK_DIR,
                DSAR_EXPORT_HEARTBEAT_SECONDS="0",  # a heartbeat after every chunk
                DSAR_EXPORT_STATEMENT_TIMEOUT="120",  # the stall is not a timeout
                SLOWDB_URL=pg_scratch,
            )
            args = [
                sys.executable,
                "manage.py",
                "run_worker",
                "--poll-seconds",
                "0.1",
                "--sweep-seconds",
                "3600",
            ]
            return procs.start(f"run_worker-{self.count}", args, env=env)

    yield Workers()
    procs.stop_all()


def wait_for_heartbeat(job_id: str, proc, *, timeout: float = 30.0) -> ExportJob:
    """Until the child process holds the job and has heartbeated rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = ExportJob.objects.get(pk=job_id)
        if f"/{proc.popen.pid}/" in row.worker_id and row.rows_collected > 0:
            return row
        if proc.popen.poll() is not None:
            raise AssertionError(f"the worker exited:\n{proc.output()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"the worker never heartbeated the job:\n{proc.output()[-3000:]}")


def kill_mid_collection(job_id: str, workers, settings) -> str:
    """Start a real worker, wait until it holds the job and has heartbeated its first chunk (the source
    stalls after it), SIGKILL it; its worker id."""
    proc = workers.start()
    held = wait_for_heartbeat(job_id, proc)
    assert held.state == State.COLLECTING and held.rows_collected == 2000
    proc.kill()
    assert proc.popen.returncode == -9
    # It died holding the job, leaving its work directory behind.
    assert any(held.worker_id.replace("/", "_") in p.name for p in work_dirs(settings))
    return held.worker_id


def test_a_worker_killed_mid_collection_is_taken_over_and_another_finishes_the_job(
    exporter, slowdb, stall, workers, background
):
    background.DSAR_EXPORT_STALE_SECONDS = 5
    job = hand_off(exporter, {**JANE, "substrates": ["slowdb"]})
    assert job["progress"]["rowsExpected"] == ROWS
    stall(60)
    dead = kill_mid_collection(job["id"], workers, background)

    assert sweep_exports(now=timezone.now()).taken_over == 0  # its heartbeat is fresh: not stale yet
    result = sweep_exports(now=timezone.now() + timedelta(seconds=6))
    assert result.taken_over == 1 and result.stalled == 0
    taken = job_now(exporter, job["id"])
    assert taken["state"] == "COLLECTING"
    assert taken["progress"]["workerId"] is None and taken["progress"]["rowsCollected"] == 0
    assert dead in taken["timeline"][-1]["notes"] and "stopped heartbeating" in taken["timeline"][-1]["notes"]
    row = ExportJob.objects.get(pk=job["id"])
    assert row.takeovers == 1
    assert work_dirs(background) == []  # the dead worker's partial bundle is gone

    stall(0)
    assert export_take_and_run(job["id"]) is True
    done = job_now(exporter, job["id"])
    assert done["state"] == "READY"
    assert done["progress"]["rowsCollected"] == ROWS
    assert dead not in done["timeline"][-1]["actor"]
    content = b"".join(exporter.get(f"/v1/compliance/dsar/{job['id']}/download").streaming_content)
    manifest = bundle_json(content, "manifest.json")
    assert manifest["totalRecords"] == ROWS
    assert [(f["section"], f["rows"]) for f in manifest["files"]] == [("slowdb.people_slow", ROWS)]
    assert len(stored_files(background)) == 1 and work_dirs(background) == []
    assert ExportJob.objects.get(pk=job["id"]).takeovers == 1


def test_a_job_whose_second_worker_also_dies_is_failed_naming_that_worker(
    exporter, slowdb, stall, workers, background
):
    background.DSAR_EXPORT_STALE_SECONDS = 5
    job = hand_off(exporter, {**JANE, "substrates": ["slowdb"]})
    stall(60)
    first = kill_mid_collection(job["id"], workers, background)
    assert sweep_exports(now=timezone.now() + timedelta(seconds=6)).taken_over == 1

    second = kill_mid_collection(job["id"], workers, background)
    assert second != first
    result = sweep_exports(now=timezone.now() + timedelta(seconds=6))
    assert result.stalled == 1 and result.taken_over == 0
    failed = job_now(exporter, job["id"])
    assert failed["state"] == "FAILED"
    assert failed["failure"]["workerId"] == second
    assert second in failed["failure"]["message"] and "after a takeover" in failed["failure"]["message"]
    assert ExportJob.objects.get(pk=job["id"]).takeovers == 1  # taken over once only
    assert stored_files(background) == [] and work_dirs(background) == []
    assert sweep_exports(now=timezone.now() + timedelta(seconds=60)).stalled == 0  # failed once
