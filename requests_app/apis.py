"""One view per operation: validate → service → serialize. The envelope and errors are core.api's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

import clocks
from core.auth import READ_SCOPES
from core.idempotency import idempotent
from core.views import ApiView, validated

from . import schemas, services
from . import serializers as s
from .clock import compute_clock
from .models import DataSubjectRequest
from .resources import request_resource, timeline_resource
from .selectors import dsr_page, request_get, request_list, timeline_list


def _own_copy(handler: Callable[..., Response]) -> Callable[..., Response]:
    # extend_schema annotates the function object; an inherited handler needs its own per view.
    def handle(self: ApiView, request: Any, request_id: str) -> Response:
        return handler(self, request, request_id)

    return handle


LIFECYCLE_RESPONSE = OpenApiResponse(schemas.LifecycleSchema, description="The lifecycle envelope.")


def lifecycle_payload(result: services.ActionResult) -> dict[str, Any]:
    return {
        "request": request_resource(result.request, now=result.now),
        "transition": {
            "action": result.action,
            "from": result.from_status,
            "to": result.to_status,
            "at": result.at.isoformat(),
            "actor": result.actor,
        },
        "clock": result.clock.clock_block(),
        "events": result.event_ids,
    }


def _create(request, *, with_due_context: bool) -> Response:
    data = validated(s.IntakeSerializer, request.data)
    source = data["intakeSource"]
    result = services.request_create(
        org=request.user.org,
        actor=request.user.actor,
        jurisdiction=data["jurisdiction"],
        channel=source["channel"],
        raw_text=source["rawText"],
        intake_received_at=source["receivedAt"],
        contact=source.get("contact") or "",
        source_evidence=[dict(e) for e in source.get("sourceEvidence") or []],
        requestor=s.requestor_snapshot(data["requestor"]) if data.get("requestor") else None,
        authority=s.authority_input(data.get("authority")),
        may_decide_authority="officer" in request.user.scopes,
        received_at=data.get("receivedAt"),
        request_types=data.get("requestTypes") or None,
    )
    body: dict[str, Any] = {"request": request_resource(result.request, now=result.now)}
    if with_due_context:
        body["dueContext"] = result.clock.explanation(result.request.id)
    return Response(body, status=202)


class RequestCollectionApi(ApiView):
    scopes_by_method: ClassVar[dict[str, tuple[str, ...]]] = {"POST": ("intake",), "GET": READ_SCOPES}
    query_serializer = s.RequestListQuerySerializer

    @extend_schema(
        request=s.IntakeSerializer,
        responses={202: schemas.RequestEnvelopeSchema},
        operation_id="requests_create",
    )
    @idempotent
    def post(self, request) -> Response:
        return _create(request, with_due_context=False)

    @extend_schema(
        responses={200: schemas.RequestListSchema},
        operation_id="requests_list",
    )
    def get(self, request) -> Response:
        query = self.query(request)
        now = timezone.now()
        rows, total = request_list(
            org=request.user.org,
            now=now,
            filters={k: query.get(k) for k in ("status", "jurisdiction", "atRiskDays")},
            sort_field=s.RequestListQuerySerializer.SORTS[query["sortBy"]],
            descending=query.get("sortOrder", "asc" if query["sortBy"] == "dueDate" else "desc") == "desc",
            offset=query["offset"],
            limit=query["limit"],
        )
        return Response(
            {
                "requests": [request_resource(r, now=now) for r in rows],
                "total": total,
                "limit": query["limit"],
                "offset": query["offset"],
            }
        )


class RequestCaptureApi(ApiView):
    required_scopes = ("intake",)

    @extend_schema(
        request=s.IntakeSerializer, responses={202: schemas.CaptureSchema}, operation_id="requests_capture"
    )
    @idempotent
    def post(self, request) -> Response:
        return _create(request, with_due_context=True)


class RequestDetailApi(ApiView):
    required_scopes = READ_SCOPES

    @extend_schema(responses={200: schemas.RequestEnvelopeSchema}, operation_id="requests_retrieve")
    def get(self, request, request_id: str) -> Response:
        dsr = request_get(org=request.user.org, request_id=request_id)
        return Response({"request": request_resource(dsr, now=timezone.now())})


class RequestTimelineApi(ApiView):
    required_scopes = READ_SCOPES

    @extend_schema(responses={200: schemas.TimelineSchema}, operation_id="requests_timeline")
    def get(self, request, request_id: str) -> Response:
        entries = timeline_list(org=request.user.org, request_id=request_id)
        return Response({"requestId": request_id, "entries": [timeline_resource(e) for e in entries]})


class RequestClockExplainApi(ApiView):
    required_scopes = READ_SCOPES

    @extend_schema(responses={200: schemas.ExplanationSchema}, operation_id="requests_clock_explain")
    def get(self, request, request_id: str) -> Response:
        dsr = request_get(org=request.user.org, request_id=request_id)
        entries = timeline_list(org=request.user.org, request_id=request_id)
        result = compute_clock(dsr, entries, now=timezone.now())
        return Response(result.explanation(dsr.id))


class LifecycleBase(ApiView):
    """Validate a body, run one service, answer 202 with the lifecycle envelope."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        serializer = cls.__dict__.get("input_serializer")
        if serializer is None:
            return
        # Describe the body and the 202 envelope for the schema, once per concrete action view.
        schema = extend_schema(request=serializer, responses={202: LIFECYCLE_RESPONSE})
        for method in ("post", "put"):
            handler = getattr(cls, method, None)
            if handler is not None:
                setattr(cls, method, schema(_own_copy(handler)))

    required_scopes: ClassVar[tuple[str, ...]] = ("officer",)
    input_serializer: ClassVar[type[serializers.Serializer]]
    perform: ClassVar[Callable[..., services.ActionResult]]

    def handle_action(self, request, request_id: str) -> Response:
        data = validated(self.input_serializer, request.data)
        occurred_at = data.pop("occurredAt", None)
        result = type(self).perform(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            occurred_at=occurred_at,
            **data,
        )
        return Response(lifecycle_payload(result), status=202)


class LifecycleApi(LifecycleBase):
    @idempotent
    def post(self, request, request_id: str) -> Response:
        return self.handle_action(request, request_id)


def _extend(*, extendBy: dict | None = None, **kw: Any) -> services.ActionResult:
    amount = unit = None
    if extendBy:
        amount, unit = extendBy["amount"], clocks.Unit.parse(extendBy["unit"])
    return services.request_extend(amount=amount, unit=unit, **kw)


def _requestor(*, type: str, **kw: Any) -> services.ActionResult:
    fields = {k: kw.pop(k, None) for k in ("name", "email", "relation")}
    return services.request_requestor_set(requestor=s.requestor_snapshot({"type": type, **fields}), **kw)


class RequestAcknowledgeApi(LifecycleApi):
    input_serializer = s.AcknowledgeSerializer
    perform = staticmethod(services.request_acknowledge)


class RequestClarificationRequestApi(LifecycleApi):
    input_serializer = s.ClarificationRequestSerializer
    perform = staticmethod(services.request_clarification_request)


class RequestClarificationReceiveApi(LifecycleApi):
    input_serializer = s.ClarificationReceiveSerializer
    perform = staticmethod(services.request_clarification_receive)


class RequestExtensionApi(LifecycleApi):
    input_serializer = s.ExtensionSerializer
    perform = staticmethod(_extend)


class RequestRefusalApi(LifecycleApi):
    input_serializer = s.RefusalSerializer
    perform = staticmethod(services.request_refuse)


class RequestClosureApi(LifecycleApi):
    input_serializer = s.ClosureSerializer
    perform = staticmethod(services.request_close)


class RequestRequestorApi(LifecycleBase):
    input_serializer = s.RequestorUpdateSerializer
    perform = staticmethod(_requestor)

    @idempotent
    def put(self, request, request_id: str) -> Response:
        return self.handle_action(request, request_id)


class RequestVerificationRequestApi(LifecycleApi):
    input_serializer = s.VerificationRequestSerializer
    perform = staticmethod(services.request_verification_request)


class RequestVerificationReceiveApi(LifecycleApi):
    input_serializer = s.VerificationReceiveSerializer
    perform = staticmethod(services.request_verification_receive)


_DSR_TYPES = {"ERASURE": "delete"}


def dsr_row(dsr: DataSubjectRequest) -> dict[str, Any]:
    primary = dsr.request_types[0] if dsr.request_types else "ACCESS"
    outcome = dsr.outcome or {}
    requestor = dsr.requestor or {}
    return {
        "id": dsr.id,
        "created_at": dsr.created_at.isoformat(),
        "updated_at": dsr.updated_at.isoformat(),
        "tenant_id": dsr.org_id,
        "requested_by": requestor.get("email") or requestor.get("name") or dsr.contact or None,
        "subject_id": dsr.contact or None,
        "type": _DSR_TYPES.get(primary, primary.lower()),
        "status": dsr.status.lower(),
        "completed_at": outcome.get("at"),
        "export_url": None,
        "error_msg": None,
    }


class DsrListApi(ApiView):
    """The seed page's bare body, not the envelope, so that its clients work unchanged."""

    required_scopes = READ_SCOPES
    query_serializer = s.DsrListQuerySerializer

    @extend_schema(
        responses={200: schemas.DsrListSchema},
        operation_id="dsr_list",
    )
    def get(self, request) -> Response:
        query = self.query(request)
        rows, next_cursor = dsr_page(org=request.user.org, cursor=query.get("cursor"), limit=query["limit"])
        page = [dsr_row(r) for r in rows]
        body: dict[str, Any] = {"requests": page, "items": page}
        if next_cursor:
            body["next_cursor"] = next_cursor
        response = Response(body)
        response.raw_body = True  # type: ignore[attr-defined]  # EnvelopeRenderer leaves it bare
        return response
