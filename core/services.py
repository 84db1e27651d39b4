from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .auth import generate_key
from .models import SCOPES, ApiKey, Org


def org_create(*, name: str, at_risk_days: int = 7, timezone_override: str = "") -> Org:
    if not name.strip():
        raise ValueError("An organisation needs a name.")
    return Org.objects.create(
        name=name.strip(), at_risk_days=at_risk_days, timezone_override=timezone_override
    )


def api_key_create(
    *, org: Org, scopes: list[str], name: str = "", expires_in_days: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret (shown once; only its hash is stored)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"Scopes must be a non-empty subset of {', '.join(SCOPES)}; unknown: {', '.join(unknown)}"
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= 3660:
        raise ValueError("A key expires after 1 to 3,660 days (or never, when no expiry is given).")
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    raw, prefix, secret_hash = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            org=org,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
        )
    return key, raw


def api_key_find(reference: str) -> ApiKey | None:
    """A key by its prefix, its database id, or the raw key itself (`dsar_<prefix>_<secret>`)."""
    reference = reference.strip()
    if reference.startswith("dsar_"):
        reference = reference.split("_", 2)[1] if reference.count("_") >= 2 else reference[5:]
    key = ApiKey.objects.select_related("org").filter(prefix=reference).first()
    if key is None and reference.isdigit():
        key = ApiKey.objects.select_related("org").filter(pk=int(reference)).first()
    return key


def api_key_revoke(*, key: ApiKey, by: str) -> bool:
    """Revoke at once: the next call with the key answers 401. False when it was already revoked."""
    now = timezone.now()
    changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by)
    if changed:
        key.revoked_at, key.revoked_by = now, by
    return bool(changed)
