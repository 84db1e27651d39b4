from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from .ids import new_id

SCOPES = ("intake", "officer", "integration", "export")


def _org_id() -> str:
    return new_id("org")


class Org(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=_org_id, editable=False)
    name = models.CharField(max_length=200)
    at_risk_days = models.PositiveSmallIntegerField(
        default=7, help_text="A request due within this many days counts as at risk."
    )
    timezone_override = models.CharField(
        max_length=64, blank=True, help_text="IANA zone that replaces the policy pack's zone for this org."
    )
    # Correspondence with data subjects (correspondence/): the locale a message falls back to, whether a
    # lifecycle action tells the subject by default (`notify`), and the window to appeal a decision that
    # refusal letters state where the law grants an appeal (a product setting: the laws say "reasonable").
    default_locale = models.CharField(max_length=35, default="en")
    notify_subject = models.BooleanField(
        default=True, help_text="Lifecycle actions send the subject the matching message unless told not to."
    )
    appeal_window_days = models.PositiveSmallIntegerField(
        default=60, help_text="How long, in days, refusal letters give the subject to appeal."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "organisation"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A bearer key `dsar_<prefix>_<secret>`.

    The prefix is the indexed lookup; only a SHA-256 of the secret is kept.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the key answers 401.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        permissions = [("revoke_apikey", "Can revoke the organisation's API keys")]

    def __str__(self) -> str:
        return f"dsar_{self.prefix}_… ({', '.join(self.scopes)})"

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class Membership(models.Model):
    """A staff user works for exactly one org; the admin shows that org's objects only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.org}"


class IdempotencyRecord(models.Model):
    """The first response to a POST/PUT under an `Idempotency-Key`, stored with its work."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "key"], name="idempotency_unique_org_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class RateCounter(models.Model):
    """One fixed-window counter of `core.ratelimit` (used when no Redis is configured).

    `expires_at` is the current window's end in Unix seconds; the sweep deletes counters whose window ended.
    """

    name = models.CharField(max_length=200, unique=True)
    expires_at = models.BigIntegerField(db_index=True)
    hits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.hits}"
