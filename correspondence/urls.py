from django.urls import path

from . import apis

urlpatterns = [
    path("message-templates", apis.TemplateCollectionApi.as_view(), name="message-templates"),
    path(
        "message-templates/<str:template_id>/preview",
        apis.TemplatePreviewApi.as_view(),
        name="message-template-preview",
    ),
    path("requests/<str:request_id>/messages", apis.RequestMessagesApi.as_view(), name="request-messages"),
    path(
        "requests/<str:request_id>/messages/<str:message_id>/resend",
        apis.MessageResendApi.as_view(),
        name="request-message-resend",
    ),
]
