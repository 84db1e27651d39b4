"""A job's scope as the pipeline reads it: the API's camelCase JSON → `SubjectScope`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .types import SubjectScope


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def subject_scope(scope: dict[str, Any]) -> SubjectScope:
    identities = scope.get("subjectIdentities") or {}
    email = (identities.get("email") or "").strip().casefold() or None
    phone = (identities.get("phone") or "").strip() or None
    return SubjectScope(
        data_subject_id=str(scope.get("dataSubjectId") or ""),
        email=email,
        phone=phone,
        window_start=_when(scope.get("windowStart")),
        window_end=_when(scope.get("windowEnd")),
        campaign_ids=tuple(scope.get("campaignIds") or ()),
    )
