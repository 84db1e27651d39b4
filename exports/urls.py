from django.urls import path

from . import apis

urlpatterns = [
    path("compliance/dsar", apis.JobCollectionApi.as_view(), name="export-jobs"),
    path("compliance/dsar/<str:job_id>", apis.JobDetailApi.as_view(), name="export-job"),
    path("compliance/dsar/<str:job_id>/run", apis.JobRunApi.as_view(), name="export-job-run"),
    path("compliance/dsar/<str:job_id>/download", apis.JobDownloadApi.as_view(), name="export-job-download"),
    path(
        "compliance/dsar/<str:job_id>/revoke-link",
        apis.JobRevokeLinkApi.as_view(),
        name="export-job-revoke-link",
    ),
    path("substrates", apis.SubstrateListApi.as_view(), name="substrates"),
    path(
        "subject/deliveries/<str:delivery_id>/download",
        apis.SubjectDeliveryDownloadApi.as_view(),
        name="subject-delivery-download",
    ),
]
