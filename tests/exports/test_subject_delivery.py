"""Delivery of a bundle to the data subject: the DELIVERY_READY message with its portal link, the page that
changes nothing, the download (JSON and HTML form) with the optional e-mailed step-up code, and every way
a link is refused (one identical 401)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as PageClient
from django.utils import timezone
from rest_framework.test import APIClient

from core.subject_secrets import SECRET_MARK
from correspondence.mailer import mail_pass
from correspondence.models import Message
from correspondence.notices import message_summary
from exports.models import DeliveryStatus, ExportJob, SubjectDelivery
from exports.services import jobs as job_services
from exports.storage import bundle_delete
from requests_app.models import TimelineEntry
from tests.conftest import intake_body
from tests.exports.conftest import create_job, run_job

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<>]+/s/d/(?P<id>dlv_[0-9A-Z]+)\?t=(?P<token>[A-Za-z0-9_-]+)")
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DSAR_SUBJECT_BASE_URL = "https://portal.example.org"
    settings.DSAR_DELIVERY_STEP_UP = "none"
    mail.outbox = []


def _ready_job(exporter, request_id, **body):
    job = create_job(exporter, requestId=request_id, **body)
    data = run_job(exporter, job["id"])
    assert data["job"]["state"] == "READY", data["job"]["failure"]
    return data["job"]


def _deliver_link(request_id) -> tuple[str, str]:
    """Send what is queued and take the portal link from the DELIVERY_READY mail."""
    mail_pass()
    bodies = [m.body for m in mail.outbox if "/s/d/" in m.body]
    assert bodies, [m.subject for m in mail.outbox]
    match = LINK.search(bodies[-1])
    assert match, bodies[-1]
    return match["id"], match["token"]


def _download(delivery_id, token, **more):
    return APIClient().post(
        f"/v1/subject/deliveries/{delivery_id}/download", {"token": token, **more}, format="json"
    )


def _timeline(request_id) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(request_id=request_id).order_by("seq"))


@pytest.fixture
def ready(exporter, make_request):
    """A request, an export linked to it that is READY, and the link the subject got by mail."""
    dsr = make_request()
    job = _ready_job(exporter, dsr["id"])
    delivery_id, token = _deliver_link(dsr["id"])
    return {"request": dsr, "job": job, "delivery_id": delivery_id, "token": token}


def test_ready_queues_one_delivery_message_whose_stored_body_holds_no_secret(exporter, make_request):
    dsr = make_request()
    job = _ready_job(exporter, dsr["id"])
    assert job["notify"] is True

    messages = list(Message.objects.filter(request_id=dsr["id"], kind="DELIVERY_READY"))
    assert len(messages) == 1
    message = messages[0]
    delivery = SubjectDelivery.objects.get(job_id=job["id"])
    assert message.ref == delivery.id and delivery.message_id == message.id
    assert delivery.request_id == dsr["id"] and delivery.status == DeliveryStatus.ACTIVE
    assert delivery.expires_at == ExportJob.objects.get(pk=job["id"]).expires_at
    assert SECRET_MARK in message.body_text and f"/s/d/{delivery.id}?t={SECRET_MARK}" in message.body_text
    assert job["delivery"]["bundleSha256"] in message.body_text
    assert "/download" not in message.body_text and "token=" not in message.body_text  # never bundleUrl
    assert message.secret_seed and message.secret_kind == "token"

    ready_entry = next(e for e in _timeline(dsr["id"]) if e.action == "export.ready")
    assert ready_entry.data["deliveryId"] == delivery.id
    summary = message_summary(message)  # the message's id, kind and status, as lifecycle entries record it
    assert summary and ready_entry.data.items() >= summary.items()

    delivery_id, token = _deliver_link(dsr["id"])
    assert delivery_id == delivery.id
    message.refresh_from_db()
    delivery.refresh_from_db()
    assert message.status == "SENT" and message.secret_seed == ""  # the token cannot be derived again
    assert token not in message.body_text and token not in message.body_html
    assert token not in str(delivery.__dict__)
    assert token not in str(list(TimelineEntry.objects.filter(request_id=dsr["id"]).values()))
    assert mail.outbox[-1].to == ["jane@example.org"]


def test_the_page_shows_the_bundle_and_changes_nothing(ready):
    page_url = f"/s/d/{ready['delivery_id']}?t={ready['token']}"
    before = SubjectDelivery.objects.filter(pk=ready["delivery_id"]).values().get()
    job_before = ExportJob.objects.filter(pk=ready["job"]["id"]).values().get()

    first = PageClient().get(page_url)
    second = PageClient().get(page_url)

    for response in (first, second):
        assert response.status_code == 200
        html = response.content.decode()
        assert f"<code>{ready['job']['delivery']['bundleSha256']}</code>" in html
        assert f"{ready['job']['delivery']['bundleSizeBytes']} bytes" in html
        assert '<html lang="en">' in html and "<h1>" in html
        assert 'name="token"' in html and 'action="/s/d/' in html
        assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "same-origin"
    assert SubjectDelivery.objects.filter(pk=ready["delivery_id"]).values().get() == before
    assert ExportJob.objects.filter(pk=ready["job"]["id"]).values().get() == job_before
    assert job_before["state"] == "READY"


def test_the_page_speaks_french_when_asked(ready):
    response = PageClient().get(f"/s/d/{ready['delivery_id']}?t={ready['token']}&lang=fr")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html and response["Content-Language"] == "fr"
    assert "Vos données sont prêtes" in html and "Somme de contrôle SHA-256" in html
    assert f"{ready['job']['delivery']['bundleSizeBytes']} octets" in html


def test_the_download_streams_the_bundle_and_delivers_the_job_to_the_subject(ready, exporter):
    response = _download(ready["delivery_id"], ready["token"])

    assert response.status_code == 200, response.content
    content = b"".join(response.streaming_content)
    sha = ready["job"]["delivery"]["bundleSha256"]
    assert hashlib.sha256(content).hexdigest() == sha
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Length"] == str(len(content))
    assert response["ETag"] == f'"{sha}"' and response["Repr-Digest"].startswith("sha-256=:")
    assert response["Cache-Control"] == "no-store"
    job = exporter.get(f"/v1/compliance/dsar/{ready['job']['id']}").json()["data"]["job"]
    assert job["state"] == "DELIVERED" and job["delivery"]["downloadedBy"] == "subject"
    delivered = [e for e in _timeline(ready["request"]["id"]) if e.action == "export.delivered"]
    assert len(delivered) == 1 and delivered[0].actor == f"subject:{ready['delivery_id']}"
    delivery = SubjectDelivery.objects.get(pk=ready["delivery_id"])
    assert delivery.downloads == 1 and delivery.first_downloaded_at == delivery.last_downloaded_at

    # The page's own form downloads too (again, until expiry): the same service.
    again = PageClient().post(f"/s/d/{ready['delivery_id']}/download", {"token": ready["token"]})
    assert again.status_code == 200 and again["Content-Type"] == "application/zip"
    assert hashlib.sha256(b"".join(again.streaming_content)).hexdigest() == sha
    delivery.refresh_from_db()
    assert delivery.downloads == 2
    assert job_services._actor_for("subject") == "subject"


def test_the_public_download_costs_a_bounded_number_of_queries(ready, django_assert_max_num_queries):
    # The link's rate and the delivery with its job (2), the download as `job_downloaded` records it (the
    # job locked and saved, its entry and event, the request's entry: 10), the delivery's counters (1),
    # and the savepoints around them (5).
    with django_assert_max_num_queries(18):
        response = _download(ready["delivery_id"], ready["token"])
    assert response.status_code == 200
    b"".join(response.streaming_content)


def test_every_bad_link_gets_one_identical_401(ready, exporter, make_request, other_org_client):
    # Another delivery of this org, and one of another org.
    second = _ready_job(exporter, make_request()["id"])
    other_id, other_token = _deliver_link(second["requestId"])
    foreign_request = other_org_client.post("/v1/requests", intake_body()).json()["data"]["request"]
    _ready_job(other_org_client, foreign_request["id"])
    foreign_id, foreign_token = _deliver_link(foreign_request["id"])
    assert len({ready["delivery_id"], other_id, foreign_id}) == 3

    delivery_id, token = ready["delivery_id"], ready["token"]
    cases = [
        (delivery_id, token[:-1] + ("A" if token[-1] != "A" else "B")),  # tampered
        (delivery_id, other_token),  # another delivery's token
        (delivery_id, foreign_token),  # another org's
        ("dlv_01JUNKJUNKJUNKJUNKJUNKJUNK", token),  # unknown id
        (other_id, token),
    ]
    bodies, pages = set(), set()
    for case_id, case_token in cases:
        response = _download(case_id, case_token)
        assert response.status_code == 401, (case_id, response.content)
        assert response.json()["error"]["code"] == "unauthenticated"
        bodies.add(response.content)
        page = PageClient().get(f"/s/d/{case_id}?t={case_token}")
        assert page.status_code == 401
        pages.add(page.content)
    assert len(bodies) == 1 and len(pages) == 1

    # Revoked with the job's links: the same answer, and the page the same page.
    exporter.post(f"/v1/compliance/dsar/{ready['job']['id']}/revoke-link")
    assert SubjectDelivery.objects.get(pk=delivery_id).status == DeliveryStatus.REVOKED
    revoked = _download(delivery_id, token)
    assert revoked.status_code == 401 and revoked.content in bodies
    page = PageClient().get(f"/s/d/{delivery_id}?t={token}")
    assert page.status_code == 401 and page.content in pages
    assert token not in page.content.decode()
    assert ExportJob.objects.get(pk=ready["job"]["id"]).state == "READY"  # nothing was delivered


def test_an_expired_bundle_is_refused(ready):
    ExportJob.objects.filter(pk=ready["job"]["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _download(ready["delivery_id"], ready["token"])
    assert response.status_code == 401
    assert PageClient().get(f"/s/d/{ready['delivery_id']}?t={ready['token']}").status_code == 401
    assert ExportJob.objects.get(pk=ready["job"]["id"]).state == "READY"


def test_a_bundle_gone_from_storage_answers_409(ready):
    bundle_delete(ExportJob.objects.get(pk=ready["job"]["id"]).bundle_key)
    response = _download(ready["delivery_id"], ready["token"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_transition"
    page = PageClient().post(f"/s/d/{ready['delivery_id']}/download", {"token": ready["token"]})
    assert page.status_code == 409


def test_notify_false_queues_no_message_and_offers_no_delivery(exporter, make_request):
    dsr = make_request()
    job = _ready_job(exporter, dsr["id"], notify=False)
    assert job["notify"] is False
    assert not Message.objects.filter(request_id=dsr["id"], kind="DELIVERY_READY").exists()
    assert not SubjectDelivery.objects.exists()
    ready_entry = next(e for e in _timeline(dsr["id"]) if e.action == "export.ready")
    assert "deliveryId" not in ready_entry.data


def test_the_org_setting_is_the_default(exporter, make_request):
    org = exporter.org
    org.notify_subject = False
    org.save(update_fields=["notify_subject"])
    dsr = make_request()
    created = job_services.job_create(
        org=org, actor="user:officer", scope={"dataSubjectId": "jane@example.org"}, request_id=dsr["id"]
    )
    assert created.job.notify is False
    job = _ready_job(exporter, dsr["id"], notify=True)  # the body wins over the org's setting
    assert job["notify"] is True
    assert SubjectDelivery.objects.filter(job_id=job["id"]).count() == 1


def test_a_job_without_a_request_offers_nothing(exporter):
    job = create_job(exporter)
    assert run_job(exporter, job["id"])["job"]["state"] == "READY"
    assert not SubjectDelivery.objects.exists() and not Message.objects.exists()


def test_the_download_is_rate_limited_per_delivery(ready, monkeypatch):
    # A window no test run straddles (the real one is a minute).
    monkeypatch.setattr("exports.services.deliveries.DELIVERY_RATE", "3/1000day")
    for _ in range(3):
        assert _download(ready["delivery_id"], "wrong-token").status_code == 401
    response = _download(ready["delivery_id"], ready["token"])
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    page = PageClient().post(f"/s/d/{ready['delivery_id']}/download", {"token": ready["token"]})
    assert page.status_code == 429


def test_the_body_is_validated(ready):
    assert _download(ready["delivery_id"], "").status_code == 400
    response = APIClient().post(
        f"/v1/subject/deliveries/{ready['delivery_id']}/download",
        {"token": ready["token"], "extra": 1},
        format="json",
    )
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "extra"


# --- step-up ---------------------------------------------------------------------------------------------


def _code_from_mail() -> str:
    mail_pass()
    codes = [m for m in mail.outbox if "verification code" in m.subject.lower()]
    assert codes, [m.subject for m in mail.outbox]
    found = CODE.search(codes[-1].body)
    assert found
    return found[1]


@pytest.fixture
def step_up(settings):
    settings.DSAR_DELIVERY_STEP_UP = "email"


def test_step_up_sends_a_code_and_the_download_needs_it(ready, step_up, exporter):
    first = _download(ready["delivery_id"], ready["token"])
    assert first.status_code == 202, first.content
    assert first.json()["data"]["codeSent"] is True
    assert first.json()["data"]["toMasked"] == "j\u2022\u2022\u2022e@example.org"
    stored = Message.objects.get(request_id=ready["request"]["id"], kind="VERIFICATION_CODE")
    assert SECRET_MARK in stored.body_text and stored.ref == ready["delivery_id"]

    # One code a minute: asking again at once is refused.
    assert _download(ready["delivery_id"], ready["token"]).status_code == 429

    code = _code_from_mail()
    stored.refresh_from_db()
    assert code not in stored.body_text and stored.secret_seed == ""
    assert code not in str(SubjectDelivery.objects.filter(pk=ready["delivery_id"]).values().get())

    wrong = _download(ready["delivery_id"], ready["token"], code=f"{(int(code) + 1) % 10**6:06d}")
    assert wrong.status_code == 401 and "4 attempts left" in wrong.json()["error"]["message"]
    assert ExportJob.objects.get(pk=ready["job"]["id"]).state == "READY"

    right = _download(ready["delivery_id"], ready["token"], code=f"{code[:3]} {code[3:]}")
    assert right.status_code == 200, right.content
    assert (
        hashlib.sha256(b"".join(right.streaming_content)).hexdigest()
        == ready["job"]["delivery"]["bundleSha256"]
    )
    job = exporter.get(f"/v1/compliance/dsar/{ready['job']['id']}").json()["data"]["job"]
    assert job["state"] == "DELIVERED" and job["delivery"]["downloadedBy"] == "subject"

    # The code is used up: the same code again is wrong.
    assert _download(ready["delivery_id"], ready["token"], code=code).status_code == 401


def test_five_wrong_codes_revoke_the_link(ready, step_up):
    assert _download(ready["delivery_id"], ready["token"]).status_code == 202
    code = _code_from_mail()
    wrong = f"{(int(code) + 7) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        response = _download(ready["delivery_id"], ready["token"], code=wrong)
        assert response.status_code == 401 and f"{left} attempt" in response.json()["error"]["message"]
    fifth = _download(ready["delivery_id"], ready["token"], code=wrong)
    bad_link = _download(ready["delivery_id"], "not-the-token")

    assert fifth.status_code == 401 and fifth.content == bad_link.content
    delivery = SubjectDelivery.objects.get(pk=ready["delivery_id"])
    assert delivery.status == DeliveryStatus.REVOKED and delivery.failures == 5
    after = _download(ready["delivery_id"], ready["token"], code=code)  # even the right code now
    assert after.status_code == 401 and after.content == bad_link.content
    revoked = [e for e in _timeline(ready["request"]["id"]) if e.action == "export.delivery_revoked"]
    assert len(revoked) == 1 and revoked[0].data["deliveryId"] == ready["delivery_id"]
    assert ExportJob.objects.get(pk=ready["job"]["id"]).state == "READY"


def test_an_expired_code_does_not_work(ready, step_up):
    assert _download(ready["delivery_id"], ready["token"]).status_code == 202
    code = _code_from_mail()
    SubjectDelivery.objects.filter(pk=ready["delivery_id"]).update(
        code_expires_at=timezone.now() - timedelta(seconds=1),
        code_sent_at=timezone.now() - timedelta(minutes=16),
    )
    response = _download(ready["delivery_id"], ready["token"], code=code)
    assert response.status_code == 401 and "ask for a new one" in response.json()["error"]["message"]
    # A new code replaces it.
    assert _download(ready["delivery_id"], ready["token"]).status_code == 202
    new_code = _code_from_mail()
    assert _download(ready["delivery_id"], ready["token"], code=new_code).status_code == 200


def test_step_up_through_the_page(ready, step_up):
    page_url = f"/s/d/{ready['delivery_id']}?t={ready['token']}"
    html = PageClient().get(page_url).content.decode()
    assert "Send me a code" in html and 'name="code"' not in html

    sent = PageClient().post(f"/s/d/{ready['delivery_id']}/download", {"token": ready["token"]})
    assert sent.status_code == 200
    html = sent.content.decode()
    assert (
        'name="code"' in html and '<label for="code">' in html and "j\u2022\u2022\u2022e@example.org" in html
    )
    assert 'name="code"' in PageClient().get(page_url).content.decode()  # a code is pending

    code = _code_from_mail()
    other = "000000" if code != "000000" else "111111"
    wrong = PageClient().post(
        f"/s/d/{ready['delivery_id']}/download", {"token": ready["token"], "code": other}
    )
    assert wrong.status_code == 401 and 'role="alert"' in wrong.content.decode()
    done = PageClient().post(f"/s/d/{ready['delivery_id']}/download", {"token": ready["token"], "code": code})
    assert done.status_code == 200 and done["Content-Type"] == "application/zip"
    assert ExportJob.objects.get(pk=ready["job"]["id"]).state == "DELIVERED"


def test_the_job_admin_page_shows_the_deliveries_without_their_secrets(ready):
    from django.contrib.admin.sites import site

    job = ExportJob.objects.select_related("org").get(pk=ready["job"]["id"])
    shown = site._registry[ExportJob].deliveries_display(job)
    assert ready["delivery_id"] in shown and "ACTIVE" in shown and "0 download(s)" in shown
    delivery = SubjectDelivery.objects.get(pk=ready["delivery_id"])
    assert ready["token"] not in shown and delivery.token_lookup not in shown


def test_a_delivery_revoked_while_it_downloads_delivers_nothing(ready, monkeypatch):
    from exports.services import deliveries

    original = deliveries.job_downloaded

    def revoked_meanwhile(**kwargs):
        SubjectDelivery.objects.filter(pk=ready["delivery_id"]).update(status=DeliveryStatus.REVOKED)
        return original(**kwargs)

    monkeypatch.setattr(deliveries, "job_downloaded", revoked_meanwhile)
    response = _download(ready["delivery_id"], ready["token"])
    assert response.status_code == 401
    assert ExportJob.objects.get(pk=ready["job"]["id"]).state == "READY"
    assert not [e for e in _timeline(ready["request"]["id"]) if e.action == "export.delivered"]


def test_a_message_that_cannot_be_queued_leaves_the_bundle_ready(exporter, make_request, monkeypatch):
    from core.api import ValidationFailed

    def refuse(**kwargs):
        raise ValidationFailed("The delivery_ready message must give something (a rule).")

    monkeypatch.setattr("correspondence.notices.message_queue", refuse)
    dsr = make_request()
    job = _ready_job(exporter, dsr["id"])
    assert job["state"] == "READY" and not SubjectDelivery.objects.exists()
    ready_entry = next(e for e in _timeline(dsr["id"]) if e.action == "export.ready")
    assert "must give something" in ready_entry.data["deliveryProblem"]
