"""The database refuses UPDATE and DELETE on export job timeline entries, as it does for requests' (see
requests_app 0004, whose shape this follows): who ran, downloaded or revoked an export stays on record.

`install`/`uninstall`/`suspended` are also what tests use (tests/conftest.py lets SQLite's flush through).
A later migration that remakes this table on SQLite must call `install` again.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import migrations, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "exports_exportjobentry"

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION exports_timeline_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'export timeline entries are append-only (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER exports_exportjobentry_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION exports_timeline_refuse()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS exports_exportjobentry_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS exports_timeline_refuse()",
]
SQLITE = [
    f"""
    CREATE TRIGGER exports_exportjobentry_no_{op.lower()} BEFORE {op} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'export timeline entries are append-only ({op} refused)'); END
    """
    for op in ("UPDATE", "DELETE")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS exports_exportjobentry_no_{op}" for op in ("update", "delete")]

TRIGGERS = {
    "postgresql": ["exports_exportjobentry_append_only"],
    "sqlite": ["exports_exportjobentry_no_update", "exports_exportjobentry_no_delete"],
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor, []):
            cursor.execute(sql)  # no params: the plpgsql body's `%` must reach the server as written


def install(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def uninstall(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


@contextmanager
def suspended(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Drop the triggers for the block and put them back after, in one transaction. Tests only."""
    with transaction.atomic(using=connection.alias):
        uninstall(connection)
        yield
        install(connection)


def forwards(apps, schema_editor):
    install(schema_editor.connection)


def backwards(apps, schema_editor):
    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("exports", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
