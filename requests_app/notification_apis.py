"""A request's notification history and replay (`/v1/requests/{id}/notifications…`), scope `integration`.

They live here, not in notifications, because they start from the request: the request is found in the
caller's org first (404 otherwise), then notifications' selectors and services take its id. Notifications
stays a leaf that never imports this app.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.idempotency import idempotent
from core.serializers import StrictSerializer
from core.views import ApiView, validated
from notifications import selectors, services
from notifications.apis import DeliveryOutput, EventOutput, ReplayAnswer
from notifications.resources import delivery_resource, event_resource

from .selectors import request_get

SCOPES = ("integration",)


# --- schema-only description of the history page (the view builds plain dicts) ----------------------------


class NotificationEventOutput(EventOutput):
    deliveries = DeliveryOutput(
        many=True,
        help_text=f"The event's {selectors.DELIVERIES_PER_EVENT} latest deliveries (replays included), "
        "oldest first, each with its attempts.",
    )
    deliveryCount = serializers.IntegerField(
        min_value=0, help_text="All of the event's deliveries, including those not listed."
    )


class NotificationHistoryAnswer(serializers.Serializer):
    events = NotificationEventOutput(many=True, help_text="Oldest first.")
    nextCursor = serializers.CharField(
        required=False,
        help_text="Pass it as `cursor` for the next page; absent on the last page.",
    )


class NotificationHistoryQuery(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        max_length=200,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Not a cursor this API returned.")],
        help_text="`nextCursor` of the previous page, as given.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50, help_text="Events per page.")


# --- views --------------------------------------------------------------------------------------------------


class RequestNotificationsApi(ApiView):
    required_scopes = SCOPES
    query_serializer = NotificationHistoryQuery

    @extend_schema(responses={200: NotificationHistoryAnswer}, operation_id="requests_notifications")
    def get(self, request, request_id: str) -> Response:
        query = self.query(request)
        dsr = request_get(org=request.user.org, request_id=request_id)
        page = selectors.notification_history(
            org=request.user.org, request_id=dsr.pk, limit=query["limit"], cursor=query.get("cursor")
        )
        body: dict[str, Any] = {
            "events": [
                {
                    **event_resource(h.event),
                    "deliveries": [delivery_resource(d) for d in h.deliveries],
                    "deliveryCount": h.delivery_count,
                }
                for h in page.events
            ]
        }
        if page.next_cursor:
            body["nextCursor"] = page.next_cursor
        return Response(body)


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
