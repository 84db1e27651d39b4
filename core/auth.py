"""Bearer API keys, scopes and per-key rates."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from . import ratelimit
from .models import ApiKey, Org
from .prepared import PreparedQuery

# officer can do everything intake can; integration reads.
_IMPLIED = {
    "officer": {"officer", "intake"},
    "intake": {"intake"},
    "integration": {"integration"},
    "export": {"export"},
}
READ_SCOPES = ("intake", "integration")
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiPrincipal:
    """What `request.user` is on the API: the key, its org and its effective scopes."""

    key: ApiKey
    org: Org
    scopes: frozenset[str]

    is_authenticated = True
    is_active = True

    @property
    def actor(self) -> str:
        return f"apikey:{self.key.prefix}"

    @property
    def pk(self) -> str:
        return self.key.prefix


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> tuple[str, str, str]:
    """A new raw key and its (prefix, secret hash). The raw key is shown once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"dsar_{prefix}_{secret}", prefix, _hash(secret)


def effective_scopes(scopes: list[str]) -> frozenset[str]:
    out: set[str] = set()
    for scope in scopes:
        out |= _IMPLIED.get(scope, set())
    return frozenset(out)


_KEY_FIELDS = tuple(f.attname for f in ApiKey._meta.concrete_fields)
_ORG_FIELDS = tuple(f.attname for f in Org._meta.concrete_fields)
# Every API call looks its key up: compiled once per process (core.prepared), key and org in one query.
_KEY_BY_PREFIX = PreparedQuery(
    lambda prefix: ApiKey.objects.filter(prefix=prefix).values_list(
        *_KEY_FIELDS, *(f"org__{name}" for name in _ORG_FIELDS)
    )[:1],
    server_prepare=True,
)


def _key_with_org(prefix: str) -> ApiKey | None:
    rows = _KEY_BY_PREFIX.rows(prefix=prefix)
    if not rows:
        return None
    row = rows[0]
    key = ApiKey.from_db(None, _KEY_FIELDS, row[: len(_KEY_FIELDS)])
    key.org = Org.from_db(None, _ORG_FIELDS, row[len(_KEY_FIELDS) :])
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request) -> tuple[ApiPrincipal, ApiKey] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api-key>'.")
        parts = raw.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != "dsar" or len(parts[1]) > 16:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        key = _key_with_org(parts[1])
        if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
            raise exceptions.AuthenticationFailed("Unknown API key.")
        now = timezone.now()
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if key.expires_at is not None and now >= key.expires_at:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            # At most one write a minute per key: "last used" is for humans, not an audit log.
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return ApiPrincipal(key=key, org=key.org, scopes=effective_scopes(key.scopes)), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="dsar"'


class HasScope(permissions.BasePermission):
    """The view names the scopes that may call it (`required_scopes`, any one suffices)."""

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, ApiPrincipal):
            raise exceptions.NotAuthenticated("An API key is required: 'Authorization: Bearer <api-key>'.")
        if getattr(view, request.method.lower(), None) is None:
            return True  # the view answers 405 next
        by_method = getattr(view, "scopes_by_method", None)
        # HEAD is GET without the body; OPTIONS describes the endpoint, which any reader may see.
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        required = by_method.get(method) if by_method else getattr(view, "required_scopes", None)
        if required is None:
            return False
        if principal.scopes.isdisjoint(required):
            raise exceptions.PermissionDenied(
                f"This key lacks the scope for this action (needs one of: {', '.join(required)})."
            )
        return True


class ApiKeyRateThrottle(throttling.BaseThrottle):
    """`DSAR_API_RATE` per key, counted in a store every web process shares (core.ratelimit)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ApiPrincipal):
            return True  # unauthenticated calls are refused before this matters
        decision = ratelimit.hit(f"api:{principal.key.prefix}", ratelimit.Rate.parse(settings.DSAR_API_RATE))
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self) -> float:
        return float(getattr(self, "_wait", 1))
