"""The mailer: sends queued messages through Django's e-mail framework, with retries.

`mail_pass` is called by the background runner (the embedded worker's mail thread; the `dsar.mail` Celery
task). Each due message is claimed with a conditional UPDATE (its `next_attempt_at` moves a lease ahead),
so two workers never send the same message at once. Every attempt carries the same `Message-ID`
(`<msg_…@DSAR_EMAIL_MESSAGE_ID_DOMAIN>`): if a server accepted a message whose success we then failed to
record, the retry is the same message to the receiving side, which drops the duplicate.

A failure leaves the message FAILED with the next attempt scheduled (backoff), up to
DSAR_EMAIL_MAX_ATTEMPTS; the action that queued it is never undone. The first failure, a success and
giving up each emit an event (`message.failed`, `message.sent`) and add an entry to the request's timeline.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from core.subject_secrets import SECRET_MARK, secret_code, secret_token
from notifications.services import event_emit
from requests_app.services import request_record

from .models import Message, MessageStatus
from .resources import message_resource

log = logging.getLogger("dsar.mail")

# Seconds before attempt n+1 (the last figure repeats).
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
_SENDABLE = (MessageStatus.QUEUED, MessageStatus.FAILED)


def lease_seconds() -> float:
    return float(settings.EMAIL_TIMEOUT or 20) + 60


def mail_waiting(now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return Message.objects.filter(next_attempt_at__lte=now, status__in=_SENDABLE).exists()


def mail_pass(*, now: datetime | None = None, limit: int = 50) -> int:
    """Send the messages due now; how many were sent."""
    now = now or timezone.now()
    due = list(
        Message.objects.filter(next_attempt_at__lte=now, status__in=_SENDABLE)
        .order_by("next_attempt_at", "id")
        .values_list("id", "next_attempt_at")[:limit]
    )
    sent = 0
    for message_id, due_at in due:
        lease_until = now + timedelta(seconds=lease_seconds())
        if not Message.objects.filter(pk=message_id, next_attempt_at=due_at).update(
            next_attempt_at=lease_until
        ):
            continue  # another worker claimed it
        sent += mail_send(message_id)
    return sent


def _email(message: Message) -> EmailMultiAlternatives:
    text, markup = message.body_text, message.body_html
    if message.secret_seed:
        secret = (
            secret_code(message.secret_seed)
            if message.secret_kind == "code"
            else secret_token(message.secret_seed)
        )
        text, markup = text.replace(SECRET_MARK, secret), markup.replace(SECRET_MARK, secret)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=text,
        from_email=settings.DSAR_EMAIL_FROM,
        to=[message.to_address],
        headers={
            "Message-ID": f"<{message.id}@{settings.DSAR_EMAIL_MESSAGE_ID_DOMAIN}>",
            "Content-Language": message.locale,
            "Auto-Submitted": "auto-generated",
        },
    )
    if markup:
        email.attach_alternative(markup, "text/html")
    return email


def _why(error: Exception) -> str:
    """What an officer may read of a failure: the kind and the SMTP code, never the server's text (it may
    quote the address)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"The mail server refused the message (SMTP {error.smtp_code})."
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the recipient."
    if isinstance(error, TimeoutError | smtplib.SMTPServerDisconnected):
        return f"The mail server did not answer in time or hung up ({type(error).__name__})."
    if isinstance(error, OSError):
        return f"The mail server could not be reached ({type(error).__name__})."
    return f"Sending failed ({type(error).__name__})."


def mail_send(message_id: str, *, now: datetime | None = None) -> int:
    """One attempt at one claimed message: 1 if sent."""
    message = Message.objects.select_related("request").get(pk=message_id)
    if message.status not in _SENDABLE:
        return 0
    try:
        with get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) as connection:
            connection.send_messages([_email(message)])
    except Exception as error:
        _record_failure(message.pk, _why(error), now=now or timezone.now())
        log.warning("Message %s not sent: %s", message.pk, _why(error))
        return 0
    _record_sent(message.pk, now=now or timezone.now())
    return 1


def _record_sent(message_id: str, *, now: datetime) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        message.status = MessageStatus.SENT
        message.sent_at = now
        message.attempts += 1
        message.next_attempt_at = None
        message.secret_seed = ""
        message.status_reason = ""
        message.updated_at = now
        message.save()
        _tell(message, "message.sent", now=now, notes=f"{message.kind} message sent to {message.to_masked}.")


def _record_failure(message_id: str, why: str, *, now: datetime) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        first = message.status == MessageStatus.QUEUED
        message.status = MessageStatus.FAILED
        message.attempts += 1
        message.status_reason = why
        give_up = message.attempts >= settings.DSAR_EMAIL_MAX_ATTEMPTS
        if give_up:
            message.next_attempt_at = None
            message.secret_seed = ""
        else:
            delay = BACKOFF_SECONDS[min(message.attempts - 1, len(BACKOFF_SECONDS) - 1)]
            message.next_attempt_at = now + timedelta(seconds=delay)
        message.updated_at = now
        message.save()
        if first or give_up:
            then = "given up" if give_up else f"retrying at {message.next_attempt_at:%Y-%m-%d %H:%M} UTC"
            _tell(
                message, "message.failed", now=now, notes=f"{message.kind} message not sent: {why} ({then})."
            )


def _tell(message: Message, event_type: str, *, now: datetime, notes: str) -> None:
    event_emit(
        org_id=message.org_id,
        request_id=message.request_id,
        type=event_type,
        at=now,
        data={"requestId": message.request_id, "messageId": message.id, "message": message_resource(message)},
    )
    request_record(
        request_id=message.request_id,
        action=event_type,
        actor="system:mailer",
        notes=notes,
        data={"messageId": message.id, "kind": message.kind, "status": message.status},
        now=now,
    )
