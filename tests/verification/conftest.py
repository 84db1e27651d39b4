"""The verification cast: the officer sends challenges, the mail goes to a locmem outbox, and the subject
answers with no key (`subject`), reading the code or link from the mail actually sent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

_CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
_LINK = re.compile(r"/s/verify/([A-Za-z0-9_-]+)")


@pytest.fixture
def send_mail(settings):
    """Send every queued message now; returns the e-mails this call sent."""
    from correspondence.mailer import mail_pass

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def send(now=None):
        before = len(mail.outbox)
        mail_pass(now=now)
        return mail.outbox[before:]

    return send


def code_in(email) -> str:
    return _CODE.search(email.body).group(1)


def token_in(email) -> str:
    return _LINK.search(email.body).group(1)


def recent(days: int = 2) -> str:
    return (timezone.now() - timedelta(days=days)).isoformat()


@pytest.fixture
def subject(db):
    """The data subject's browser or the organisation's portal: no key."""
    from rest_framework.test import APIClient

    client = APIClient()

    def verify(body, **extra):
        return client.post("/v1/subject/verify", body, format="json", **extra)

    return verify


@pytest.fixture
def challenge(officer):
    """`challenge(request_id, **body)`: POST …/verification/challenges as the officer; the answer."""

    def ask(request_id, method="EMAIL_CODE", **body):
        return officer.post(f"/v1/requests/{request_id}/verification/challenges", {"method": method, **body})

    return ask


@pytest.fixture
def code_sent(make_request, challenge, send_mail):
    """A GB request with a code challenge sent and mailed: (request id, challenge id, code)."""

    def make(**overrides):
        request = make_request(**{"receivedAt": recent(), **overrides})
        answer = challenge(request["id"])
        assert answer.status_code == 202, answer.content
        (email,) = send_mail()
        return request["id"], answer.json()["data"]["challenge"]["id"], code_in(email)

    return make


@pytest.fixture
def link_sent(make_request, challenge, send_mail):
    """A GB request with a link challenge sent and mailed: (request id, challenge id, token)."""

    def make(**overrides):
        request = make_request(**{"receivedAt": recent(), **overrides})
        answer = challenge(request["id"], method="EMAIL_LINK")
        assert answer.status_code == 202, answer.content
        (email,) = send_mail()
        return request["id"], answer.json()["data"]["challenge"]["id"], token_in(email)

    return make


def timeline(client, request_id):
    response = client.get(f"/v1/requests/{request_id}/timeline")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    return data.get("entries", data.get("timeline"))
