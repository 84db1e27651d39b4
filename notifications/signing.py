"""Standard Webhooks signatures (HMAC-SHA256, `v1`). Pure functions, no Django.

The secret is `whsec_` + base64 of the key bytes; the HMAC key is those decoded bytes. The signed content is
`"{webhook-id}.{webhook-timestamp}.{body}"` over the exact bytes sent — never a re-serialisation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec allows 24 to 64


def secret_generate(nbytes: int = SECRET_BYTES) -> str:
    if not 24 <= nbytes <= 64:
        raise ValueError("Standard Webhooks secrets are 24 to 64 random bytes.")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("A webhook secret starts with 'whsec_'.")
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(*, secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers. With several secrets (a rotation's overlap), one signature
    per secret, space-separated, so a receiver holding either verifies."""
    if not secrets:
        raise ValueError("At least one secret.")
    signatures = " ".join(sign(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signatures}


def verify(*, secret: str, msg_id: str, timestamp: int, body: bytes, signature_header: str) -> bool:
    """True if any `v1` entry of the (space-delimited) header matches. No timestamp tolerance here."""
    expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).split(",", 1)[1]
    for entry in signature_header.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False
