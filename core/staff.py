"""Staff accounts for the admin: each works for one org, as a privacy officer (acts) or an auditor (reads).

Writes for `create_officer` and `seed_demo`; the admin itself never creates users.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .models import Membership, Org

OFFICER = "Privacy officer"
AUDITOR = "Auditor"

# `change_datasubjectrequest` is what "may act" means: the request page never saves the model itself
# (its change form is read-only); the permission unlocks the action forms, each of which calls a service.
# The notification admins are scoped to the staff user's org like the rest: officers see and manage their
# org's webhook endpoints (disable, re-enable: the same services as the API), auditors see them.
GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    OFFICER: (
        "core.view_org",
        "core.view_apikey",
        "core.revoke_apikey",
        "requests_app.view_datasubjectrequest",
        "requests_app.change_datasubjectrequest",
        "authority.view_authorityevidence",
        "notifications.view_webhookendpoint",
        "notifications.change_webhookendpoint",
        "notifications.view_delivery",
        "notifications.view_outboxevent",
        "notifications.view_replay",
    ),
    AUDITOR: (
        "core.view_org",
        "core.view_apikey",
        "requests_app.view_datasubjectrequest",
        "authority.view_authorityevidence",
        "notifications.view_webhookendpoint",
        "notifications.view_delivery",
        "notifications.view_outboxevent",
        "notifications.view_replay",
    ),
}


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".", 1)
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is None:
            # Permissions are created by `migrate` (post_migrate); a missing one means it has not run.
            raise LookupError(f"Permission {name} does not exist yet; run `manage.py migrate` first.")
        found.append(permission)
    return found


def staff_groups_ensure() -> dict[str, Group]:
    """Create or repair the two groups so that each has exactly its listed permissions."""
    groups = {}
    with transaction.atomic():
        for name, names in GROUP_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.set(_permissions(names))
            groups[name] = group
    return groups


def staff_user_create(
    *, org: Org, username: str, password: str, auditor: bool = False, email: str = ""
) -> AbstractUser:
    """A staff user of `org` in the officer (or auditor) group. Raises ValueError or ValidationError."""
    user_model = get_user_model()
    username = username.strip()
    if not username:
        raise ValueError("A username is required.")
    if user_model.objects.filter(username=username).exists():
        raise ValueError(f"A user named {username!r} already exists.")
    candidate = user_model(username=username, email=email)
    validate_password(password, candidate)
    with transaction.atomic():
        group = staff_groups_ensure()[AUDITOR if auditor else OFFICER]
        user = user_model.objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        Membership.objects.create(user=user, org=org)
        user.groups.add(group)
    return user


def staff_password_set(*, username: str, password: str) -> AbstractUser:
    """Set a staff user's password (the demo account gets a fresh one each time the demo is seeded)."""
    user = get_user_model().objects.get(username=username)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
