"""The verification endpoints (api-contract.md, "Identity verification").

Officers send a challenge and resend it; the subject answers with no key at all, so that endpoint is
rate-limited per client address, takes no `Idempotency-Key` (there is no organisation to keep it under) and
answers every refusal with one identical 401.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core import ratelimit
from core.api import RateLimited
from core.idempotency import idempotent
from core.login import client_address
from core.schema import ApiAutoSchema
from core.views import ApiView, validated
from requests_app.lifecycle_apis import lifecycle_response

from . import serializers as s
from . import services
from .services import challenge_resource

# Answers to the subject, per client address (the page's form counts against the same budget).
SUBJECT_VERIFY_RATE = "20/min"


def subject_rate_check(request: Any) -> None:
    decision = ratelimit.hit(
        f"subject-verify:{client_address(request)}", ratelimit.Rate.parse(SUBJECT_VERIFY_RATE)
    )
    if not decision.allowed:
        raise RateLimited(
            "Too many verification attempts from this address.", retry_after=decision.retry_after
        )


def issued_response(issued: services.Issued) -> Response:
    if issued.result is not None:
        response = lifecycle_response(issued.result)
        response.data["challenge"] = challenge_resource(issued.challenge)
        return response
    # Identity information was already awaited: no step ran, the entry recorded the new challenge.
    entry = issued.entry
    body = {
        "request": issued.resource,
        "transition": {
            "action": entry.action,
            "from": entry.from_status,
            "to": entry.to_status,
            "at": entry.at.isoformat(),
            "actor": entry.actor,
        },
        "clock": issued.resource["clock"],
        "events": [],
        "challenge": challenge_resource(issued.challenge),
    }
    return Response(body, status=202)


class ChallengeCollectionApi(ApiView):
    required_scopes = ("officer",)

    @extend_schema(
        request=s.ChallengeCreateSerializer,
        responses={
            202: OpenApiResponse(
                s.ChallengeLifecycleAnswer, description="The lifecycle envelope and the challenge."
            )
        },
        operation_id="requests_verification_challenges_create",
    )
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.ChallengeCreateSerializer, request.data)
        issued = services.challenge_create(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            method=data["method"],
            destination=data.get("destination") or "",
            destination_reason=data["destinationReason"],
            locale=data.get("locale") or "",
        )
        return issued_response(issued)


class ChallengeResendApi(ApiView):
    required_scopes = ("officer",)

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(s.ChallengeAnswer, description="The challenge, with its new expiry.")
        },
        operation_id="requests_verification_challenges_resend",
    )
    @idempotent
    def post(self, request: Any, request_id: str, challenge_id: str) -> Response:
        challenge = services.challenge_resend(
            org=request.user.org, request_id=request_id, challenge_id=challenge_id, actor=request.user.actor
        )
        return Response({"challenge": challenge_resource(challenge)}, status=202)


class SubjectVerifySchema(ApiAutoSchema):
    """No key: the code or the link's token is the credential, so its refusals are one 401, and the rate is
    the client address's. Nothing here is kept under an `Idempotency-Key`, and nothing answers 409."""

    def error_answers(self) -> dict[int, tuple[tuple[str, ...], str]]:
        answers = super().error_answers()
        answers.pop(409, None)
        answers[401] = (
            ("unauthenticated",),
            "`unauthenticated`: the code or link is not valid — a wrong code, an unknown or another "
            "organisation's challenge, an expired, locked (five wrong codes), cancelled or already used "
            "one all get one identical answer.",
        )
        answers[429] = (
            ("rate_limited",),
            "`rate_limited`: too many attempts from this client address; see `Retry-After`.",
        )
        return answers

    def _get_request_for_media_type(self, serializer: Any, direction: Any = "request") -> tuple[Any, bool]:
        schema, _required = super()._get_request_for_media_type(serializer, direction)
        return schema, True  # one of the two forms: an empty body is neither

    def _process_override_parameters(self, direction: Any = "request") -> dict[tuple[str, str], Any]:
        parameters = super()._process_override_parameters(direction)
        parameters.pop(("Idempotency-Key", "header"), None)
        return parameters


class SubjectVerifyApi(ApiView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    schema = SubjectVerifySchema()

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="SubjectVerifyBody",
            serializers=[s.SubjectCodeAnswer, s.SubjectTokenAnswer],
            resource_type_field_name=None,
        ),
        responses={200: OpenApiResponse(s.VerifiedAnswer, description="The identity is verified.")},
        operation_id="subject_verify",
    )
    def post(self, request: Request) -> Response:
        subject_rate_check(request)
        data = validated(s.SubjectVerifySerializer, request.data)
        verified = services.subject_verify(
            challenge_id=data.get("challengeId"), code=data.get("code"), token=data.get("token")
        )
        return Response({"verified": True, "requestRef": verified.request_ref, "orgName": verified.org_name})
