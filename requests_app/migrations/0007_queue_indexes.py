"""The at-risk queue's indexes: the page's without the INCLUDE, and a narrow one its exact count scans
index-only. The org foreign key loses its own index, which every composite index already starts with.

On SQLite the AlterField remakes the table, dropping the search mirror's triggers (0006): they are put back.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models


def _search_mirror(apps, schema_editor):
    import_module("requests_app.migrations.0006_search").install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("authority", "0002_initial"),
        ("core", "0004_rate_counter_unlogged"),
        ("requests_app", "0006_search"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="datasubjectrequest",
            name="dsr_open_due",
        ),
        migrations.AlterField(
            model_name="datasubjectrequest",
            name="org",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="requests",
                to="core.org",
            ),
        ),
        migrations.AddIndex(
            model_name="datasubjectrequest",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ("RECEIVED", "ACKNOWLEDGED", "AWAITING_CLARIFICATION", "APPEALED"))
                ),
                fields=["org", "clock_due_date", "id"],
                name="dsr_open_due",
            ),
        ),
        migrations.AddIndex(
            model_name="datasubjectrequest",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ("RECEIVED", "ACKNOWLEDGED", "AWAITING_CLARIFICATION", "APPEALED"))
                ),
                fields=["org", "clock_due_date", "clock_timezone"],
                name="dsr_open_due_zone",
            ),
        ),
        migrations.RunPython(_search_mirror, migrations.RunPython.noop),
    ]
