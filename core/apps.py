from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _staff_groups_repair(**kwargs: Any) -> None:
    """After `migrate`, give the existing staff groups the permissions this release lists for them.

    An installation step, like Django creating the permissions themselves: an upgrade that grants the
    groups a new permission takes effect without re-running `create_officer`. It runs after each app's
    migrations and acts once every listed permission exists; a database without staff groups is left as
    it is (the first `create_officer` creates them).
    """
    from django.contrib.auth.models import Group

    from .staff import GROUP_PERMISSIONS, staff_groups_ensure

    if not Group.objects.filter(name__in=list(GROUP_PERMISSIONS)).exists():
        return
    try:
        staff_groups_ensure()
    except LookupError:
        return  # a later app's permissions are not created yet; its own post_migrate comes next


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Organisations and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, schema  # noqa: F401  (registers system checks and the schema's auth scheme)

        post_migrate.connect(_staff_groups_repair, dispatch_uid="core.staff_groups_repair")
