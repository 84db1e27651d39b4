"""The mailer against a real SMTP server on loopback (aiosmtpd), a server that refuses, one that never
answers, none at all, and Django's file backend: a failure leaves the message FAILED and retried, never
undoes the action, and every attempt carries the same Message-ID."""

import socket
import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from correspondence.mailer import mail_pass
from correspondence.models import Message
from notifications.models import OutboxEvent
from tests.correspondence.conftest import act, messages_of

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self):
        self.received = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "550 5.7.1 Refused by policy for jane@example.org"
        self.received.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_TIMEOUT = 5
    yield recorder
    controller.stop()


def _due_now(message_id):
    Message.objects.filter(pk=message_id).update(next_attempt_at=timezone.now())


def test_a_message_goes_out_through_a_real_smtp_server(officer, make_request, smtp, settings):
    request = make_request()
    act(officer, request["id"], "acknowledgements")

    assert mail_pass() == 1

    [received] = smtp.received
    [message] = messages_of(officer, request["id"])
    assert received["To"] == "jane@example.org"
    assert received["From"] == settings.DSAR_EMAIL_FROM
    assert received["Message-ID"] == f"<{message['id']}@dsar.invalid>"
    assert received["Content-Language"] == "en"
    assert received.is_multipart()  # text and HTML
    assert message["status"] == "SENT"


def test_a_refusing_server_leaves_the_message_failed_and_retried_and_the_action_kept(
    officer, make_request, smtp
):
    request = make_request()
    smtp.refuse = True
    assert act(officer, request["id"], "refusals", {"reason": "Unfounded."}).status_code == 202

    assert mail_pass() == 0

    [message] = messages_of(officer, request["id"])
    assert message["status"] == "FAILED"
    assert message["statusReason"] == "The mail server refused the message (SMTP 550)."
    assert "jane@" not in message["statusReason"]  # the server's text is never kept
    row = Message.objects.get(pk=message["id"])
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert officer.get(f"/v1/requests/{request['id']}").json()["data"]["request"]["status"] == "REFUSED"
    assert OutboxEvent.objects.filter(request_id=request["id"], type="message.failed").count() == 1

    smtp.refuse = False
    _due_now(message["id"])
    assert mail_pass() == 1

    [received] = smtp.received
    assert received["Message-ID"] == f"<{message['id']}@dsar.invalid>"
    [message] = messages_of(officer, request["id"])
    assert message["status"] == "SENT" and message["attempts"] == 2
    actions = [
        e["action"] for e in officer.get(f"/v1/requests/{request['id']}/timeline").json()["data"]["entries"]
    ]
    assert actions[-2:] == ["message.failed", "message.sent"]


def test_a_server_that_never_answers_times_out_into_a_retry(officer, make_request, settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
    settings.EMAIL_TIMEOUT = 0.5
    request = make_request()
    act(officer, request["id"], "acknowledgements")
    try:
        assert mail_pass() == 0
    finally:
        listener.close()
    [message] = messages_of(officer, request["id"])
    assert message["status"] == "FAILED"
    assert "did not answer in time" in message["statusReason"]


def test_no_server_at_all_is_a_failure_too(officer, make_request, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    request = make_request()
    act(officer, request["id"], "acknowledgements")
    assert mail_pass() == 0
    assert messages_of(officer, request["id"])[0]["status"] == "FAILED"


def test_the_mailer_gives_up_after_the_configured_attempts(officer, make_request, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.DSAR_EMAIL_MAX_ATTEMPTS = 2
    request = make_request()
    act(officer, request["id"], "acknowledgements")
    mail_pass()
    [message] = messages_of(officer, request["id"])
    _due_now(message["id"])
    mail_pass()
    row = Message.objects.get(pk=message["id"])
    assert (row.status, row.attempts, row.next_attempt_at) == ("FAILED", 2, None)
    assert OutboxEvent.objects.filter(request_id=request["id"], type="message.failed").count() == 2
    assert mail_pass() == 0  # nothing due any more


def test_a_claimed_message_is_not_sent_twice(officer, make_request, smtp):
    """Two workers: the first claims the message (its next attempt moves a lease ahead); the second finds
    nothing due."""
    from correspondence import mailer

    request = make_request()
    act(officer, request["id"], "acknowledgements")
    [message] = messages_of(officer, request["id"])
    due = Message.objects.get(pk=message["id"]).next_attempt_at
    claimed = Message.objects.filter(pk=message["id"], next_attempt_at=due).update(
        next_attempt_at=timezone.now() + timedelta(seconds=mailer.lease_seconds())
    )
    assert claimed == 1
    assert mail_pass() == 0
    assert smtp.received == []


def test_the_file_backend_writes_each_message_to_the_folder(officer, make_request, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    request = make_request()
    act(officer, request["id"], "acknowledgements")
    assert mail_pass() == 1
    [written] = list(tmp_path.iterdir())
    content = written.read_text()
    assert "To: jane@example.org" in content
    assert f"Message-ID: <{messages_of(officer, request['id'])[0]['id']}@dsar.invalid>" in content


def test_message_events_carry_the_message_without_the_address(officer, make_request, smtp):
    import json

    request = make_request()
    act(officer, request["id"], "acknowledgements")
    mail_pass()
    event = OutboxEvent.objects.get(request_id=request["id"], type="message.sent")
    body = json.loads(event.body)
    assert body["data"]["message"]["status"] == "SENT"
    assert "jane@example.org" not in event.body


def test_dsar_email_backend_names_map_to_djangos_backends():
    from dsar_project import settings as project_settings

    assert project_settings._EMAIL_BACKENDS["file"] == "django.core.mail.backends.filebased.EmailBackend"
    assert project_settings._EMAIL_BACKENDS["console"] == "django.core.mail.backends.console.EmailBackend"
    assert project_settings._EMAIL_BACKENDS["smtp"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.django_db(transaction=True)
def test_one_pass_of_the_embedded_worker_sends_the_queued_mail(officer, make_request, settings):
    """`serve`'s worker sends mail on a thread of its own, beside deliveries and sweeps."""
    from dsar_project.background.worker import run_loop

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_BROKER_URL = ""
    request = make_request()
    act(officer, request["id"], "acknowledgements")

    run_loop(threading.Event(), once=True, poll_seconds=0.01, sweep_seconds=3600, wake_port_number=0)

    assert messages_of(officer, request["id"])[0]["status"] == "SENT"


def test_the_dispatch_task_sends_the_mail_task_when_mail_is_waiting(officer, make_request, monkeypatch):
    """Under Celery, mail waiting is sent as `dsar.mail` (beat also ticks it every few seconds)."""
    from dsar_project.background import tasks

    sent = []
    monkeypatch.setattr(tasks.dispatch_task.app, "send_task", lambda name, **kw: sent.append(name))
    request = make_request()
    tasks.dispatch_task()
    assert "dsar.mail" not in sent
    act(officer, request["id"], "acknowledgements")
    tasks.dispatch_task()
    assert "dsar.mail" in sent
    from notifications.dispatcher import dispatcher_shutdown

    dispatcher_shutdown(timeout=10)
