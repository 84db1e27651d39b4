from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from requests_app.models import DataSubjectRequest, TimelineEntry
from requests_app.timeline_chain import GENESIS, entry_hash


@dataclass(frozen=True)
class Break:
    request_id: str
    seq: int | None  # the first broken entry; None when the request has no timeline at all
    why: str


@dataclass
class Walk:
    requests: int = 0
    entries: int = 0


def chain_breaks(entries: Iterable[TimelineEntry], walk: Walk) -> Iterator[Break]:
    """The first break of each request's chain, for entries ordered by (request, seq); counts into `walk`."""
    request_id: str | None = None
    expected_seq, expected_prev, broken = 1, GENESIS, False
    for entry in entries:
        walk.entries += 1
        if entry.request_id != request_id:
            request_id, expected_seq, expected_prev, broken = entry.request_id, 1, GENESIS, False
            walk.requests += 1
        if broken:
            continue
        why = ""
        if entry.seq != expected_seq:
            why = f"gap: expected seq {expected_seq}, found {entry.seq} (an entry was removed)"
        elif entry.prev_hash != expected_prev:
            why = "link broken: prev_hash is not the previous entry's hash"
        elif entry.hash != entry_hash(entry, entry.prev_hash):
            why = "content changed: the entry no longer matches its hash"
        if why:
            broken = True
            yield Break(request_id=entry.request_id, seq=entry.seq, why=why)
        expected_seq, expected_prev = entry.seq + 1, entry.hash


class Command(BaseCommand):
    help = (
        "Walk every request's timeline hash chain and name each request whose chain is broken "
        "(an entry changed, re-linked or removed behind the database triggers' back). Exits 1 if any is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="only this organisation (org_...)")

    def handle(self, *args: Any, **options: Any) -> None:
        entries = TimelineEntry.objects.order_by("request_id", "seq")
        requests = DataSubjectRequest.objects.all()
        if options["org"]:
            entries = entries.filter(org_id=options["org"])
            requests = requests.filter(org_id=options["org"])
        walk = Walk()
        # Bounded memory: streamed in chunks, one request's state at a time.
        breaks = list(chain_breaks(entries.iterator(chunk_size=2000), walk))
        # Every request starts with its `create` entry; one with none lost its whole chain.
        for request_id in requests.filter(timeline__isnull=True).values_list("id", flat=True).iterator():
            walk.requests += 1
            breaks.append(Break(request_id=request_id, seq=None, why="no timeline entries at all"))
        for found in breaks:
            where = f"seq {found.seq}" if found.seq is not None else "-"
            self.stdout.write(f"BROKEN {found.request_id} at {where}: {found.why}")
        self.stdout.write(f"{walk.requests} requests, {walk.entries} entries checked; {len(breaks)} broken")
        if missing := missing_triggers():
            self.stderr.write(f"warning: append-only triggers missing: {', '.join(missing)}")
        if breaks:
            raise CommandError(f"{len(breaks)} request(s) with a broken timeline chain.")


def missing_triggers() -> list[str]:
    """The append-only triggers the migrations install that the database does not have (enabled)."""
    expected = [
        name
        for module in (
            "requests_app.migrations.0004_timeline_append_only",
            "notifications.migrations.0003_outbox_append_only",
            "exports.migrations.0002_timeline_append_only",
        )
        for name in import_module(module).TRIGGERS.get(connection.vendor, [])
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in expected if name not in present]
