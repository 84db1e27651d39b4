"""Search by identity (requests_app.search): the key columns, their backfill, and the substring index.

- PostgreSQL: the `pg_trgm` extension and a GIN index on `search_text`. A role that may not create the
  extension gets a note and no index: search still answers, by scanning.
- SQLite: an FTS5 table (trigram tokenizer) mirroring `search_text`, kept in step by triggers, so the
  mirror commits or rolls back with the write that changed it.

On SQLite a later migration that remakes the request table (most AlterField and some AddField do: new
table, copy, drop) loses the triggers with the old table; it must call `install` again.
`tests/requests_app/test_search.py::test_the_search_mirror_is_installed` fails if it does not.
"""

import sys

from django.db import DatabaseError, migrations, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "requests_app_datasubjectrequest"
FTS_TABLE = "requests_app_request_search"  # requests_app.search.FTS_TABLE
TRIGRAM_INDEX = "dsr_search_trgm"

# The row's own id always heads its text, so a phrase of the id finds the row through the index.
# Table names are constants here: nothing in this SQL comes from outside.
_MIRROR_DELETE = f"""
    DELETE FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH '"' || OLD.id || '"' AND request_id = OLD.id;
"""  # noqa: S608
_MIRROR_INSERT = f"INSERT INTO {FTS_TABLE} (request_id, text) VALUES (NEW.id, NEW.search_text);"  # noqa: S608

SQLITE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(request_id UNINDEXED, text, tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {TABLE} BEGIN {_MIRROR_INSERT} END",
    f"""
    CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF search_text ON {TABLE}
    WHEN OLD.search_text IS NOT NEW.search_text BEGIN {_MIRROR_DELETE} {_MIRROR_INSERT} END
    """,
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {TABLE} BEGIN {_MIRROR_DELETE} END",
    # Rebuild the mirror from the table: a no-op on a new database, the backfill on an existing one.
    f"DELETE FROM {FTS_TABLE}",  # noqa: S608
    f"INSERT INTO {FTS_TABLE} (request_id, text) SELECT id, search_text FROM {TABLE}",  # noqa: S608
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{op}" for op in ("insert", "update", "delete")),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
# What the test checks is present (sqlite_master / pg_indexes).
INSTALLED = {
    "sqlite": [FTS_TABLE, f"{FTS_TABLE}_insert", f"{FTS_TABLE}_update", f"{FTS_TABLE}_delete"],
    "postgresql": [TRIGRAM_INDEX],
}


def _postgresql_install(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except DatabaseError as exc:
                print(
                    "\n  Note: the pg_trgm extension could not be created "
                    f"({str(exc).strip().splitlines()[0]}).\n"
                    "  Search by `q` still works, without its index: it scans the organisation's requests.\n"
                    "  To index it, have a superuser run `CREATE EXTENSION pg_trgm;` in this database, then\n"
                    f"  CREATE INDEX {TRIGRAM_INDEX} ON {TABLE} USING gin (search_text gin_trgm_ops);",
                    file=sys.stderr,
                )
                return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON {TABLE} USING gin (search_text gin_trgm_ops)"
        )


def install(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        _postgresql_install(connection)
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for sql in SQLITE:
                cursor.execute(sql)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")  # the extension may serve others
        elif connection.vendor == "sqlite":
            for sql in SQLITE_DROP:
                cursor.execute(sql)


def backfill_search_columns(apps, schema_editor):
    """The same derivation as DataSubjectRequest.save(), for the requests that predate it."""
    from requests_app.search import email_key, haystack

    Request = apps.get_model("requests_app", "DataSubjectRequest")
    fields = ("id", "requestor_name", "requestor_email", "contact")
    batch = []
    for row in Request.objects.only(*fields).iterator(chunk_size=2000):
        row.requestor_email_key = email_key(row.requestor_email)
        row.contact_key = email_key(row.contact)
        row.search_text = haystack(
            request_id=row.id,
            requestor_name=row.requestor_name,
            requestor_email=row.requestor_email,
            contact=row.contact,
        )
        batch.append(row)
        if len(batch) == 2000:
            Request.objects.bulk_update(batch, ["requestor_email_key", "contact_key", "search_text"])
            batch = []
    if batch:
        Request.objects.bulk_update(batch, ["requestor_email_key", "contact_key", "search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("authority", "0002_initial"),
        ("core", "0003_staff_groups_see_and_revoke_keys"),
        ("requests_app", "0005_appeals_ack_tracking"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasubjectrequest",
            name="contact_key",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=320),
        ),
        migrations.AddField(
            model_name="datasubjectrequest",
            name="requestor_email_key",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=320),
        ),
        migrations.AddField(
            model_name="datasubjectrequest",
            name="search_text",
            field=models.TextField(blank=True, db_default="", editable=False),
        ),
        migrations.AddIndex(
            model_name="datasubjectrequest",
            index=models.Index(fields=["org", "requestor_email_key"], name="dsr_requestor_email"),
        ),
        migrations.AddIndex(
            model_name="datasubjectrequest",
            index=models.Index(fields=["org", "contact_key"], name="dsr_contact"),
        ),
        migrations.RunPython(backfill_search_columns, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(
            lambda apps, schema_editor: install(schema_editor.connection),
            lambda apps, schema_editor: uninstall(schema_editor.connection),
        ),
    ]
