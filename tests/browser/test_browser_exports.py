"""An officer answers an access request with an export, in a browser: the substrates page (the built-in one,
and a new one registered through its mapping), then the request, "Export the subject's data", Run, and the
job READY with its audit report and download link.

Screenshots go to test-artifacts/exports/ (ignored by git) as well as being printed."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from workspace import sign_in

from core.services import org_create
from core.staff import staff_user_create
from exports.models import ExportJob, State, Substrate
from requests_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-passphrase"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "exports"


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


@pytest.fixture
def artifacts(shots):
    """The browser tests' screenshots, written into test-artifacts/exports/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots.folder = ARTIFACTS
    return shots


@pytest.fixture
def cast(db, tmp_path, monkeypatch):
    acme = org_create(name="Acme Ltd")
    staff_user_create(org=acme, username="olivia", password=PASSWORD)
    shop = tmp_path / "shop.sqlite3"
    with sqlite3.connect(shop) as database:
        database.execute("CREATE TABLE customers (id INTEGER, email TEXT, name TEXT)")
        database.execute("INSERT INTO customers VALUES (1, 'jane@example.org', 'Jane Doe')")
    monkeypatch.setenv("SHOP_DSN", f"sqlite:///{shop}")
    jane = services.request_create(
        org=acme,
        actor="test",
        jurisdiction="GB",
        channel="EMAIL",
        raw_text="Under article 15 please send me a copy of all the personal data you hold about me.",
        intake_received_at=timezone.now() - timedelta(days=2),
        contact="jane@example.org",
        requestor={"type": "DATA_SUBJECT", "name": "Jane Doe", "email": "jane@example.org"},
        request_types=["ACCESS"],
    ).request
    return {"org": acme, "jane": jane, "shop_path": shop}


SHOP_MAPPING = {
    "key": "shop",
    "kind": "sql",
    "dsnEnv": "SHOP_DSN",
    "description": "The web shop's customers",
    "tables": [
        {
            "name": "customers",
            "subject": {"column": "email", "identity": "email"},
            "columns": ["id", "email", "name"],
        }
    ],
}


def test_an_officer_exports_the_subjects_data_and_runs_it(page, live_server, cast, artifacts):
    base = live_server.url
    jane = cast["jane"]
    sign_in(page, base, "olivia", PASSWORD)

    # The substrates page: the built-in one is always there; register the shop's database by its mapping.
    page.goto(f"{base}/admin/exports/substrate/")
    builtin = page.locator("#dsar-builtin-substrate")
    assert "always present" in builtin.inner_text()
    assert "dsar_core.requests" in builtin.inner_text()
    artifacts.take(page, "exports-substrates-empty")

    page.goto(f"{base}/admin/exports/substrate/add/")
    shoe_size = dict(SHOP_MAPPING["tables"][0], columns=["id", "email", "shoe_size"])
    broken = dict(SHOP_MAPPING, tables=[shoe_size])
    page.fill("#id_mapping_json", json.dumps(broken, indent=2))
    page.click("input[name=_save]")
    errors = page.locator(".field-mapping_json .errorlist").inner_text()
    assert "Live check — schema_mismatch" in errors and "shoe_size" in errors
    assert str(cast["shop_path"]) not in page.content()  # the DSN is never shown
    artifacts.take(page, "exports-substrate-refused")

    page.fill("#id_mapping_json", json.dumps(SHOP_MAPPING, indent=2))
    page.click("input[name=_save]")
    page.locator("ul.messagelist li.success").wait_for()
    row = page.locator("#result_list tbody tr", has_text="shop")
    assert "Matches the source" in row.inner_text()
    assert Substrate.objects.filter(org=cast["org"], key="shop").exists()
    row.locator("th a").click()
    page.get_by_role("button", name="Check connection").click()
    assert "the source matches the mapping" in page.locator("ul.messagelist").inner_text()
    assert "shop.customers" in page.locator(".field-sections_display").inner_text()
    artifacts.take(page, "exports-substrate")

    # The request: "Export the subject's data" opens the form, with the subject's e-mail filled in.
    page.goto(f"{base}/admin/requests_app/datasubjectrequest/{jane.pk}/change/")
    page.get_by_role("link", name="Export the subject's data").click()
    assert page.input_value("#id_data_subject_id") == "jane@example.org"
    page.select_option("#id_format", "JSON")
    page.get_by_label("dsar_core (built in)").check()
    page.fill("#id_notes", "Article 15 access request.")
    artifacts.take(page, "exports-from-request")
    page.get_by_role("button", name="Create the export").click()

    # The job's page: REQUESTED, linked to the request; Run it.
    page.locator("ul.messagelist li.success").wait_for()
    job = ExportJob.objects.get(request=jane)
    assert "Requested — not run yet" in page.locator("#dsar-subtitle").inner_text()
    assert jane.pk in page.locator("#dsar-subtitle").inner_text()
    artifacts.take(page, "exports-job-requested")
    page.get_by_role("button", name="Run").click()

    # READY, with the audit report and a download link.
    page.locator("ul.messagelist li").first.wait_for()
    message = page.locator("ul.messagelist").inner_text()
    job.refresh_from_db()
    assert job.state == State.READY, (message, job.failure_message)
    assert "Export run: READY" in message
    assert "Ready to download" in page.locator("#dsar-subtitle").inner_text()
    report = page.locator("#audit-report")
    assert "dsar_core.requests" in report.inner_text()
    assert page.locator("#dsar-total-records").inner_text() == str(job.audit_report["totalRecords"])
    assert page.locator("#dsar-download").get_attribute("href").endswith("/download/")  # the admin's own
    assert (
        page.locator("#dsar-link").input_value().startswith(f"{base}/v1/compliance/dsar/")
    )  # for the subject
    timeline = page.locator("#timeline").inner_text()
    assert "Export requested" in timeline and "Ready" in timeline and "olivia" in timeline
    artifacts.take(page, "exports-job-ready")
    artifacts.take(report, "exports-audit-report")

    # The jobs list: newest first, with its state, subject and request.
    page.get_by_role("link", name="Export jobs").first.click()
    row = page.locator("#result_list tbody tr").first
    assert job.pk in row.inner_text() and "Ready to download" in row.inner_text()
    assert "jane@example.org" in row.inner_text() and jane.pk in row.inner_text()
    filters_left = page.locator("#changelist-filter").bounding_box()["x"]
    headers = page.locator("#result_list thead th")
    assert headers.count() == 8
    for i in range(headers.count()):  # every column beside the filters at 1400 px, none scrolled away
        box = headers.nth(i).bounding_box()
        assert box["x"] + box["width"] <= filters_left, headers.nth(i).inner_text()
    artifacts.take(page, "exports-jobs")
