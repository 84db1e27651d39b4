"""The export endpoints exactly as api-contract.md ("Export jobs") writes them."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from exports.models import ExportJob, State
from exports.sweeps import sweep_exports
from tests.exports.conftest import bundle_json, create_job, open_bundle, run_job

pytestmark = pytest.mark.django_db(transaction=False)

BUILTIN_ONLY = {"dataSubjectId": "jane@example.org", "substrates": ["dsar_core"]}


def test_create_answers_202_with_the_job_in_requested_and_the_active_limit(exporter):
    response = exporter.post(
        "/v1/compliance/dsar",
        {"scope": BUILTIN_ONLY, "format": "CSV", "requestNotes": "Ticket 4411"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["ok"] is True and body["contractVersion"] == "v1.0"
    data = body["data"]
    assert data["activeLimit"] == 3
    job = data["job"]
    assert job["id"].startswith("dsar:") and len(job["id"]) == 5 + 26
    assert job["state"] == "REQUESTED" and job["format"] == "CSV"
    assert job["orgId"] == exporter.org.id
    assert job["scope"] == BUILTIN_ONLY
    assert job["requestedBy"] == exporter.key.prefix
    assert job["requestNotes"] == "Ticket 4411"
    assert set(job) >= {
        "id",
        "orgId",
        "createdAt",
        "updatedAt",
        "scope",
        "requestedBy",
        "requestNotes",
        "progress",
        "delivery",
        "failure",
        "timeline",
        "state",
        "format",
    }
    assert job["progress"] == {
        "rowsCollected": 0,
        "rowsExpected": None,
        "bytesPackaged": 0,
        "lastHeartbeatAt": None,
        "workerId": None,
    }
    assert job["delivery"]["bundleUrl"] is None and job["failure"] is None
    assert [set(e) for e in job["timeline"]] == [{"at", "actor", "notes"}]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "scope"),
        ({"scope": {}}, "scope.dataSubjectId"),
        ({"scope": {"dataSubjectId": ""}}, "scope.dataSubjectId"),
        ({"scope": {"dataSubjectId": "x" * 257}}, "scope.dataSubjectId"),
        ({"scope": {"dataSubjectId": 42}}, "scope.dataSubjectId"),
        ({"scope": {"dataSubjectId": "a", "colour": "red"}}, "scope.colour"),
        ({"scope": {"dataSubjectId": "a", "windowStart": "2026-01-01"}}, "scope.windowStart"),
        ({"scope": {"dataSubjectId": "a", "windowStart": "2026-01-01T00:00:00"}}, "scope.windowStart"),
        (
            {
                "scope": {
                    "dataSubjectId": "a",
                    "windowStart": "2026-02-01T00:00:00Z",
                    "windowEnd": "2026-01-01T00:00:00Z",
                }
            },
            "scope.windowEnd",
        ),
        ({"scope": {"dataSubjectId": "a", "campaignIds": ["c"] * 101}}, "scope.campaignIds"),
        ({"scope": {"dataSubjectId": "a", "campaignIds": "c"}}, "scope.campaignIds"),
        ({"scope": {"dataSubjectId": "a", "substrates": ["dsar_core", "nope"]}}, "scope.substrates.1"),
        ({"scope": {"dataSubjectId": "a", "subjectIdentities": {"fax": "1"}}}, "scope.subjectIdentities.fax"),
        ({"scope": {"dataSubjectId": "a"}, "format": 7}, "format"),
        ({"scope": {"dataSubjectId": "a"}, "requestNotes": "n" * 10_001}, "requestNotes"),
        ({"scope": {"dataSubjectId": "a"}, "surprise": True}, "surprise"),
        ({"scope": {"dataSubjectId": "a"}, "requestId": "req_nope"}, "requestId"),
    ],
)
def test_bad_bodies_answer_400_naming_the_field(exporter, body, field):
    response = exporter.post("/v1/compliance/dsar", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]
    assert ExportJob.objects.count() == 0


def test_a_disabled_substrate_is_refused_like_an_unknown_one(exporter, crm):
    crm.enabled = False
    crm.save()
    response = exporter.post("/v1/compliance/dsar", {"scope": {"dataSubjectId": "a", "substrates": ["crm"]}})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "scope.substrates.0"


def test_an_unknown_format_falls_back_to_json_and_the_timeline_says_so(exporter):
    job = create_job(exporter, scope=BUILTIN_ONLY, format="XLSX")
    assert job["format"] == "JSON"
    assert "XLSX" in job["timeline"][0]["notes"]
    done = run_job(exporter, job["id"])
    assert any("XLSX" in note for note in done["auditReport"]["scopeNotes"])


def test_the_active_cap_answers_429_with_retry_after(exporter, settings):
    for _ in range(3):
        create_job(exporter, scope=BUILTIN_ONLY)
    response = exporter.post("/v1/compliance/dsar", {"scope": BUILTIN_ONLY})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert ExportJob.objects.count() == 3


def test_a_job_not_run_within_24_hours_fails_and_frees_its_place(exporter):
    jobs = [create_job(exporter, scope=BUILTIN_ONLY) for _ in range(3)]
    ExportJob.objects.filter(pk=jobs[0]["id"]).update(created_at=timezone.now() - timedelta(hours=25))
    result = sweep_exports(now=timezone.now())
    assert result.not_run == 1
    failed = exporter.get(f"/v1/compliance/dsar/{jobs[0]['id']}").json()["data"]["job"]
    assert failed["state"] == "FAILED" and "Not run" in failed["failure"]["message"]
    create_job(exporter, scope=BUILTIN_ONLY)  # no 429: the failed job no longer counts


def test_list_counts_every_state_and_filters(exporter, other_exporter):
    first = create_job(exporter, scope=BUILTIN_ONLY)
    create_job(exporter, scope=BUILTIN_ONLY)
    create_job(other_exporter, scope=BUILTIN_ONLY)
    run_job(exporter, first["id"])
    body = exporter.get("/v1/compliance/dsar").json()["data"]
    assert body["total"] == 2 and body["filteredCount"] == 2
    assert body["counts"] == {
        "REQUESTED": 1,
        "COLLECTING": 0,
        "PACKAGING": 0,
        "READY": 1,
        "DELIVERED": 0,
        "EXPIRED": 0,
        "FAILED": 0,
    }
    assert body["activeCount"] == 1 and body["activeLimit"] == 3
    assert [j["id"] for j in body["jobs"]][-1] == first["id"]  # newest first
    ready = exporter.get("/v1/compliance/dsar?state=READY").json()["data"]
    assert ready["filteredCount"] == 1 and ready["total"] == 2
    assert [j["id"] for j in ready["jobs"]] == [first["id"]]
    page = exporter.get("/v1/compliance/dsar?limit=1&offset=1").json()["data"]
    assert [j["id"] for j in page["jobs"]] == [first["id"]]


@pytest.mark.parametrize(
    "query", ["state=DONE", "limit=0", "limit=201", "limit=abc", "offset=-1", "colour=red"]
)
def test_bad_list_queries_answer_400(exporter, query):
    response = exporter.get(f"/v1/compliance/dsar?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_another_orgs_job_answers_404_everywhere(exporter, other_exporter):
    job = create_job(other_exporter, scope=BUILTIN_ONLY)
    for method, path in [
        ("get", f"/v1/compliance/dsar/{job['id']}"),
        ("post", f"/v1/compliance/dsar/{job['id']}/run"),
        ("get", f"/v1/compliance/dsar/{job['id']}/download"),
        ("post", f"/v1/compliance/dsar/{job['id']}/revoke-link"),
    ]:
        response = getattr(exporter, method)(path)
        assert response.status_code == 404, (path, response.content)
        assert response.json()["error"]["code"] == "not_found"
    assert ExportJob.objects.get(pk=job["id"]).state == State.REQUESTED


def test_every_export_endpoint_needs_the_export_scope(officer):
    for method, path in [
        ("get", "/v1/compliance/dsar"),
        ("post", "/v1/compliance/dsar"),
        ("get", "/v1/compliance/dsar/dsar:01J0000000000000000000000/download"),
        ("get", "/v1/substrates"),
    ]:
        response = getattr(officer, method)(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


def test_run_finishes_inline_with_the_audit_report(exporter, make_request):
    make_request()  # Jane's request: dsar_core holds it
    job = create_job(exporter, scope=BUILTIN_ONLY)
    data = run_job(exporter, job["id"])
    done, report = data["job"], data["auditReport"]
    assert done["state"] == "READY"
    assert report["jobId"] == job["id"] and report["orgId"] == exporter.org.id
    # The request was never acknowledged: no message to the subject yet.
    assert report["sectionCounts"] == {
        "dsar_core.requests": 1,
        "dsar_core.timeline": 1,
        "dsar_core.messages": 0,
    }
    assert report["totalRecords"] == 2
    assert set(report) >= {"requestedBy", "requestedAt", "generatedAt", "redactionNotes", "scopeNotes"}
    delivery = done["delivery"]
    assert delivery["bundleUrl"].startswith("http://testserver/v1/compliance/dsar/")
    assert len(delivery["bundleSha256"]) == 64 and delivery["bundleSizeBytes"] > 0
    assert delivery["bundleR2Key"]
    assert done["progress"]["rowsCollected"] == 2 and done["progress"]["rowsExpected"] == 2
    assert [e["notes"][:10] for e in done["timeline"]][-1].startswith("Bundle rea")


def test_a_second_run_is_409_with_the_allowed_actions(exporter):
    job = create_job(exporter, scope=BUILTIN_ONLY)
    run_job(exporter, job["id"])
    response = exporter.post(f"/v1/compliance/dsar/{job['id']}/run")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "run" not in [d.get("allowedAction") for d in error["details"]]


def test_download_by_key_serves_the_bundle_and_delivers_the_job(exporter, make_request):
    make_request()
    job = create_job(exporter, scope=BUILTIN_ONLY)
    ready = run_job(exporter, job["id"])["job"]
    response = exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    digest = hashlib.sha256(content).digest()
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Length"] == str(len(content)) == str(ready["delivery"]["bundleSizeBytes"])
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert response["ETag"] == f'"{digest.hex()}"' and digest.hex() == ready["delivery"]["bundleSha256"]
    assert response["Cache-Control"] == "no-store"
    after = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]
    assert after["state"] == "DELIVERED"
    assert after["delivery"]["downloadedBy"] == exporter.key.prefix and after["delivery"]["downloadedAt"]
    again = exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    assert again.status_code == 200  # later downloads until expiry are allowed and logged
    timeline = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]["timeline"]
    assert "again" in timeline[-1]["notes"]


def test_the_bundle_holds_manifest_audit_readme_and_one_file_per_section(exporter, make_request):
    make_request()
    job = create_job(exporter, scope=BUILTIN_ONLY, format="NDJSON")
    run_job(exporter, job["id"])
    content = b"".join(exporter.get(f"/v1/compliance/dsar/{job['id']}/download").streaming_content)
    with open_bundle(content) as bundle:
        names = set(bundle.namelist())
        manifest = bundle_json(content, "manifest.json")
        assert names == {
            "manifest.json",
            "audit_report.json",
            "README.txt",
            "data/dsar_core/requests.ndjson",
            "data/dsar_core/timeline.ndjson",
            "data/dsar_core/messages.ndjson",
        }
        assert set(manifest) >= {
            "jobId",
            "orgId",
            "format",
            "generatedAt",
            "scope",
            "files",
            "totalRecords",
            "redactionNotes",
            "scopeNotes",
        }
        for entry in manifest["files"]:
            data = bundle.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"]
            assert data.count(b"\n") == entry["rows"]
        assert "sha256" in bundle.read("README.txt").decode()
    assert bundle_json(content, "audit_report.json")["totalRecords"] == manifest["totalRecords"] == 2


def test_a_token_alone_downloads_and_records_link(exporter, make_request):
    make_request()
    job = create_job(exporter, scope=BUILTIN_ONLY)
    url = run_job(exporter, job["id"])["job"]["delivery"]["bundleUrl"]
    response = exporter.api.get(url.removeprefix("http://testserver"))  # no Authorization header
    assert response.status_code == 200
    after = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]
    assert after["state"] == "DELIVERED" and after["delivery"]["downloadedBy"] == "link"


def test_tampered_foreign_revoked_and_expired_tokens_answer_401(exporter, make_request):
    make_request()
    first = create_job(exporter, scope=BUILTIN_ONLY)
    second = create_job(exporter, scope=BUILTIN_ONLY)
    url = run_job(exporter, first["id"])["job"]["delivery"]["bundleUrl"].removeprefix("http://testserver")
    other_url = run_job(exporter, second["id"])["job"]["delivery"]["bundleUrl"]
    path, _, token = url.partition("?token=")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert exporter.api.get(f"{path}?token={tampered}").status_code == 401
    foreign = other_url.partition("?token=")[2]
    assert exporter.api.get(f"{path}?token={foreign}").status_code == 401
    revoked = exporter.post(f"/v1/compliance/dsar/{first['id']}/revoke-link")
    assert revoked.status_code == 200
    new_url = revoked.json()["data"]["job"]["delivery"]["bundleUrl"]
    assert new_url and new_url != "http://testserver" + url
    response = exporter.api.get(url)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    assert exporter.api.get(new_url.removeprefix("http://testserver")).status_code == 200
    ExportJob.objects.filter(pk=first["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert exporter.api.get(new_url.removeprefix("http://testserver")).status_code == 401


def test_download_before_ready_is_409(exporter):
    job = create_job(exporter, scope=BUILTIN_ONLY)
    response = exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


def test_the_ttl_sweep_expires_a_ready_bundle_and_deletes_it(exporter):
    from exports.storage import export_storage

    job = create_job(exporter, scope=BUILTIN_ONLY)
    key = run_job(exporter, job["id"])["job"]["delivery"]["bundleR2Key"]
    assert export_storage().exists(key)
    ExportJob.objects.filter(pk=job["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    result = sweep_exports(now=timezone.now())
    assert result.expired == 1
    assert not export_storage().exists(key)
    after = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]
    assert after["state"] == "EXPIRED" and after["delivery"]["bundleUrl"] is None
    response = exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    assert response.status_code == 409


def test_a_delivered_bundle_past_expiry_is_deleted_and_the_job_stays_delivered(exporter):
    from exports.storage import export_storage

    job = create_job(exporter, scope=BUILTIN_ONLY)
    key = run_job(exporter, job["id"])["job"]["delivery"]["bundleR2Key"]
    exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    ExportJob.objects.filter(pk=job["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    sweep_exports(now=timezone.now())
    after = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]
    assert after["state"] == "DELIVERED" and after["delivery"]["bundleUrl"] is None
    assert not export_storage().exists(key)


def test_substrates_list_names_sections_and_never_a_dsn(exporter, crm):
    response = exporter.get("/v1/substrates")
    assert response.status_code == 200
    substrates = response.json()["data"]["substrates"]
    assert [s["key"] for s in substrates] == ["dsar_core", "crm"]
    crm_row = substrates[1]
    assert set(crm_row) == {"key", "kind", "description", "enabled", "sections"}
    assert crm_row["kind"] == "sql" and crm_row["enabled"] is True
    assert {s["name"] for s in crm_row["sections"]} == {
        "crm.customers",
        "crm.orders",
        "crm.support_tickets",
        "crm.consents",
    }
    text = response.content.decode()
    assert "sqlite" not in text and "DSAR_DEMO_CRM_URL" not in text and "crm.sqlite3" not in text


def test_every_event_is_in_the_outbox(exporter):
    from notifications.models import OutboxEvent

    job = create_job(exporter, scope=BUILTIN_ONLY)
    run_job(exporter, job["id"])
    exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    types = list(
        OutboxEvent.objects.filter(org=exporter.org).order_by("created_at").values_list("type", flat=True)
    )
    assert types == ["export.requested", "export.ready", "export.delivered"]


def test_an_idempotent_retry_of_create_and_run_returns_the_first_answer(exporter):
    body = {"scope": BUILTIN_ONLY}
    first = exporter.post("/v1/compliance/dsar", body, **{"Idempotency-Key": "create-1"})
    again = exporter.post("/v1/compliance/dsar", body, **{"Idempotency-Key": "create-1"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert ExportJob.objects.count() == 1
    other = exporter.post(
        "/v1/compliance/dsar", {"scope": {"dataSubjectId": "b"}}, **{"Idempotency-Key": "create-1"}
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
    job_id = first.json()["data"]["job"]["id"]
    ran = exporter.post(f"/v1/compliance/dsar/{job_id}/run", **{"Idempotency-Key": "run-1"})
    replay = exporter.post(f"/v1/compliance/dsar/{job_id}/run", **{"Idempotency-Key": "run-1"})
    assert ran.status_code == replay.status_code == 200
    assert replay.json()["data"]["job"]["state"] == "READY"


def test_the_database_refuses_to_change_or_delete_a_jobs_timeline(exporter):
    from django.db import IntegrityError, transaction

    from exports.models import ExportJobEntry

    job = create_job(exporter, scope=BUILTIN_ONLY)
    entries = ExportJobEntry.objects.filter(job_id=job["id"])
    for statement in (lambda: entries.update(notes="x"), lambda: entries.delete()):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            statement()
    assert entries.get().notes.startswith("Export requested")


def test_a_stored_bundle_and_its_folders_are_the_owners_alone(exporter, settings):
    import os
    import stat
    from pathlib import Path

    from exports.storage import export_storage

    job = create_job(exporter, scope=BUILTIN_ONLY)
    key = run_job(exporter, job["id"])["job"]["delivery"]["bundleR2Key"]
    path = Path(export_storage().path(key))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    folder = path.parent
    while folder != Path(settings.DSAR_EXPORT_DIR):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
        folder = folder.parent
    assert not any(Path(settings.DSAR_EXPORT_WORK_DIR).iterdir())  # the work directory is gone


def test_the_production_storage_settings_are_owner_only():
    from dsar_project import settings as project

    options = project.STORAGES["exports"]["OPTIONS"]
    assert options["file_permissions_mode"] == 0o600 and options["directory_permissions_mode"] == 0o700
