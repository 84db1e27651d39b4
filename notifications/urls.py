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
        "webhook-endpoints/<str:endpoint_id>/rotate-secret",
        apis.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
]
