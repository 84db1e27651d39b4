"""The correspondence endpoints: message templates (officer) and a request's messages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.auth import READ_SCOPES
from core.cursors import cursor_decode, cursor_encode
from core.idempotency import idempotent
from core.views import ApiView, validated
from requests_app.lifecycle_apis import LIFECYCLE_RESPONSE, lifecycle_response
from requests_app.selectors import request_get

from . import serializers as s
from . import services
from .models import Message
from .resources import message_resource, template_resource


class TemplateOutput(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    pack = serializers.CharField(allow_null=True)
    locale = serializers.CharField()
    subject = serializers.CharField()
    bodyText = serializers.CharField()
    bodyHtml = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
    builtIn = serializers.BooleanField()


class TemplateListAnswer(serializers.Serializer):
    templates = TemplateOutput(many=True)


class TemplateAnswer(serializers.Serializer):
    template = TemplateOutput()


class LegalCheckOutput(serializers.Serializer):
    rule = serializers.CharField()
    ok = serializers.BooleanField()
    element = serializers.CharField(required=False)
    citation = serializers.CharField(required=False)


class PreviewAnswer(serializers.Serializer):
    subject = serializers.CharField()
    bodyText = serializers.CharField()
    bodyHtml = serializers.CharField()
    legalChecks = LegalCheckOutput(many=True)


class MessageOutput(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    locale = serializers.CharField()
    toMasked = serializers.CharField()
    subject = serializers.CharField()
    bodyText = serializers.CharField()
    status = serializers.ChoiceField(choices=["QUEUED", "SENT", "FAILED", "SUPPRESSED"])
    sentAt = serializers.DateTimeField(allow_null=True)
    templateId = serializers.CharField(allow_null=True)
    templateVersion = serializers.IntegerField(allow_null=True)


class MessageListAnswer(serializers.Serializer):
    messages = MessageOutput(many=True)
    nextCursor = serializers.CharField(required=False)


class MessageAnswer(serializers.Serializer):
    message = MessageOutput()


class TemplateCollectionApi(ApiView):
    required_scopes = ("officer",)
    query_serializer = s.TemplateListQuery

    @extend_schema(responses={200: TemplateListAnswer}, operation_id="message_templates_list")
    def get(self, request: Any) -> Response:
        query = self.query(request)
        templates = services.templates_list(
            org=request.user.org, kind=query.get("kind"), pack=query.get("pack"), locale=query.get("locale")
        )
        return Response({"templates": templates})

    @extend_schema(
        request=s.TemplateCreateSerializer,
        responses={201: TemplateAnswer},
        operation_id="message_templates_create",
    )
    @idempotent
    def post(self, request: Any) -> Response:
        data = validated(s.TemplateCreateSerializer, request.data)
        row = services.template_create(
            org=request.user.org,
            actor=request.user.actor,
            kind=data["kind"],
            pack=data.get("pack") or "",
            locale=data["locale"],
            subject=data["subject"],
            body_text=data["bodyText"],
            body_html=data.get("bodyHtml") or "",
        )
        return Response({"template": template_resource(row)}, status=201)


class TemplatePreviewApi(ApiView):
    required_scopes = ("officer",)

    @extend_schema(
        request=s.TemplatePreviewSerializer,
        responses={200: PreviewAnswer},
        operation_id="message_templates_preview",
    )
    def post(self, request: Any, template_id: str) -> Response:
        data = validated(s.TemplatePreviewSerializer, request.data)
        preview = services.template_preview(
            org=request.user.org, template_id=template_id, request_id=data.get("requestId")
        )
        return Response(
            {
                "subject": preview.subject,
                "bodyText": preview.body_text,
                "bodyHtml": preview.body_html,
                "legalChecks": preview.legal_checks,
            }
        )


class RequestMessagesApi(ApiView):
    """GET: intake (a request's correspondence, oldest first); POST: officer (a custom message)."""

    query_serializer = s.MessageListQuery
    scopes_by_method = {"GET": READ_SCOPES, "POST": ("officer",)}

    @extend_schema(responses={200: MessageListAnswer}, operation_id="requests_messages_list")
    def get(self, request: Any, request_id: str) -> Response:
        query = self.query(request)
        dsr = request_get(org=request.user.org, request_id=request_id)
        rows = Message.objects.filter(request=dsr)
        if query.get("cursor"):
            at, pk = cursor_decode(query["cursor"])
            rows = rows.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))
        limit = query["limit"]
        page = list(rows.order_by("created_at", "id")[: limit + 1])
        body: dict[str, Any] = {"messages": [message_resource(m) for m in page[:limit]]}
        if len(page) > limit:
            last = page[limit - 1]
            body["nextCursor"] = cursor_encode(last.created_at, last.id)
        return Response(body)

    @extend_schema(
        request=s.CustomMessageSerializer,
        responses={202: LIFECYCLE_RESPONSE},
        operation_id="requests_messages_create",
    )
    @idempotent
    def post(self, request: Any, request_id: str) -> Response:
        data = validated(s.CustomMessageSerializer, request.data)
        result, message = services.message_custom(
            org=request.user.org,
            request_id=request_id,
            actor=request.user.actor,
            subject=data["subject"],
            body_text=data["bodyText"],
            locale=data.get("locale"),
        )
        response = lifecycle_response(result)
        response.data["message"] = message_resource(message)
        return response


class MessageResendApi(ApiView):
    required_scopes = ("officer",)

    @extend_schema(request=None, responses={202: MessageAnswer}, operation_id="requests_messages_resend")
    @idempotent
    def post(self, request: Any, request_id: str, message_id: str) -> Response:
        copy = services.message_resend(
            org=request.user.org, request_id=request_id, message_id=message_id, actor=request.user.actor
        )
        return Response({"message": message_resource(copy)}, status=202)
