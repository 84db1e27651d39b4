"""The timeline's hash chain: each entry stores the SHA-256 of its canonical content, chained to the entry
before it on the same request, so an entry changed or removed behind the triggers' back shows.

The canonical form is part of the record: once entries are hashed with it, changing it (a field, a
format) breaks every existing chain. Add to it only with a migration that re-chains and a note why.
The hash is computed from the entry in memory and checked against the row read back, so `data` must hold
values whose JSON survives the database unchanged: strings, ints, bools, null, lists and dicts of them
(what the services store). A float such as 1e16 would come back from PostgreSQL's jsonb as an int.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

# What the first entry of a request chains from.
GENESIS = "0" * 64


class Chainable(Protocol):
    """A TimelineEntry, or its historical model in a migration: only these attributes are read."""

    @property
    def id(self) -> str: ...
    @property
    def request_id(self) -> str: ...
    @property
    def org_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def from_status(self) -> str: ...
    @property
    def to_status(self) -> str: ...
    @property
    def notes(self) -> str: ...
    @property
    def data(self) -> Any: ...
    @property
    def clock_event(self) -> str: ...


def _utc(value: datetime) -> str:
    # Always with microseconds and a Z, whatever the offset it was given in or the backend returns.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: Chainable) -> str:
    """Stable JSON of the entry's content: sorted keys, no whitespace, ASCII only, UTC timestamps."""
    content = {
        "id": str(entry.id),
        "request": str(entry.request_id),
        "org": str(entry.org_id),
        "seq": int(entry.seq),
        "at": _utc(entry.at),
        "recorded_at": _utc(entry.recorded_at),
        "actor": str(entry.actor),
        "action": str(entry.action),
        "from_status": str(entry.from_status),
        "to_status": str(entry.to_status),
        "notes": str(entry.notes),
        "data": entry.data,
        "clock_event": str(entry.clock_event),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def entry_hash(entry: Chainable, prev_hash: str) -> str:
    """sha256(prev_hash + canonical(entry)), hex."""
    return hashlib.sha256((prev_hash + canonical(entry)).encode("ascii")).hexdigest()


def seal(entry: Any, previous: Any | None) -> None:
    """Set `entry.prev_hash` and `entry.hash`, chaining it to `previous` (None for a request's first entry).

    Call it last, just before the insert: anything changed on the entry afterwards breaks its hash.
    """
    entry.prev_hash = previous.hash if previous is not None else GENESIS
    entry.hash = entry_hash(entry, entry.prev_hash)
