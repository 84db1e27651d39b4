"""Admin sign-in: Django's four password validators, and failed attempts throttled per user and address."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from core.staff import staff_user_create
from tests.admin.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


def _sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


@pytest.mark.parametrize(
    ("username", "password", "rule"),
    [
        ("pat", "83749261", "entirely numeric"),
        ("pat", "short-pw", "too short"),
        ("patricia.jones", "patricia.jones", "too similar"),
        ("pat", "password1234", "too common"),
    ],
)
def test_weak_officer_passwords_are_refused(org, username, password, rule):
    with pytest.raises(ValidationError, match=rule):
        staff_user_create(org=org, username=username, password=password)


def test_repeated_failures_lock_the_user_name_even_with_the_right_password(olivia, settings):
    settings.DSAR_LOGIN_RATE = "3/15min"
    client = Client()
    for _ in range(3):
        assert _sign_in(client, "olivia", "wrong-password").status_code == 200

    response = _sign_in(client, "olivia", PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_user_name(olivia, org, settings):
    settings.DSAR_LOGIN_RATE = "3/15min"
    staff_user_create(org=org, username="pat", password=PASSWORD)
    for _ in range(3):
        _sign_in(Client(), "olivia", "wrong-password", address="198.51.100.1")

    response = _sign_in(Client(), "pat", PASSWORD, address="198.51.100.2")

    assert response.status_code == 302  # signed in


def test_one_address_trying_many_user_names_is_locked_too(olivia, settings):
    settings.DSAR_LOGIN_RATE = "2/15min"  # per address: five times that
    for number in range(10):
        _sign_in(Client(), f"guess{number}", "wrong-password")

    response = _sign_in(Client(), "olivia", PASSWORD)

    assert "Too many failed sign-ins" in response.content.decode()
    assert _sign_in(Client(), "olivia", PASSWORD, address="192.0.2.44").status_code == 302


def test_a_successful_sign_in_is_not_counted(olivia, settings):
    settings.DSAR_LOGIN_RATE = "2/15min"
    for _ in range(4):
        assert _sign_in(Client(), "olivia", PASSWORD).status_code == 302
