"""Download links: a `token` signed with Django's signing (the project's SECRET_KEY, its own salt), bound to
the job, its org and the job's current link nonce, and carrying the job's expiry.

A token is good while all of these hold: the signature verifies, it names this job and org, its nonce is
the job's current one (revoking the links draws a new nonce) and its expiry has not passed (the job's
`expiresAt`, which the service checks again against the job row itself).
"""

from __future__ import annotations

from datetime import datetime

from django.core import signing

SALT = "dsar.exports.download"


class TokenRefused(Exception):
    """The token is malformed, tampered with, for another job, revoked or expired."""


def token_issue(*, job_id: str, org_id: str, nonce: str, expires_at: datetime) -> str:
    return signing.dumps({"j": job_id, "o": org_id, "n": nonce, "e": int(expires_at.timestamp())}, salt=SALT)


def token_read(token: str, *, job_id: str, now: datetime) -> tuple[str, str]:
    """The (org id, nonce) a valid token for `job_id` carries; TokenRefused otherwise."""
    if not token or len(token) > 512:
        raise TokenRefused("malformed")
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TokenRefused("bad signature") from None
    if not isinstance(payload, dict) or payload.get("j") != job_id:
        raise TokenRefused("not for this job")
    expires = payload.get("e")
    if not isinstance(expires, int) or now.timestamp() >= expires:
        raise TokenRefused("expired")
    org_id, nonce = payload.get("o"), payload.get("n")
    if not isinstance(org_id, str) or not isinstance(nonce, str):
        raise TokenRefused("malformed")
    return org_id, nonce
