"""The data subject's side, in a browser: a GB request is verified from the e-mail alone (the link page, then
"Confirm"), the page in French, and a linked export downloaded from the portal with its sha256 shown.

Screenshots go to test-artifacts/subject/ (ignored by git) as well as being printed."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from core.services import org_create
from correspondence.mailer import mail_pass
from exports.models import ExportJob, State
from exports.services.jobs import job_create, job_run
from requests_app import services
from requests_app.models import DataSubjectRequest
from verification.services import challenge_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "subject"


@pytest.fixture(autouse=True)
def _subject_setup(settings, tmp_path, live_server):
    from django.core.files.storage import storages

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DSAR_SUBJECT_BASE_URL = live_server.url
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "bundles")},
        },
    }
    settings.DSAR_EXPORT_WORK_DIR = str(tmp_path / "work")
    storages._storages = {}
    storages.backends = settings.STORAGES
    yield
    storages._storages = {}


@pytest.fixture
def artifacts(shots):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots.folder = ARTIFACTS
    return shots


@pytest.fixture
def jane(db):
    acme = org_create(name="Acme Ltd")
    return services.request_create(
        org=acme,
        actor="test",
        jurisdiction="GB",
        channel="EMAIL",
        raw_text="Under article 15 please send me a copy of all the personal data you hold about me.",
        intake_received_at=timezone.now() - timedelta(days=3),
        contact="jane@example.org",
        requestor={"type": "DATA_SUBJECT", "name": "Jane Doe", "email": "jane@example.org"},
        request_types=["ACCESS"],
    ).request


def _link(pattern: str) -> str:
    mail_pass()
    for message in reversed(mail.outbox):
        found = re.search(pattern, message.body)
        if found:
            return found.group(0)
    raise AssertionError(f"no mail with {pattern}")


def test_the_subject_verifies_from_the_email_alone_and_the_clock_restarts(page, artifacts, jane, live_server):
    challenge_create(org=jane.org, request_id=jane.pk, actor="user:olivia", method="EMAIL_LINK")
    link = _link(rf"{re.escape(live_server.url)}/s/verify/\S+")

    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm that this request is yours"
    artifacts.take(page, "verify-page")
    page.goto(link)  # a mail scanner opening it again changes nothing
    assert DataSubjectRequest.objects.get(pk=jane.pk).verification_status == "REQUESTED"

    page.get_by_role("button", name="Confirm my request").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you: your request is confirmed"
    artifacts.take(page, "verify-done")
    dsr = DataSubjectRequest.objects.get(pk=jane.pk)
    assert dsr.verification_status == "RECEIVED"
    # UK GDPR: the month runs again from the day the identity arrived.
    assert dsr.clock_started_at.date() == timezone.now().date()
    page.goto(link)  # used: the page says so, the same way as for any link that does not work
    assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"
    artifacts.take(page, "verify-used")


def test_the_verification_page_in_french(browser, artifacts, jane, live_server):
    challenge_create(org=jane.org, request_id=jane.pk, actor="user:olivia", method="EMAIL_LINK", locale="fr")
    link = _link(rf"{re.escape(live_server.url)}/s/verify/\S+")
    context = browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    page = context.new_page()
    try:
        page.goto(link)
        assert page.locator("html").get_attribute("lang") == "fr"
        assert "Confirmez" in page.get_by_role("heading", level=1).inner_text()
        artifacts.take(page, "verify-page-fr")
    finally:
        context.close()


def test_the_subject_downloads_the_export_from_the_portal_with_its_sha256_shown(
    page, artifacts, jane, live_server
):
    created = job_create(
        org=jane.org,
        actor="user:olivia",
        scope={"dataSubjectId": "jane@example.org", "substrates": ["dsar_core"]},
        request_id=jane.pk,
    )
    job_run(org=jane.org, job_id=created.job.pk, actor="user:olivia")
    job = ExportJob.objects.get(pk=created.job.pk)
    assert job.state == State.READY
    link = _link(rf"{re.escape(live_server.url)}/s/d/\S+")
    assert "/v1/compliance/dsar" not in mail.outbox[-1].body  # never the raw bundle URL

    page.goto(link)
    assert job.bundle_sha256 in page.content()
    artifacts.take(page, "delivery-page")
    assert ExportJob.objects.get(pk=job.pk).state == State.READY  # looking changes nothing

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    path = download_info.value.path()

    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == job.bundle_sha256
    job.refresh_from_db()
    assert (job.state, job.downloaded_by) == (State.DELIVERED, "subject")
