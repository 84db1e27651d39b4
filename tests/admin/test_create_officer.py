"""`manage.py create_officer`: a staff login bound to one org and one group."""

from __future__ import annotations

import getpass

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.models import Membership
from core.staff import AUDITOR, OFFICER

pytestmark = pytest.mark.django_db


def test_it_creates_a_staff_officer_of_the_org_from_the_env_password(org, monkeypatch, capsys):
    monkeypatch.setenv("DSAR_OFFICER_PASSWORD", "a-long-enough-passphrase")

    call_command("create_officer", "--org", org.pk, "--username", "olivia")

    user = get_user_model().objects.get(username="olivia")
    assert user.is_staff and not user.is_superuser
    assert user.check_password("a-long-enough-passphrase")
    assert Membership.objects.get(user=user).org == org
    assert list(user.groups.values_list("name", flat=True)) == [OFFICER]
    assert user.has_perm("requests_app.change_datasubjectrequest")
    assert "log in at /admin/" in capsys.readouterr().out


def test_it_creates_an_auditor_who_can_only_view(org, monkeypatch):
    monkeypatch.setenv("DSAR_OFFICER_PASSWORD", "a-long-enough-passphrase")

    call_command("create_officer", "--org", org.pk, "--username", "aldo", "--auditor")

    user = get_user_model().objects.get(username="aldo")
    assert list(user.groups.values_list("name", flat=True)) == [AUDITOR]
    assert user.has_perm("requests_app.view_datasubjectrequest")
    assert not user.has_perm("requests_app.change_datasubjectrequest")


def test_it_prompts_for_the_password_when_the_env_has_none(org, monkeypatch):
    monkeypatch.delenv("DSAR_OFFICER_PASSWORD", raising=False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed-in-at-the-prompt")

    call_command("create_officer", "--org", org.pk, "--username", "pat")

    assert get_user_model().objects.get(username="pat").check_password("typed-in-at-the-prompt")


def test_it_refuses_mismatched_prompted_passwords(org, monkeypatch):
    monkeypatch.delenv("DSAR_OFFICER_PASSWORD", raising=False)
    answers = iter(["first-long-password", "second-long-password"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))

    with pytest.raises(CommandError, match="do not match"):
        call_command("create_officer", "--org", org.pk, "--username", "pat")
    assert not get_user_model().objects.filter(username="pat").exists()


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--org", "org_nope", "--username", "x"], "a-long-enough-passphrase", "No organisation"),
        (["--username", "short"], "abc", "Password rejected"),
    ],
)
def test_it_refuses_bad_input_and_creates_nothing(org, monkeypatch, args, password, message):
    monkeypatch.setenv("DSAR_OFFICER_PASSWORD", password)
    if "--org" not in args:
        args = ["--org", org.pk, *args]

    with pytest.raises(CommandError, match=message):
        call_command("create_officer", *args)
    assert get_user_model().objects.count() == 0


def test_it_refuses_an_existing_username(org, monkeypatch):
    monkeypatch.setenv("DSAR_OFFICER_PASSWORD", "a-long-enough-passphrase")
    call_command("create_officer", "--org", org.pk, "--username", "olivia")

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_officer", "--org", org.pk, "--username", "olivia")


def test_seed_demo_prints_a_working_officer_login(monkeypatch, capsys, client):
    monkeypatch.delenv("DSAR_OFFICER_PASSWORD", raising=False)

    call_command("seed_demo", "--requests", "2")

    line = next(x for x in capsys.readouterr().out.splitlines() if "admin login" in x)
    username, password = line.split(":", 1)[1].split()[0], line.split()[-1]
    assert username == "officer"
    assert client.login(username=username, password=password)
    assert client.get("/admin/requests_app/datasubjectrequest/").context["cl"].result_count == 2
