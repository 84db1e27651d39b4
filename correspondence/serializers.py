"""Request bodies of the correspondence endpoints, and the `notify` / `message` fields every lifecycle body
takes (`NotifyMixin`)."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictCharField, StrictSerializer

from .locales import LOCALE_PATTERN
from .models import Kind

_TEXT = 10_000


def locale_field(**kwargs: Any) -> StrictCharField:
    """A BCP 47 tag (`en`, `fr-CA`); the service normalises it and checks the language (400 otherwise)."""
    return StrictCharField(max_length=35, validators=[RegexValidator(LOCALE_PATTERN)], **kwargs)


class MessageOptionsSerializer(StrictSerializer):
    locale = locale_field(required=False)
    templateId = StrictCharField(required=False, max_length=80)
    extraText = StrictCharField(required=False, allow_blank=True, max_length=_TEXT, default="")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": _TEXT},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "locale": {"type": "string", "maxLength": 35, "pattern": LOCALE_PATTERN},
                    "templateId": {"type": "string", "maxLength": 80},
                    "extraText": {"type": "string", "maxLength": _TEXT},
                },
            },
        ]
    }
)
class SubjectMessageField(serializers.Field):
    """`message`: the officer's words to the subject as a string (as lifecycle bodies always took it), or
    the message options `{locale?, templateId?, extraText?}`, whose `extraText` is those words.
    Either way the field yields `{"text", "locale", "templateId"}`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            if len(data) > _TEXT:
                raise serializers.ValidationError(f"At most {_TEXT} characters.")
            return {"text": data, "locale": None, "templateId": None}
        if isinstance(data, dict):
            options = MessageOptionsSerializer(data=data)
            options.is_valid(raise_exception=True)
            values = options.validated_data
            return {
                "text": values.get("extraText", ""),
                "locale": values.get("locale"),
                "templateId": values.get("templateId"),
            }
        raise serializers.ValidationError("A string, or an object {locale?, templateId?, extraText?}.")

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "minLength": 1, "maxLength": _TEXT, "pattern": r"\S"},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["extraText"],
                "properties": {
                    "locale": {"type": "string", "maxLength": 35, "pattern": LOCALE_PATTERN},
                    "templateId": {"type": "string", "maxLength": 80},
                    "extraText": {"type": "string", "minLength": 1, "maxLength": _TEXT, "pattern": r"\S"},
                },
            },
        ]
    }
)
class RequiredSubjectMessageField(SubjectMessageField):
    """`message` where the words are the action's own input and may not be blank (a clarification's
    question)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["required"] = True
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if not value["text"].strip():
            raise serializers.ValidationError("Say what needs clarifying.")
        return value


class NotifyMixin(serializers.Serializer):
    notify = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Send the subject the matching message (default: the organisation's setting, on).",
    )
    message = SubjectMessageField()


class TemplateCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    pack = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=32, default="")
    locale = locale_field()
    subject = StrictCharField(max_length=998)
    bodyText = StrictCharField(max_length=64 * 1024)
    bodyHtml = StrictCharField(required=False, allow_blank=True, max_length=64 * 1024, default="")


class TemplatePreviewSerializer(StrictSerializer):
    requestId = StrictCharField(required=False, max_length=40)


class TemplateListQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    pack = StrictCharField(required=False, max_length=32)
    locale = locale_field(required=False)


class CustomMessageSerializer(StrictSerializer):
    subject = StrictCharField(max_length=300)
    bodyText = StrictCharField(max_length=_TEXT)
    locale = locale_field(required=False)


class MessageListQuery(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
    cursor = StrictCharField(required=False, max_length=200)


__all__ = [
    "CustomMessageSerializer",
    "MessageListQuery",
    "NotifyMixin",
    "TemplateCreateSerializer",
    "TemplateListQuery",
    "TemplatePreviewSerializer",
]
