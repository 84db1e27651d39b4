"""Endpoint management (rotation with an overlap, PATCH), the per-endpoint circuit breaker, the replay
audit trail, and the fair dispatcher's index.

`Delivery.enqueued_until` goes: the Celery path no longer reserves rows for queued tasks (every
process dispatches through the same claims). With it goes the one column the append-only trigger of
0003 let change on a delivered row; the triggers are re-installed after the column is dropped, since a
SQLite table remake would drop them.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_append_only = importlib.import_module("notifications.migrations.0003_outbox_append_only")


def reinstall_triggers(apps, schema_editor):
    _append_only.uninstall(schema_editor.connection)
    _append_only.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_staff_groups_see_and_revoke_keys"),
        ("notifications", "0003_outbox_append_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="Replay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("actor", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField()),
                ("deliveries", models.PositiveIntegerField(help_text="Deliveries this replay created.")),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.RemoveField(
            model_name="delivery",
            name="enqueued_until",
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="backoff_trips",
            field=models.PositiveIntegerField(
                default=0, help_text="How many times in a row the breaker opened; each doubles the wait."
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="backoff_until",
            field=models.DateTimeField(
                blank=True,
                help_text="The circuit breaker is open: nothing is sent here before then.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="consecutive_failures",
            field=models.PositiveIntegerField(
                default=0, help_text="Failed attempts in a row; a success resets it."
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_rotated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["PENDING", "FAILED"])),
                fields=["endpoint", "next_attempt_at", "id"],
                name="delivery_due_by_endpoint",
            ),
        ),
        migrations.AddField(
            model_name="replay",
            name="endpoint",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="notifications.webhookendpoint",
            ),
        ),
        migrations.AddField(
            model_name="replay",
            name="event",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="replays",
                to="notifications.outboxevent",
            ),
        ),
        migrations.AddField(
            model_name="replay",
            name="org",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="core.org"
            ),
        ),
        migrations.AddIndex(
            model_name="replay",
            index=models.Index(fields=["event", "created_at"], name="replay_by_event"),
        ),
        migrations.RunPython(reinstall_triggers, reinstall_triggers),
    ]
