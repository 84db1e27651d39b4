"""Webhook endpoints, one view per operation; scope `integration`. The answers' shapes for events and
deliveries are described here too; the request-scoped views (history, replay) live in
`requests_app.notification_apis`, since notifications never imports requests_app."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.idempotency import idempotent
from core.serializers import StrictSerializer, WebhookUrlField
from core.views import ApiView, validated

from . import selectors, services
from .models import ApiDeliveryStatus, EndpointStatus
from .resources import endpoint_resource

SCOPES = ("integration",)


# --- schema-only descriptions of the answers (the views build plain dicts) -------------------------------


class EndpointOutput(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()
    eventTypes = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_blank=True)
    createdAt = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=EndpointStatus.choices)
    disabledAt = serializers.DateTimeField(allow_null=True)
    disabledReason = serializers.CharField(allow_null=True)


class EndpointCreatedOutput(EndpointOutput):
    secret = serializers.CharField(help_text="whsec_… — shown once, in this answer only.")


class AttemptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    attemptedAt = serializers.DateTimeField()
    responseCode = serializers.IntegerField(allow_null=True)
    latencyMs = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    webhookTimestamp = serializers.IntegerField(allow_null=True)


class DeliveryOutput(serializers.Serializer):
    id = serializers.CharField()
    endpointId = serializers.CharField()
    status = serializers.ChoiceField(choices=ApiDeliveryStatus.choices)
    attempt = serializers.IntegerField()
    responseCode = serializers.IntegerField(allow_null=True)
    attemptedAt = serializers.DateTimeField(allow_null=True)
    latencyMs = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()
    nextAttemptAt = serializers.DateTimeField(allow_null=True)
    deliveredAt = serializers.DateTimeField(allow_null=True)
    replayOf = serializers.CharField(allow_null=True)
    attempts = AttemptOutput(many=True, required=False)


class EventOutput(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    createdAt = serializers.DateTimeField()
    payload = serializers.DictField()


class EventWithDeliveriesOutput(EventOutput):
    deliveries = DeliveryOutput(many=True)


class EndpointCreateAnswer(serializers.Serializer):
    endpoint = EndpointCreatedOutput()


class EndpointListAnswer(serializers.Serializer):
    endpoints = EndpointOutput(many=True)


class EndpointDeleteAnswer(serializers.Serializer):
    deleted = serializers.BooleanField()


class HistoryAnswer(serializers.Serializer):
    events = EventWithDeliveriesOutput(many=True)


class ReplayAnswer(serializers.Serializer):
    event = EventOutput()
    deliveries = DeliveryOutput(many=True)


# --- views --------------------------------------------------------------------------------------------------


class EndpointCreateInput(StrictSerializer):
    url = WebhookUrlField()
    eventTypes = serializers.ListField(
        child=serializers.ChoiceField(choices=[*services.EVENT_TYPES, services.ALL_EVENTS]),
        allow_empty=False,
        max_length=len(services.EVENT_TYPES) + 1,
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class WebhookEndpointCollectionApi(ApiView):
    required_scopes = SCOPES

    @extend_schema(
        request=EndpointCreateInput,
        responses={201: EndpointCreateAnswer},
        operation_id="webhook_endpoints_create",
    )
    @idempotent
    def post(self, request) -> Response:
        data = validated(EndpointCreateInput, request.data)
        endpoint = services.endpoint_create(
            org=request.user.org,
            url=data["url"],
            event_types=data["eventTypes"],
            description=data["description"],
            actor=request.user.actor,
        )
        return Response({"endpoint": endpoint_resource(endpoint, with_secret=True)}, status=201)

    @extend_schema(responses={200: EndpointListAnswer}, operation_id="webhook_endpoints_list")
    def get(self, request) -> Response:
        endpoints = selectors.endpoint_list(org=request.user.org)
        return Response({"endpoints": [endpoint_resource(e) for e in endpoints]})


class WebhookEndpointDetailApi(ApiView):
    required_scopes = SCOPES

    @extend_schema(responses={200: EndpointDeleteAnswer}, operation_id="webhook_endpoints_delete")
    def delete(self, request, endpoint_id: str) -> Response:
        services.endpoint_delete(org=request.user.org, endpoint_id=endpoint_id, actor=request.user.actor)
        return Response({"deleted": True})
