"""The lifecycle endpoints: one view per action, each naming the service arguments it passes.

Every one answers 202 with the lifecycle envelope (`lifecycle_response`), whose `clock` is the same block
as `request.clock` — rendered once, from the stored clock columns.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

import clocks
from core.idempotency import idempotent
from core.views import ApiView, validated
from correspondence.notices import notify_from_body, words_of
from verification.services import challenge_cancel_notice

from . import schemas, services
from . import serializers as s

LIFECYCLE_RESPONSE = OpenApiResponse(schemas.LifecycleSchema, description="The lifecycle envelope.")


def lifecycle_response(result: services.ActionResult) -> Response:
    resource = result.resource
    body: dict[str, Any] = {
        "request": resource,
        "transition": {
            "action": result.action,
            "from": result.from_status,
            "to": result.to_status,
            "at": result.at.isoformat(),
            "actor": result.actor,
        },
        "clock": resource["clock"],
        "events": result.event_ids,
    }
    return Response(body, status=202)


def lifecycle_schema(serializer: type, operation_id: str) -> Any:
    return extend_schema(request=serializer, responses={202: LIFECYCLE_RESPONSE}, operation_id=operation_id)


class OfficerActionApi(ApiView):
    required_scopes = ("officer",)


class RequestAcknowledgeApi(OfficerActionApi):
    @lifecycle_schema(s.AcknowledgeSerializer, "requests_acknowledgements_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.AcknowledgeSerializer, request.data)
        result = services.request_acknowledge(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            notify=notify_from_body(data, words_are_extra=True),
        )
        return lifecycle_response(result)


class RequestClarificationRequestApi(OfficerActionApi):
    @lifecycle_schema(s.ClarificationRequestSerializer, "requests_clarifications_request_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.ClarificationRequestSerializer, request.data)
        result = services.request_clarification_request(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            message=words_of(data),
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            notify=notify_from_body(data, words_are_extra=False),
        )
        return lifecycle_response(result)


class RequestClarificationReceiveApi(OfficerActionApi):
    @lifecycle_schema(s.ClarificationReceiveSerializer, "requests_clarifications_receive_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.ClarificationReceiveSerializer, request.data)
        result = services.request_clarification_receive(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)


class RequestExtensionApi(OfficerActionApi):
    @lifecycle_schema(s.ExtensionSerializer, "requests_extensions_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.ExtensionSerializer, request.data)
        extend_by = data.get("extendBy")
        result = services.request_extend(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            reason=data["reason"],
            amount=extend_by["amount"] if extend_by else None,
            unit=clocks.Unit.parse(extend_by["unit"]) if extend_by else None,
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            notify=notify_from_body(data, words_are_extra=True),
        )
        return lifecycle_response(result)


class RequestRefusalApi(OfficerActionApi):
    @lifecycle_schema(s.RefusalSerializer, "requests_refusals_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.RefusalSerializer, request.data)
        result = services.request_refuse(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            reason=data["reason"],
            message=words_of(data),
            rationale=data["rationale"],
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            notify=notify_from_body(data, words_are_extra=False),
        )
        return lifecycle_response(result)


class RequestClosureApi(OfficerActionApi):
    @lifecycle_schema(s.ClosureSerializer, "requests_closures_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.ClosureSerializer, request.data)
        result = services.request_close(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            outcome=data["outcome"],
            message=words_of(data),
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            notify=notify_from_body(data, words_are_extra=False),
        )
        return lifecycle_response(result)


class RequestRequestorApi(OfficerActionApi):
    @lifecycle_schema(s.RequestorUpdateSerializer, "requests_requestor_update")
    @idempotent
    def put(self, request: Any, request_id: str) -> Response:
        data = validated(s.RequestorUpdateSerializer, request.data)
        result = services.request_requestor_set(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            requestor=s.requestor_snapshot(data),
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)


class RequestTypesApi(OfficerActionApi):
    @lifecycle_schema(s.RequestTypesSerializer, "requests_request_types_update")
    @idempotent
    def put(self, request: Any, request_id: str) -> Response:
        data = validated(s.RequestTypesSerializer, request.data)
        result = services.request_types_set(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            request_types=list(data["requestTypes"]),
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)


class RequestVerificationRequestApi(OfficerActionApi):
    @lifecycle_schema(s.VerificationRequestSerializer, "requests_verification_request_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.VerificationRequestSerializer, request.data)
        result = services.request_verification_request(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            method=data["method"],
            fraud_suspected=data["fraudSuspected"],
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
        )
        return lifecycle_response(result)


class RequestVerificationReceiveApi(OfficerActionApi):
    @lifecycle_schema(s.VerificationReceiveSerializer, "requests_verification_receive_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.VerificationReceiveSerializer, request.data)
        result = services.request_verification_receive(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            method=data.get("method") or "",
            checked=[dict(c) for c in data["checked"]] if "checked" in data else None,
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            # A pending code or link is no longer needed: the officer verified the identity another way.
            notice=challenge_cancel_notice(),
        )
        return lifecycle_response(result)


class RequestAppealApi(ApiView):
    """An appeal arrives like a request does: intake staff record it."""

    required_scopes = ("intake",)

    @lifecycle_schema(s.AppealSerializer, "requests_appeals_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.AppealSerializer, request.data)
        result = services.request_appeal(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            received_at=data["receivedAt"],
            channel=data.get("channel") or "",
            raw_text=data["rawText"],
            notes=data["notes"],
        )
        return lifecycle_response(result)


class RequestAppealDecisionApi(OfficerActionApi):
    @lifecycle_schema(s.AppealDecisionSerializer, "requests_appeals_decision_create")
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.AppealDecisionSerializer, request.data)
        result = services.request_appeal_decide(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            outcome=data["outcome"],
            message=words_of(data),
            rationale=data["rationale"],
            notes=data["notes"],
            occurred_at=data.get("occurredAt"),
            notify=notify_from_body(data, words_are_extra=False),
        )
        return lifecycle_response(result)
