"""Who may decide on authority evidence, and when a decision may be dated. One source for the API, the
admin and intake: services call `authority_input_check` before they store anything.

A decision (`VERIFIED`, `REJECTED`) belongs to an officer. Evidence from anyone else — an intake clerk,
an integration, the agent's own upload — is recorded as `PENDING` and waits for that decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.api import Forbidden, ValidationFailed

from .models import AuthorityStatus


def authority_input_check(
    *,
    status: str,
    verified_at: datetime | None,
    may_decide: bool,
    not_after: datetime,
    field_prefix: str = "",
) -> None:
    """Raise 403 for a decision without the officer scope, 400 for a `verifiedAt` after `not_after` (now,
    give or take the services' clock-skew allowance)."""
    if status != AuthorityStatus.PENDING and not may_decide:
        raise Forbidden(
            f"Only a key with the officer scope may record an authority decision ({status}); "
            "submit the evidence as PENDING for an officer to decide.",
            details=[{"field": f"{field_prefix}status", "message": "A decision needs the officer scope."}],
        )
    if verified_at is not None and verified_at > not_after:
        raise ValidationFailed.field(f"{field_prefix}verifiedAt", "May not lie in the future.")


def decision_fields(status: str, *, actor: str, at: datetime) -> dict[str, Any]:
    """Evidence recorded already decided (by an officer) says who decided and when."""
    if status == AuthorityStatus.PENDING:
        return {}
    return {"decided_at": at, "decided_by": actor}


def artifacts_for_storage(artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence artifacts as stored and shown: `{kind, uri?, description?, receivedAt?}`, times in ISO 8601,
    absent parts left out (a signed letter that came by post has no URI)."""
    stored = []
    for artifact in artifacts:
        item = {}
        for name, value in artifact.items():
            if value is None or value == "":
                continue
            item[name] = value.isoformat() if isinstance(value, datetime) else value
        stored.append(item)
    return stored
