from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.serializers import (
    TIMESTAMP_BOUNDS,
    AwareDateTimeField,
    NotesMixin,
    OccurredAtMixin,
    StrictCharField,
    StrictSerializer,
)
from requests_app.serializers import MAX_ARTIFACTS, ArtifactSerializer

from .models import AuthorityStatus


class AuthorityRequestSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class AuthoritySubmitSerializer(OccurredAtMixin, StrictSerializer):
    """Evidence of authority; a decision (`VERIFIED`, `REJECTED`) needs the officer scope."""

    evidenceArtifacts: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ArtifactSerializer(), allow_empty=False, max_length=MAX_ARTIFACTS
    )
    status = serializers.ChoiceField(choices=AuthorityStatus.choices)
    verifiedAt = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=f"When the authority was verified; not in the future; {TIMESTAMP_BOUNDS}.",
    )


class AuthorityApproveSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    """Optional `notes` and `occurredAt` (when it really happened; default now)."""


class AuthorityRejectSerializer(OccurredAtMixin, NotesMixin, StrictSerializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")
