"""Existing staff groups get the new key permissions on upgrade.

`create_officer` and `seed_demo` keep the two groups' permissions in step (core.staff), but an installation
that is only migrated would otherwise leave its officers unable to see or revoke their org's keys until one
of those ran. Permissions are normally created after `migrate` (post_migrate); they are created here with
the same codenames and names, so Django finds them in place. A fresh database has no groups yet: nothing to do.
"""

from django.db import migrations

GRANTS = {
    "Privacy officer": ("view_apikey", "revoke_apikey"),
    "Auditor": ("view_apikey",),
}
NAMES = {
    "view_apikey": "Can view API key",
    "revoke_apikey": "Can revoke the organisation's API keys",
}


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    groups = {g.name: g for g in Group.objects.filter(name__in=GRANTS)}
    if not groups:
        return
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="apikey")
    permissions = {
        codename: Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in NAMES.items()
    }
    for name, group in groups.items():
        group.permissions.add(*(permissions[codename] for codename in GRANTS[name]))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_api_key_expiry_rate_counter"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
