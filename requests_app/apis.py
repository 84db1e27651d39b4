"""The request resources: create, capture, list, read, timeline, clock explanation, and the `/v1/dsr` list.
One view per operation: validate → service or selector → serialize. The envelope and errors are core.api's;
the lifecycle actions are in `lifecycle_apis`."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.auth import READ_SCOPES
from core.idempotency import idempotent
from core.views import ApiView, validated

from . import schemas, services
from . import serializers as s
from .clock import compute_clock
from .models import DataSubjectRequest
from .resources import request_resource_row, timeline_resource
from .selectors import dsr_page, request_get, request_list, request_row, timeline_list


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
    body: dict[str, Any] = {"request": result.resource}
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
        at_risk_days = request.user.org.at_risk_days
        rows, total = request_list(
            org=request.user.org,
            now=now,
            filters={k: query.get(k) for k in s.RequestListQuerySerializer.FILTERS},
            sort_field=s.RequestListQuerySerializer.SORTS[query["sortBy"]],
            descending=query.get("sortOrder", "asc" if query["sortBy"] == "dueDate" else "desc") == "desc",
            offset=query["offset"],
            limit=query["limit"],
        )
        return Response(
            {
                "requests": [request_resource_row(r, now=now, at_risk_days=at_risk_days) for r in rows],
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
        row = request_row(org=request.user.org, request_id=request_id)
        resource = request_resource_row(row, now=timezone.now(), at_risk_days=request.user.org.at_risk_days)
        return Response({"request": resource})


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


_DSR_TYPES = {"ERASURE": "delete"}


def dsr_row(dsr: DataSubjectRequest, export_url: str | None = None) -> dict[str, Any]:
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
        "export_url": export_url,
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
        # The bundle of an export job linked to the request (exports/), while it can be downloaded.
        from exports.apis import base_url
        from exports.selectors import export_urls_for_requests

        urls = export_urls_for_requests(
            org=request.user.org, request_ids=[r.id for r in rows], base_url=base_url(request)
        )
        page = [dsr_row(r, urls.get(r.id)) for r in rows]
        body: dict[str, Any] = {"requests": page, "items": page}
        if next_cursor:
            body["next_cursor"] = next_cursor
        response = Response(body)
        response.raw_body = True  # type: ignore[attr-defined]  # EnvelopeRenderer leaves it bare
        return response
