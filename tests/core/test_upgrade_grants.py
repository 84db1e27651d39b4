"""An installation that is only migrated gives its existing officer and auditor groups the key permissions."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission

from core.staff import AUDITOR, OFFICER

pytestmark = pytest.mark.django_db

migration = importlib.import_module("core.migrations.0003_staff_groups_see_and_revoke_keys")


def _codenames(group: Group) -> set[str]:
    return set(group.permissions.values_list("codename", flat=True))


def test_existing_groups_get_view_and_revoke():
    officers = Group.objects.create(name=OFFICER)
    auditors = Group.objects.create(name=AUDITOR)
    Permission.objects.filter(codename__in=["view_apikey", "revoke_apikey"]).delete()  # as before the upgrade

    migration.grant(global_apps, None)

    assert _codenames(officers) == {"view_apikey", "revoke_apikey"}
    assert _codenames(auditors) == {"view_apikey"}


def test_a_fresh_database_without_groups_is_left_alone():
    migration.grant(global_apps, None)
    assert not Group.objects.exists()
