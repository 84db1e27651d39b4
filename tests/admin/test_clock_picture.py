"""The clock picture's geometry, from pure ClockResults (no database): every deadline drawn and labelled,
no label on another, nothing outside the view box, no bar clipped."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise

from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

import clocks
from requests_app.admin.presenters import clock_explanation
from requests_app.clock_picture import (
    CHAR_W,
    LABEL_ASCENT,
    LABEL_DESCENT,
    PLOT_LEFT,
    PLOT_RIGHT,
    build_picture,
)

E, K = clocks.ClockEvent, clocks.EventKind
SVG = "{http://www.w3.org/2000/svg}"


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


def _ccpa_two_types(*, extended: bool = False, now: str = "2025-03-20T18:00"):
    """US-CA access + opt-out of sale: two response deadlines (45 days, 15 business days) and the
    acknowledgement (10 business days), the three within a fortnight of each other at the start."""
    events = []
    if extended:
        events.append(E(K.EXTENSION, _at("2025-03-18T18:00"), {"amount": 45, "unit": "CALENDAR_DAYS"}))
    return clocks.compute(
        clocks.get_pack("US-CA"),
        received_at=_at("2025-03-03T18:00"),
        request_types=["ACCESS", "OPT_OUT_SALE"],
        events=events,
        now=_at(now),
        at_risk_days=7,
    )


# --- the rendered SVG, as a browser would read it ---


def _svg(result: clocks.ClockResult, now: datetime) -> ET.Element:
    html = render_to_string(
        "admin/requests_app/datasubjectrequest/clock.html",
        {"picture": build_picture(result, now=now), "x": clock_explanation(result)},
    )
    (svg,) = re.findall(r"<svg [^>]*id=\"dsar-clock-svg\".*?</svg>", html, flags=re.S)
    return ET.fromstring(svg)


def _view_box(svg: ET.Element) -> tuple[float, float]:
    _, _, width, height = (float(v) for v in svg.get("viewBox", "").split())
    return width, height


def _label_boxes(svg: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    boxes = []
    for text in svg.iter(f"{SVG}text"):
        if "dsar-label" not in (text.get("class") or ""):
            continue
        x, y, content = float(text.get("x", "")), float(text.get("y", "")), text.text or ""
        assert text.get("text-anchor") == "start"
        boxes.append((content, (x, y - LABEL_ASCENT, x + len(content) * CHAR_W, y + LABEL_DESCENT)))
    return boxes


def _assert_readable(svg: ET.Element) -> None:
    """Every label inside the view box, and no two labels on each other."""
    width, height = _view_box(svg)
    boxes = _label_boxes(svg)
    for content, (left, top, right, bottom) in boxes:
        assert left >= 0 and right <= width, (content, left, right, width)
        assert top >= 0 and bottom <= height, (content, top, bottom, height)
    for (a, (al, at, ar, ab)), (b, (bl, bt, br, bb)) in combinations(boxes, 2):
        apart = ar <= bl or br <= al or ab <= bt or bb <= at
        assert apart, f"labels overlap: {a!r} and {b!r}"


def _assert_every_deadline_drawn(svg: ET.Element, result: clocks.ClockResult) -> None:
    markers = [g for g in svg.iter(f"{SVG}g") if g.get("data-deadline")]
    labels = {(t.get("data-deadline"), t.get("data-day")): t.text or "" for t in svg.iter(f"{SVG}text")}
    for deadline in result.deadlines:
        day = deadline.due_date.isoformat()
        (marker,) = [
            g for g in markers if (g.get("data-deadline"), g.get("data-day")) == (deadline.kind, day)
        ]
        if deadline.request_type:
            assert deadline.request_type in (marker.get("data-types") or "").split()
        line = marker.find(f"{SVG}line")
        assert line is not None
        assert PLOT_LEFT <= float(line.get("x1", "")) <= PLOT_RIGHT
        assert labels[(deadline.kind, day)], deadline


def _assert_no_bar_clipped(svg: ET.Element) -> None:
    for group in svg.iter(f"{SVG}g"):
        if not group.get("data-kind"):
            continue
        rect = group.find(f"{SVG}rect")
        assert rect is not None
        x, width = float(rect.get("x", "")), float(rect.get("width", ""))
        assert x >= PLOT_LEFT and x + width <= PLOT_RIGHT, (group.get("data-kind"), x, width)


# --- the geometry ---


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
    assert markers["DUE"].label == "Access: due Wed 17 Mar 2021"
    assert markers["BASE_DUE"].label == "Base due Mon 14 Dec 2020"
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
    assert "BASE_DUE" not in {m.kind for m in picture.markers}  # same as the due date: one marker
    assert ("OVERDUE", "Overdue", "running past the due date") in picture.legend


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
    assert "days remaining" not in picture.summary.replace("no days remaining", "")


# --- every deadline, labelled, readable ---


def test_it_draws_each_response_deadline_and_the_acknowledgement_with_its_own_label():
    result = _ccpa_two_types()
    now = _at("2025-03-20T18:00")

    picture = build_picture(result, now=now)
    svg = _svg(result, now)

    kinds = {(m.deadline, m.day): m for m in picture.markers if m.deadline}
    assert {d.kind for d in result.deadlines} == {"RESPONSE", "ACKNOWLEDGEMENT"}
    assert len(kinds) == 3  # access (45 days), opt-out (15 business days), acknowledgement
    labels = sorted(m.label for m in kinds.values())
    assert labels == [
        "Access: due Thu 17 Apr 2025",
        "Acknowledge by Mon 17 Mar 2025 — overdue",  # unacknowledged, and now is 20 Mar
        "Opt out of sale/sharing: due Mon 24 Mar 2025",
    ]
    # The request's due date is the earliest response deadline: that one is the solid "DUE" marker.
    (due,) = [m for m in picture.markers if m.kind == "DUE"]
    assert due.types == ("OPT_OUT_SALE",)
    _assert_every_deadline_drawn(svg, result)
    _assert_readable(svg)
    _assert_no_bar_clipped(svg)


def test_it_draws_the_whole_extension_bar_when_the_extended_type_is_not_the_earliest():
    # Opt-out cannot be extended under the CCPA, so the request's due date stays the opt-out's while
    # the access deadline moves out by 45 days: the axis must reach it, and the bar end on its marker.
    result = _ccpa_two_types(extended=True)
    now = _at("2025-03-20T18:00")

    picture = build_picture(result, now=now)
    svg = _svg(result, now)

    access = next(m for m in picture.markers if m.types == ("ACCESS",) and m.deadline == "RESPONSE")
    assert access.label == "Access: due Sun 1 Jun 2025"
    for bar in picture.bars:
        assert bar.x >= PLOT_LEFT and bar.x + bar.width <= PLOT_RIGHT
    assert access.x < PLOT_RIGHT - 10  # room after the latest deadline
    _assert_every_deadline_drawn(svg, result)
    _assert_readable(svg)
    _assert_no_bar_clipped(svg)


def test_it_draws_the_appeal_deadline_whose_request_type_is_null():
    refused = clocks.compute(
        clocks.get_pack("US-VA"),
        received_at=_at("2025-03-03T15:00"),
        request_types=["ACCESS"],
        events=[E(K.STOPPED, _at("2025-03-20T15:00"), {"reason": "REFUSED"})],
        now=_at("2025-05-01T15:00"),
        at_risk_days=7,
    )
    # The appeal's deadline as the engine lists it: kind APPEAL, no request type, well past the response.
    appeal = clocks.Deadline("APPEAL", None, date(2025, 6, 20))  # type: ignore[arg-type]
    result = dataclasses.replace(refused, deadlines=(*refused.deadlines, appeal))
    now = _at("2025-05-01T15:00")

    picture = build_picture(result, now=now)
    svg = _svg(result, now)

    (marker,) = [m for m in picture.markers if m.deadline == "APPEAL"]
    assert marker.label == "Appeal decision due Fri 20 Jun 2025"
    assert marker.kind == "APPEAL"
    assert ("APPEAL", "Appeal decision deadline") in picture.marker_legend
    _assert_every_deadline_drawn(svg, result)
    _assert_readable(svg)
    _assert_no_bar_clipped(svg)


def test_it_stacks_labels_of_close_deadlines_in_rows_inside_the_view_box():
    base = _ccpa_two_types()
    crowded = tuple(
        clocks.Deadline("RESPONSE", request_type, base.due_date + timedelta(days=i % 3))
        for i, request_type in enumerate(clocks.REQUEST_TYPES)
    )
    result = dataclasses.replace(base, deadlines=(*crowded, *base.deadlines))
    now = _at("2025-03-20T18:00")

    picture = build_picture(result, now=now)
    svg = _svg(result, now)

    assert max(m.row for m in picture.markers if m.side == "top") >= 1
    _assert_every_deadline_drawn(svg, result)
    _assert_readable(svg)


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=-30, max_value=400), min_size=1, max_size=8),
    kinds=st.lists(st.sampled_from(["RESPONSE", "ACKNOWLEDGEMENT", "APPEAL"]), min_size=8, max_size=8),
    now_days=st.integers(min_value=0, max_value=500),
)
def test_any_set_of_deadlines_is_drawn_readably(offsets, kinds, now_days):
    base = _ccpa_two_types()
    received = base.received_at.date()
    deadlines = tuple(
        clocks.Deadline(
            kind,
            None if kind == "APPEAL" else clocks.REQUEST_TYPES[i % len(clocks.REQUEST_TYPES)],  # type: ignore[arg-type]
            received + timedelta(days=abs(offset) + 1),
        )
        for i, (offset, kind) in enumerate(zip(offsets, kinds, strict=False))
    )
    result = dataclasses.replace(base, deadlines=deadlines)
    now = base.received_at + timedelta(days=now_days)

    svg = _svg(result, now)

    _assert_every_deadline_drawn(svg, result)
    _assert_readable(svg)
    _assert_no_bar_clipped(svg)


# --- the explanation in words ---


def test_the_explanation_lists_periods_pauses_extensions_and_citations_in_words():
    view = clock_explanation(_uk_17())

    assert view["period"] == "1 month"
    assert view["due_date"] == "Wed 17 Mar 2021"
    assert view["received_at"] == "Sat 14 Nov 2020, 10:00 GMT"
    assert view["pauses"][0]["effect"].startswith("excluded")
    assert view["extensions"][0]["period"] == "2 months"
    assert view["extensions"][0]["due_after"] == "Wed 17 Mar 2021"
    assert any("Art 12A" in c for c in view["citations"])
    assert view["remaining_text"] == "71 days remaining"
    assert [d["kind_words"] for d in view["deadlines"]] == ["Response"]


def test_a_stopped_clock_is_explained_in_the_past_tense():
    result = clocks.compute(
        clocks.get_pack("GB"),
        received_at=_at("2025-09-03T09:00"),
        request_types=["ACCESS"],
        events=[
            E(K.CLARIFICATION_REQUESTED, _at("2025-09-05T09:00")),
            E(K.STOPPED, _at("2025-09-20T09:00"), {"reason": "CLOSED"}),
        ],
        now=_at("2025-11-01T09:00"),
        at_risk_days=7,
    )

    view = clock_explanation(result)

    assert view["stopped"] is True
    assert view["provisional"] is False
    assert view["remaining_text"].startswith("stopped on Sat 20 Sep 2025")
    assert "still open" not in str(view)
