from django.urls import path

from . import apis

urlpatterns = [
    path("webhook-endpoints", apis.WebhookEndpointCollectionApi.as_view(), name="webhook-endpoints"),
    path(
        "webhook-endpoints/<str:endpoint_id>",
        apis.WebhookEndpointDetailApi.as_view(),
        name="webhook-endpoint",
    ),
    path(
        "requests/<str:request_id>/notifications",
        apis.RequestNotificationsApi.as_view(),
        name="request-notifications",
    ),
    path(
        "requests/<str:request_id>/notifications/<str:event_id>/replay",
        apis.RequestNotificationReplayApi.as_view(),
        name="request-notification-replay",
    ),
]
