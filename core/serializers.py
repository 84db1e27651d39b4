"""Serializer building blocks shared by every app's API.

What a field accepts is also what the OpenAPI schema says about it (core.schema reads these classes), so
a schema-driven client learns the same rules the API applies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings
from rest_framework.utils import humanize_datetime

# The clock's calendars and zone rules cover these years; outside them a timestamp is a typo, and
# converting one (0001-01-01 in a positive-offset zone) would overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
END = datetime(2200, 1, 1, tzinfo=UTC)
TIMESTAMP_BOUNDS = "on or after 1900-01-01T00:00:00Z and before 2200-01-01T00:00:00Z"

# RFC 3339 as the field reads it, with an explicit offset (`Z` or ±hh:mm). The dates as written run from
# 1900-01-02 to 2199-12-30, so that whatever the offset the instant lies within the bounds: every value
# the pattern admits (on a real calendar day) the field accepts.
_MONTH_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_DATE = (
    rf"(19(0[1-9]|[1-9]\d)|20\d\d|21([0-8]\d|9[0-8]))-{_MONTH_DAY}"  # 1901-2198
    rf"|1900-(0[2-9]|1[0-2])-(0[1-9]|[12]\d|3[01])|1900-01-(0[2-9]|[12]\d|3[01])"  # 1900, not Jan 1
    rf"|2199-(0[1-9]|1[01])-(0[1-9]|[12]\d|3[01])|2199-12-(0[1-9]|[12]\d|30)"  # 2199, not Dec 31
)
_TIME = r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
TIMESTAMP_PATTERN = rf"^({_DATE})T{_TIME}$"


class StrictSerializer(serializers.Serializer):
    """Unknown fields are an error (OWASP API3: no silent mass assignment), at every nesting level.

    `at_least_one_of` names fields of which one must be given and not blank (the schema says so too).
    """

    at_least_one_of: ClassVar[tuple[str, ...]] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        names = self.at_least_one_of
        if names and not any(attrs.get(name) for name in names):
            listed = ", ".join(names[:-1]) + f" or {names[-1]}"
            raise serializers.ValidationError({names[0]: [f"Give at least one of {listed}."]})
        return attrs


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "pattern": TIMESTAMP_PATTERN,
        "description": (f"ISO 8601 with a UTC offset (e.g. 2026-03-31T09:12:00Z), {TIMESTAMP_BOUNDS}."),
    }
)
class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset (a naive timestamp is ambiguous for a legal clock), 1900-2199.

    The bounds are checked on the value as written, before anything converts it to a zone.
    """

    default_error_messages = {
        "naive": "Must be ISO 8601 with a UTC offset, e.g. 2026-03-31T09:12:00Z.",
        "range": f"Must be {TIMESTAMP_BOUNDS}.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if not isinstance(value, str):
            return super().to_internal_value(value)
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            formats = getattr(self, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
            self.fail("invalid", format=humanize_datetime.datetime_formats(formats or [ISO_8601]))
        if timezone.is_naive(parsed):
            self.fail("naive")
        # The year as written first: only then is comparing instants safe from overflow.
        if not EARLIEST.year <= parsed.year < END.year or not EARLIEST <= parsed < END:
            self.fail("range")
        return self.enforce_timezone(parsed)


class StrictCharField(serializers.CharField):
    """JSON strings only: DRF's CharField would quietly turn 42 or true into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])"
# http(s), a host name or IPv4 address, an optional port, then printable ASCII without spaces.
WEBHOOK_URL_PATTERN = rf"^https?://{_LABEL}(\.{_LABEL})*(:{_PORT})?([/?#][!-~]*)?$"


@extend_schema_field(
    {
        "type": "string",
        "format": "uri",
        "maxLength": 2000,
        "pattern": WEBHOOK_URL_PATTERN,
        "description": (
            "An http(s) URL without credentials; https unless the installation allows private networks. "
            "Its host must resolve, to public addresses unless private networks are allowed."
        ),
    }
)
class WebhookUrlField(StrictCharField):
    """A webhook receiver's URL. The schema states its syntax; notifications.netguard judges where it
    points (scheme policy, addresses, resolution) and names what is wrong."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)


class StrictIntegerField(serializers.IntegerField):
    """JSON integers only (not "5", 5.5 or true)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class OccurredAtMixin(serializers.Serializer):
    occurredAt = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "When the action really happened (default: now). Not in the future, and not before the "
            f"request's latest timeline entry; ISO 8601 with a UTC offset, {TIMESTAMP_BOUNDS}."
        ),
    )


class NotesMixin(serializers.Serializer):
    notes = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=10_000,
        default="",
        help_text="Kept on the timeline entry.",
    )
