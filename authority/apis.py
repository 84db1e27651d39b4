"""The authority endpoints: proof that an agent may act for the data subject, and the officer's decision."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from core.idempotency import idempotent
from core.views import ApiView, validated
from requests_app.lifecycle_apis import OfficerActionApi, lifecycle_response, lifecycle_schema

from . import services
from .serializers import (
    AuthorityApproveSerializer,
    AuthorityRejectSerializer,
    AuthorityRequestSerializer,
    AuthoritySubmitSerializer,
)


class AuthorityRequestApi(OfficerActionApi):
    @lifecycle_schema(AuthorityRequestSerializer, "requests_authority_request_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(AuthorityRequestSerializer, request.data)
        result = services.authority_request(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)


class AuthoritySubmitApi(ApiView):
    """Evidence from any intake key; a decision (`VERIFIED`, `REJECTED`) needs the officer scope."""

    required_scopes = ("intake",)

    @lifecycle_schema(AuthoritySubmitSerializer, "requests_authority_submit_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(AuthoritySubmitSerializer, request.data)
        result = services.authority_submit(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            occurred_at=data.get("occurredAt"),
            evidence_artifacts=[dict(a) for a in data["evidenceArtifacts"]],
            status=data["status"],
            verified_at=data.get("verifiedAt"),
            may_decide="officer" in request.user.scopes,
        )
        return lifecycle_response(result)


class AuthorityApproveApi(OfficerActionApi):
    @lifecycle_schema(AuthorityApproveSerializer, "requests_authority_approve_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(AuthorityApproveSerializer, request.data)
        result = services.authority_approve(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)


class AuthorityRejectApi(OfficerActionApi):
    @lifecycle_schema(AuthorityRejectSerializer, "requests_authority_reject_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(AuthorityRejectSerializer, request.data)
        result = services.authority_reject(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            reason=data["reason"],
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)
