from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

import clocks
from authority.models import AuthorityStatus
from core.serializers import (
    TIMESTAMP_BOUNDS,
    AwareDateTimeField,
    NotesMixin,
    OccurredAtMixin,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from correspondence.serializers import NotifyMixin, RequiredSubjectMessageField

from .models import (
    AppealOutcome,
    Channel,
    ClosureOutcome,
    ManualVerificationMethod,
    RequestorType,
    RequestType,
    Status,
)
from .services import CLOCK_SKEW

_TEXT = 10_000
_RAW_TEXT = 200_000
MAX_ARTIFACTS = 50
MAX_EVIDENCE = 50


class EvidenceSerializer(StrictSerializer):
    """Where the request came from, e.g. `{"kind": "EMAIL_MESSAGE_ID", "value": "<abc@mail>"}`."""

    kind = StrictCharField(max_length=64)
    value = StrictCharField(max_length=2_000)


class IntakeSourceSerializer(StrictSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    rawText = StrictCharField(max_length=_RAW_TEXT, trim_whitespace=False)
    receivedAt = AwareDateTimeField(
        help_text=(
            "When the organisation received the request: the legal clock starts from it. Not in the "
            f"future; {TIMESTAMP_BOUNDS}."
        )
    )
    contact = StrictCharField(required=False, allow_blank=True, max_length=320, default="")
    sourceEvidence: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=EvidenceSerializer(), required=False, default=list, max_length=MAX_EVIDENCE
    )


class RequestorSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=RequestorType.choices)
    name = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True, max_length=320)
    relation = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=100)


class ArtifactSerializer(StrictSerializer):
    """One piece of evidence of authority. A signed letter that came by post has a kind and no URI."""

    kind = StrictCharField(max_length=64, help_text="What it is, e.g. POWER_OF_ATTORNEY or SIGNED_LETTER.")
    uri = StrictCharField(
        required=False,
        allow_null=True,
        max_length=2_000,
        help_text="Where the document is kept, e.g. s3://evidence/poa.pdf; absent for paper evidence.",
    )
    description = StrictCharField(required=False, allow_null=True, max_length=2_000)
    receivedAt = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=f"When the evidence reached the organisation; not in the future; {TIMESTAMP_BOUNDS}.",
    )

    def validate_receivedAt(self, value: datetime | None) -> datetime | None:
        if value is not None and value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("May not lie in the future.")
        return value


class AuthorityInputSerializer(StrictSerializer):
    """Evidence that an agent may act for the subject; a decision (`VERIFIED`, `REJECTED`) needs `officer`."""

    evidenceArtifacts: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ArtifactSerializer(), allow_empty=False, max_length=MAX_ARTIFACTS
    )
    status = serializers.ChoiceField(choices=AuthorityStatus.choices)
    verifiedAt = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=f"When the authority was verified; not in the future; {TIMESTAMP_BOUNDS}.",
    )


@extend_schema_field({"type": "string", "enum": list(clocks.jurisdiction_codes())})
class JurisdictionField(StrictCharField):
    """A policy-pack code; checked against `clocks` by the service, which names the valid codes."""


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A request received by e-mail",
            request_only=True,
            value={
                "jurisdiction": "GB",
                "intakeSource": {
                    "channel": "EMAIL",
                    "rawText": "Please send me a copy of all personal data you hold about me.",
                    "receivedAt": "2026-03-31T09:12:00Z",
                    "contact": "jane@example.org",
                    "sourceEvidence": [{"kind": "EMAIL_MESSAGE_ID", "value": "<abc@mail>"}],
                },
                "requestor": {"type": "DATA_SUBJECT", "name": "Jane Doe", "email": "jane@example.org"},
                "receivedAt": "2026-03-31T09:20:00Z",
                "requestTypes": ["ACCESS"],
            },
        ),
        OpenApiExample(
            "An agent's request with a signed letter that came by post",
            request_only=True,
            value={
                "jurisdiction": "US-CA",
                "intakeSource": {
                    "channel": "MAIL",
                    "rawText": "On behalf of my client, please delete all personal information you hold.",
                    "receivedAt": "2026-02-02T14:00:00-08:00",
                },
                "requestor": {"type": "AUTHORIZED_AGENT", "name": "Sam Taylor", "relation": "AGENT"},
                "authority": {
                    "evidenceArtifacts": [
                        {
                            "kind": "SIGNED_LETTER",
                            "description": "Signed authorisation from the consumer",
                            "receivedAt": "2026-02-02T14:00:00-08:00",
                        }
                    ],
                    "status": "PENDING",
                },
            },
        ),
    ]
)
class IntakeSerializer(StrictSerializer):
    jurisdiction = JurisdictionField(max_length=8)
    intakeSource = IntakeSourceSerializer()
    requestor = RequestorSerializer(required=False, allow_null=True)
    authority = AuthorityInputSerializer(required=False, allow_null=True)
    receivedAt = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "When this system recorded the request (default: now): not before `intakeSource.receivedAt`, "
            f"not in the future; {TIMESTAMP_BOUNDS}."
        ),
    )
    requestTypes = serializers.ListField(
        child=serializers.ChoiceField(choices=RequestType.choices),
        required=False,
        allow_null=True,
        max_length=8,
    )


def requestor_snapshot(data: dict) -> dict:
    return {
        "type": data["type"],
        "name": data.get("name") or None,
        "email": data.get("email") or None,
        "relation": data.get("relation") or None,
    }


def authority_input(data: dict | None) -> dict | None:
    if data is None:
        return None
    return {
        "evidence_artifacts": [dict(a) for a in data["evidenceArtifacts"]],
        "status": data["status"],
        "verified_at": data.get("verifiedAt"),
    }


class AcknowledgeSerializer(NotifyMixin, OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes`, `occurredAt` (when it really happened; default now), `notify` and `message`."""


class ClarificationRequestSerializer(NotifyMixin, OccurredAtMixin, NotesMixin, StrictSerializer):
    """`message`: what the subject is asked to clarify (a string, or the options' `extraText`)."""

    message = RequiredSubjectMessageField()


class ClarificationReceiveSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class ExtendBySerializer(StrictSerializer):
    unit = serializers.ChoiceField(choices=["DAYS", "MONTHS"])
    amount = StrictIntegerField(min_value=1, max_value=366)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Two more months for a complex request",
            request_only=True,
            value={
                "reason": "Complex request: several systems to search.",
                "extendBy": {"unit": "MONTHS", "amount": 2},
            },
        )
    ]
)
class ExtensionSerializer(NotifyMixin, OccurredAtMixin, NotesMixin, StrictSerializer):
    reason = StrictCharField(max_length=_TEXT)
    extendBy = ExtendBySerializer(required=False, allow_null=True)


class RefusalSerializer(NotifyMixin, OccurredAtMixin, NotesMixin, StrictSerializer):
    """At least one of `reason`, `message` (what the requestor is told) or `rationale`, not blank;
    `notes` stay internal."""

    # Declared for the schema (anyOf); the rule itself is `requests_app.guards.check_refusal_input`, which
    # the service applies for the API and the workspace alike.
    at_least_one_of = ("reason", "message", "rationale")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs

    rationale = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")
    reason = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")


class ClosureSerializer(NotifyMixin, OccurredAtMixin, NotesMixin, StrictSerializer):
    """`outcome` is required (nothing is assumed); `message` is what the requestor is told, `notes` stay
    internal."""

    outcome = serializers.ChoiceField(choices=ClosureOutcome.choices)


class RequestTypesSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    requestTypes = serializers.ListField(
        child=serializers.ChoiceField(choices=RequestType.choices), min_length=1, max_length=len(RequestType)
    )


class AppealSerializer(NotesMixin, StrictSerializer):
    """`receivedAt`: when the organisation received the appeal; its clock starts there."""

    receivedAt = AwareDateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    rawText = StrictCharField(required=False, allow_blank=True, max_length=_RAW_TEXT, default="")


class AppealDecisionSerializer(NotifyMixin, OccurredAtMixin, NotesMixin, StrictSerializer):
    outcome = serializers.ChoiceField(choices=AppealOutcome.choices)
    rationale = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")


class RequestorUpdateSerializer(OccurredAtMixin, RequestorSerializer):
    """The new requestor snapshot, and an optional `occurredAt`."""


class VerificationRequestSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    method = StrictCharField(required=False, allow_blank=True, max_length=100, default="")
    # The organisation cannot authenticate the request and suspects fraud: under a law that suspends its
    # period meanwhile (Utah §13-61-203(2)(d)) the days until the identity arrives do not count.
    fraudSuspected = serializers.BooleanField(required=False, default=False)


class VerificationCheckSerializer(StrictSerializer):
    """One thing checked against what the organisation holds, and whether it matched: never its value."""

    kind = StrictCharField(max_length=64, help_text="What was checked, e.g. POSTCODE or LAST_ORDER_DATE.")
    matched = serializers.BooleanField()


class VerificationReceiveSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `method` (how the officer verified the identity), `checked` (what was compared, never a
    document or the values themselves), `notes` and `occurredAt` (when it really happened; default now)."""

    method = serializers.ChoiceField(choices=ManualVerificationMethod.choices, required=False)
    checked: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=VerificationCheckSerializer(), required=False, max_length=20
    )


class RequestListQuerySerializer(serializers.Serializer):
    SORTS = {
        "receivedAt": "intake_received_at",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "dueDate": "clock_due_date",
        "status": "status",
        "jurisdiction": "jurisdiction",
    }
    FILTERS = ("status", "jurisdiction", "atRiskDays", "ackOverdue", "q", "email")
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50, help_text="Page size.")
    offset = serializers.IntegerField(
        min_value=0, max_value=10_000_000, default=0, help_text="How many matching requests to skip."
    )
    status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        help_text="Only requests in this status.",
    )
    jurisdiction = serializers.CharField(
        required=False, max_length=8, help_text="Only requests under this jurisdiction code, e.g. GB-SCT."
    )
    sortBy = serializers.ChoiceField(
        choices=list(SORTS),
        default="createdAt",
        help_text="`receivedAt` is `intakeSource.receivedAt`; ties are broken by id.",
    )
    sortOrder = serializers.ChoiceField(
        choices=["asc", "desc"],
        required=False,
        help_text="Default: asc for dueDate (most urgent first), desc otherwise (newest first).",
    )
    atRiskDays = serializers.IntegerField(
        min_value=0,
        max_value=3_650,
        required=False,
        help_text="Only open requests due within this many days, overdue ones included.",
    )
    ackOverdue = serializers.BooleanField(
        required=False,
        help_text="`true`: only open requests not acknowledged by `acknowledgeBy`; `false`: the others.",
    )
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text=(
            "Search: the request id or a prefix of it, or part of the requestor's or the contact's e-mail, "
            "name or phone number; case-insensitive. A phone number also matches by its digits alone."
        ),
    )
    email = serializers.EmailField(
        required=False,
        max_length=320,
        help_text="Exactly this e-mail (trimmed, case-insensitive): the requestor's or the contact's.",
    )


class DsrListQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        max_length=200,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Not a cursor this API returned.")],
        help_text="`next_cursor` of the previous page, as given.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
