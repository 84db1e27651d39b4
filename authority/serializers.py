from __future__ import annotations

from rest_framework import serializers

from core.serializers import (
    AwareDateTimeField,
    NotesMixin,
    OccurredAtMixin,
    StrictCharField,
    StrictSerializer,
)
from requests_app.serializers import ArtifactSerializer


class AuthorityRequestSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class AuthoritySubmitSerializer(OccurredAtMixin, StrictSerializer):
    evidenceArtifacts = ArtifactSerializer(many=True, allow_empty=False)
    status = serializers.ChoiceField(choices=["PENDING", "VERIFIED", "REJECTED"])
    verifiedAt = AwareDateTimeField(required=False, allow_null=True)


class AuthorityApproveSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class AuthorityRejectSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")
