"""PostgreSQL: rate counters are unlogged.

A counter lives for one window (seconds to a day) and is written on every API call. Unlogged, those writes
skip the write-ahead log, so a call does not wait for a WAL flush to count itself; after a crash the table
comes back empty, which only forgets the current window's counts. Nothing else changes: the upsert, its
atomicity and the sweep are the same. SQLite has no such setting.
"""

from django.db import migrations

TABLE = "core_ratecounter"


def _alter(persistence: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {TABLE} SET {persistence}")

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0003_staff_groups_see_and_revoke_keys")]

    operations = [migrations.RunPython(_alter("UNLOGGED"), _alter("LOGGED"))]
