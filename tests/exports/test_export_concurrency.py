"""Concurrency and fencing: two runs of one job (one winner, one 409), the active cap under concurrent
creates, and a worker that lost its job to a takeover: it can neither heartbeat nor change the job, cannot
mark it READY, and leaves no blob in storage — whether it wakes up before or after its successor finished.

The concurrent tests use real threads, each with its own database connection, so they commit for real
(`transaction=True`); they run on SQLite (IMMEDIATE transactions) and on PostgreSQL (row locks).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

import exports.pipeline
import exports.services.jobs
from exports.background import export_take_and_run
from exports.models import ACTIVE_STATES, ExportJob, ExportJobEntry, State
from exports.pipeline import job_execute
from exports.services.jobs import job_claim, job_fail
from exports.services.machinery import LostJob, heartbeat, job_change, new_worker_id
from exports.sweeps import sweep_exports
from notifications.models import OutboxEvent
from tests.exports.conftest import create_job

pytestmark = pytest.mark.django_db(transaction=True)

BUILTIN = {"dataSubjectId": "jane@example.org", "substrates": ["dsar_core"]}
CRM = {"dataSubjectId": "jane@example.org", "subjectIdentities": {"email": "jane@example.org"}}


def stored_files(settings) -> list[Path]:
    root = Path(settings.DSAR_EXPORT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def work_dirs(settings) -> list[Path]:
    root = Path(settings.DSAR_EXPORT_WORK_DIR)
    return sorted(root.iterdir()) if root.exists() else []


def at_once(count: int, call) -> list:
    """Run `call(i)` on `count` threads released together; their results (an exception is a result)."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            start.wait(10)
            results[i] = call(i)
        except Exception as error:  # reported to the test as the result
            results[i] = error
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def post_as(exporter, path: str, body=None):
    client = APIClient()  # one per thread
    return client.post(path, data=body or {}, format="json", HTTP_AUTHORIZATION=f"Bearer {exporter.raw}")


# --- two runs of one job ---------------------------------------------------------------------------------


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "handed-off"])
def test_two_concurrent_runs_of_one_job_have_exactly_one_winner(exporter, crm, settings, monkeypatch, inline):
    if not inline:
        settings.DSAR_EXPORT_INLINE_ROWS = 0  # Jane has rows in crm: handed to the background
    job = create_job(exporter, scope=CRM)
    # Both calls read the job as REQUESTED before either claims it: the claim itself must pick one.
    both_read = threading.Barrier(2)
    real_get = exports.services.jobs.job_get

    def job_get(**kwargs):
        found = real_get(**kwargs)
        both_read.wait(10)
        return found

    monkeypatch.setattr(exports.services.jobs, "job_get", job_get)
    responses = at_once(2, lambda i: post_as(exporter, f"/v1/compliance/dsar/{job['id']}/run"))
    assert all(not isinstance(r, Exception) for r in responses), responses
    statuses = sorted(r.status_code for r in responses)
    assert statuses == ([200, 409] if inline else [202, 409]), [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error"]["code"] == "invalid_transition"
    row = ExportJob.objects.get(pk=job["id"])
    assert row.state == (State.READY if inline else State.COLLECTING)
    actions = list(ExportJobEntry.objects.filter(job=row).values_list("action", flat=True))
    assert actions.count("run") == 1
    assert len(stored_files(settings)) == (1 if inline else 0)
    ready_events = OutboxEvent.objects.filter(type="export.ready").count()
    assert ready_events == (1 if inline else 0)


def test_many_concurrent_runs_of_one_job_still_have_one_winner(exporter, settings):
    job = create_job(exporter, scope=BUILTIN)
    responses = at_once(4, lambda i: post_as(exporter, f"/v1/compliance/dsar/{job['id']}/run"))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert ExportJob.objects.get(pk=job["id"]).state == State.READY
    assert len(stored_files(settings)) == 1


# --- the active cap ---------------------------------------------------------------------------------------


def test_the_active_cap_holds_under_concurrent_creates(exporter, settings):
    settings.DSAR_EXPORT_ACTIVE_LIMIT = 3
    responses = at_once(7, lambda i: post_as(exporter, "/v1/compliance/dsar", {"scope": BUILTIN}))
    assert all(not isinstance(r, Exception) for r in responses), responses
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 3 + [429] * 4, [r.content for r in responses]
    assert all(r.json()["error"]["code"] == "rate_limited" for r in responses if r.status_code == 429)
    assert ExportJob.objects.filter(org=exporter.org, state__in=ACTIVE_STATES).count() == 3
    assert ExportJob.objects.count() == 3


# --- fencing: a worker that lost its job ------------------------------------------------------------------


def _fields(job_id: str) -> dict:
    return ExportJob.objects.filter(pk=job_id).values().get()


def handed_off_job(exporter, settings, scope=CRM) -> str:
    settings.DSAR_EXPORT_INLINE_ROWS = 0
    job = create_job(exporter, scope=scope)
    assert exporter.post(f"/v1/compliance/dsar/{job['id']}/run").status_code == 202
    return job["id"]


def take_over(settings) -> None:
    """The sweep, run as if the holder's heartbeat were long stale."""
    later = timezone.now() + timedelta(seconds=settings.DSAR_EXPORT_STALE_SECONDS + 1)
    assert sweep_exports(now=later).taken_over == 1


def test_a_worker_whose_job_was_taken_over_cannot_write_to_it(exporter, crm, settings):
    job_id = handed_off_job(exporter, settings)
    old, new = new_worker_id("worker"), new_worker_id("worker")
    assert job_claim(job_id=job_id, worker_id=old)
    heartbeat(job_id=job_id, worker_id=old, now=timezone.now(), rows_collected=10)  # it holds the job
    take_over(settings)
    assert job_claim(job_id=job_id, worker_id=new)
    heartbeat(job_id=job_id, worker_id=new, now=timezone.now(), rows_collected=5)
    before = _fields(job_id)
    entries = ExportJobEntry.objects.filter(job_id=job_id).count()

    with pytest.raises(LostJob):
        heartbeat(job_id=job_id, worker_id=old, now=timezone.now(), rows_collected=999)
    with pytest.raises(LostJob):
        job_change(
            job_id=job_id,
            now=timezone.now(),
            actor=f"worker:{old}",
            action="package",
            notes="packaging",
            apply=lambda j: j.package(),
            worker_id=old,
        )
    assert job_fail(job_id=job_id, message="the old worker gives up", worker_id=old) is None
    assert _fields(job_id) == before
    assert ExportJobEntry.objects.filter(job_id=job_id).count() == entries
    heartbeat(job_id=job_id, worker_id=new, now=timezone.now(), rows_collected=6)  # the successor still can


def test_a_stale_worker_resuming_collection_after_a_takeover_stops_without_writing(
    exporter, crm, settings, monkeypatch
):
    job_id = handed_off_job(exporter, settings)
    old = new_worker_id("worker")
    assert job_claim(job_id=job_id, worker_id=old)
    real_heartbeat = exports.pipeline.heartbeat

    def heartbeat_after_a_pause(**kwargs):
        # The worker stalled long enough to be taken over; now it wakes and reports its progress.
        if kwargs["worker_id"] == old and ExportJob.objects.get(pk=job_id).takeovers == 0:
            take_over(settings)
        return real_heartbeat(**kwargs)

    monkeypatch.setattr(exports.pipeline, "heartbeat", heartbeat_after_a_pause)
    job_execute(job_id, worker_id=old)
    row = ExportJob.objects.get(pk=job_id)
    assert row.state == State.COLLECTING and row.worker_id == "" and row.takeovers == 1
    assert row.bundle_key == "" and stored_files(settings) == [] and work_dirs(settings) == []

    assert export_take_and_run(job_id) is True
    assert ExportJob.objects.get(pk=job_id).state == State.READY
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize("successor_done", [False, True], ids=["successor-running", "successor-finished"])
def test_a_stale_worker_finishing_after_a_takeover_cannot_make_the_job_ready_nor_leave_its_blob(
    exporter, crm, settings, monkeypatch, successor_done
):
    job_id = handed_off_job(exporter, settings)
    old = new_worker_id("worker")
    assert job_claim(job_id=job_id, worker_id=old)
    real_store = exports.pipeline.bundle_store
    stale_keys: list[str] = []

    def store_then_lose_the_job(local_path: str, key: str) -> str:
        stored = real_store(local_path, key)
        if stale_keys:  # the successor's own store
            return stored
        stale_keys.append(stored)
        # Its blob is in storage; before it can mark the job READY it is taken over (and, in one case,
        # its successor runs the job to the end on a thread of its own).
        take_over(settings)
        if successor_done:
            finished: list[bool] = []
            successor = threading.Thread(
                target=lambda: finished.append(export_take_and_run(job_id)) or connections.close_all()
            )
            successor.start()
            successor.join(60)
            assert finished == [True]
        return stored

    monkeypatch.setattr(exports.pipeline, "bundle_store", store_then_lose_the_job)
    job_execute(job_id, worker_id=old)
    monkeypatch.setattr(exports.pipeline, "bundle_store", real_store)
    (stale_key,) = stale_keys
    row = ExportJob.objects.get(pk=job_id)
    assert row.takeovers == 1
    assert not (Path(settings.DSAR_EXPORT_DIR) / stale_key).exists()  # the stale blob was deleted
    entries = list(ExportJobEntry.objects.filter(job_id=job_id).values_list("action", "actor"))
    assert ("ready", f"worker:{old}") not in entries
    if successor_done:
        assert row.state == State.READY and row.bundle_key and row.bundle_key != stale_key
        assert stored_files(settings) == [Path(settings.DSAR_EXPORT_DIR) / row.bundle_key]
    else:
        assert row.state == State.COLLECTING and row.bundle_key == "" and row.worker_id == ""
        assert stored_files(settings) == []
        assert export_take_and_run(job_id) is True
        row.refresh_from_db()
        assert row.state == State.READY
        assert stored_files(settings) == [Path(settings.DSAR_EXPORT_DIR) / row.bundle_key]
    assert work_dirs(settings) == []
