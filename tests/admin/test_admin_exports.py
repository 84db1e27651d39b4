"""The exports pages: export jobs (run, download link, revoke), "Export the subject's data" from a request,
and substrates (mapping form, live check, check connection) — org-scoped like every admin page."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from urllib.parse import urlsplit

import pytest
from admin_paths import change_url
from django.contrib.admin.utils import quote
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exports.models import ExportJob, ExportJobEntry, State, Substrate
from exports.services.jobs import job_create
from exports.services.substrates import substrate_register

pytestmark = pytest.mark.django_db

JOBS = "/admin/exports/exportjob/"
SUBSTRATES = "/admin/exports/substrate/"
ADD_SUBSTRATE = f"{SUBSTRATES}add/"
BUILTIN_ONLY = ["dsar_core"]

# Session, user, membership, permissions, the count and the page (with its orgs joined): seven, whatever
# the number of rows. A per-row query would multiply by the page and fail loudly.
JOB_LIST_QUERIES = 7


@pytest.fixture(autouse=True)
def _export_dirs(settings, tmp_path):
    """Bundles and work directories under this test's own folder (as tests/exports/conftest.py does)."""
    from django.core.files.storage import storages

    settings.DSAR_EXPORT_DIR = str(tmp_path / "bundles")
    settings.DSAR_EXPORT_WORK_DIR = str(tmp_path / "work")
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(tmp_path / "bundles"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
    }
    storages._storages = {}
    storages.backends = settings.STORAGES
    yield
    storages._storages = {}


def job_page(job) -> str:
    return f"{JOBS}{quote(job.pk)}/change/"


def run_url(job) -> str:
    return f"{JOBS}{quote(job.pk)}/run/"


def revoke_url(job) -> str:
    return f"{JOBS}{quote(job.pk)}/revoke-link/"


def from_request_url(dsr) -> str:
    return f"{JOBS}from-request/{dsr.pk}/"


def substrate_page(substrate) -> str:
    return f"{SUBSTRATES}{substrate.pk}/change/"


def check_url(substrate) -> str:
    return f"{SUBSTRATES}{substrate.pk}/check/"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def new_job(org, *, subject="jane@example.org", request_id=None, **kwargs):
    return job_create(
        org=org,
        actor="test",
        scope={"dataSubjectId": subject, "substrates": BUILTIN_ONLY},
        request_id=request_id,
        **kwargs,
    ).job


@pytest.fixture
def ready_job(officer_client, org, on_time):
    """A job on the built-in substrate, run through the page's Run button: READY."""
    job = new_job(org, request_id=on_time.pk)
    response = officer_client.post(run_url(job))
    assert response.status_code == 302, response.content
    officer_client.get(response["Location"])  # shows (and so consumes) the run's message
    job.refresh_from_db()
    assert job.state == State.READY, job.failure_message
    return job


# --- a small SQLite source for the substrate form -----------------------------------------------------------


def make_db(path, *, customer_columns=("id", "email", "name")) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS customers")
        db.execute(f"CREATE TABLE customers ({', '.join(customer_columns)})")
        db.execute("INSERT INTO customers (id, email) VALUES (1, 'jane@example.org')")


def shop_mapping(**overrides):
    mapping = {
        "key": "shop",
        "kind": "sql",
        "dsnEnv": "MY_DSN",
        "description": "The shop's customers",
        "tables": [
            {
                "name": "customers",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email", "name"],
            }
        ],
    }
    mapping.update(overrides)
    return mapping


@pytest.fixture
def shop_db(tmp_path, monkeypatch):
    path = tmp_path / "shop.sqlite3"
    make_db(path)
    monkeypatch.setenv("MY_DSN", f"sqlite:///{path}")
    return path


# --- org scope ----------------------------------------------------------------------------------------------


def test_another_orgs_job_is_not_listed_and_answers_404_everywhere(officer_client, org, other_org):
    ours = new_job(org)
    theirs = new_job(other_org, subject="secret@globex.example")

    page = officer_client.get(JOBS).content.decode()
    assert ours.pk in page
    assert theirs.pk not in page and "secret@globex.example" not in page

    assert officer_client.get(job_page(theirs)).status_code == 404
    assert officer_client.post(run_url(theirs)).status_code == 404
    assert officer_client.post(revoke_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == State.REQUESTED
    assert ExportJobEntry.objects.filter(job=theirs).count() == 1


def test_another_orgs_substrate_is_not_listed_and_answers_404(officer_client, other_org, shop_db):
    theirs = substrate_register(org=other_org, data=shop_mapping(description="Globex shop")).substrate

    page = officer_client.get(SUBSTRATES).content.decode()
    assert "Globex shop" not in page
    assert officer_client.get(substrate_page(theirs)).status_code == 404
    assert officer_client.post(check_url(theirs)).status_code == 404
    mapping = json.dumps(shop_mapping(description="hijacked"))
    assert officer_client.post(substrate_page(theirs), {"mapping_json": mapping}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.description == "Globex shop"


def test_another_orgs_request_cannot_be_exported(officer_client, new_request, other_org):
    theirs = new_request(request_org=other_org, contact="secret@globex.example")

    assert officer_client.get(from_request_url(theirs)).status_code == 404
    assert officer_client.post(from_request_url(theirs), {"format": "JSON"}).status_code == 404
    assert not ExportJob.objects.exists()


# --- the jobs list ------------------------------------------------------------------------------------------


def test_the_list_shows_newest_first_with_state_format_subject_and_request(officer_client, org, on_time):
    older = new_job(org, subject="first@example.org", format="CSV")
    newer = new_job(org, subject="second@example.org", request_id=on_time.pk)

    response = officer_client.get(JOBS)

    assert [j.pk for j in response.context["cl"].result_list] == [newer.pk, older.pk]
    page = response.content.decode()
    assert 'class="dsar-badge dsar-pending" data-state="REQUESTED">Requested — not run yet<' in page
    assert "second@example.org" in page and "first@example.org" in page
    assert f'href="{change_url(on_time)}"' in page
    assert '<td class="field-format_cell">CSV</td>' in page
    # Filters by state and format.
    filtered = officer_client.get(JOBS, {"format": "CSV"})
    assert [j.pk for j in filtered.context["cl"].result_list] == [older.pk]
    assert officer_client.get(JOBS, {"state__exact": "READY"}).context["cl"].result_list.count() == 0


def test_the_job_list_does_not_query_per_row(officer_client, org, settings, django_assert_max_num_queries):
    settings.DSAR_EXPORT_ACTIVE_LIMIT = 100
    new_job(org)
    with CaptureQueriesContext(connection) as one:
        assert officer_client.get(JOBS).status_code == 200
    for i in range(20):
        new_job(org, subject=f"person{i}@example.org", format=["JSON", "CSV", "NDJSON"][i % 3])

    with django_assert_max_num_queries(JOB_LIST_QUERIES):
        response = officer_client.get(JOBS)
    assert len(response.context["cl"].result_list) == 21
    assert len(one.captured_queries) <= JOB_LIST_QUERIES


# --- run, download, revoke ----------------------------------------------------------------------------------


def test_run_moves_a_requested_job_to_ready_and_shows_the_audit_report(officer_client, org, on_time):
    job = new_job(org, request_id=on_time.pk)
    page = officer_client.get(job_page(job))
    assert page.context["dsar_can_run"] is True
    assert 'id="dsar-run-form"' in page.content.decode()

    response = officer_client.post(run_url(job))

    assert response.status_code == 302
    assert response["Location"] == job_page(job)
    job.refresh_from_db()
    assert job.state == State.READY, job.failure_message
    [message] = _messages(response)
    assert message.startswith("Export run: READY")
    run = ExportJobEntry.objects.get(job=job, action="run")
    assert run.actor == "user:olivia"

    page = officer_client.get(job_page(job))
    html = page.content.decode()
    assert 'data-state="READY">Ready to download<' in html
    assert 'id="dsar-run-form"' not in html  # nothing left to run
    assert 'id="audit-report"' in html
    assert "<code>dsar_core.requests</code>" in html and "<code>dsar_core.timeline</code>" in html
    report = page.context["dsar_report"]
    assert report["total"] == job.audit_report["totalRecords"] >= 1
    assert dict(report["sections"])["dsar_core.requests"] == 1  # Jane's one request
    assert page.context["dsar_download_url"].startswith("http://testserver/v1/compliance/dsar/")
    assert 'id="dsar-download"' in html
    assert 'data-action="ready"' in html  # the timeline


def test_run_is_refused_when_the_job_is_not_requested(officer_client, ready_job):
    response = officer_client.post(run_url(ready_job))

    assert response.status_code == 302
    [message] = _messages(response)
    assert message.startswith("Run refused:") and "READY" in message


def test_run_is_a_post(officer_client, org):
    job = new_job(org)
    assert officer_client.get(run_url(job)).status_code == 405
    job.refresh_from_db()
    assert job.state == State.REQUESTED


def test_run_needs_the_csrf_token(olivia, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)
    job = new_job(org)

    assert client.post(run_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.state == State.REQUESTED


def test_revoke_rotates_the_link_the_old_one_answers_401(officer_client, ready_job):
    old = officer_client.get(job_page(ready_job)).context["dsar_download_url"]
    old_path = urlsplit(old)._replace(scheme="", netloc="").geturl()

    response = officer_client.post(revoke_url(ready_job))

    assert response.status_code == 302
    assert _messages(response)[0].startswith("Download links revoked")
    entry = ExportJobEntry.objects.filter(job=ready_job).order_by("-seq").first()
    assert entry.action == "revoke-link" and entry.actor == "user:olivia"
    anonymous = Client()
    refused = anonymous.get(old_path)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"

    new = officer_client.get(job_page(ready_job)).context["dsar_download_url"]
    assert new and new != old
    downloaded = anonymous.get(urlsplit(new)._replace(scheme="", netloc="").geturl())
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "application/zip"
    ready_job.refresh_from_db()
    assert ready_job.state == State.DELIVERED
    page = officer_client.get(job_page(ready_job)).content.decode()
    assert "someone with the download link" in page


def test_an_auditor_sees_a_job_but_cannot_run_or_revoke(auditor_client, org):
    job = new_job(org)

    page = auditor_client.get(job_page(job))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="dsar-run-form"' not in html and 'id="dsar-revoke-form"' not in html
    assert "Read-only" in html
    assert auditor_client.post(run_url(job)).status_code == 403
    assert auditor_client.post(revoke_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.state == State.REQUESTED


def test_the_job_page_is_read_only(officer_client, org):
    job = new_job(org)

    assert officer_client.get(f"{JOBS}add/").status_code == 403
    assert officer_client.post(f"{JOBS}{quote(job.pk)}/delete/").status_code == 403
    assert officer_client.post(job_page(job), {"state": "READY"}).status_code == 403
    job.refresh_from_db()
    assert job.state == State.REQUESTED


def test_a_failed_job_shows_its_failure(officer_client, org):
    from exports.services.jobs import job_fail

    job = new_job(org)
    job_fail(job_id=job.pk, message="Substrate 'crm' failed (timeout): customers.", worker_id=None)

    html = officer_client.get(job_page(job)).content.decode()
    assert 'data-state="FAILED">Failed<' in html
    assert "Substrate &#x27;crm&#x27; failed (timeout): customers." in html
    assert 'id="dsar-failure"' in html


# --- "Export the subject's data" ----------------------------------------------------------------------------


def test_the_request_page_offers_the_export_for_access_and_portability_only(officer_client, new_request):
    access = new_request()
    portability = new_request(request_types=["PORTABILITY"], contact="port@example.org")
    erasure = new_request(request_types=["ERASURE"], contact="erase@example.org")

    for dsr in (access, portability):
        html = officer_client.get(change_url(dsr)).content.decode()
        assert f'href="{from_request_url(dsr)}"' in html, dsr.request_types
    assert from_request_url(erasure) not in officer_client.get(change_url(erasure)).content.decode()

    refused = officer_client.get(from_request_url(erasure))
    assert refused.status_code == 302 and refused["Location"] == change_url(erasure)
    assert "access or portability" in _messages(refused)[0]


def test_export_from_a_request_creates_a_linked_job(officer_client, org, on_time, shop_db):
    substrate_register(org=org, data=shop_mapping())
    form = officer_client.get(from_request_url(on_time))
    assert form.status_code == 200
    assert form.context["form"].initial["data_subject_id"] == "jane@example.org"
    choices = [key for key, _label in form.context["form"].fields["substrates"].choices]
    assert choices == ["dsar_core", "shop"]

    response = officer_client.post(
        from_request_url(on_time),
        {
            "data_subject_id": "jane@example.org",
            "format": "CSV",
            "substrates": ["dsar_core"],
            "notes": "Answering the access request.",
        },
    )

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job_page(job)
    assert job.request_id == on_time.pk
    assert job.state == State.REQUESTED
    assert job.format == "CSV"
    assert job.scope["dataSubjectId"] == "jane@example.org"
    assert job.scope["substrates"] == ["dsar_core"]
    assert job.scope["subjectIdentities"] == {"email": "jane@example.org"}  # from the request
    assert job.request_notes == "Answering the access request."
    assert job.requested_by == "olivia"
    assert ExportJobEntry.objects.get(job=job).actor == "user:olivia"
    assert f"Export job {job.pk} created" in _messages(response)[0]
    # The job page links back to the request.
    assert f'href="{change_url(on_time)}"' in officer_client.get(job_page(job)).content.decode()


def test_export_from_a_request_shows_the_services_refusal_on_the_form(officer_client, org, on_time, settings):
    settings.DSAR_EXPORT_ACTIVE_LIMIT = 1
    new_job(org)

    response = officer_client.post(from_request_url(on_time), {"data_subject_id": "x", "format": "JSON"})

    assert response.status_code == 200
    assert "active export jobs" in str(response.context["form"].non_field_errors())
    assert ExportJob.objects.count() == 1


def test_an_auditor_cannot_export_a_request(auditor_client, on_time):
    assert auditor_client.get(from_request_url(on_time)).status_code == 403
    assert from_request_url(on_time) not in auditor_client.get(change_url(on_time)).content.decode()


# --- substrates ---------------------------------------------------------------------------------------------


def test_the_substrate_list_says_the_builtin_is_always_there(officer_client):
    html = officer_client.get(SUBSTRATES).content.decode()

    assert 'id="dsar-builtin-substrate"' in html
    assert "always present" in html
    assert "<code>dsar_core.requests</code>" in html


def test_a_good_mapping_registers_the_substrate_after_a_live_check(officer_client, org, shop_db):
    response = officer_client.post(
        ADD_SUBSTRATE, {"mapping_json": json.dumps(shop_mapping()), "enabled": "on"}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    substrate = Substrate.objects.get(org=org)
    assert (substrate.key, substrate.kind, substrate.enabled) == ("shop", "sql", True)
    assert substrate.checked_at is not None and substrate.check_error == ""
    html = officer_client.get(substrate_page(substrate)).content.decode()
    assert "<code>shop.customers</code>" in html
    assert "id, email, name" in html
    assert "MY_DSN" in html  # the mapping names the variable ...
    assert str(shop_db) not in html  # ... never the DSN
    assert 'id="dsar-check-form"' in html
    listing = officer_client.get(SUBSTRATES).content.decode()
    assert "The shop&#x27;s customers" in listing and "Matches the source" in listing


MAIL_SUBJECT = {"column": "mail", "identity": "email"}


@pytest.mark.parametrize(
    ("mapping", "shown"),
    [
        (
            shop_mapping(tables=[{"name": "customers", "subject": MAIL_SUBJECT, "columns": ["id"]}]),
            "tables.0.subject.column: must be one of the table&#x27;s columns",
        ),
        (shop_mapping(key="dsar_core"), "key: is reserved for the built-in substrate"),
        (shop_mapping(colour="blue"), "colour: unknown field"),
    ],
)
def test_a_bad_mapping_is_refused_with_its_field_path(officer_client, org, shop_db, mapping, shown):
    response = officer_client.post(ADD_SUBSTRATE, {"mapping_json": json.dumps(mapping), "enabled": "on"})

    assert response.status_code == 200
    assert shown in response.content.decode()
    assert not Substrate.objects.exists()


def test_a_mapping_the_source_does_not_match_is_refused(officer_client, org, shop_db):
    mapping = shop_mapping()
    mapping["tables"][0]["columns"] = ["id", "email", "shoe_size"]

    response = officer_client.post(ADD_SUBSTRATE, {"mapping_json": json.dumps(mapping), "enabled": "on"})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["mapping_json"]
    assert any(e.startswith("Live check — schema_mismatch") and "shoe_size" in e for e in errors), errors
    assert str(shop_db) not in response.content.decode()
    assert not Substrate.objects.exists()


def test_text_that_is_not_json_is_refused_not_a_500(officer_client, org):
    response = officer_client.post(ADD_SUBSTRATE, {"mapping_json": '{"key": "shop",', "enabled": "on"})

    assert response.status_code == 200
    assert "Not valid JSON" in response.content.decode()


def test_the_key_of_a_substrate_cannot_change_and_enabled_switches(officer_client, org, shop_db):
    substrate = substrate_register(org=org, data=shop_mapping()).substrate

    renamed = officer_client.post(
        substrate_page(substrate), {"mapping_json": json.dumps(shop_mapping(key="boutique")), "enabled": "on"}
    )
    assert renamed.status_code == 200
    assert "key: cannot change" in renamed.content.decode()

    switched = officer_client.post(
        substrate_page(substrate), {"mapping_json": json.dumps(shop_mapping(description="Off for now"))}
    )
    assert switched.status_code == 302
    substrate.refresh_from_db()
    assert (substrate.enabled, substrate.description) == (False, "Off for now")
    assert list(Substrate.objects.values_list("key", flat=True)) == ["shop"]


def test_check_connection_stores_the_result(officer_client, org, shop_db):
    substrate = substrate_register(org=org, data=shop_mapping()).substrate
    make_db(shop_db, customer_columns=("id", "email"))  # `name` dropped since it was registered

    response = officer_client.post(check_url(substrate))

    assert response.status_code == 302 and response["Location"] == substrate_page(substrate)
    [message] = _messages(response)
    assert message.startswith("Connection check of 'shop' failed: schema_mismatch") and "name" in message
    substrate.refresh_from_db()
    assert substrate.check_error.startswith("schema_mismatch")
    assert "Problem" in officer_client.get(SUBSTRATES).content.decode()

    make_db(shop_db)  # put back
    response = officer_client.post(check_url(substrate))
    assert _messages(response) == ["Connection check of 'shop': the source matches the mapping."]
    substrate.refresh_from_db()
    assert substrate.check_error == "" and substrate.checked_at is not None


def test_an_auditor_sees_substrates_but_cannot_add_change_or_check(auditor_client, org, shop_db):
    substrate = substrate_register(org=org, data=shop_mapping()).substrate

    page = auditor_client.get(substrate_page(substrate))
    assert page.status_code == 200
    assert 'id="dsar-check-form"' not in page.content.decode()
    assert auditor_client.get(ADD_SUBSTRATE).status_code == 403
    assert auditor_client.post(check_url(substrate)).status_code == 403
    assert (
        auditor_client.post(
            substrate_page(substrate), {"mapping_json": json.dumps(shop_mapping(description="x"))}
        ).status_code
        == 403
    )


def test_an_officer_downloads_through_the_admin_and_is_named_as_the_downloader(officer_client, ready_job):
    url = reverse("admin:exports_exportjob_download", args=[quote(ready_job.pk)])
    response = officer_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == ready_job.bundle_sha256
    ready_job.refresh_from_db()
    assert ready_job.state == State.DELIVERED and ready_job.downloaded_by == "user:olivia"
    entry = ExportJobEntry.objects.filter(job=ready_job).order_by("-seq").first()
    assert entry.action == "deliver" and entry.actor == "user:olivia"


def test_an_auditor_cannot_download_a_bundle_and_sees_no_link(auditor_client, ready_job):
    url = reverse("admin:exports_exportjob_download", args=[quote(ready_job.pk)])
    assert auditor_client.get(url).status_code == 403
    page = auditor_client.get(job_page(ready_job))
    assert b'id="dsar-download"' not in page.content and b'id="dsar-link"' not in page.content
    ready_job.refresh_from_db()
    assert ready_job.state == State.READY
