from __future__ import annotations

from typing import Any

from requests_app.apis import LifecycleApi
from requests_app.services import ActionResult

from . import services
from .serializers import (
    AuthorityApproveSerializer,
    AuthorityRejectSerializer,
    AuthorityRequestSerializer,
    AuthoritySubmitSerializer,
)


def _submit(*, evidenceArtifacts: list, status: str, verifiedAt: Any = None, **kw: Any) -> ActionResult:
    return services.authority_submit(
        evidence_artifacts=[dict(a) for a in evidenceArtifacts], status=status, verified_at=verifiedAt, **kw
    )


class AuthorityRequestApi(LifecycleApi):
    input_serializer = AuthorityRequestSerializer
    perform = staticmethod(services.authority_request)


class AuthoritySubmitApi(LifecycleApi):
    required_scopes = ("intake",)
    input_serializer = AuthoritySubmitSerializer
    perform = staticmethod(_submit)


class AuthorityApproveApi(LifecycleApi):
    input_serializer = AuthorityApproveSerializer
    perform = staticmethod(services.authority_approve)


class AuthorityRejectApi(LifecycleApi):
    input_serializer = AuthorityRejectSerializer
    perform = staticmethod(services.authority_reject)
