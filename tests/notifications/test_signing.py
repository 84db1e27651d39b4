"""Standard Webhooks signing, checked against the reference `standardwebhooks` library."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications import signing


def test_secret_is_whsec_and_base64_of_24_to_64_bytes():
    secret = signing.secret_generate()
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret[6:])) <= 64
    assert signing.secret_generate() != secret
    for n in (24, 64):
        assert len(signing.secret_key(signing.secret_generate(n))) == n
    with pytest.raises(ValueError):
        signing.secret_generate(16)


def test_it_verifies_with_the_reference_library():
    secret = signing.secret_generate()
    body = '{"id":"evt_1","type":"request.created","data":{"name":"Zoë"}}'.encode()
    timestamp = int(time.time())
    headers = signing.headers(secrets=[secret], msg_id="evt_1", timestamp=timestamp, body=body)
    assert headers["webhook-signature"].startswith("v1,")
    payload = Webhook(secret).verify(body, headers)
    assert payload["data"]["name"] == "Zoë"


def test_a_tampered_body_or_another_secret_fails_the_reference_check():
    secret = signing.secret_generate()
    body = b'{"id":"evt_1"}'
    headers = signing.headers(secrets=[secret], msg_id="evt_1", timestamp=int(time.time()), body=body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"id":"evt_2"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.secret_generate()).verify(body, headers)


def test_each_timestamp_gets_its_own_signature():
    secret = signing.secret_generate()
    body = b"{}"
    first = signing.sign(secret=secret, msg_id="evt_1", timestamp=1_700_000_000, body=body)
    second = signing.sign(secret=secret, msg_id="evt_1", timestamp=1_700_000_005, body=body)
    assert first != second


def test_verify_accepts_any_v1_entry_of_a_rotation_header():
    secret, old = signing.secret_generate(), signing.secret_generate()
    body = b"{}"
    good = signing.sign(secret=secret, msg_id="m", timestamp=1, body=body)
    stale = signing.sign(secret=old, msg_id="m", timestamp=1, body=body)
    header = f"{stale} {good}"
    assert signing.verify(secret=secret, msg_id="m", timestamp=1, body=body, signature_header=header)
    assert not signing.verify(secret=secret, msg_id="m", timestamp=2, body=body, signature_header=header)
