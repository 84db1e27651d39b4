"""Identity verification challenges: a one-time code or link sent to the data subject.

A challenge keeps only a keyed hash of its current secret (`core.subject_secrets.keyed_hash`), never the
secret: the seed it is derived from lives on the queued message alone, until the mailer has sent it. A link
challenge also keeps `token_lookup` (another keyed hash of the token), so that a token leads to its
challenge by an index lookup without the token ever being stored.

Every write to a challenge happens with its request's row locked (`select_for_update`), request first:
the services never deadlock one another, and a request has at most one PENDING challenge (the partial
unique constraint below is the last line of defence).
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import Org

MAX_ATTEMPTS = 5
MAX_SENDS = 3


class Method(models.TextChoices):
    EMAIL_CODE = "EMAIL_CODE"
    EMAIL_LINK = "EMAIL_LINK"


class ChallengeStatus(models.TextChoices):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    EXPIRED = "EXPIRED"
    LOCKED = "LOCKED"
    CANCELLED = "CANCELLED"


def _challenge_id() -> str:
    return new_id("vch")


class VerificationChallenge(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=_challenge_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.PROTECT, related_name="verification_challenges"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    status = models.CharField(max_length=16, choices=ChallengeStatus.choices, default=ChallengeStatus.PENDING)
    destination_masked = models.CharField(max_length=330)
    # Why the secret went to an address other than the request's own (empty when it did not).
    destination_reason = models.CharField(max_length=500, blank=True)
    locale = models.CharField(max_length=35, blank=True)
    # keyed_hash of the current code or token; a resend replaces it, so the previous secret stops working.
    secret_hash = models.CharField(max_length=64)
    # Link challenges: keyed_hash("vch-lookup", token), the index a token is found by. Null for codes.
    token_lookup = models.CharField(max_length=64, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sends = models.PositiveSmallIntegerField(default=1)
    last_sent_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    message_id = models.CharField(max_length=40, blank=True)  # the latest message that carried a secret
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    ended_at = models.DateTimeField(null=True, blank=True)  # when it left PENDING

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="PENDING"),
                name="verification_one_pending_per_request",
            ),
        ]
        indexes = [
            models.Index(fields=["request", "created_at"], name="vch_request_created"),
            # The sweep: pending challenges by expiry (and link reminders).
            models.Index(fields=["expires_at"], name="vch_pending_expiry", condition=Q(status="PENDING")),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.method} ({self.status})"

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_ATTEMPTS - self.attempts)

    def open_at(self, now: datetime) -> bool:
        """Whether a right answer would verify it now."""
        return (
            self.status == ChallengeStatus.PENDING and self.attempts < MAX_ATTEMPTS and now < self.expires_at
        )
