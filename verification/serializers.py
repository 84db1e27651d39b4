"""Request bodies of the verification endpoints, and the shapes of their answers (for the schema)."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictCharField, StrictSerializer
from core.subject_secrets import normalise_code
from correspondence.locales import LOCALE_PATTERN, BadLocale, locale_normalise
from requests_app.schemas import ChallengeOut, LifecycleSchema

from .models import Method

# Six digits, with the spaces and hyphens people type between them (`normalise_code`).
CODE_PATTERN = r"^[ -]*([0-9][ -]*){6}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"
MAX_TOKEN_LENGTH = 128


class ChallengeCreateSerializer(StrictSerializer):
    """How to reach the subject: `method`, and optionally another `destination` (with its reason) and the
    message's `locale`."""

    method = serializers.ChoiceField(choices=Method.choices)
    destination = serializers.EmailField(
        required=False,
        max_length=320,
        help_text="Default: the request's e-mail address (the requestor's, else the contact).",
    )
    destinationReason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        help_text="Required when `destination` is not the request's own address: why the secret goes there.",
    )
    locale = StrictCharField(
        required=False,
        max_length=35,
        validators=[RegexValidator(LOCALE_PATTERN)],
        help_text="The message's language as a BCP 47 tag (en, fr, fr-CA); default: the organisation's.",
    )

    def validate_locale(self, value: str) -> str:
        try:
            return locale_normalise(value)
        except BadLocale as error:
            raise serializers.ValidationError(str(error)) from None


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "pattern": CODE_PATTERN,
        "description": "The 6-digit code from the e-mail (ASCII digits; spaces and hyphens are ignored).",
    }
)
class CodeField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = normalise_code(super().to_internal_value(data))
        if code is None:
            raise serializers.ValidationError("A code is 6 digits (0-9).")
        return code


class SubjectCodeAnswer(StrictSerializer):
    """A code from the e-mail, with the challenge it answers."""

    challengeId = StrictCharField(max_length=64)
    code = CodeField()


class SubjectTokenAnswer(StrictSerializer):
    """The token of a verification link (`/s/verify/{token}`)."""

    token = StrictCharField(max_length=MAX_TOKEN_LENGTH, validators=[RegexValidator(TOKEN_PATTERN)])


class SubjectVerifySerializer(StrictSerializer):
    """`{challengeId, code}` or `{token}`: what the view validates (the schema shows the two forms)."""

    challengeId = StrictCharField(required=False, max_length=64)
    code = CodeField(required=False)
    token = StrictCharField(
        required=False, max_length=MAX_TOKEN_LENGTH, validators=[RegexValidator(TOKEN_PATTERN)]
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "token" in attrs:
            if "challengeId" in attrs or "code" in attrs:
                raise serializers.ValidationError(
                    {"token": ["Give {challengeId, code} or {token}, not both."]}
                )
            return attrs
        if "challengeId" in attrs and "code" not in attrs:
            raise serializers.ValidationError({"code": ["Required with challengeId."]})
        if "code" in attrs and "challengeId" not in attrs:
            raise serializers.ValidationError({"challengeId": ["Required with code."]})
        if not attrs:
            raise serializers.ValidationError({"token": ["Give {challengeId, code} or {token}."]})
        return attrs


# --- answers (schema only) ---------------------------------------------------------------------------------


class ChallengeLifecycleAnswer(LifecycleSchema):
    challenge = ChallengeOut()


class ChallengeAnswer(serializers.Serializer):
    challenge = ChallengeOut()


class VerifiedAnswer(serializers.Serializer):
    verified = serializers.BooleanField()
    requestRef = serializers.CharField(help_text="The request's id, as the e-mail quoted it.")
    orgName = serializers.CharField()
