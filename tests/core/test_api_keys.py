"""Key lifecycle: revoke from the command line by prefix, id or raw key; optional expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import ApiKey
from core.services import api_key_create

pytestmark = pytest.mark.django_db


def _status(raw: str) -> int:
    from rest_framework.test import APIClient

    return APIClient().get("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


@pytest.mark.parametrize("how", ["prefix", "id", "raw"])
def test_revoke_api_key_revokes_at_once(org, capsys, how):
    key, raw = api_key_create(org=org, scopes=["intake"])
    assert _status(raw) == 200
    reference = {"prefix": key.prefix, "id": str(key.pk), "raw": raw}[how]

    call_command("revoke_api_key", reference)

    assert "Revoked" in capsys.readouterr().out
    assert _status(raw) == 401
    key.refresh_from_db()
    assert key.revoked_by == "manage.py revoke_api_key"


def test_revoking_twice_says_so_and_an_unknown_key_is_an_error(org, capsys):
    key, _ = api_key_create(org=org, scopes=["intake"])
    call_command("revoke_api_key", key.prefix)
    call_command("revoke_api_key", key.prefix)
    assert "already revoked" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No API key"):
        call_command("revoke_api_key", "nope")


def test_revoking_one_key_leaves_the_others_working(org):
    first, first_raw = api_key_create(org=org, scopes=["intake"])
    _, second_raw = api_key_create(org=org, scopes=["intake"])
    call_command("revoke_api_key", first.prefix)
    assert (_status(first_raw), _status(second_raw)) == (401, 200)


def test_a_key_with_an_expiry_stops_working_then(org, capsys):
    call_command("create_api_key", "--org", org.id, "--scopes", "intake", "--expires-in-days", "30")
    out = capsys.readouterr().out.strip().splitlines()
    raw = out[-1]
    assert "expires" in out[-2]
    key = ApiKey.objects.get(prefix=raw.split("_")[1])
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    assert _status(raw) == 200

    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    from rest_framework.test import APIClient

    response = APIClient().get("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


@pytest.mark.parametrize("days", ["0", "-1", "99999"])
def test_an_expiry_out_of_range_is_refused(org, days):
    with pytest.raises(CommandError, match="expires after"):
        call_command("create_api_key", "--org", org.id, "--scopes", "intake", "--expires-in-days", days)
