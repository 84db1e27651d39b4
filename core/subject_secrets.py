"""Secrets that reach a data subject by e-mail: one-time codes and link tokens.

A secret is derived, never stored: `secret_code(seed)` / `secret_token(seed)` compute it from a random seed
and the project's SECRET_KEY (`salted_hmac`). What a challenge or a delivery keeps is only a keyed hash of
the secret (`keyed_hash`), compared in constant time (`keyed_hash_matches`). The seed lives on the queued
message alone, for the mailer to put the secret into the mail it sends, and is erased once the message is
sent or given up: from then on nobody, the database's owner included, can recover the secret.

Message bodies are stored with `SECRET_MARK` where the secret goes; what the API and the admin show of a
body replaces it with `SECRET_SHOWN`.
"""

from __future__ import annotations

import base64
import re
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

SECRET_MARK = "\u27e6secret\u27e7"
SECRET_SHOWN = "\u2022\u2022\u2022\u2022\u2022\u2022"
CODE_DIGITS = 6
_SALT = "dsar.subject."
# Spaces and hyphens people type inside a code ("012 345", "012-345"); nothing else is forgiven.
_CODE_SEPARATORS = re.compile(r"[\s\-]+")
_ASCII_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


def new_seed() -> str:
    return secrets.token_urlsafe(24)


def secret_code(seed: str) -> str:
    """Six decimal digits derived from the seed (uniform enough: 2^256 mod 10^6 bias is negligible)."""
    number = int.from_bytes(salted_hmac(_SALT + "code", seed, algorithm="sha256").digest(), "big")
    return str(number % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def secret_token(seed: str) -> str:
    """A URL-safe token of 192 bits derived from the seed."""
    digest = salted_hmac(_SALT + "token", seed, algorithm="sha256").digest()[:24]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def keyed_hash(purpose: str, secret: str) -> str:
    return salted_hmac(_SALT + "hash." + purpose, secret, algorithm="sha256").hexdigest()


def keyed_hash_matches(purpose: str, secret: str, expected: str) -> bool:
    return bool(expected) and constant_time_compare(keyed_hash(purpose, secret), expected)


def normalise_code(raw: object) -> str | None:
    """The code as typed, without the spaces and hyphens people add; None unless exactly six ASCII digits
    (`"١٢٣٤٥٦"` is digits to `str.isdigit` and not a code)."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    code = _CODE_SEPARATORS.sub("", raw)
    return code if _ASCII_CODE.fullmatch(code) else None


def mask_email(address: str) -> str:
    """`jane.doe@example.org` → `j•••e@example.org`: enough for the subject to recognise, not to harvest."""
    local, _, domain = address.partition("@")
    if not domain:
        return "\u2022\u2022\u2022"
    shown = local[0] + "\u2022\u2022\u2022" + (local[-1] if len(local) > 2 else "")
    return f"{shown}@{domain}"
