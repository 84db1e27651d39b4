from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from core.views import validated
from requests_app.apis import LifecycleApi, lifecycle_payload

from . import services
from .serializers import (
    AuthorityApproveSerializer,
    AuthorityRejectSerializer,
    AuthorityRequestSerializer,
    AuthoritySubmitSerializer,
)


class AuthorityRequestApi(LifecycleApi):
    input_serializer = AuthorityRequestSerializer
    perform = staticmethod(services.authority_request)


class AuthoritySubmitApi(LifecycleApi):
    """Evidence from any intake key; a decision (`VERIFIED`, `REJECTED`) needs the officer scope."""

    required_scopes = ("intake",)
    input_serializer = AuthoritySubmitSerializer

    def handle_action(self, request: Any, request_id: str) -> Response:
        data = validated(self.input_serializer, request.data)
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
        return Response(lifecycle_payload(result), status=202)


class AuthorityApproveApi(LifecycleApi):
    input_serializer = AuthorityApproveSerializer
    perform = staticmethod(services.authority_approve)


class AuthorityRejectApi(LifecycleApi):
    input_serializer = AuthorityRejectSerializer
    perform = staticmethod(services.authority_reject)
