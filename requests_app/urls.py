from django.urls import path

from authority import apis as authority_apis

from . import apis, lifecycle_apis, notification_apis
from .policy_apis import PolicyPackListApi

urlpatterns = [
    path("requests", apis.RequestCollectionApi.as_view(), name="requests"),
    path("requests/capture", apis.RequestCaptureApi.as_view(), name="requests-capture"),
    path("requests/<str:request_id>", apis.RequestDetailApi.as_view(), name="request-detail"),
    path("requests/<str:request_id>/timeline", apis.RequestTimelineApi.as_view(), name="request-timeline"),
    path(
        "requests/<str:request_id>/clock/explain",
        apis.RequestClockExplainApi.as_view(),
        name="request-explain",
    ),
    path("requests/<str:request_id>/acknowledgements", lifecycle_apis.RequestAcknowledgeApi.as_view()),
    path(
        "requests/<str:request_id>/clarifications/request",
        lifecycle_apis.RequestClarificationRequestApi.as_view(),
    ),
    path(
        "requests/<str:request_id>/clarifications/receive",
        lifecycle_apis.RequestClarificationReceiveApi.as_view(),
    ),
    path("requests/<str:request_id>/extensions", lifecycle_apis.RequestExtensionApi.as_view()),
    path("requests/<str:request_id>/refusals", lifecycle_apis.RequestRefusalApi.as_view()),
    path("requests/<str:request_id>/closures", lifecycle_apis.RequestClosureApi.as_view()),
    path("requests/<str:request_id>/requestor", lifecycle_apis.RequestRequestorApi.as_view()),
    path("requests/<str:request_id>/request-types", lifecycle_apis.RequestTypesApi.as_view()),
    path(
        "requests/<str:request_id>/verification/request",
        lifecycle_apis.RequestVerificationRequestApi.as_view(),
    ),
    path(
        "requests/<str:request_id>/verification/receive",
        lifecycle_apis.RequestVerificationReceiveApi.as_view(),
    ),
    path("requests/<str:request_id>/appeals", lifecycle_apis.RequestAppealApi.as_view()),
    path("requests/<str:request_id>/appeals/decision", lifecycle_apis.RequestAppealDecisionApi.as_view()),
    path("requests/<str:request_id>/authority/request", authority_apis.AuthorityRequestApi.as_view()),
    path("requests/<str:request_id>/authority/submit", authority_apis.AuthoritySubmitApi.as_view()),
    path("requests/<str:request_id>/authority/approve", authority_apis.AuthorityApproveApi.as_view()),
    path("requests/<str:request_id>/authority/reject", authority_apis.AuthorityRejectApi.as_view()),
    path(
        "requests/<str:request_id>/notifications",
        notification_apis.RequestNotificationsApi.as_view(),
        name="request-notifications",
    ),
    path(
        "requests/<str:request_id>/notifications/<str:event_id>/replay",
        notification_apis.RequestNotificationReplayApi.as_view(),
        name="request-notification-replay",
    ),
    path("dsr", apis.DsrListApi.as_view(), name="dsr-list"),
    path("policy-packs", PolicyPackListApi.as_view(), name="policy-packs"),
]
