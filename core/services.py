from __future__ import annotations

from django.db import transaction

from .auth import generate_key
from .models import SCOPES, ApiKey, Org


def org_create(*, name: str, at_risk_days: int = 7, timezone_override: str = "") -> Org:
    if not name.strip():
        raise ValueError("An organisation needs a name.")
    return Org.objects.create(
        name=name.strip(), at_risk_days=at_risk_days, timezone_override=timezone_override
    )


def api_key_create(*, org: Org, scopes: list[str], name: str = "") -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret (shown once; only its hash is stored)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"Scopes must be a non-empty subset of {', '.join(SCOPES)}; unknown: {', '.join(unknown)}"
        )
    raw, prefix, secret_hash = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            org=org, name=name, prefix=prefix, secret_hash=secret_hash, scopes=sorted(set(scopes))
        )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> None:
    from django.utils import timezone

    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
