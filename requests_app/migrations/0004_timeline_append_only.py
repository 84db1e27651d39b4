"""The database refuses UPDATE and DELETE on timeline entries, whoever asks: the ORM, the admin, raw SQL.

The SQL lives here only; `install`/`uninstall`/`suspended` are also what tests use (tests/conftest.py,
to let SQLite's flush through; the tamper test, to edit a row behind the triggers' back), via importlib.

PostgreSQL: one row trigger calling a plpgsql function that raises SQLSTATE 23001 (restrict_violation),
which Django surfaces as IntegrityError, as SQLite's RAISE(ABORT) is. TRUNCATE fires no row trigger, so
`manage.py flush` (and the test runner's flush) still empties the tables there. On SQLite flush is
`DELETE FROM`, which these triggers refuse: empty a database by deleting its file.

On SQLite a later migration that remakes this table (most AlterField and some AddField do: new table,
copy, drop) loses the triggers with the old table; it must call `install` again.
`test_tamper_evidence.test_the_append_only_triggers_are_installed` fails if it does not.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import migrations, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "requests_app_timelineentry"

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION requests_app_timeline_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'timeline entries are append-only (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER requests_app_timelineentry_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION requests_app_timeline_refuse()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS requests_app_timelineentry_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS requests_app_timeline_refuse()",
]

SQLITE = [
    f"""
    CREATE TRIGGER requests_app_timelineentry_no_{op.lower()} BEFORE {op} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only ({op} refused)'); END
    """
    for op in ("UPDATE", "DELETE")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS requests_app_timelineentry_no_{op}" for op in ("update", "delete")]

# What the test checks is present (sqlite_master / pg_trigger).
TRIGGERS = {
    "postgresql": ["requests_app_timelineentry_append_only"],
    "sqlite": ["requests_app_timelineentry_no_update", "requests_app_timelineentry_no_delete"],
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    # Only SQLite and PostgreSQL are supported (settings.database_from_url refuses the rest).
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor, []):
            # No params: the plpgsql body's `%` must reach the server as written.
            cursor.execute(sql)


def install(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def uninstall(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


@contextmanager
def suspended(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Drop the triggers for the block and put them back after. Tests and deliberate maintenance only.

    One transaction: DDL is transactional on both backends, so no other connection ever sees the table
    unguarded, and if the block fails the drop is rolled back with it.
    """
    with transaction.atomic(using=connection.alias):
        uninstall(connection)
        yield
        install(connection)


def forwards(apps, schema_editor):
    install(schema_editor.connection)


def backwards(apps, schema_editor):
    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0003_chain_existing_timeline"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
