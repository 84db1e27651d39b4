"""Serializer building blocks shared by every app's API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Unknown fields are an error (OWASP API3: no silent mass assignment), at every nesting level."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset: a naive timestamp is ambiguous for a legal clock."""

    default_error_messages = {"naive": "Must be ISO 8601 with a UTC offset, e.g. 2026-03-31T09:12:00Z."}

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        if isinstance(value, str) and not _has_offset(value):
            self.fail("naive")
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _has_offset(value: str) -> bool:
    tail = value.strip()[10:]
    return tail.endswith(("Z", "z")) or "+" in tail or "-" in tail


class StrictCharField(serializers.CharField):
    """JSON strings only: DRF's CharField would quietly turn 42 or true into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """JSON integers only (not "5", 5.5 or true)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class OccurredAtMixin(serializers.Serializer):
    occurredAt = AwareDateTimeField(required=False, allow_null=True)


class NotesMixin(serializers.Serializer):
    notes = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")
