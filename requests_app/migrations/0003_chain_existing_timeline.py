"""Chain the timeline entries that predate the hash chain, request by request in seq order.

Keyset pages rather than one cursor: the rows are updated while we walk them, which a single open SELECT
on SQLite does not isolate from.
"""

from django.db import migrations
from django.db.models import Q

from requests_app.timeline_chain import seal

PAGE = 1000


def chain_existing(apps, schema_editor):
    TimelineEntry = apps.get_model("requests_app", "TimelineEntry")
    rows = TimelineEntry.objects.using(schema_editor.connection.alias).order_by("request_id", "seq")
    previous = None
    while True:
        after = rows
        if previous is not None:
            after = rows.filter(
                Q(request_id__gt=previous.request_id)
                | Q(request_id=previous.request_id, seq__gt=previous.seq)
            )
        page = list(after[:PAGE])
        if not page:
            return
        for entry in page:
            seal(
                entry, previous if previous is not None and previous.request_id == entry.request_id else None
            )
            previous = entry
        TimelineEntry.objects.using(schema_editor.connection.alias).bulk_update(page, ["prev_hash", "hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0002_timelineentry_hash_chain"),
    ]

    operations = [
        # Backwards there is nothing to undo: 0002's reversal drops the columns.
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
