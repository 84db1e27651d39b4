"""The clock picture's geometry, from pure ClockResults (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import clocks
from requests_app.clock_picture import PLOT_LEFT, PLOT_RIGHT, build_picture, explanation_view

E, K = clocks.ClockEvent, clocks.EventKind


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _uk_17(now: str = "2021-01-05T10:00"):
    """UK-17 of legal-clocks.md: clarification 16 Nov → 16 Dec (31 days excluded), then +2 months."""
    return clocks.compute(
        clocks.get_pack("GB"),
        received_at=_at("2020-11-14T10:00"),
        request_types=["ACCESS"],
        events=[
            E(K.CLARIFICATION_REQUESTED, _at("2020-11-16T10:00")),
            E(K.CLARIFICATION_RECEIVED, _at("2020-12-16T10:00")),
            E(
                K.EXTENSION,
                _at("2020-12-20T10:00"),
                {"amount": 2, "unit": "CALENDAR_MONTHS", "reason": "complex"},
            ),
        ],
        now=_at(now),
        at_risk_days=7,
    )


def test_it_draws_segments_by_kind_in_order_from_receipt():
    picture = build_picture(_uk_17(), now=_at("2021-01-05T10:00"))

    clock_lane = [b for b in picture.bars if b.y == picture.clock_y]
    assert [b.kind for b in clock_lane] == ["RUNNING", "PAUSED", "RUNNING", "REMAINING"]
    assert clock_lane[0].x == PLOT_LEFT
    assert all(a.x <= b.x for a, b in pairwise(clock_lane))
    assert all(PLOT_LEFT <= b.x + b.width <= PLOT_RIGHT for b in picture.bars)
    assert "31 day(s) excluded" in clock_lane[1].title


def test_it_draws_the_extension_from_the_old_due_date_to_the_new_one():
    picture = build_picture(_uk_17(), now=_at("2021-01-05T10:00"))

    (extension,) = [b for b in picture.bars if b.kind == "EXTENDED"]
    markers = {m.kind: m for m in picture.markers}
    assert extension.label == "+62 d"  # 14 Jan 2021 → 17 Mar 2021
    assert abs(extension.x + extension.width - markers["DUE"].x) < 0.2
    assert markers["BASE_DUE"].x < extension.x < markers["DUE"].x
    assert markers["DUE"].label == "Final due 17 Mar 2021"
    assert markers["BASE_DUE"].label == "Base due 14 Dec 2020"
    assert markers["RECEIVED"].x < markers["TODAY"].x < markers["DUE"].x


def test_it_marks_the_days_past_the_due_date_as_overdue():
    result = clocks.compute(
        clocks.get_pack("US-CA"),
        received_at=_at("2025-01-06T18:00"),
        request_types=["ACCESS"],
        events=[],
        now=_at("2025-03-01T18:00"),
        at_risk_days=7,
    )

    picture = build_picture(result, now=_at("2025-03-01T18:00"))

    assert [b.kind for b in picture.bars] == ["RUNNING", "OVERDUE"]
    assert picture.bars[1].label == "overdue 9 d"
    assert "BASE_DUE" not in {m.kind for m in picture.markers}  # same as the final due date: one marker
    assert ("OVERDUE", "Overdue", "running past the final due date") in picture.legend


def test_it_shows_no_effect_events_in_their_own_lane_with_the_rule():
    result = clocks.compute(
        clocks.get_pack("US-CA"),
        received_at=_at("2025-03-03T18:00"),
        request_types=["ACCESS"],
        events=[
            E(K.VERIFICATION_REQUESTED, _at("2025-03-04T18:00")),
            E(K.VERIFICATION_RECEIVED, _at("2025-03-25T18:00")),
        ],
        now=_at("2025-03-27T10:00"),
        at_risk_days=7,
    )

    picture = build_picture(result, now=_at("2025-03-27T10:00"))

    (no_effect,) = [b for b in picture.bars if b.kind == "NO_EFFECT"]
    assert no_effect.y == picture.events_y
    assert "regardless of time required to verify" in no_effect.title


def test_it_stops_at_the_closure_and_marks_it():
    result = clocks.compute(
        clocks.get_pack("GB"),
        received_at=_at("2025-09-03T09:00"),
        request_types=["ACCESS"],
        events=[E(K.STOPPED, _at("2025-09-20T09:00"), {"reason": "CLOSED"})],
        now=_at("2025-11-01T09:00"),
        at_risk_days=7,
    )

    picture = build_picture(result, now=_at("2025-11-01T09:00"))

    kinds = {m.kind for m in picture.markers}
    assert "STOPPED" in kinds and "TODAY" not in kinds
    assert [b.kind for b in picture.bars] == ["RUNNING"]


def test_the_explanation_lists_periods_pauses_extensions_and_citations():
    view = explanation_view(_uk_17())

    assert view["period"] == "1 month"
    assert view["due_date"] == "2021-03-17"
    assert view["pauses"][0]["effect"].startswith("excluded")
    assert view["extensions"][0]["period"] == "2 months"
    assert view["extensions"][0]["due_after"] == "2021-03-17"
    assert any("Art 12A" in c for c in view["citations"])
    assert view["remaining_text"] == "71 days remaining"
