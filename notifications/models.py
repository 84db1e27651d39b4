from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import Org


def _event_id() -> str:
    return new_id("evt")


def _endpoint_id() -> str:
    return new_id("whe")


def _delivery_id() -> str:
    return new_id("dlv")


class OutboxEvent(models.Model):
    """An event committed with the change that caused it. Its id is the Standard Webhooks `webhook-id`.

    `body` holds the exact bytes delivered (signed afresh per attempt, never re-rendered), so every retry
    and replay sends an identical payload. `dispatched_at` is set once the relay has turned the event into
    deliveries; until then the partial index below keeps the relay's scan cheap.
    """

    id = models.CharField(primary_key=True, max_length=40, default=_event_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="events")
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    type = models.CharField(max_length=64)
    body = models.TextField()
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_undispatched", condition=Q(dispatched_at__isnull=True)
            ),
            models.Index(fields=["request", "created_at"], name="outbox_by_request"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


class WebhookEndpoint(models.Model):
    """A receiver registered by an org. Deleting is soft, so the delivery history keeps its endpoint.

    `secret` is the `whsec_…` signing secret. It has to be kept in clear to sign each attempt; the API
    shows it once, in the answer that created it (or rotated it), and never again. After a rotation the
    previous secret keeps signing too, beside the new one, until `previous_secret_expires_at`.

    The circuit breaker lives here, per endpoint rather than per delivery: after
    DSAR_WEBHOOK_BREAKER_THRESHOLD failed attempts in a row the whole endpoint waits until
    `backoff_until`, and then one probe at a time decides whether it closes again.
    """

    id = models.CharField(primary_key=True, max_length=40, default=_endpoint_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.CharField(max_length=2000)
    event_types = models.JSONField(default=list, help_text='Event types delivered here; ["*"] for all.')
    description = models.CharField(max_length=500, blank=True)
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts in a row; a success resets it."
    )
    backoff_until = models.DateTimeField(
        null=True, blank=True, help_text="The circuit breaker is open: nothing is sent here before then."
    )
    backoff_trips = models.PositiveIntegerField(
        default=0, help_text="How many times in a row the breaker opened; each doubles the wait."
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["org", "created_at", "id"]
        indexes = [
            models.Index(
                fields=["org", "created_at"], name="whe_live_by_org", condition=Q(deleted_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.url}"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None and self.deleted_at is None

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types

    def signing_secrets(self, at: datetime) -> list[str]:
        """The secrets an attempt made at `at` is signed with: the current one, and the previous one
        during the 24 hours after a rotation (Standard Webhooks sends both, space-separated)."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and at < self.previous_secret_expires_at:
            secrets.append(self.previous_secret)
        return secrets


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING"  # waiting for its first attempt (or a replay's)
    DELIVERING = "DELIVERING"  # claimed by a worker until `claimed_until` (the lease)
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # the last attempt failed; the next one is at `next_attempt_at`
    DEAD = "DEAD"  # the retry schedule is exhausted, or the endpoint is gone


class ApiDeliveryStatus(models.TextChoices):
    """A delivery's status as the API shows it: a claimed (DELIVERING) one is still PENDING to the outside."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    DEAD = "DEAD"


class EndpointStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


# Rows a dispatcher may pick up once `next_attempt_at` has passed.
RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Delivery(models.Model):
    """One event to one endpoint: the retry schedule lives here, not in the broker.

    Workers claim a due row with a conditional UPDATE (→ DELIVERING with a lease), send outside any
    transaction, then record the attempt. A worker that dies mid-attempt leaves the lease to expire, after
    which the row is due again.
    """

    id = models.CharField(primary_key=True, max_length=40, default=_delivery_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt = models.PositiveIntegerField(default=0, help_text="Attempts started so far.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Set by each claim; recording an outcome needs it to still match (see services.deliveries_attempt).
    claim_token = models.CharField(max_length=32, blank=True, db_index=True)
    last_attempted_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(
        max_length=200, blank=True, help_text="Who asked for a replay; empty for the relay."
    )

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due", condition=Q(status__in=list(RETRYABLE))
            ),
            # The fair dispatcher's scan: each endpoint's oldest due rows.
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                name="delivery_due_by_endpoint",
                condition=Q(status__in=list(RETRYABLE)),
            ),
            models.Index(
                fields=["claimed_until"],
                name="delivery_leased",
                condition=Q(status=DeliveryStatus.DELIVERING),
            ),
            models.Index(fields=["event", "created_at"], name="delivery_by_event"),
            models.Index(fields=["endpoint", "status"], name="delivery_by_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.event_id} → {self.endpoint_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt (or one that could not be made), kept for the history and the officer's eyes."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    webhook_timestamp = models.BigIntegerField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number} {self.response_code or self.error[:40]}"


class Replay(models.Model):
    """One replay asked for through the API: who, when, of which event, to which endpoint (or all).

    The audit trail of replays, and what the quota counts (DSAR_WEBHOOK_REPLAYS_PER_HOUR per event).
    """

    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="replays")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    deliveries = models.PositiveIntegerField(help_text="Deliveries this replay created.")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["event", "created_at"], name="replay_by_event")]

    def __str__(self) -> str:
        return f"replay of {self.event_id} by {self.actor or '?'}"
