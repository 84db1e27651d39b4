"""The database refuses to change or delete what was sent: the record of the outbox.

- `notifications_outboxevent`: once `dispatched_at` is set, no UPDATE or DELETE. Its `type` and `body`
  are the exact bytes every attempt and replay sends. Until then the relay may set `dispatched_at`.
- `notifications_deliveryattempt`: an append-only log (the services only insert), no UPDATE or DELETE.
- `notifications_delivery`, once `status` is DELIVERED: no DELETE, and no UPDATE of any column but
  `enqueued_until`. Nothing moves a row out of DELIVERED (claims, endpoint deletion and recording all
  match other statuses) and replay inserts new rows; but the dispatcher's reservation bookkeeping
  (`deliveries_due` with `reserve_for`, `deliveries_unreserve`) writes `enqueued_until` by id and can
  land on a row that was delivered meanwhile: harmless, and not part of the record. A column added to
  Delivery later is mutable until it is added to DELIVERY_FROZEN (with a migration re-installing).
  Deliveries in other states stay mutable: they are the retry schedule.

Same mechanism and caveats as requests_app/migrations/0004_timeline_append_only.py (SQLSTATE 23001 /
RAISE(ABORT) → IntegrityError; TRUNCATE is not a row operation; a SQLite table remake drops triggers).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import migrations, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

EVENT = "notifications_outboxevent"
DELIVERY = "notifications_delivery"
ATTEMPT = "notifications_deliveryattempt"

EVENT_MESSAGE = "dispatched outbox events cannot be changed or deleted"
DELIVERY_MESSAGE = "delivered webhook deliveries cannot be changed or deleted"
ATTEMPT_MESSAGE = "webhook delivery attempts are append-only"

# Every Delivery column except `enqueued_until` (see the module docstring).
DELIVERY_FROZEN = (
    "id",
    "org_id",
    "event_id",
    "endpoint_id",
    "status",
    "attempt",
    "next_attempt_at",
    "claimed_at",
    "claimed_until",
    "claim_token",
    "last_attempted_at",
    "last_response_code",
    "last_latency_ms",
    "last_error",
    "delivered_at",
    "created_at",
    "replay_of_id",
    "actor",
)
_NEW = ", ".join(f"NEW.{c}" for c in DELIVERY_FROZEN)
_OLD = ", ".join(f"OLD.{c}" for c in DELIVERY_FROZEN)

POSTGRESQL = [
    # The message comes as the trigger's argument, so one function serves the three tables.
    """
    CREATE OR REPLACE FUNCTION notifications_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% (% refused)', TG_ARGV[0], TG_OP USING ERRCODE = 'restrict_violation';
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER notifications_outboxevent_dispatched BEFORE UPDATE OR DELETE ON {EVENT}
    FOR EACH ROW WHEN (OLD.dispatched_at IS NOT NULL)
    EXECUTE FUNCTION notifications_refuse_change('{EVENT_MESSAGE}')
    """,
    f"""
    CREATE TRIGGER notifications_delivery_delivered_update BEFORE UPDATE ON {DELIVERY}
    FOR EACH ROW WHEN (OLD.status = 'DELIVERED' AND ({_NEW}) IS DISTINCT FROM ({_OLD}))
    EXECUTE FUNCTION notifications_refuse_change('{DELIVERY_MESSAGE}')
    """,
    f"""
    CREATE TRIGGER notifications_delivery_delivered_delete BEFORE DELETE ON {DELIVERY}
    FOR EACH ROW WHEN (OLD.status = 'DELIVERED')
    EXECUTE FUNCTION notifications_refuse_change('{DELIVERY_MESSAGE}')
    """,
    f"""
    CREATE TRIGGER notifications_deliveryattempt_append_only BEFORE UPDATE OR DELETE ON {ATTEMPT}
    FOR EACH ROW EXECUTE FUNCTION notifications_refuse_change('{ATTEMPT_MESSAGE}')
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS notifications_outboxevent_dispatched ON {EVENT}",
    f"DROP TRIGGER IF EXISTS notifications_delivery_delivered_update ON {DELIVERY}",
    f"DROP TRIGGER IF EXISTS notifications_delivery_delivered_delete ON {DELIVERY}",
    f"DROP TRIGGER IF EXISTS notifications_deliveryattempt_append_only ON {ATTEMPT}",
    "DROP FUNCTION IF EXISTS notifications_refuse_change()",
]

_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in DELIVERY_FROZEN)
# (name, operation, table, condition or "", message)
_SQLITE_TRIGGERS = [
    ("notifications_outboxevent_no_update", "UPDATE", EVENT, "OLD.dispatched_at IS NOT NULL", EVENT_MESSAGE),
    ("notifications_outboxevent_no_delete", "DELETE", EVENT, "OLD.dispatched_at IS NOT NULL", EVENT_MESSAGE),
    (
        "notifications_delivery_no_update",
        "UPDATE",
        DELIVERY,
        f"OLD.status = 'DELIVERED' AND ({_CHANGED})",
        DELIVERY_MESSAGE,
    ),
    ("notifications_delivery_no_delete", "DELETE", DELIVERY, "OLD.status = 'DELIVERED'", DELIVERY_MESSAGE),
    ("notifications_deliveryattempt_no_update", "UPDATE", ATTEMPT, "", ATTEMPT_MESSAGE),
    ("notifications_deliveryattempt_no_delete", "DELETE", ATTEMPT, "", ATTEMPT_MESSAGE),
]
SQLITE = [
    f"""
    CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW {f"WHEN {when}" if when else ""}
    BEGIN SELECT RAISE(ABORT, '{message} ({op} refused)'); END
    """
    for name, op, table, when, message in _SQLITE_TRIGGERS
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name, *_ in _SQLITE_TRIGGERS]

# What the test checks is present (sqlite_master / pg_trigger).
TRIGGERS = {
    "postgresql": [
        "notifications_outboxevent_dispatched",
        "notifications_delivery_delivered_update",
        "notifications_delivery_delivered_delete",
        "notifications_deliveryattempt_append_only",
    ],
    "sqlite": [name for name, *_ in _SQLITE_TRIGGERS],
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
    dependencies = [
        ("notifications", "0002_webhook_endpoints_deliveries"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
