from __future__ import annotations

from typing import Any, cast

import django_fsm as fsm
from django.db import models
from django.db.models import Q

from core.ids import new_id
from core.models import Org
from core.prepared import insert

from .search import email_key, haystack


class Status(models.TextChoices):
    RECEIVED = "RECEIVED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    AWAITING_CLARIFICATION = "AWAITING_CLARIFICATION"
    REFUSED = "REFUSED"
    CLOSED = "CLOSED"
    APPEALED = "APPEALED"
    APPEAL_DECIDED = "APPEAL_DECIDED"


# Awaiting the organisation's answer.
OPEN = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.AWAITING_CLARIFICATION)
# Answered: the clock has stopped, but the requestor may still appeal where the law grants an appeal.
ANSWERED = (Status.REFUSED, Status.CLOSED)
# A deadline is running: the response, or the decision on an appeal.
ACTIVE = (*OPEN, Status.APPEALED)
# Nothing more can happen, except an appeal of an answer.
TERMINAL = (*ANSWERED, Status.APPEAL_DECIDED)


class Channel(models.TextChoices):
    EMAIL = "EMAIL"
    WEB_FORM = "WEB_FORM"
    PHONE = "PHONE"
    MAIL = "MAIL"
    IN_PERSON = "IN_PERSON"
    API = "API"
    OTHER = "OTHER"


class RequestType(models.TextChoices):
    ACCESS = "ACCESS"
    ERASURE = "ERASURE"
    RECTIFICATION = "RECTIFICATION"
    PORTABILITY = "PORTABILITY"
    RESTRICTION = "RESTRICTION"
    OBJECTION = "OBJECTION"
    OPT_OUT_SALE = "OPT_OUT_SALE"
    LIMIT_SENSITIVE = "LIMIT_SENSITIVE"
    WITHDRAW_CONSENT = "WITHDRAW_CONSENT"


class RequestorType(models.TextChoices):
    DATA_SUBJECT = "DATA_SUBJECT"
    AUTHORIZED_AGENT = "AUTHORIZED_AGENT"
    PARENT_GUARDIAN = "PARENT_GUARDIAN"
    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"


class VerificationStatus(models.TextChoices):
    NOT_REQUESTED = "NOT_REQUESTED"
    REQUESTED = "REQUESTED"
    RECEIVED = "RECEIVED"


class ManualVerificationMethod(models.TextChoices):
    """How an officer verified the identity themselves (`verification/receive`); what was checked is
    recorded, never a document."""

    MANUAL = "MANUAL"
    KNOWN_FACTS = "KNOWN_FACTS"
    ACCOUNT_LOGIN = "ACCOUNT_LOGIN"
    DOCUMENT = "DOCUMENT"


class ClockState(models.TextChoices):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    AWAITING_START = "AWAITING_START"
    STOPPED = "STOPPED"


class OutcomeKind(models.TextChoices):
    FULFILLED = "FULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    WITHDRAWN = "WITHDRAWN"
    REFUSED = "REFUSED"


class ClosureOutcome(models.TextChoices):
    """The outcomes a closure may record (a refusal has its own action)."""

    FULFILLED = "FULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    WITHDRAWN = "WITHDRAWN"


class AppealOutcome(models.TextChoices):
    UPHELD = "UPHELD"
    REVERSED = "REVERSED"
    PARTIALLY_REVERSED = "PARTIALLY_REVERSED"


class DeadlineKind(models.TextChoices):
    RESPONSE = "RESPONSE"
    APPEAL = "APPEAL"


_IDENTITY_FIELDS = frozenset({"id", "requestor_name", "requestor_email", "contact"})
_SEARCH_FIELDS = ("requestor_email_key", "contact_key", "search_text")


def _request_id() -> str:
    return new_id("req")


class DataSubjectRequest(fsm.ConcurrentTransitionMixin, models.Model):
    """One data subject request. Status changes only through the transitions below, called by services."""

    id = models.CharField(primary_key=True, max_length=40, default=_request_id, editable=False)
    # No index of its own: every index below starts with the org.
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="requests", db_index=False)
    status = fsm.FSMField(choices=Status.choices, default=Status.RECEIVED, protected=True, max_length=32)
    status_before_clarification = models.CharField(max_length=32, blank=True)

    jurisdiction = models.CharField(max_length=8)
    request_types = models.JSONField(default=list)
    request_types_inferred = models.BooleanField(default=False)

    channel = models.CharField(max_length=16, choices=Channel.choices)
    raw_text = models.TextField()
    intake_received_at = models.DateTimeField(
        help_text="When the organisation received it: the clock starts here."
    )
    contact = models.CharField(max_length=320, blank=True)
    source_evidence = models.JSONField(default=list, blank=True)

    requestor = models.JSONField(null=True, blank=True)
    requestor_name = models.CharField(max_length=200, blank=True)
    requestor_email = models.CharField(max_length=320, blank=True)

    # Derived by save() from the identity fields above (requests_app.search): what `email=` compares
    # (trimmed, case-folded) and the one case-folded haystack `q=` searches.
    requestor_email_key = models.CharField(max_length=320, blank=True, db_default="", editable=False)
    contact_key = models.CharField(max_length=320, blank=True, db_default="", editable=False)
    search_text = models.TextField(blank=True, db_default="", editable=False)

    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.NOT_REQUESTED
    )
    verification_method = models.CharField(max_length=100, blank=True)
    verification_requested_at = models.DateTimeField(null=True, blank=True)
    verification_received_at = models.DateTimeField(null=True, blank=True)
    # The latest identity challenge (verification.models) as the resource shows it ({id, method, status,
    # expiresAt, destinationMasked, attemptsLeft}), written in the challenge's transaction: lists read no
    # other table.
    verification_challenge = models.JSONField(null=True, blank=True)
    # Set once by the verification sweep: the day from which the request, still unverified, may be refused
    # as unverifiable (the pack's `denyAfterDays` after receipt: CCPA 45).
    verification_may_refuse_from = models.DateField(null=True, blank=True)

    authority_requested_at = models.DateTimeField(null=True, blank=True)
    authority_current = models.ForeignKey(
        "authority.AuthorityEvidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    outcome = models.JSONField(null=True, blank=True)
    # {receivedAt, channel, rawText, decision: null | {outcome, message, rationale, at}} once appealed.
    appeal = models.JSONField(null=True, blank=True)

    received_at = models.DateTimeField(help_text="When this system recorded the request.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    # The clock as last computed (clocks.compute), kept in columns so the queue filters and sorts in SQL.
    clock_pack_id = models.CharField(max_length=32)
    clock_pack_version = models.CharField(max_length=16)
    clock_timezone = models.CharField(max_length=64)
    clock_state = models.CharField(max_length=16, choices=ClockState.choices, default=ClockState.RUNNING)
    clock_started_at = models.DateTimeField()
    clock_base_due_date = models.DateField()
    clock_due_date = models.DateField()
    clock_due_at = models.DateTimeField()
    clock_acknowledge_by = models.DateField(null=True, blank=True)
    clock_acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The end of the local `clock_acknowledge_by` day: past it, unacknowledged, the acknowledgement is late.
    clock_acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    # Which deadline the due columns hold: the response, or the decision on an appeal.
    clock_deadline_kind = models.CharField(
        max_length=16, choices=DeadlineKind.choices, default=DeadlineKind.RESPONSE
    )
    clock_stopped_at = models.DateTimeField(null=True, blank=True)
    # Once stopped: was the answer given after `clock_due_at`? (None while the clock runs.)
    clock_answered_late = models.BooleanField(null=True, blank=True)
    clock_computed_at = models.DateTimeField()
    # While paused or awaiting start, daysRemaining is frozen at this value; None once stopped.
    clock_days_remaining = models.IntegerField(null=True, blank=True)
    # Deadline sweeps: the due date `clock.at_risk` / `clock.overdue` was last emitted for (never twice),
    # and the acknowledgement date `clock.acknowledgement_*` was last emitted for.
    at_risk_notified_for = models.DateField(null=True, blank=True)
    overdue_notified_for = models.DateField(null=True, blank=True)
    ack_at_risk_notified_for = models.DateField(null=True, blank=True)
    ack_overdue_notified_for = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "data subject request"
        ordering = ["clock_due_date", "id"]
        indexes = [
            # The queue's at-risk page: open requests in due-date order (ORDER BY clock_due_date, id LIMIT n).
            models.Index(
                fields=["org", "clock_due_date", "id"],
                name="dsr_open_due",
                condition=Q(status__in=ACTIVE),
            ),
            # Counting the at-risk view (its exact `total`): an index-only scan over (due date, zone). No id,
            # so B-tree deduplication keeps one entry per (org, due date, zone): a few hundred kB at 1M rows.
            models.Index(
                fields=["org", "clock_due_date", "clock_timezone"],
                name="dsr_open_due_zone",
                condition=Q(status__in=ACTIVE),
            ),
            models.Index(fields=["org", "clock_due_date", "id"], name="dsr_due"),
            models.Index(fields=["org", "created_at", "id"], name="dsr_created"),
            models.Index(fields=["org", "intake_received_at", "id"], name="dsr_received"),
            models.Index(fields=["org", "updated_at", "id"], name="dsr_updated"),
            # Counting by status: with no unique column, B-tree deduplication makes it a few pages per status.
            models.Index(fields=["org", "status"], name="dsr_status"),
            # The queue by status, newest first (the default order): its page ids come from this index alone.
            models.Index(fields=["org", "status", "created_at", "id"], name="dsr_status_created"),
            models.Index(fields=["org", "jurisdiction", "id"], name="dsr_jurisdiction"),
            # `email=`: exact matches on either key (PostgreSQL ORs the two index scans).
            models.Index(fields=["org", "requestor_email_key"], name="dsr_requestor_email"),
            models.Index(fields=["org", "contact_key"], name="dsr_contact"),
            # The queue's "acknowledgement overdue" view and its sweep.
            models.Index(
                fields=["org", "clock_acknowledge_due_at", "id"],
                name="dsr_ack_pending",
                condition=Q(status__in=OPEN, clock_acknowledged_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.jurisdiction}, {self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The search keys follow the identity fields on every save that writes any of them.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or not _IDENTITY_FIELDS.isdisjoint(update_fields):
            self.requestor_email_key = email_key(self.requestor_email)
            self.contact_key = email_key(self.contact)
            self.search_text = haystack(
                request_id=self.id,
                requestor_name=self.requestor_name,
                requestor_email=self.requestor_email,
                contact=self.contact,
            )
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, *_SEARCH_FIELDS}
        if kwargs == {"force_insert": True} and not args and self._state.adding:
            insert(self)  # a new request (services.intake): the INSERT built once per process
            return
        super().save(*args, **kwargs)

    @property
    def state_fields(self) -> tuple[fsm.FSMFieldMixin, ...]:
        # ConcurrentTransitionMixin scans every field with isinstance() on each instance it builds (the
        # queue builds 50 per page); the answer is fixed, so look it up directly.
        return (cast(fsm.FSMFieldMixin, self._meta.get_field("status")),)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    # Transitions change fields in memory only; services lock, save, write the timeline and the outbox.
    @fsm.transition(field=status, source=Status.RECEIVED, target=Status.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        """Only the status changes; the acknowledgement time is the timeline entry's `at`."""

    @fsm.transition(
        field=status, source=[Status.RECEIVED, Status.ACKNOWLEDGED], target=Status.AWAITING_CLARIFICATION
    )
    def request_clarification(self) -> None:
        self.status_before_clarification = self.status

    @fsm.transition(
        field=status,
        source=Status.AWAITING_CLARIFICATION,
        target=fsm.RETURN_VALUE(Status.RECEIVED, Status.ACKNOWLEDGED),
    )
    def receive_clarification(self) -> str:
        previous = self.status_before_clarification or Status.RECEIVED
        self.status_before_clarification = ""
        return previous

    @fsm.transition(field=status, source=list(OPEN), target=Status.REFUSED)
    def refuse(self, outcome: dict[str, Any]) -> None:
        self.outcome = outcome

    @fsm.transition(field=status, source=list(OPEN), target=Status.CLOSED)
    def close(self, outcome: dict[str, Any]) -> None:
        self.outcome = outcome

    @fsm.transition(field=status, source=list(ANSWERED), target=Status.APPEALED)
    def receive_appeal(self, appeal: dict[str, Any]) -> None:
        self.appeal = appeal

    @fsm.transition(field=status, source=Status.APPEALED, target=Status.APPEAL_DECIDED)
    def decide_appeal(self, decision: dict[str, Any]) -> None:
        self.appeal = {**(self.appeal or {}), "decision": decision}


class TimelineEntry(models.Model):
    """Append-only: one row per action. `at` is when it happened, `recorded_at` when we learnt of it."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    request = models.ForeignKey(DataSubjectRequest, on_delete=models.PROTECT, related_name="timeline")
    org = models.ForeignKey(Org, on_delete=models.PROTECT)
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=64)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    notes = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The clocks.EventKind this entry feeds to the clock, if any: the timeline is the clock's event log.
    clock_event = models.CharField(max_length=32, blank=True)
    # Tamper evidence (timeline_chain): hex SHA-256 of the previous entry of this request (64 zeros for the
    # first) and of this one's canonical content chained to it. `manage.py verify_timeline` checks them.
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name_plural = "timeline entries"
        ordering = ["request", "seq"]
        constraints = [models.UniqueConstraint(fields=["request", "seq"], name="timeline_unique_seq")]

    def __str__(self) -> str:
        return f"{self.request_id} #{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The database refuses UPDATE and DELETE too (triggers, requests_app migration 0004).
        if not self._state.adding:
            raise TypeError("Timeline entries are append-only.")
        if not self.hash:
            raise ValueError("Chain the entry (timeline_chain.seal) before saving it.")
        if kwargs == {"force_insert": True} and not args:
            insert(self)  # the INSERT built once per process
            return
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Timeline entries cannot be deleted.")
