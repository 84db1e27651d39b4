"""Webhook endpoints, one view per operation; scope `integration`. The answers' shapes for events and
deliveries are described here too; the request-scoped views (history, replay) live in
`requests_app.notification_apis`, since notifications never imports requests_app."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.idempotency import idempotent
from core.serializers import StrictCharField, StrictSerializer, WebhookUrlField
from core.views import ApiView, validated

from . import selectors, services
from .models import ApiDeliveryStatus, EndpointStatus
from .resources import endpoint_resource
from .services import endpoint_rotate_secret, endpoint_update

SCOPES = ("integration",)
# A signing secret is shown once: the idempotency store keeps the answer with null in its place.
SHOWN_ONCE = ("endpoint.secret",)


# --- schema-only descriptions of the answers (the views build plain dicts) -------------------------------


class EndpointOutput(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()
    eventTypes = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=EndpointStatus.choices)
    disabledAt = serializers.DateTimeField(allow_null=True)
    disabledReason = serializers.CharField(
        allow_null=True, help_text="Why it is DISABLED: a receiver's 410 Gone, or who disabled it."
    )
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField(
        allow_null=True, help_text="The last change through PATCH or a secret rotation; null if none."
    )
    secretRotatedAt = serializers.DateTimeField(allow_null=True, help_text="The last rotation; null if none.")
    previousSecretExpiresAt = serializers.DateTimeField(
        allow_null=True,
        help_text="Until then deliveries are signed with the previous secret too (a second `v1,` entry).",
    )
    consecutiveFailures = serializers.IntegerField(
        min_value=0, help_text="Failed attempts in a row; a delivered one resets it."
    )
    backoffUntil = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "The circuit breaker: after too many failures in a row nothing is sent before this time, then "
            "one attempt at a time until one succeeds. Null when the breaker is closed."
        ),
    )


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(
        allow_null=True,
        help_text=(
            "whsec_… — shown once, in this answer only; null when the answer is an idempotent replay "
            "(same Idempotency-Key)."
        ),
    )


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


class EndpointWithSecretAnswer(serializers.Serializer):
    endpoint = EndpointWithSecretOutput()


class EndpointAnswer(serializers.Serializer):
    endpoint = EndpointOutput()


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


def _event_types_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=[*services.EVENT_TYPES, services.ALL_EVENTS]),
        allow_empty=False,
        max_length=len(services.EVENT_TYPES) + 1,
        **kwargs,
    )


class EndpointCreateInput(StrictSerializer):
    url = WebhookUrlField()
    eventTypes = _event_types_field()
    description = StrictCharField(required=False, allow_blank=True, max_length=500, default="")


class EndpointUpdateInput(StrictSerializer):
    """The fields to change (at least one); the others keep their values."""

    url = WebhookUrlField(required=False)
    eventTypes = _event_types_field(required=False)
    description = StrictCharField(required=False, allow_blank=True, max_length=500)
    status = serializers.ChoiceField(
        choices=EndpointStatus.choices,
        required=False,
        help_text=(
            "DISABLED stops deliveries (those not yet sent end as DEAD); ACTIVE re-enables a disabled "
            "endpoint (also one disabled after its receiver answered 410 Gone) and closes its circuit "
            "breaker."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            names = ", ".join(self.fields)
            raise serializers.ValidationError(f"Give at least one field to change ({names}).")
        return super().validate(attrs)


class EndpointUpdateInputSchema(OpenApiSerializerExtension):
    """The schema says what `validate` requires: a body with at least one of the fields."""

    target_class = EndpointUpdateInput

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["anyOf"] = [{"required": [name]} for name in force_instance(self.target).fields]
        return schema


class RotateSecretInput(StrictSerializer):
    """No fields: the body is empty (`{}`) or absent."""


class WebhookEndpointCollectionApi(ApiView):
    required_scopes = SCOPES

    @extend_schema(
        request=EndpointCreateInput,
        responses={201: EndpointWithSecretAnswer},
        operation_id="webhook_endpoints_create",
    )
    @idempotent(redact=SHOWN_ONCE)
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

    @extend_schema(
        request=EndpointUpdateInput, responses={200: EndpointAnswer}, operation_id="webhook_endpoints_update"
    )
    def patch(self, request, endpoint_id: str) -> Response:
        data = validated(EndpointUpdateInput, request.data)
        endpoint = endpoint_update(
            org=request.user.org,
            endpoint_id=endpoint_id,
            actor=request.user.actor,
            url=data.get("url"),
            event_types=data.get("eventTypes"),
            description=data.get("description"),
            status=data.get("status"),
        )
        return Response({"endpoint": endpoint_resource(endpoint)})

    @extend_schema(responses={200: EndpointDeleteAnswer}, operation_id="webhook_endpoints_delete")
    def delete(self, request, endpoint_id: str) -> Response:
        services.endpoint_delete(org=request.user.org, endpoint_id=endpoint_id, actor=request.user.actor)
        return Response({"deleted": True})


class WebhookEndpointRotateSecretApi(ApiView):
    required_scopes = SCOPES

    @extend_schema(
        request=RotateSecretInput,
        responses={200: EndpointWithSecretAnswer},
        operation_id="webhook_endpoints_rotate_secret",
    )
    @idempotent(redact=SHOWN_ONCE)
    def post(self, request, endpoint_id: str) -> Response:
        validated(RotateSecretInput, request.data)
        endpoint = endpoint_rotate_secret(
            org=request.user.org, endpoint_id=endpoint_id, actor=request.user.actor
        )
        return Response({"endpoint": endpoint_resource(endpoint, with_secret=True)})
