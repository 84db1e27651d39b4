from django.urls import path

from . import apis

urlpatterns = [
    path(
        "requests/<str:request_id>/verification/challenges",
        apis.ChallengeCollectionApi.as_view(),
        name="verification-challenges",
    ),
    path(
        "requests/<str:request_id>/verification/challenges/<str:challenge_id>/resend",
        apis.ChallengeResendApi.as_view(),
        name="verification-challenge-resend",
    ),
    path("subject/verify", apis.SubjectVerifyApi.as_view(), name="subject-verify"),
]
