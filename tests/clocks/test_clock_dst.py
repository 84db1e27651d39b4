"""DST change days: the anchor is the local date, and dueAt carries the offset of the due day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clocks import compute, get_pack
from clocks.zones import zone


@pytest.mark.parametrize(
    ("code", "received", "anchor", "starts_at", "due", "due_at"),
    [
        # Spring forward in London (01:00 GMT -> 02:00 BST): 00:30 is still GMT.
        ("GB", "2026-03-29T00:30:00+00:00", "2026-03-29", "2026-03-29T00:00:00+00:00",
         "2026-04-29", "2026-04-29T23:59:59+01:00"),
        # Fall back in London (02:00 BST -> 01:00 GMT): 00:30 is still BST, i.e. 23:30 UTC the day before.
        ("GB", "2026-10-24T23:30:00+00:00", "2026-10-25", "2026-10-25T00:00:00+01:00",
         "2026-11-25", "2026-11-25T23:59:59+00:00"),
        # Spring forward in Los Angeles (02:00 PST -> 03:00 PDT).
        ("US-CA", "2026-03-08T08:30:00+00:00", "2026-03-08", "2026-03-08T00:00:00-08:00",
         "2026-04-22", "2026-04-22T23:59:59-07:00"),
        # Fall back in Los Angeles (02:00 PDT -> 01:00 PST).
        ("US-CA", "2026-11-01T07:30:00+00:00", "2026-11-01", "2026-11-01T00:00:00-07:00",
         "2026-12-16", "2026-12-16T23:59:59-08:00"),
    ],
)  # fmt: skip
def test_receipt_at_half_past_midnight_on_change_days(code, received, anchor, starts_at, due, due_at) -> None:
    received_at = datetime.fromisoformat(received)
    local = received_at.astimezone(zone(get_pack(code).timezone))
    assert (local.hour, local.minute) == (0, 30)

    result = compute(get_pack(code), received_at=received_at, request_types=[], events=[], now=received_at)

    assert result.anchor_date == date.fromisoformat(anchor)
    assert result.clock_starts_at.isoformat() == starts_at
    assert result.due_date == date.fromisoformat(due)
    assert result.due_at.isoformat() == due_at
    block = result.clock_block()
    assert (block["startedAt"], block["dueAt"]) == (starts_at, due_at)
    assert result.explanation("r")["receivedAt"] == local.isoformat()


def test_the_repeated_hour_belongs_to_the_same_local_day() -> None:
    tz = zone("America/Los_Angeles")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=tz, fold=0)  # PDT
    second = datetime(2026, 11, 1, 1, 30, tzinfo=tz, fold=1)  # PST, one hour later
    results = [
        compute(get_pack("US-CA"), received_at=at, request_types=[], events=[], now=at)
        for at in (first, second)
    ]
    assert {r.anchor_date for r in results} == {date(2026, 11, 1)}


def test_a_midnight_skipped_by_dst_starts_the_clock_at_the_first_real_instant() -> None:
    # Chile moves 00:00 -> 01:00 on 6 September 2026: that day has no midnight.
    received = datetime(2026, 9, 6, 12, 0, tzinfo=zone("America/Santiago"))
    result = compute(
        get_pack("CH"),
        received_at=received,
        request_types=[],
        events=[],
        now=received,
        timezone="America/Santiago",
    )
    assert result.clock_starts_at.isoformat() == "2026-09-06T01:00:00-03:00"
    assert result.clock_starts_at.astimezone(UTC) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
