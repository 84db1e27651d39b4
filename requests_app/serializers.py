from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import clocks
from core.serializers import (
    AwareDateTimeField,
    NotesMixin,
    OccurredAtMixin,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)

from .models import Channel, OutcomeKind, RequestorType, RequestType

_TEXT = 10_000


class EvidenceSerializer(StrictSerializer):
    kind = StrictCharField(max_length=64)
    value = StrictCharField(max_length=2_000)


class IntakeSourceSerializer(StrictSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    rawText = StrictCharField(max_length=200_000, trim_whitespace=False)
    receivedAt = AwareDateTimeField()
    contact = StrictCharField(required=False, allow_blank=True, max_length=320, default="")
    sourceEvidence = EvidenceSerializer(many=True, required=False, default=list)


class RequestorSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=RequestorType.choices)
    name = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True, max_length=320)
    relation = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=100)


class ArtifactSerializer(StrictSerializer):
    kind = StrictCharField(max_length=64)
    uri = StrictCharField(max_length=2_000)


class AuthorityInputSerializer(StrictSerializer):
    evidenceArtifacts = ArtifactSerializer(many=True, allow_empty=False)
    status = serializers.ChoiceField(choices=["PENDING", "VERIFIED", "REJECTED"])
    verifiedAt = AwareDateTimeField(required=False, allow_null=True)


@extend_schema_field({"type": "string", "enum": list(clocks.jurisdiction_codes())})
class JurisdictionField(StrictCharField):
    """A policy-pack code; checked against `clocks` by the service, which names the valid codes."""


class IntakeSerializer(StrictSerializer):
    jurisdiction = JurisdictionField(max_length=8)
    intakeSource = IntakeSourceSerializer()
    requestor = RequestorSerializer(required=False, allow_null=True)
    authority = AuthorityInputSerializer(required=False, allow_null=True)
    receivedAt = AwareDateTimeField(required=False, allow_null=True)
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


class AcknowledgeSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class ClarificationRequestSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    message = StrictCharField(max_length=_TEXT)


class ClarificationReceiveSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class ExtendBySerializer(StrictSerializer):
    unit = serializers.ChoiceField(choices=["DAYS", "MONTHS"])
    amount = StrictIntegerField(min_value=1, max_value=366)


class ExtensionSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    reason = StrictCharField(max_length=_TEXT)
    extendBy = ExtendBySerializer(required=False, allow_null=True)


class RefusalSerializer(OccurredAtMixin, StrictSerializer):
    message = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")
    rationale = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")
    reason = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")

    def validate(self, attrs: dict) -> dict:
        if not (attrs.get("message") or attrs.get("rationale") or attrs.get("reason")):
            raise serializers.ValidationError(
                {"reason": ["Give at least one of reason, message or rationale."]}
            )
        return attrs


class ClosureSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    outcome = serializers.ChoiceField(
        choices=[OutcomeKind.FULFILLED, OutcomeKind.PARTIALLY_FULFILLED, OutcomeKind.WITHDRAWN],
        required=False,
        default=OutcomeKind.FULFILLED,
    )


class RequestorUpdateSerializer(OccurredAtMixin, RequestorSerializer):
    """The new requestor snapshot, and an optional `occurredAt`."""


class VerificationRequestSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    method = StrictCharField(required=False, allow_blank=True, max_length=100, default="")


class VerificationReceiveSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class RequestListQuerySerializer(serializers.Serializer):
    SORTS = {
        "receivedAt": "intake_received_at",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "dueDate": "clock_due_date",
        "status": "status",
        "jurisdiction": "jurisdiction",
    }
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)
    status = serializers.ChoiceField(
        choices=["RECEIVED", "ACKNOWLEDGED", "AWAITING_CLARIFICATION", "REFUSED", "CLOSED"], required=False
    )
    jurisdiction = serializers.CharField(required=False, max_length=8)
    sortBy = serializers.ChoiceField(choices=list(SORTS), default="createdAt")
    sortOrder = serializers.ChoiceField(
        choices=["asc", "desc"],
        required=False,
        help_text="Default: asc for dueDate (most urgent first), desc otherwise (newest first).",
    )
    atRiskDays = serializers.IntegerField(min_value=0, max_value=3_650, required=False)


class DsrListQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
