"""A request's notification history and replay (`/v1/requests/{id}/notifications…`), scope `integration`.

They live here, not in notifications, because they start from the request: the request is found in the
caller's org first (404 otherwise), then notifications' selectors and services take its id. Notifications
stays a leaf that never imports this app.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.idempotency import idempotent
from core.serializers import StrictSerializer
from core.views import ApiView, validated
from notifications import selectors, services
from notifications.apis import HistoryAnswer, ReplayAnswer
from notifications.resources import delivery_resource, event_resource

from .selectors import request_get

SCOPES = ("integration",)


class RequestNotificationsApi(ApiView):
    required_scopes = SCOPES

    @extend_schema(responses={200: HistoryAnswer}, operation_id="requests_notifications")
    def get(self, request, request_id: str) -> Response:
        dsr = request_get(org=request.user.org, request_id=request_id)
        events = selectors.notification_history(org=request.user.org, request_id=dsr.pk)
        return Response(
            {
                "events": [
                    {**event_resource(e), "deliveries": [delivery_resource(d) for d in e.deliveries.all()]}
                    for e in events
                ]
            }
        )


class ReplayInput(StrictSerializer):
    endpointId = serializers.CharField(required=False, allow_null=True, max_length=40)


class RequestNotificationReplayApi(ApiView):
    required_scopes = SCOPES

    @extend_schema(
        request=ReplayInput, responses={202: ReplayAnswer}, operation_id="requests_notifications_replay"
    )
    @idempotent
    def post(self, request, request_id: str, event_id: str) -> Response:
        data = validated(ReplayInput, request.data)
        dsr = request_get(org=request.user.org, request_id=request_id)
        result = services.event_replay(
            org=request.user.org,
            request_id=dsr.pk,
            event_id=event_id,
            endpoint_id=data.get("endpointId") or None,
            actor=request.user.actor,
        )
        return Response(
            {
                "event": event_resource(result.event),
                "deliveries": [delivery_resource(d, with_attempts=False) for d in result.deliveries],
            },
            status=202,
        )
