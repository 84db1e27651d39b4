"""The export endpoints (api-contract.md, "Export jobs"); scope `export` for every call.

Each view validates, calls one service or selector, and renders the resource (`exports.resources`).
"""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core import ratelimit
from core.api import InvalidTransition, RateLimited
from core.auth import ApiPrincipal, HasScope
from core.idempotency import idempotent
from core.schema import ApiAutoSchema
from core.views import ApiView, validated

from . import serializers as s
from .models import ExportJob
from .resources import audit_report_resource, job_resource
from .selectors import job_page, substrate_list
from .services import deliveries as delivery_services
from .services import jobs as job_services
from .storage import bundle_open

SCOPES = ("export",)
# Downloads by link alone are counted per job: a leaked link cannot be used to hammer the storage.
LINK_DOWNLOAD_RATE = "30/min"


def base_url(request: Request) -> str:
    return settings.DSAR_PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def job_answer(job: ExportJob, request: Request) -> dict[str, Any]:
    return {
        "job": job_resource(job, now=timezone.now(), base_url=base_url(request)),
        "auditReport": audit_report_resource(job),
    }


class ExportApi(ApiView):
    required_scopes = SCOPES


class JobCollectionApi(ExportApi):
    query_serializer = s.JobListQuery

    @extend_schema(
        parameters=[s.JobListQuery], responses={200: s.JobListAnswer}, operation_id="compliance_dsar_list"
    )
    def get(self, request: Any) -> Response:
        query = self.query(request)
        page = job_page(
            org=request.user.org, state=query.get("state"), limit=query["limit"], offset=query["offset"]
        )
        now, base = timezone.now(), base_url(request)
        return Response(
            {
                "jobs": [job_resource(j, now=now, base_url=base) for j in page.jobs],
                "total": page.total,
                "filteredCount": page.filtered,
                "counts": page.counts,
                "activeCount": page.active,
                "activeLimit": settings.DSAR_EXPORT_ACTIVE_LIMIT,
            }
        )

    @extend_schema(
        request=s.JobCreateInput, responses={202: s.JobCreatedAnswer}, operation_id="compliance_dsar_create"
    )
    @idempotent
    def post(self, request: Any) -> Response:
        data = validated(s.JobCreateInput, request.data)
        scope = request.data["scope"]  # as given (validated above), for the job's `scope`
        created = job_services.job_create(
            org=request.user.org,
            actor=request.user.actor,
            scope={k: v for k, v in scope.items() if v is not None},
            format=data.get("format"),
            requested_by=data.get("requestedBy"),
            request_notes=data.get("requestNotes"),
            request_id=data.get("requestId"),
            notify=data.get("notify"),
        )
        job = created.job
        return Response(
            {
                "job": job_resource(job, now=timezone.now(), base_url=base_url(request)),
                "activeLimit": created.active_limit,
            },
            status=202,
        )


class JobDetailApi(ExportApi):
    @extend_schema(responses={200: s.JobAnswer}, operation_id="compliance_dsar_retrieve")
    def get(self, request: Any, job_id: str) -> Response:
        job = job_services.job_get(org=request.user.org, job_id=job_id)
        return Response(job_answer(job, request))


class JobRunApi(ExportApi):
    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                s.JobAnswer, description="Finished inline: READY with its report, or FAILED."
            ),
            202: OpenApiResponse(s.JobAnswer, description="COLLECTING: the background worker finishes it."),
        },
        operation_id="compliance_dsar_run",
    )
    @idempotent
    def post(self, request: Any, job_id: str) -> Response:
        outcome = job_services.job_run(org=request.user.org, job_id=job_id, actor=request.user.actor)
        return Response(job_answer(outcome.job, request), status=200 if outcome.finished else 202)


class JobRevokeLinkApi(ExportApi):
    @extend_schema(request=None, responses={200: s.JobOnlyAnswer}, operation_id="compliance_dsar_revoke_link")
    @idempotent
    def post(self, request: Any, job_id: str) -> Response:
        job = job_services.job_revoke_link(org=request.user.org, job_id=job_id, actor=request.user.actor)
        return Response({"job": job_resource(job, now=timezone.now(), base_url=base_url(request))})


class KeyOrLink(HasScope):
    """A Bearer key with `export`, or — with no key at all — a `token` from `bundleUrl` (checked by the
    service, which answers 401 for a bad one)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        anonymous = not isinstance(request.user, ApiPrincipal) and "Authorization" not in request.headers
        if anonymous and request.query_params.get("token"):
            return True
        return super().has_permission(request, view)


class JobDownloadApi(ExportApi):
    permission_classes = [KeyOrLink]
    query_serializer = s.DownloadQuery

    @extend_schema(
        parameters=[
            OpenApiParameter("token", OpenApiTypes.STR, description="From `bundleUrl`; instead of a key.")
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The bundle (ZIP)."),
        },
        operation_id="compliance_dsar_download",
    )
    def get(self, request: Any, job_id: str) -> HttpResponseBase:
        job, by = self._job(request, job_id)
        try:
            handle = bundle_open(job.bundle_key)
        except FileNotFoundError:
            raise InvalidTransition("The bundle is no longer in storage.", allowed=[]) from None
        job = job_services.job_downloaded(job=job, downloaded_by=by)
        return bundle_response(job, handle)

    def head(self, request: Any, job_id: str) -> HttpResponseBase:
        job, _by = self._job(request, job_id)
        response = HttpResponse(content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{_filename(job)}"'
        return self._headers(response, job)

    def _job(self, request: Any, job_id: str) -> tuple[ExportJob, str]:
        principal = request.user if isinstance(request.user, ApiPrincipal) else None
        token = request.query_params.get("token")
        if principal is None:
            decision = ratelimit.hit(f"export-link:{job_id[:64]}", ratelimit.Rate.parse(LINK_DOWNLOAD_RATE))
            if not decision.allowed:
                raise RateLimited(
                    "Too many downloads of this bundle by link.", retry_after=decision.retry_after
                )
            job = job_services.job_for_download(job_id=job_id, org=None, token=token)
            return job, "link"
        if token:
            raise exceptions.ValidationError({"token": ["Give a key or a token, not both."]})
        job = job_services.job_for_download(job_id=job_id, org=principal.org, token=None)
        return job, principal.key.prefix

    @staticmethod
    def _headers(response: HttpResponseBase, job: ExportJob) -> HttpResponseBase:
        digest = base64.b64encode(bytes.fromhex(job.bundle_sha256)).decode()
        response["Content-Length"] = str(job.bundle_size)
        response["ETag"] = f'"{job.bundle_sha256}"'
        response["Repr-Digest"] = f"sha-256=:{digest}:"
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def bundle_response(job: ExportJob, handle: Any) -> HttpResponseBase:
    """The bundle as `download` serves it: an attachment with its length, ETag and digest, never cached."""
    response = FileResponse(
        handle, as_attachment=True, filename=_filename(job), content_type="application/zip"
    )
    return JobDownloadApi._headers(response, job)


def _filename(job: ExportJob) -> str:
    return f"{job.id.replace(':', '-')}.zip"


class SubstrateListApi(ExportApi):
    @extend_schema(responses={200: s.SubstrateListAnswer}, operation_id="substrates_list")
    def get(self, request: Any) -> Response:
        return Response({"substrates": substrate_list(org=request.user.org)})


# --- the subject's portal (no key) ----------------------------------------------------------------------


class SubjectDeliverySchema(ApiAutoSchema):
    """No key: the link's token is the credential, so its refusals are the 401 and the 429 of the link.
    Nothing is kept under an `Idempotency-Key` (there is no organisation to keep it under): a repeated
    download is simply another download."""

    def error_answers(self) -> dict[int, tuple[tuple[str, ...], str]]:
        answers = super().error_answers()
        answers[409] = (
            ("invalid_transition", "conflict"),
            "The bundle is no longer in storage (`invalid_transition`); a concurrent change won (`conflict`; "
            "retry).",
        )
        answers[401] = (
            ("unauthenticated",),
            "`unauthenticated`: the link is not valid — an unknown delivery, a wrong or another delivery's "
            "token, a revoked or expired link all get one identical answer — or the step-up code is wrong "
            "or expired (the fifth wrong code revokes the link).",
        )
        answers[429] = (
            ("rate_limited",),
            "`rate_limited`: too many attempts on this link, or a code was sent less than a minute ago; "
            "see `Retry-After`.",
        )
        return answers

    def _process_override_parameters(self, direction: Any = "request") -> dict[tuple[str, str], Any]:
        parameters = super()._process_override_parameters(direction)
        parameters.pop(("Idempotency-Key", "header"), None)
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        # The bundle is the bare ZIP; only the step-up answer (202) is JSON in the envelope.
        for response in responses.values():
            content = response.get("content", {})
            if "application/zip" in content:
                content.pop("application/json", None)
        return responses


class SubjectDeliveryDownloadApi(ApiView):
    """POST /v1/subject/deliveries/{deliveryId}/download `{token, code?}`: the portal's download, as JSON
    clients call it (the portal's own form posts to `/s/d/{deliveryId}/download`: the same service)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    schema = SubjectDeliverySchema()

    @extend_schema(
        request=s.SubjectDownloadInput,
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The bundle (ZIP)."),
            (202, "application/json"): OpenApiResponse(
                s.SubjectCodeSentAnswer, description="Step-up: a code was e-mailed; post again with it."
            ),
        },
        operation_id="subject_deliveries_download",
    )
    def post(self, request: Any, delivery_id: str) -> HttpResponseBase:
        data = validated(s.SubjectDownloadInput, request.data)
        outcome = delivery_services.delivery_download(delivery_id, data["token"], data.get("code"))
        if isinstance(outcome, delivery_services.CodeSent):
            return Response(
                {
                    "codeSent": True,
                    "toMasked": outcome.to_masked,
                    "expiresAt": outcome.expires_at.isoformat(),
                },
                status=202,
            )
        return bundle_response(outcome.job, outcome.handle)
