from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

import clocks
from core.auth import READ_SCOPES
from core.views import ApiView


class PolicyPackListApi(ApiView):
    """Every jurisdiction code the clock knows, with its pack id, version, law and citation."""

    required_scopes = (*READ_SCOPES, "export")

    @extend_schema(responses={200: dict}, operation_id="policy_packs_list")
    def get(self, request) -> Response:
        return Response({"policyPacks": [pack.as_dict() for pack in clocks.list_packs()]})
