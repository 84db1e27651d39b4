"""API keys in the admin: listed by prefix, never the secret; revoked by officers of the key's org only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import ApiKey
from core.services import api_key_create

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:core_apikey_changelist")


def _revoke(client, *keys):
    return client.post(
        CHANGELIST, {"action": "revoke_keys", "_selected_action": [k.pk for k in keys]}, follow=True
    )


def test_officers_see_their_orgs_keys_by_prefix_and_never_the_secret(officer_client, org, other_org):
    key, raw = api_key_create(org=org, scopes=["intake"], name="web form")
    other, _ = api_key_create(org=other_org, scopes=["intake"], name="globex form")

    page = officer_client.get(CHANGELIST).content.decode()

    assert f"dsar_{key.prefix}_…" in page
    assert "web form" in page
    assert raw.split("_", 2)[2] not in page
    assert key.secret_hash not in page
    assert other.prefix not in page


def test_an_officer_revokes_a_key_and_its_next_call_is_a_401(officer_client, org):
    from rest_framework.test import APIClient

    key, raw = api_key_create(org=org, scopes=["intake"])
    api = APIClient()
    assert api.get("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    page = _revoke(officer_client, key).content.decode()

    assert "Revoked 1 key(s)" in page
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == "admin:olivia"
    response = api.get("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_an_officer_cannot_revoke_another_orgs_key(officer_client, other_org):
    other, _ = api_key_create(org=other_org, scopes=["intake"])

    _revoke(officer_client, other)

    other.refresh_from_db()
    assert other.revoked_at is None


def test_an_auditor_sees_keys_but_cannot_revoke_them(auditor_client, org):
    key, _ = api_key_create(org=org, scopes=["intake"])

    page = auditor_client.get(CHANGELIST).content.decode()
    assert f"dsar_{key.prefix}_…" in page
    assert "revoke_keys" not in page

    _revoke(auditor_client, key)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_keys_cannot_be_added_or_edited_in_the_admin(officer_client, org):
    key, _ = api_key_create(org=org, scopes=["intake"])
    assert officer_client.get(reverse("admin:core_apikey_add")).status_code == 403
    response = officer_client.post(reverse("admin:core_apikey_change", args=[key.pk]), {"name": "renamed"})
    assert response.status_code == 403
    assert ApiKey.objects.get(pk=key.pk).name == ""
