"""An export through real sources, in every format, and a job that fulfils a request."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from exports.bundle import verify_bundle
from requests_app.models import TimelineEntry
from tests.exports.conftest import create_job, open_bundle, run_job

pytestmark = pytest.mark.django_db

JANE = {"dataSubjectId": "jane@example.org", "subjectIdentities": {"email": " Jane@Example.org "}}


def _download(client, job_id) -> bytes:
    response = client.get(f"/v1/compliance/dsar/{job_id}/download")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("fmt", ["JSON", "CSV", "NDJSON", "PARQUET"])
def test_an_export_through_the_demo_database_verifies_in_every_format(exporter, crm, tmp_path, fmt):
    job = create_job(exporter, scope={**JANE, "substrates": ["crm"]}, format=fmt)
    data = run_job(exporter, job["id"])
    assert data["job"]["state"] == "READY", data["job"]["failure"]
    report = data["auditReport"]
    # Jane: 1 customer row (the other tenant's Jane is filtered out), 4 orders, 1 ticket, 1 consent.
    assert report["sectionCounts"] == {
        "crm.customers": 1,
        "crm.orders": 4,
        "crm.support_tickets": 1,
        "crm.consents": 1,
    }
    content = _download(exporter, job["id"])
    path = tmp_path / "bundle.zip"
    path.write_bytes(content)
    assert verify_bundle(str(path)) == []
    ext = fmt.lower()
    with open_bundle(content) as bundle:
        raw = bundle.read(f"data/crm/customers.{ext}")
    if fmt == "JSON":
        rows = json.loads(raw)
    elif fmt == "NDJSON":
        rows = [json.loads(line) for line in raw.splitlines()]
    elif fmt == "CSV":
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    else:
        table = pq.read_table(io.BytesIO(raw))
        assert str(table.schema.field("id").type) == "int64"
        assert str(table.schema.field("created_at").type).startswith("timestamp")
        rows = table.to_pylist()
    assert len(rows) == 1
    customer = rows[0]
    assert customer["name"] == "Jane Doe"
    assert "password_hash" not in customer  # dropped by default: it looks like a credential
    assert customer["phone"].endswith("0018") and "7946" not in customer["phone"]  # mask_last4
    assert customer["signup_ip"] == "203.0.113.0"  # truncate_ip
    notes = " ".join(report["redactionNotes"])
    assert "password_hash" in notes and "phone" in notes and "agent_notes" in notes
    assert "0018" not in notes and "203.0.113" not in notes  # never a value


def test_the_window_and_campaigns_narrow_the_rows_and_the_notes_say_what_could_not_apply(exporter, crm):
    scope = {
        **JANE,
        "substrates": ["crm"],
        "windowStart": "2025-01-01T00:00:00Z",
        "windowEnd": "2025-04-01T00:00:00Z",
        "campaignIds": ["spring-sale"],
    }
    report = run_job(exporter, create_job(exporter, scope=scope)["id"])["auditReport"]
    counts = report["sectionCounts"]
    assert counts["crm.orders"] == 1  # the one spring-sale order placed in the window
    assert counts["crm.customers"] == 1  # Jane joined 2025-01-23
    assert any("campaign" in note and "customers" in note for note in report["scopeNotes"])


def test_a_section_without_the_identity_it_needs_is_empty_and_says_why(exporter, crm):
    report = run_job(
        exporter, create_job(exporter, scope={"dataSubjectId": "42", "substrates": ["crm"]})["id"]
    )["auditReport"]
    assert report["totalRecords"] == 0  # "we hold nothing" is an answer
    assert report["sectionCounts"]["crm.customers"] == 0
    assert any("email" in note for note in report["scopeNotes"])


def test_a_job_linked_to_a_request_takes_its_identities_and_writes_on_its_timeline(
    exporter, crm, make_request
):
    dsr = make_request()  # Jane Doe, jane@example.org
    job = create_job(exporter, scope={"dataSubjectId": "cust-1"}, requestId=dsr["id"])
    assert job["requestId"] == dsr["id"]
    assert job["scope"]["subjectIdentities"] == {"email": "jane@example.org"}
    assert "Identities taken from request" in job["timeline"][0]["notes"]
    report = run_job(exporter, job["id"])["auditReport"]
    assert report["sectionCounts"]["crm.customers"] == 1
    assert report["sectionCounts"]["dsar_core.requests"] == 1
    _download(exporter, job["id"])
    actions = list(
        TimelineEntry.objects.filter(request_id=dsr["id"]).order_by("seq").values_list("action", flat=True)
    )
    assert actions[-2:] == ["export.ready", "export.delivered"]
    # The request's chain still verifies with the export's entries in it.
    from requests_app.management.commands.verify_timeline import Walk, chain_breaks

    entries = TimelineEntry.objects.filter(request_id=dsr["id"]).order_by("seq")
    assert list(chain_breaks(entries, Walk())) == []


def test_the_dsr_feed_shows_the_linked_bundle_url(exporter, officer, make_request):
    dsr = make_request()
    job = create_job(exporter, scope={"dataSubjectId": "x", "substrates": ["dsar_core"]}, requestId=dsr["id"])
    before = officer.get("/v1/dsr").json()["requests"]
    assert [r["export_url"] for r in before if r["id"] == dsr["id"]] == [None]
    run_job(exporter, job["id"])
    rows = officer.get("/v1/dsr").json()["requests"]
    url = next(r["export_url"] for r in rows if r["id"] == dsr["id"])
    assert url.startswith(f"http://testserver/v1/compliance/dsar/{job['id']}/download?token=")
    assert officer.api.get(url.removeprefix("http://testserver")).status_code == 200


def test_dsar_core_never_shows_another_orgs_or_another_subjects_records(
    exporter, other_org_client, make_request
):
    from tests.conftest import intake_body

    make_request()
    make_request(
        requestor={"type": "DATA_SUBJECT", "name": "Bob", "email": "bob@example.org", "relation": "SELF"},
        contact="bob@example.org",
    )
    other = other_org_client.post("/v1/requests", intake_body())
    assert other.status_code == 202
    report = run_job(
        exporter,
        create_job(exporter, scope={"dataSubjectId": "jane@example.org", "substrates": ["dsar_core"]})["id"],
    )["auditReport"]
    assert report["sectionCounts"]["dsar_core.requests"] == 1


def test_a_public_base_url_builds_the_bundle_url(exporter, settings):
    settings.DSAR_PUBLIC_BASE_URL = "https://privacy.example.org"
    data = run_job(
        exporter, create_job(exporter, scope={"dataSubjectId": "x", "substrates": ["dsar_core"]})["id"]
    )
    assert data["job"]["delivery"]["bundleUrl"].startswith("https://privacy.example.org/v1/compliance/dsar/")


def test_head_answers_the_headers_and_delivers_nothing(exporter):
    job = create_job(exporter, scope={"dataSubjectId": "x", "substrates": ["dsar_core"]})
    size = run_job(exporter, job["id"])["job"]["delivery"]["bundleSizeBytes"]
    response = exporter.api.head(
        f"/v1/compliance/dsar/{job['id']}/download", HTTP_AUTHORIZATION=f"Bearer {exporter.raw}"
    )
    assert response.status_code == 200
    assert response["Content-Length"] == str(size) and response["Repr-Digest"].startswith("sha-256=:")
    assert response.content == b""
    assert exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]["state"] == "READY"


def test_the_job_list_costs_the_same_queries_for_one_job_and_fifty(exporter, django_assert_max_num_queries):
    from exports.models import ExportJob

    create_job(exporter, scope={"dataSubjectId": "x", "substrates": ["dsar_core"]})
    with django_assert_max_num_queries(8):
        assert exporter.get("/v1/compliance/dsar").status_code == 200
    for n in range(49):
        job = ExportJob.objects.first()
        job.pk = None
        job.id = f"dsar:01JTEST{n:019d}"
        job.save(force_insert=True)
    with django_assert_max_num_queries(8):
        body = exporter.get("/v1/compliance/dsar").json()["data"]
    assert len(body["jobs"]) == 50


def test_an_export_through_a_file_source_verifies_with_the_readmes_steps(exporter, org, settings, tmp_path):
    import hashlib
    import shutil
    import subprocess
    import zipfile

    from exports.services.substrates import substrate_register

    root = tmp_path / "roots" / "crm-files"
    root.mkdir(parents=True)
    (root / "contacts.csv").write_text(
        'email,name,note\njane@example.org,Jane Doe,=HYPERLINK("http://x")\nbob@example.org,Bob,hi\n',
        encoding="utf-8",
    )
    (root / "events.ndjson").write_text(
        '{"email": "JANE@example.org", "at": "2026-01-02T03:04:05Z", "kind": "login"}\n'
        '{"email": "bob@example.org", "at": "2026-01-03T03:04:05Z", "kind": "login"}\n',
        encoding="utf-8",
    )
    settings.DSAR_EXPORT_FILE_ROOTS = [str(tmp_path / "roots")]
    substrate_register(
        org=org,
        data={
            "key": "files",
            "kind": "files",
            "root": str(root),
            "tables": [
                {
                    "name": "contacts.csv",
                    "subject": {"column": "email", "identity": "email"},
                    "columns": ["email", "name", "note"],
                },
                {
                    "name": "events.ndjson",
                    "subject": {"column": "email", "identity": "email"},
                    "timeColumn": "at",
                    "columns": ["email", "at", "kind"],
                },
            ],
        },
    )
    job = create_job(exporter, scope={**JANE, "substrates": ["files"]}, format="CSV")
    data = run_job(exporter, job["id"])
    assert data["auditReport"]["sectionCounts"] == {"files.contacts": 1, "files.events": 1}
    content = _download(exporter, job["id"])
    bundle_path = tmp_path / "bundle.zip"
    bundle_path.write_bytes(content)
    # Step 1 of README.txt: the ZIP's sha256 is the job's bundleSha256.
    if shutil.which("sha256sum"):
        out = subprocess.run(["sha256sum", str(bundle_path)], capture_output=True, text=True, check=True)
        assert out.stdout.split()[0] == data["job"]["delivery"]["bundleSha256"]
    # Step 2: every file's sha256 is in manifest.json.
    with zipfile.ZipFile(bundle_path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(bundle.read(entry["path"])).hexdigest() == entry["sha256"]
        contacts = bundle.read("data/files/contacts.csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in contacts  # the formula guard
    assert "bob@example.org" not in contacts
