"""Response shapes for the OpenAPI schema only (responses are built by resources.py and clocks).

They mirror api-contract.md so a schema-driven client can check every answer; the envelope around them
is added by core.schema.
"""

from __future__ import annotations

from rest_framework import serializers as s

from authority.models import AuthorityStatus
from clocks import DeadlineKind as ExplainedDeadlineKind
from clocks import Effect, PauseReason, SegmentKind, Unit
from requests_app.models import (
    AppealOutcome,
    Channel,
    ClockState,
    DeadlineKind,
    OutcomeKind,
    Status,
    VerificationStatus,
)
from verification.models import MAX_ATTEMPTS as MAX_CHALLENGE_ATTEMPTS
from verification.models import ChallengeStatus
from verification.models import Method as ChallengeMethod

STATES = ClockState.choices
STATUSES = Status.choices


def _nullable_str() -> s.CharField:
    return s.CharField(allow_null=True)


class ClockBlockSchema(s.Serializer):
    policyPack = s.CharField()
    policyVersion = s.CharField()
    timezone = s.CharField()
    state = s.ChoiceField(choices=STATES)
    startedAt = s.DateTimeField()
    baseDueDate = s.DateField()
    dueDate = s.DateField()
    dueAt = s.DateTimeField()
    acknowledgeBy = s.DateField(allow_null=True)
    acknowledgedAt = s.DateTimeField(allow_null=True)
    acknowledgeOverdue = s.BooleanField(
        help_text="True once `acknowledgeBy` has passed (end of that local day) unacknowledged."
    )
    daysRemaining = s.IntegerField(allow_null=True, help_text="Null once the clock has stopped.")
    atRisk = s.BooleanField()
    overdue = s.BooleanField()
    answeredLate = s.BooleanField(
        allow_null=True,
        help_text="Once stopped: whether the answer came after `dueAt`. Null while the clock runs.",
    )
    deadlineKind = s.ChoiceField(
        choices=DeadlineKind.choices,
        help_text="Which deadline `dueDate` is: the response, or the decision on an open appeal.",
    )


class EvidenceOut(s.Serializer):
    kind = s.CharField()
    value = s.CharField()


class IntakeSourceOut(s.Serializer):
    channel = s.CharField()
    rawText = s.CharField()
    receivedAt = s.DateTimeField()
    contact = _nullable_str()
    sourceEvidence = EvidenceOut(many=True)


class RequestorOut(s.Serializer):
    type = s.CharField()
    name = _nullable_str()
    email = _nullable_str()
    relation = _nullable_str()


class ArtifactOut(s.Serializer):
    """A piece of evidence of authority, as submitted: the parts not given are absent."""

    kind = s.CharField()
    uri = s.CharField(required=False, help_text="Absent for paper evidence (a signed letter by post).")
    description = s.CharField(required=False)
    receivedAt = s.DateTimeField(required=False)


class AuthorityOut(s.Serializer):
    evidenceArtifacts = ArtifactOut(many=True)
    status = s.ChoiceField(choices=AuthorityStatus.choices)
    verifiedAt = s.DateTimeField(allow_null=True)


class ChallengeOut(s.Serializer):
    id = s.CharField()
    method = s.ChoiceField(choices=ChallengeMethod.choices)
    status = s.ChoiceField(choices=ChallengeStatus.choices)
    expiresAt = s.DateTimeField()
    destinationMasked = s.CharField(help_text="e.g. j•••e@example.org: never the whole address.")
    attemptsLeft = s.IntegerField(min_value=0, max_value=MAX_CHALLENGE_ATTEMPTS)


class VerificationOut(s.Serializer):
    status = s.ChoiceField(choices=VerificationStatus.choices)
    requestedAt = s.DateTimeField(allow_null=True)
    receivedAt = s.DateTimeField(allow_null=True)
    method = s.CharField(
        allow_null=True,
        help_text=(
            "How the identity is being or was verified: EMAIL_CODE, EMAIL_LINK, MANUAL, KNOWN_FACTS, "
            "ACCOUNT_LOGIN or DOCUMENT."
        ),
    )
    challenge = ChallengeOut(allow_null=True, help_text="The latest code or link sent to the subject.")
    mayRefuseUnverifiedFrom = s.DateField(
        allow_null=True,
        help_text=(
            "Set while the identity is still awaited once the pack's deny-after day has come (CCPA: 45 days "
            "after receipt): from this day the request may be refused as unverifiable."
        ),
    )


class OutcomeOut(s.Serializer):
    kind = s.ChoiceField(choices=OutcomeKind.choices)
    reason = _nullable_str()
    message = _nullable_str()
    rationale = _nullable_str()
    at = s.DateTimeField()


class AppealDecisionOut(s.Serializer):
    outcome = s.ChoiceField(choices=AppealOutcome.choices)
    message = _nullable_str()
    rationale = _nullable_str()
    at = s.DateTimeField()


class AppealOut(s.Serializer):
    receivedAt = s.DateTimeField()
    channel = s.ChoiceField(choices=Channel.choices, allow_null=True)
    rawText = _nullable_str()
    decision = AppealDecisionOut(allow_null=True)


class RequestResourceSchema(s.Serializer):
    id = s.CharField()
    orgId = s.CharField()
    status = s.ChoiceField(choices=STATUSES)
    jurisdiction = s.CharField()
    requestTypes = s.ListField(child=s.CharField())
    requestTypesInferred = s.BooleanField()
    intakeSource = IntakeSourceOut()
    requestor = RequestorOut(allow_null=True)
    authority = AuthorityOut(allow_null=True)
    receivedAt = s.DateTimeField()
    createdAt = s.DateTimeField()
    updatedAt = s.DateTimeField()
    clock = ClockBlockSchema()
    verification = VerificationOut()
    outcome = OutcomeOut(allow_null=True)
    appeal = AppealOut(allow_null=True, help_text="The appeal, once one is received (US state laws).")


class PolicyPackRef(s.Serializer):
    id = s.CharField()
    version = s.CharField()
    law = s.CharField()
    citation = s.CharField()


class PeriodOut(s.Serializer):
    amount = s.IntegerField()
    unit = s.ChoiceField(choices=[u.value for u in Unit])


class ExtensionOut(s.Serializer):
    grantedAt = s.DateTimeField()
    by = s.CharField()
    amount = s.IntegerField()
    unit = s.CharField()
    reason = s.CharField()
    dueDateAfter = s.DateField()


class PauseOut(s.Serializer):
    pausedAt = s.DateTimeField()
    resumedAt = s.DateTimeField(allow_null=True)
    reason = s.ChoiceField(choices=[r.value for r in PauseReason])
    effect = s.ChoiceField(choices=[e.value for e in Effect])


class SegmentOut(s.Serializer):
    kind = s.ChoiceField(choices=[k.value for k in SegmentKind])
    start = s.CharField()
    end = s.CharField(allow_null=True)
    days = s.IntegerField()
    note = s.CharField()
    rule = s.CharField()


class DeadlineOut(s.Serializer):
    kind = s.ChoiceField(choices=[k.value for k in ExplainedDeadlineKind])
    requestType = s.CharField(allow_null=True)
    dueDate = s.DateField()


class AdjustmentOut(s.Serializer):
    from_ = s.DateField()
    to = s.DateField()
    why = s.CharField()
    reliedUpon = s.BooleanField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class AcknowledgementOut(s.Serializer):
    dueDate = s.DateField(allow_null=True)
    dueAt = s.DateTimeField(allow_null=True)
    at = s.DateTimeField(allow_null=True)
    overdue = s.BooleanField()


class ExplanationSchema(s.Serializer):
    requestId = s.CharField()
    policyPack = PolicyPackRef()
    timezone = s.CharField()
    receivedAt = s.DateTimeField()
    clockStartsAt = s.DateTimeField()
    period = PeriodOut()
    baseDueDate = s.DateField()
    dueDate = s.DateField()
    dueAt = s.DateTimeField()
    extensions = ExtensionOut(many=True)
    pauses = PauseOut(many=True)
    segments = SegmentOut(many=True)
    deadlines = DeadlineOut(many=True)
    adjustments = AdjustmentOut(many=True)
    acknowledgement = AcknowledgementOut()
    state = s.ChoiceField(choices=STATES)
    daysRemaining = s.IntegerField(allow_null=True)
    atRisk = s.BooleanField()
    overdue = s.BooleanField()
    answeredLate = s.BooleanField(allow_null=True)
    computedAt = s.DateTimeField()


class RequestEnvelopeSchema(s.Serializer):
    request = RequestResourceSchema()


class CaptureSchema(s.Serializer):
    request = RequestResourceSchema()
    dueContext = ExplanationSchema()


class RequestListSchema(s.Serializer):
    requests = RequestResourceSchema(many=True)
    total = s.IntegerField()
    limit = s.IntegerField()
    offset = s.IntegerField()


class TransitionOut(s.Serializer):
    action = s.CharField()
    from_ = s.CharField()
    to = s.CharField()
    at = s.DateTimeField()
    actor = s.CharField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class LifecycleSchema(s.Serializer):
    request = RequestResourceSchema()
    transition = TransitionOut()
    clock = ClockBlockSchema()
    events = s.ListField(child=s.CharField())


class TimelineEntryOut(s.Serializer):
    id = s.CharField()
    at = s.DateTimeField()
    recordedAt = s.DateTimeField()
    actor = s.CharField()
    action = s.CharField()
    fromStatus = s.CharField(allow_null=True)
    toStatus = s.CharField(allow_null=True)
    notes = s.CharField(allow_blank=True)
    data_ = s.DictField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["data"] = fields.pop("data_")  # `data` is also a Serializer property
        return fields


class TimelineSchema(s.Serializer):
    requestId = s.CharField()
    entries = TimelineEntryOut(many=True)


class DsrRowSchema(s.Serializer):
    id = s.CharField()
    created_at = s.DateTimeField()
    updated_at = s.DateTimeField()
    tenant_id = s.CharField()
    requested_by = s.CharField(allow_null=True)
    subject_id = s.CharField(allow_null=True)
    type = s.CharField()
    status = s.CharField()
    completed_at = s.DateTimeField(allow_null=True)
    export_url = s.CharField(allow_null=True)
    error_msg = s.CharField(allow_null=True)


class DsrListSchema(s.Serializer):
    requests = DsrRowSchema(many=True)
    items = DsrRowSchema(many=True, help_text="Deprecated alias of `requests`.")
    next_cursor = s.CharField(required=False, help_text="Omitted on the last page.")


class PolicyPackListSchema(s.Serializer):
    policyPacks = s.ListField(child=s.DictField())
