"""Message templates (data, per org, pack, kind and locale) and the messages sent to data subjects.

A `Message` is the mail outbox as well as the record: it is written `QUEUED` in the transaction of the
action that caused it, and the mailer (`correspondence.mailer`) sends it, retrying with backoff. Its
subject and bodies never change once written; only its delivery fields (status, attempts, times) do.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import Org


class Kind(models.TextChoices):
    ACKNOWLEDGEMENT = "ACKNOWLEDGEMENT"
    VERIFICATION_CODE = "VERIFICATION_CODE"
    VERIFICATION_LINK = "VERIFICATION_LINK"
    CLARIFICATION = "CLARIFICATION"
    EXTENSION = "EXTENSION"
    REFUSAL = "REFUSAL"
    CLOSURE = "CLOSURE"
    DELIVERY_READY = "DELIVERY_READY"
    APPEAL_DECISION = "APPEAL_DECISION"
    CUSTOM = "CUSTOM"


class MessageStatus(models.TextChoices):
    QUEUED = "QUEUED"
    SENT = "SENT"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"


def _template_id() -> str:
    return new_id("mtp")


def _message_id() -> str:
    return new_id("msg")


class MessageTemplate(models.Model):
    """One version of an organisation's template. Saving a template for the same (kind, pack, locale)
    writes a new row with the next `version` and retires the previous one (`retired_at`); messages keep
    the id and version they were rendered from."""

    id = models.CharField(primary_key=True, max_length=40, default=_template_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # A pack id (`uk-gdpr`), or empty: every pack without a template of its own.
    pack = models.CharField(max_length=32, blank=True)
    locale = models.CharField(max_length=35)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "pack", "locale", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "kind", "pack", "locale"],
                condition=Q(retired_at__isnull=True),
                name="message_template_one_current",
            ),
            models.UniqueConstraint(
                fields=["org", "kind", "pack", "locale", "version"], name="message_template_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pack or '*'} {self.locale} v{self.version}"


class Message(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=_message_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    locale = models.CharField(max_length=35)
    to_address = models.CharField(max_length=320, blank=True)
    to_masked = models.CharField(max_length=330, blank=True)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    body_sha256 = models.CharField(max_length=64)
    template_id = models.CharField(max_length=80, blank=True)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    legal_checks = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    # Why a message was not sent at all (SUPPRESSED), or the last send error (FAILED): no addresses, no
    # server replies (they may quote the recipient), only what an officer can act on.
    status_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the mailer may next try (QUEUED or FAILED); None once SENT, SUPPRESSED or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The seed of the secret this message carries (core.subject_secrets), until it is sent or given up.
    secret_seed = models.CharField(max_length=64, blank=True)
    secret_kind = models.CharField(max_length=8, blank=True)  # "code" | "token"
    # What the message is about beyond its request: a verification challenge, a delivery.
    ref = models.CharField(max_length=80, blank=True)
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["request", "created_at", "id"], name="message_request_created"),
            # The mailer's queue: due messages only.
            models.Index(
                fields=["next_attempt_at"],
                name="message_due",
                condition=Q(next_attempt_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.kind} ({self.status})"
