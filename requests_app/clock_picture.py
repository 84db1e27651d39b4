"""The legal clock drawn as a bar: pure geometry from a `clocks.ClockResult`, no Django, no I/O.

The admin template turns `ClockPicture` into an inline SVG (server-rendered, no script, no CDN). Every
shape carries a text label or title and a fill pattern as well as a colour, so colour is never the only
signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import clocks

WIDTH = 1000
PLOT_LEFT = 110  # room for the lane labels
PLOT_RIGHT = 985
CLOCK_Y, CLOCK_H = 46, 30
EVENTS_Y, EVENTS_H = 90, 20
AXIS_Y = 122
HEIGHT = 170

# kind → (legend label, what it means). The template maps kinds to colours and patterns.
KINDS: dict[str, tuple[str, str]] = {
    "RUNNING": ("Running", "days that count towards the deadline"),
    "REMAINING": ("Still to run", "from today to the final due date"),
    "OVERDUE": ("Overdue", "running past the final due date"),
    "PAUSED": ("Paused / excluded", "days that do not count (or were discarded by a restart)"),
    "AWAITING_START": ("Awaiting start", "the clock restarts when the awaited item arrives"),
    "EXTENDED": ("Extension", "from the due date before the extension to the one after it"),
    "NO_EFFECT": ("No effect", "an event the law says does not move the deadline"),
}


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
    kind: str  # "RECEIVED" | "BASE_DUE" | "DUE" | "TODAY" | "STOPPED"
    x: float
    label: str
    label_y: int
    anchor: str  # SVG text-anchor
    title: str


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


def _fmt(day: date) -> str:
    return f"{day:%d %b %Y}".lstrip("0")


def build_picture(result: clocks.ClockResult, *, now: datetime) -> ClockPicture:
    """Lay out the clock from the day of receipt to the final due date (or today/the stop, if later)."""
    tz = ZoneInfo(result.timezone)
    live = result.state is not clocks.ClockState.STOPPED
    start = _day_start(result.received_at.astimezone(tz).date(), tz)
    due_end = _day_end(result.due_date, tz)
    base_end = _day_end(result.base_due_date, tz)
    stop = result.stopped_at
    # While live, an open segment runs to now; once stopped, to the stop.
    open_end = now if live else (stop or now)

    ends = [due_end, base_end, open_end]
    ends += [s.end for s in result.segments if s.end is not None]
    end = max(ends)
    # Breathing room so the right-most marker's label is not clipped.
    span = (end - start) or timedelta(days=1)
    end = end + span * 0.02

    def x(at: datetime) -> float:
        at = min(max(at, start), end)
        return round(PLOT_LEFT + (at - start) / (end - start) * (PLOT_RIGHT - PLOT_LEFT), 1)

    picture = ClockPicture(
        width=WIDTH,
        height=HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        clock_y=CLOCK_Y,
        clock_h=CLOCK_H,
        events_y=EVENTS_Y,
        events_h=EVENTS_H,
        axis_y=AXIS_Y,
    )

    def add_bar(kind: str, lane: str, a: datetime, b: datetime, label: str, title: str) -> None:
        x0, x1 = x(a), x(b)
        width = max(x1 - x0, 2.0)  # a zero-length pause is still visible
        y, h = (CLOCK_Y, CLOCK_H) if lane == "clock" else (EVENTS_Y, EVENTS_H)
        # ~6.5 units per character at the template's font size.
        picture.bars.append(Bar(kind, x0, round(width, 1), y, h, label, title, width > len(label) * 6.5 + 8))

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
            # Past the final due date the clock is still running, but late: drawn as its own kind.
            if segment.start < due_end:
                add_bar(kind, "clock", segment.start, due_end, "running", title)
            late = (seg_end.astimezone(tz).date() - result.due_date).days
            add_bar(
                "OVERDUE",
                "clock",
                max(segment.start, due_end),
                seg_end,
                f"overdue {late} d",
                f"Overdue: {late} day(s) past the final due date {result.due_date.isoformat()}",
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
            f"Still to run: {left} day(s) from today to the final due date {result.due_date.isoformat()}",
        )

    def add_marker(kind: str, at: datetime, label: str, label_y: int, title: str) -> None:
        mx = x(at)
        share = (mx - PLOT_LEFT) / (PLOT_RIGHT - PLOT_LEFT)
        anchor = "end" if share > 0.82 else "start" if share < 0.18 else "middle"
        picture.markers.append(Marker(kind, mx, label, label_y, anchor, title))

    add_marker(
        "RECEIVED",
        start,
        f"Received {_fmt(start.date())}",
        AXIS_Y + 34,
        f"Received {result.received_at.astimezone(tz).isoformat()} — the clock starts that local day",
    )
    if result.base_due_date != result.due_date:
        add_marker(
            "BASE_DUE",
            base_end,
            f"Base due {_fmt(result.base_due_date)}",
            14,
            f"Base due date {result.base_due_date.isoformat()}: the period alone, no pause or extension",
        )
    add_marker(
        "DUE",
        due_end,
        f"Final due {_fmt(result.due_date)}" + (" (provisional)" if result.provisional else ""),
        30,
        f"Final due date {result.due_date.isoformat()}, end of day {result.timezone}",
    )
    if live:
        add_marker("TODAY", now, f"Today {_fmt(now.astimezone(tz).date())}", AXIS_Y + 34, "Now")
    elif stop is not None:
        add_marker(
            "STOPPED", stop, f"Stopped {_fmt(stop.astimezone(tz).date())}", AXIS_Y + 34, "Closed or refused"
        )
    _spread_bottom_labels(picture.markers)

    picture.ticks = _ticks(start.date(), end.astimezone(tz).date(), tz, x)
    used = {bar.kind for bar in picture.bars}
    picture.legend = [(kind, label, meaning) for kind, (label, meaning) in KINDS.items() if kind in used]
    picture.marker_kinds = {marker.kind for marker in picture.markers}
    state = result.state.value.replace("_", " ").lower()
    picture.summary = (
        f"Received {_fmt(start.date())}; base due {_fmt(result.base_due_date)}; final due "
        f"{_fmt(result.due_date)}; clock {state}; {result.days_remaining} day(s) remaining."
    )
    return picture


def _spread_bottom_labels(markers: list[Marker]) -> None:
    """ "Received" and "Today" sit under the axis; push the second one down a line if they would touch."""
    bottom = [m for m in markers if m.label_y > AXIS_Y]
    if len(bottom) == 2 and abs(bottom[0].x - bottom[1].x) < 190:
        index = markers.index(bottom[1])
        old = markers[index]
        markers[index] = Marker(old.kind, old.x, old.label, old.label_y + 14, old.anchor, old.title)


def _ticks(first: date, last: date, tz: ZoneInfo, x) -> list[Tick]:
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
    return [Tick(x(_day_start(day, tz)), f"{day:%d %b}".lstrip("0")) for day in days]


EFFECTS = {
    "EXCLUDE": "excluded: these days do not count",
    "RESTART": "restart: the clock starts again when it arrives",
    "NONE": "no effect on the deadline",
}


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return "—"
    local = value.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _remaining(result: clocks.ClockResult) -> str:
    days = result.days_remaining
    unit = "day" if abs(days) == 1 else "days"
    if result.state is clocks.ClockState.STOPPED:
        return "stopped"
    if result.overdue:
        return f"overdue by {abs(days)} {unit}"
    frozen = " (frozen while the clock waits)" if result.state is not clocks.ClockState.RUNNING else ""
    return f"{days} {unit} remaining{frozen}"


def explanation_view(result: clocks.ClockResult) -> dict:
    """The explanation as display strings, in the clock's own zone (the one the law counts days in)."""
    tz = ZoneInfo(result.timezone)
    return {
        "law": result.law,
        "pack": f"{result.pack_id} {result.pack_version}",
        "citation": result.citation,
        "timezone": result.timezone,
        "received_at": _when(result.received_at, tz),
        "clock_starts_on": result.clock_starts_at.astimezone(tz).date().isoformat(),
        "period": str(result.period),
        "base_due_date": result.base_due_date.isoformat(),
        "due_date": result.due_date.isoformat(),
        "due_at": _when(result.due_at, tz),
        "provisional": result.provisional,
        "state": result.state.value,
        "days_remaining": result.days_remaining,
        "remaining_text": _remaining(result),
        "excluded_days": result.excluded_days,
        "acknowledge_by": result.acknowledge_by.isoformat() if result.acknowledge_by else "",
        "acknowledged_at": _when(result.acknowledged_at, tz) if result.acknowledged_at else "",
        "deadlines": [
            {"kind": d.kind.title(), "request_type": d.request_type, "due_date": d.due_date.isoformat()}
            for d in result.deadlines
        ],
        "pauses": [
            {
                "reason": p.reason.title(),
                "paused_at": _when(p.paused_at, tz),
                "resumed_at": _when(p.resumed_at, tz) if p.resumed_at else "still open",
                "effect": EFFECTS.get(p.effect.value, p.effect.value),
            }
            for p in result.pauses
        ],
        "extensions": [
            {
                "granted_at": _when(e.granted_at, tz),
                "by": e.by,
                "period": str(clocks.Period(e.amount, e.unit)),
                "reason": e.reason,
                "due_after": e.due_date_after.isoformat(),
            }
            for e in result.extensions
        ],
        "adjustments": [
            {
                "from": a.from_date.isoformat(),
                "to": a.to_date.isoformat(),
                "why": a.why,
                "relied_upon": a.relied_upon,
            }
            for a in result.adjustments
        ],
        "holidays": [{"date": day.isoformat(), "name": name} for day, name in result.holidays_relied_on],
        "segments": [
            {
                "kind": s.kind,
                "label": KINDS.get(s.kind, (s.kind, ""))[0],
                "start": _when(s.start, tz),
                "end": _when(s.end, tz) if s.end else "open",
                "days": s.days,
                "note": s.note,
                "rule": s.rule,
            }
            for s in result.segments
        ],
        "citations": list(result.citations),
    }
