"""Substrates (an org's registered data sources) and export jobs with their timeline.

A job's `state` is a protected FSM field: it changes only through the transitions below, called by
`exports.services` inside one transaction with the job's timeline entry and its `export.*` event.
Claims and worker handovers are conditional UPDATEs on (`state`, `worker_id`), so a worker that lost its
job can never write over its successor's.
"""

from __future__ import annotations

import secrets

import django_fsm as fsm
from django.db import models
from django.db.models import Q

from core.ids import new_id, ulid
from core.models import Org


class State(models.TextChoices):
    REQUESTED = "REQUESTED"
    COLLECTING = "COLLECTING"
    PACKAGING = "PACKAGING"
    READY = "READY"
    DELIVERED = "DELIVERED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


ACTIVE_STATES = (State.REQUESTED, State.COLLECTING, State.PACKAGING)
RUNNING_STATES = (State.COLLECTING, State.PACKAGING)
TERMINAL_STATES = (State.DELIVERED, State.EXPIRED, State.FAILED)


class Format(models.TextChoices):
    JSON = "JSON"
    CSV = "CSV"
    NDJSON = "NDJSON"
    PARQUET = "PARQUET"


class SubstrateKind(models.TextChoices):
    SQL = "sql"
    FILES = "files"


FORMAT_VALUES = frozenset(Format.values)


def _job_id() -> str:
    return f"dsar:{ulid()}"


def _nonce() -> str:
    return secrets.token_urlsafe(12)


class Substrate(models.Model):
    """A data source an org registered: its mapping (the contract's JSON, validated when saved) and
    whether jobs read it. The built-in `dsar_core` is not stored: every org has it."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="substrates")
    key = models.CharField(max_length=40)
    kind = models.CharField(max_length=16, choices=SubstrateKind.choices)
    description = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True, help_text="Jobs read only enabled substrates.")
    mapping = models.JSONField(help_text="The mapping as registered (api-contract.md, Substrates).")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.TextField(blank=True, help_text="What the last connection check found wrong.")

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["org", "key"], name="substrate_unique_org_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"


class ExportJob(fsm.ConcurrentTransitionMixin, models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=_job_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="export_jobs", db_index=False)
    state = fsm.FSMField(choices=State.choices, default=State.REQUESTED, protected=True, max_length=16)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    # What the caller asked for when it was not a format we write (the job falls back to JSON and says so).
    format_requested = models.CharField(max_length=100, blank=True)
    scope = models.JSONField(help_text="The job's scope as the API shows it.")
    requested_by = models.CharField(max_length=200)
    # The contract's `string | null`: null (not given) and "" (given empty) are kept apart.
    request_notes = models.TextField(null=True, blank=True)  # noqa: DJ001
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="export_jobs",
    )
    # Whether the linked request's subject is told when the bundle is ready (DELIVERY_READY with a portal
    # link); given at creation, else the org's `notify_subject` then.
    notify = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    # progress
    rows_collected = models.BigIntegerField(default=0)
    rows_expected = models.BigIntegerField(null=True, blank=True)
    bytes_packaged = models.BigIntegerField(default=0)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=100, blank=True, help_text="The worker holding the job.")
    takeovers = models.PositiveSmallIntegerField(default=0)
    # Since when the job has waited for a background worker (handed off or taken over); None once held.
    waiting_since = models.DateTimeField(null=True, blank=True)

    # delivery
    bundle_key = models.CharField(max_length=300, blank=True)
    bundle_size = models.BigIntegerField(null=True, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    downloaded_by = models.CharField(max_length=200, blank=True)
    bundle_deleted_at = models.DateTimeField(null=True, blank=True)
    # Bound into every download token; a new one revokes every link issued before.
    link_nonce = models.CharField(max_length=32, default=_nonce)

    # failure
    failure_message = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_worker_id = models.CharField(max_length=100, blank=True)

    audit_report = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "export job"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["org", "created_at", "id"], name="export_org_created"),
            models.Index(fields=["org", "state", "created_at", "id"], name="export_org_state"),
            # The sweeps: running jobs by heartbeat, READY/DELIVERED bundles by expiry.
            models.Index(
                fields=["last_heartbeat_at"], name="export_running", condition=Q(state__in=RUNNING_STATES)
            ),
            models.Index(
                fields=["expires_at"],
                name="export_bundle_expiry",
                condition=Q(state__in=(State.READY, State.DELIVERED), bundle_deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.state})"

    # --- transitions: only `exports.services` calls these ------------------------------------------------
    # Each only moves `state` (django-fsm-2 checks the source state); the fields that go with it are set by
    # the service, in the same transaction, beside the timeline entry and the event.

    @fsm.transition(field=state, source=State.REQUESTED, target=State.COLLECTING)
    def collect(self) -> None:
        """The state change alone."""

    @fsm.transition(field=state, source=list(RUNNING_STATES), target=State.COLLECTING)
    def restart(self) -> None:
        """A stale job taken over by another worker starts collecting again from the beginning."""

    @fsm.transition(field=state, source=State.COLLECTING, target=State.PACKAGING)
    def package(self) -> None:
        """The state change alone."""

    @fsm.transition(field=state, source=State.PACKAGING, target=State.READY)
    def make_ready(self) -> None:
        """The state change alone."""

    @fsm.transition(field=state, source=State.READY, target=State.DELIVERED)
    def deliver(self) -> None:
        """The state change alone."""

    @fsm.transition(field=state, source=State.READY, target=State.EXPIRED)
    def expire(self) -> None:
        """The state change alone."""

    @fsm.transition(field=state, source=list(ACTIVE_STATES), target=State.FAILED)
    def fail(self) -> None:
        """The state change alone."""


class ExportJobEntry(models.Model):
    """One line of a job's timeline: `{at, actor, notes}` in the API, with the change it records."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="timeline")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        verbose_name = "export job timeline entry"
        verbose_name_plural = "export job timeline"
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="export_entry_unique_seq")]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq} {self.action}"


class DeliveryStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


def _delivery_id() -> str:
    return new_id("dlv")


class SubjectDelivery(models.Model):
    """A bundle offered to the data subject through the portal (`/s/d/{id}?t=<token>`).

    The token itself is never stored: it is derived from a seed that only the queued DELIVERY_READY message
    holds until it is sent (core.subject_secrets); the delivery keeps its keyed hash (`token_lookup`). The
    same goes for the step-up code. Expiry is the job's: past `expires_at` (or once the job's links are
    revoked: `REVOKED`) the link answers like an unknown one.
    """

    id = models.CharField(primary_key=True, max_length=40, default=_delivery_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+", db_index=False)
    job = models.ForeignKey(ExportJob, on_delete=models.PROTECT, related_name="deliveries")
    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.PROTECT, related_name="deliveries"
    )
    token_lookup = models.CharField(max_length=64, unique=True, help_text="Keyed hash of the link's token.")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE)
    # Step-up (DSAR_DELIVERY_STEP_UP=email): the current code's keyed hash, when it was sent and until when
    # it works; how many codes were sent; wrong codes so far (5 revoke the link).
    code_lookup = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    failures = models.PositiveSmallIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)
    first_downloaded_at = models.DateTimeField(null=True, blank=True)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=40, blank=True, help_text="The DELIVERY_READY message.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "subject delivery"
        verbose_name_plural = "subject deliveries"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"
