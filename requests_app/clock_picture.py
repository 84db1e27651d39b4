"""The legal clock drawn as a bar: geometry from a `clocks.ClockResult` (no database, no I/O).

The admin template turns `ClockPicture` into an inline SVG (server-rendered, no script, no CDN). Every
shape carries a text label or title and a fill pattern or dash as well as a colour, so colour is never the
only signal.

Every deadline in the result's `deadlines` is drawn: the response deadline of each request type, the
acknowledgement deadline and the appeal's. Deadlines of one kind that fall on the same day share a
marker, whose label names them all. Labels are laid out in rows — a label that would touch another moves
up (or down, under the axis) a row — and kept inside the view box; the axis runs to the latest deadline,
extension or stop plus a margin, so no bar is clipped. Dates read as the workspace writes them
(`presenters.format_day`); only the axis ticks use the short "24 Nov".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import clocks
from requests_app.admin.presenters import MONTHS, format_day, format_when, type_words

WIDTH = 1000
PLOT_LEFT = 110  # room for the lane labels
PLOT_RIGHT = 985
EDGE = 4  # labels stay this far inside the view box
CLOCK_H, EVENTS_H = 30, 20
TOP = 6  # above the first row of labels
ROW_H = 16  # one row of marker labels
LABEL_GAP = 10  # the least horizontal room between two labels of one row
# An upper bound of one character's advance at the labels' 12px semi-bold, in view-box units (the SVG
# names its fonts, so the estimate holds: DejaVu Sans Bold, the widest of them, averages under 7.6).
CHAR_W = 7.6
LABEL_ASCENT, LABEL_DESCENT = 11, 4
BAR_CHAR_W = 6.5  # bar labels: 11px

# kind → (legend label, what it means). The template maps kinds to colours and patterns.
KINDS: dict[str, tuple[str, str]] = {
    "RUNNING": ("Running", "days that count towards the deadline"),
    "REMAINING": ("Still to run", "from today to the due date"),
    "OVERDUE": ("Overdue", "running past the due date"),
    "PAUSED": ("Paused / excluded", "days that do not count (or were discarded by a restart)"),
    "AWAITING_START": ("Awaiting start", "the clock restarts when the awaited item arrives"),
    "EXTENDED": ("Extension", "from the due date before the extension to the one after it"),
    "NO_EFFECT": ("No effect", "an event the law says does not move the deadline"),
}

# Marker kinds → legend text, in legend order.
MARKER_KINDS: dict[str, str] = {
    "DUE": "Due date (end of that day)",
    "RESPONSE": "Another request type's response deadline",
    "ACKNOWLEDGEMENT": "Acknowledgement deadline",
    "APPEAL": "Appeal decision deadline",
    "BASE_DUE": "Base due date (the period alone)",
    "RECEIVED": "Received",
    "TODAY": "Today",
    "STOPPED": "Stopped (answered)",
}


def label_width(text: str) -> float:
    return round(len(text) * CHAR_W + 2, 1)


@dataclass(frozen=True)
class Bar:
    kind: str
    x: float
    width: float
    y: int
    height: int
    label: str  # drawn inside the bar when it fits
    title: str  # tooltip: the engine's note and the rule it applied
    show_label: bool

    @property
    def label_x(self) -> float:
        return round(self.x + 5, 1)

    @property
    def label_y(self) -> float:
        return self.y + self.height / 2 + 4


@dataclass(frozen=True)
class Marker:
    kind: str  # see MARKER_KINDS
    x: float  # where the line is
    label: str
    title: str
    side: str = "top"  # "top": above the lanes; "bottom": under the axis
    row: int = 0  # 0 is the row nearest the lanes
    label_x: float = 0.0  # the label's left edge (text-anchor start)
    label_y: float = 0.0  # the label's baseline
    line_y1: float = 0.0
    line_y2: float = 0.0
    deadline: str = ""  # RESPONSE | ACKNOWLEDGEMENT | APPEAL for the markers of `deadlines`
    day: str = ""  # ISO date of a deadline marker
    types: tuple[str, ...] = ()

    anchor = "start"

    @property
    def width(self) -> float:
        return label_width(self.label)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The label's extent (left, top, right, bottom), as CHAR_W bounds it."""
        return (
            self.label_x,
            self.label_y - LABEL_ASCENT,
            round(self.label_x + self.width, 1),
            self.label_y + LABEL_DESCENT,
        )


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass
class ClockPicture:
    width: int
    height: int
    plot_left: int
    plot_right: int
    clock_y: int
    clock_h: int
    events_y: int
    events_h: int
    axis_y: int
    bars: list[Bar] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, label, meaning)
    marker_legend: list[tuple[str, str]] = field(default_factory=list)  # (kind, meaning)
    marker_kinds: set[str] = field(default_factory=set)
    summary: str = ""

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left


def _day_end(day: date, tz: ZoneInfo) -> datetime:
    """The end of a local day: a due date is the last day on which the answer is in time."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz)


@dataclass
class _Deadline:
    kind: str  # RESPONSE | ACKNOWLEDGEMENT | APPEAL
    day: date
    types: list[str]


def _deadline_groups(result: clocks.ClockResult) -> list[_Deadline]:
    """The result's deadlines, one per kind and day (a marker each), in the engine's order."""
    groups: dict[tuple[str, date], _Deadline] = {}
    for deadline in result.deadlines:
        key = (deadline.kind, deadline.due_date)
        group = groups.setdefault(key, _Deadline(deadline.kind, deadline.due_date, []))
        if deadline.request_type and deadline.request_type not in group.types:
            group.types.append(deadline.request_type)
    return list(groups.values())


def _types(types: list[str]) -> str:
    return ", ".join(type_words(t) for t in types)


def _deadline_marker(
    group: _Deadline, result: clocks.ClockResult, *, due_taken: bool, now: datetime
) -> tuple[str, str, str]:
    """(marker kind, label, title) of one deadline group."""
    day = format_day(group.day)
    types = _types(group.types)
    if group.kind == "ACKNOWLEDGEMENT":
        done = ""
        if result.acknowledged_at is not None:
            done = " — done"
        elif result.state is not clocks.ClockState.STOPPED and now >= _day_end(
            group.day, ZoneInfo(result.timezone)
        ):
            done = " — overdue"
        return (
            "ACKNOWLEDGEMENT",
            f"Acknowledge by {day}{done}",
            f"Confirm receipt by {day} (end of that day, {result.timezone}) — {types}",
        )
    if group.kind == "APPEAL":
        return (
            "APPEAL",
            f"Appeal decision due {day}",
            f"Decide the appeal by {day} (end of that day, {result.timezone})",
        )
    is_due = not due_taken and group.day == result.due_date
    provisional = (
        " (provisional)"
        if is_due and result.provisional and result.state is not clocks.ClockState.STOPPED
        else ""
    )
    return (
        "DUE" if is_due else "RESPONSE",
        f"{types}: due {day}{provisional}" if types else f"Due {day}{provisional}",
        f"Respond to {types or 'the request'} by {day} (end of that day, {result.timezone})",
    )


def _place_rows(markers: list[Marker]) -> list[Marker]:
    """Give each label a row and a left edge, so that no two labels of a row touch and every label stays
    inside the view box.

    A label is centred on its line, or hangs to one side of it; the first row (from the lanes outwards)
    where one of those fits is taken — preferring a place where no other marker's line runs through a
    label (a line from a higher row crosses the rows below it). Failing that, the first free place: the
    labels' white halo keeps a crossing line legible.
    """
    rows: list[list[tuple[float, float]]] = []  # per row: the (left, right) of its labels
    placed: list[Marker] = []

    def free(row: int, left: float, right: float) -> bool:
        return row >= len(rows) or all(right + LABEL_GAP <= a or left >= b + LABEL_GAP for a, b in rows[row])

    def clean(marker: Marker, row: int, left: float, right: float) -> bool:
        # Its own line crosses the rows below it; its label must not lie across a higher label's line.
        crossed = any(left - 3 <= m.x <= right + 3 for m in placed if m.row > row)
        below = any(m.row < row and m.label_x - 3 <= marker.x <= m.label_x + m.width + 3 for m in placed)
        return not crossed and not below

    ordered = sorted(markers, key=lambda m: (m.x, m.kind))
    for index, marker in enumerate(ordered):
        width = marker.width
        centred, hang_left, hang_right = marker.x - width / 2, marker.x - width + 4, marker.x - 4
        # The next line close on the right: end this label at its own line, leaving the room to the next.
        crowded = index + 1 < len(ordered) and ordered[index + 1].x - marker.x < width / 2 + LABEL_GAP
        lefts = dict.fromkeys(
            round(min(max(left, EDGE), WIDTH - EDGE - width), 1)
            for left in ((hang_left, centred, hang_right) if crowded else (centred, hang_left, hang_right))
        )
        fallback: tuple[int, float] | None = None
        chosen: tuple[int, float] | None = None
        for row in range(len(rows) + 1):
            for left in lefts:
                if not free(row, left, left + width):
                    continue
                if clean(marker, row, left, left + width):
                    chosen = (row, left)
                    break
                fallback = fallback or (row, left)
            if chosen is not None:
                break
        row, left = chosen or fallback or (len(rows), next(iter(lefts)))
        if row == len(rows):
            rows.append([])
        rows[row].append((left, left + width))
        placed.append(replace(marker, row=row, label_x=left))
    return placed


def build_picture(result: clocks.ClockResult, *, now: datetime) -> ClockPicture:
    """Lay out the clock from the day of receipt to the latest deadline (or today, or the stop, if later)."""
    tz = ZoneInfo(result.timezone)
    live = result.state is not clocks.ClockState.STOPPED
    start = _day_start(result.received_at.astimezone(tz).date(), tz)
    due_end = _day_end(result.due_date, tz)
    base_end = _day_end(result.base_due_date, tz)
    stop = result.stopped_at
    # While live, an open segment runs to now; once stopped, to the stop.
    open_end = now if live else (stop or now)
    groups = _deadline_groups(result)

    ends = [due_end, base_end, open_end]
    ends += [_day_end(g.day, tz) for g in groups]
    ends += [_day_end(e.due_date_after, tz) for e in result.extensions]
    ends += [s.end for s in result.segments if s.end is not None]
    end = max(ends)
    # Room after the latest date, so that nothing ends on the frame.
    span = (end - start) or timedelta(days=1)
    end = end + span * 0.03

    def x(at: datetime) -> float:
        at = min(max(at, start), end)
        return round(PLOT_LEFT + (at - start) / (end - start) * (PLOT_RIGHT - PLOT_LEFT), 1)

    # --- markers and their labels ---
    top: list[Marker] = []
    due_taken = False
    for group in groups:
        kind, label, title = _deadline_marker(group, result, due_taken=due_taken, now=now)
        due_taken = due_taken or kind == "DUE"
        top.append(
            Marker(
                kind,
                x(_day_end(group.day, tz)),
                label,
                title,
                deadline=group.kind,
                day=group.day.isoformat(),
                types=tuple(group.types),
            )
        )
    if not due_taken and all(g.day != result.due_date for g in groups):
        top.append(
            Marker(
                "DUE",
                x(due_end),
                f"Due {format_day(result.due_date)}",
                f"Due {format_day(result.due_date)} (end of that day, {result.timezone})",
            )
        )
    # The period alone, before pauses and extensions: worth a marker only where no deadline already is.
    if result.base_due_date != result.due_date and all(
        g.day != result.base_due_date for g in groups if g.kind == "RESPONSE"
    ):
        top.append(
            Marker(
                "BASE_DUE",
                x(base_end),
                f"Base due {format_day(result.base_due_date)}",
                f"Base due date {format_day(result.base_due_date)}: the period alone, no pause or extension",
            )
        )
    bottom = [
        Marker(
            "RECEIVED",
            x(start),
            f"Received {format_day(start)}",
            f"Received {format_when(result.received_at, tz)} — the clock starts that local day",
            side="bottom",
        )
    ]
    if live:
        bottom.append(
            Marker("TODAY", x(now), f"Today {format_day(now.astimezone(tz))}", "Now", side="bottom")
        )
    elif stop is not None:
        bottom.append(
            Marker(
                "STOPPED",
                x(stop),
                f"Stopped {format_day(stop.astimezone(tz))}",
                "Answered: closed, refused or decided",
                side="bottom",
            )
        )
    top, bottom = _place_rows(top), _place_rows(bottom)

    # --- vertical geometry, from the number of label rows ---
    top_rows = max([m.row for m in top], default=0) + 1
    bottom_rows = max([m.row for m in bottom], default=0) + 1
    clock_y = TOP + top_rows * ROW_H + 8
    events_y = clock_y + CLOCK_H + 14
    axis_y = events_y + EVENTS_H + 12
    first_bottom = axis_y + 34
    height = first_bottom + (bottom_rows - 1) * ROW_H + 10

    markers = []
    for m in top:
        baseline = TOP + (top_rows - m.row) * ROW_H - 2
        markers.append(replace(m, label_y=baseline, line_y1=baseline + 3, line_y2=axis_y))
    for m in bottom:
        baseline = first_bottom + m.row * ROW_H
        markers.append(replace(m, label_y=baseline, line_y1=clock_y - 4, line_y2=baseline - LABEL_ASCENT - 1))

    picture = ClockPicture(
        width=WIDTH,
        height=height,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        clock_y=clock_y,
        clock_h=CLOCK_H,
        events_y=events_y,
        events_h=EVENTS_H,
        axis_y=axis_y,
        markers=markers,
    )

    # --- bars ---
    def add_bar(kind: str, lane: str, a: datetime, b: datetime, label: str, title: str) -> None:
        x0, x1 = x(a), x(b)
        width = max(x1 - x0, 2.0)  # a zero-length pause is still visible
        x0 = min(x0, PLOT_RIGHT - width)
        y, h = (clock_y, CLOCK_H) if lane == "clock" else (events_y, EVENTS_H)
        fits = width > len(label) * BAR_CHAR_W + 8
        picture.bars.append(Bar(kind, x0, round(width, 1), y, h, label, title, fits))

    extensions = list(result.extensions)
    for segment in result.segments:
        kind = segment.kind
        title = f"{KINDS.get(kind, (kind, ''))[0]}: {segment.note}"
        if segment.rule:
            title += f" — {segment.rule}"
        if kind == "EXTENDED":
            # The engine dates the segment at the grant; the picture shows the days it added instead.
            applied = extensions.pop(0) if extensions else None
            after = applied.due_date_after if applied else result.due_date
            before = after - timedelta(days=segment.days)
            add_bar(kind, "events", _day_end(before, tz), _day_end(after, tz), f"+{segment.days} d", title)
            continue
        seg_end = segment.end or open_end
        days = f"{segment.days} d"
        if kind == "NO_EFFECT":
            add_bar(kind, "events", segment.start, seg_end, f"no effect {days}", title)
        elif kind == "RUNNING" and seg_end > due_end:
            # Past the due date the clock is still running, but late: drawn as its own kind.
            if segment.start < due_end:
                add_bar(kind, "clock", segment.start, due_end, "running", title)
            late = (seg_end.astimezone(tz).date() - result.due_date).days
            add_bar(
                "OVERDUE",
                "clock",
                max(segment.start, due_end),
                seg_end,
                f"overdue {late} d",
                f"Overdue: {late} day(s) past the due date {format_day(result.due_date)}",
            )
        else:
            label = {"RUNNING": "running", "PAUSED": "paused", "AWAITING_START": "awaiting"}.get(kind, kind)
            add_bar(kind, "clock", segment.start, seg_end, f"{label} {days}", title)
    if live and now < due_end:
        left = (result.due_date - now.astimezone(tz).date()).days
        add_bar(
            "REMAINING",
            "clock",
            now,
            due_end,
            f"{left} d to go",
            f"Still to run: {left} day(s) from today to the due date {format_day(result.due_date)}",
        )

    picture.ticks = _ticks(start.date(), end.astimezone(tz).date(), tz, x)
    used = {bar.kind for bar in picture.bars}
    picture.legend = [(kind, label, meaning) for kind, (label, meaning) in KINDS.items() if kind in used]
    picture.marker_kinds = {marker.kind for marker in picture.markers}
    picture.marker_legend = [(k, text) for k, text in MARKER_KINDS.items() if k in picture.marker_kinds]
    picture.summary = _summary(result, groups, start)
    return picture


def _summary(result: clocks.ClockResult, groups: list[_Deadline], start: datetime) -> str:
    def what(group: _Deadline) -> str:
        if group.kind == "ACKNOWLEDGEMENT":
            return "acknowledgement"
        if group.kind == "APPEAL":
            return "appeal decision"
        return _types(group.types) or "response"

    deadlines = "; ".join(f"{what(g)} due {format_day(g.day)}" for g in groups)
    state = result.state.value.replace("_", " ").lower()
    if result.state is clocks.ClockState.STOPPED or result.days_remaining is None:
        remaining = "no days remaining: the clock has stopped"
    else:
        remaining = f"{result.days_remaining} day(s) remaining"
    return (
        f"Received {format_day(start)}; {deadlines or 'due ' + format_day(result.due_date)}; "
        f"clock {state}; {remaining}."
    )


def _ticks(first: date, last: date, tz: ZoneInfo, x: Callable[[datetime], float]) -> list[Tick]:
    span = (last - first).days
    if span <= 75:
        step = 7 if span > 21 else max(span // 4, 1)
        days = [first + timedelta(days=i) for i in range(step, span + 1, step)]
    else:
        # Month starts, thinned so that at most ~10 labels share the width.
        days = []
        cursor = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        while cursor <= last:
            days.append(cursor)
            cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
        thin = max(len(days) // 10 + 1, 1)
        days = days[::thin]
    return [Tick(x(_day_start(day, tz)), f"{day.day} {MONTHS[day.month - 1]}") for day in days]
