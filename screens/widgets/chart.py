"""A terminal time-series chart: braille lines, a y axis, time ticks and event markers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.text import Text
from textual.widget import Widget

from console.core.numbers import PERCENT_UNITS, axis_text

# braille dot bits for (column 0/1, row 0..3) inside one character cell
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
SERIES_STYLES = ("bold cyan", "bold magenta", "bold yellow", "bold green", "bold blue", "bold red")
SERIES_GLYPHS = ("⣀", "•", "×", "◦", "+", "▪")
"""The first series is a braille line; each other one its own mark, one a column, drawn over
it: p50, p95 and p99 tell apart without colour."""
EVENT_MARKS = "123456789abcdefghijklmnopqrstuvwxyz"
EVENT_STYLE = "bold"


@dataclass
class ChartData:
    """Points to draw: one time axis, several series, and events to mark."""

    times: list[float] = field(default_factory=list)
    """Epoch seconds, ascending."""
    series: dict[str, list[float | None]] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)
    """(epoch seconds, label) such as a deploy or a rollback."""
    unit: str = ""
    until: float | None = None
    """Where the time axis ends (epoch seconds; now, for live data) when later than the last
    point: the gap after the newest sample shows."""


@dataclass
class _EventGroup:
    column: int
    mark: str
    items: list[tuple[float, str]]


def _group_events(
    events: list[tuple[float, str]], t0: float, t1: float, span: float, plot_w: int
) -> list[_EventGroup]:
    """Events by the column they fall in; neighbours one column apart share a mark, so
    four deploys in a minute are one '1' with 'deploy ×4', not '▲▲▲▲' under one label."""
    groups: list[_EventGroup] = []
    for t, label in sorted(e for e in events if t0 <= e[0] <= t1):
        col = round((t - t0) / span * (plot_w - 1))
        if groups and col - groups[-1].column <= 1:
            groups[-1].items.append((t, label))
            continue
        mark = EVENT_MARKS[len(groups)] if len(groups) < len(EVENT_MARKS) else "+"
        groups.append(_EventGroup(col, mark, [(t, label)]))
    return groups


def _event_legend(groups: list[_EventGroup], width: int, fmt: str) -> Text:
    """'1 deploy 09:18 · 2 incident, gate 09:20–09:21 · 3 rollback ×2 14:33', cut with '… +N'."""
    line = Text(no_wrap=True, overflow="ellipsis")
    for n, g in enumerate(groups):
        kinds: dict[str, int] = {}
        for _, label in g.items:
            kinds[label] = kinds.get(label, 0) + 1
        what = ", ".join(k if c == 1 else f"{k} ×{c}" for k, c in kinds.items())
        first, last = g.items[0][0], g.items[-1][0]
        when = datetime.fromtimestamp(first, UTC).strftime(fmt)
        if datetime.fromtimestamp(last, UTC).strftime(fmt) != when:
            when += "–" + datetime.fromtimestamp(last, UTC).strftime(fmt)
        piece = Text()
        if n:
            piece.append(" · ", style="dim")
        piece.append(g.mark, style=f"{EVENT_STYLE} reverse")
        piece.append(f" {what} {when}")
        rest = len(groups) - n - 1
        more = f" … +{rest}" if rest else ""
        if line.cell_len + piece.cell_len + len(more) > width:
            line.append(f" … +{len(groups) - n}", style="dim")
            break
        line.append_text(piece)
    line.truncate(width, overflow="ellipsis")
    return line


def render_chart(data: ChartData, width: int, height: int) -> Text:
    """The chart as Rich text of exactly `height` lines (legend, plot, axis, times, and the
    events' legend when there are events) at `width` columns."""
    out = Text()
    values = [v for vs in data.series.values() for v in vs if v is not None and math.isfinite(v)]
    if not data.times or not values or width < 20 or height < 5:
        out.append("no data to chart", style="dim")
        return out
    legend = Text(no_wrap=True, overflow="ellipsis")
    for i, name in enumerate(data.series):
        glyph = SERIES_GLYPHS[i % len(SERIES_GLYPHS)]
        legend.append(
            glyph * (2 if i == 0 else 1) + " ", style=SERIES_STYLES[i % len(SERIES_STYLES)]
        )
        legend.append(f"{name}  ")
    t0, t1 = data.times[0], max(data.times[-1], data.until or data.times[-1])
    span = (t1 - t0) or 1.0
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    y_labels = [axis_text(v, data.unit) for v in (hi, (hi + lo) / 2, lo)]
    axis_w = max(len(s) for s in y_labels) + 1
    plot_w = width - axis_w - 1
    groups = _group_events(data.events, t0, t1, span, plot_w)
    if data.unit and data.unit not in PERCENT_UNITS:
        legend.append(f"({data.unit})  ", style="dim")
    if groups:
        legend.append("┊ events", style=EVENT_STYLE)
    legend.truncate(width, overflow="ellipsis")
    plot_h = height - 3 - (1 if groups else 0)  # legend, x-axis line, times, events
    if plot_h < 2:
        groups, plot_h = [], height - 3
    dots_w, dots_h = plot_w * 2, plot_h * 4
    cells = [[0] * plot_w for _ in range(plot_h)]
    marks: list[list[int]] = [[-1] * plot_w for _ in range(plot_h)]
    """Which series' glyph is drawn in a cell (over the braille line)."""

    def put(x: int, y: int) -> None:
        cx, cy = x // 2, (dots_h - 1 - y) // 4
        if 0 <= cx < plot_w and 0 <= cy < plot_h:
            cells[cy][cx] |= _DOTS[x % 2][(dots_h - 1 - y) % 4]

    def scale(v: float) -> int:
        return round((v - lo) / (hi - lo) * (dots_h - 1))

    for s, vs in enumerate(data.series.values()):
        # the mean of the points that fall in one dot column (the line) or one cell (a mark);
        # a gap (None) breaks the line
        runs: list[dict[int, list[float]]] = [{}]
        for t, v in zip(data.times, vs, strict=False):
            if v is None or not math.isfinite(v):
                if runs[-1]:
                    runs.append({})
                continue
            x = round((t - t0) / span * (dots_w - 1))
            runs[-1].setdefault(x if s == 0 else x // 2, []).append(v)
        for run in runs:
            points = [(x, scale(sum(col) / len(col))) for x, col in run.items()]
            if s > 0:
                for cx, y in points:
                    cy = (dots_h - 1 - y) // 4
                    if 0 <= cx < plot_w and 0 <= cy < plot_h and marks[cy][cx] < 0:
                        marks[cy][cx] = s  # the first series named keeps a shared cell
                continue
            prev: tuple[int, int] | None = None
            for x, y in points:
                if prev is not None:
                    px, py = prev
                    steps = max(abs(x - px), abs(y - py))
                    for k in range(1, steps):
                        put(px + (x - px) * k // steps, py + (y - py) * k // steps)
                put(x, y)
                prev = (x, y)

    event_cols = {g.column: g for g in groups}
    out.append_text(legend)
    out.append("\n")
    label_rows = {0: y_labels[0], plot_h // 2: y_labels[1], plot_h - 1: y_labels[2]}
    for r in range(plot_h):
        out.append(f"{label_rows.get(r, ''):>{axis_w - 1}} ", style="dim")
        out.append("┤" if r in label_rows else "│", style="dim")
        for c in range(plot_w):
            s = marks[r][c]
            if s >= 0:
                out.append(
                    SERIES_GLYPHS[s % len(SERIES_GLYPHS)],
                    style=SERIES_STYLES[s % len(SERIES_STYLES)],
                )
            elif cells[r][c]:
                out.append(chr(0x2800 + cells[r][c]), style=SERIES_STYLES[0])
            elif c in event_cols:
                out.append("┊", style=EVENT_STYLE)
            else:
                out.append(" ")
        out.append("\n")
    out.append(" " * axis_w + "└", style="dim")
    for c in range(plot_w):
        if c in event_cols:
            out.append(event_cols[c].mark, style=f"{EVENT_STYLE} reverse")
        else:
            out.append("─", style="dim")
    out.append("\n")
    fmt = "%H:%M" if t1 - t0 < 20 * 3600 else "%m-%d %H:%M"
    out.append_text(_time_labels(t0, t1, axis_w + 1, plot_w, fmt))
    if groups:
        out.append("\n")
        out.append(" " * (axis_w + 1))
        out.append_text(_event_legend(groups, plot_w, "%H:%M"))
    return out


def _time_labels(t0: float, t1: float, indent: int, plot_w: int, fmt: str) -> Text:
    """The start, the middle (when there is room) and the end of the time axis."""
    left = datetime.fromtimestamp(t0, UTC).strftime(fmt)
    right = datetime.fromtimestamp(t1, UTC).strftime(fmt) + " UTC"
    middle = datetime.fromtimestamp((t0 + t1) / 2, UTC).strftime(fmt)
    line = [" "] * plot_w
    for i, ch in enumerate(left[:plot_w]):
        line[i] = ch
    for i, ch in enumerate(right):
        pos = plot_w - len(right) + i
        if 0 <= pos < plot_w:
            line[pos] = ch
    start = (plot_w - len(middle)) // 2
    if start > len(left) + 2 and start + len(middle) < plot_w - len(right) - 2:
        line[start : start + len(middle)] = list(middle)
    text = Text(" " * indent)
    text.append("".join(line), style="dim")
    return text


class TimeChart(Widget):
    """A chart that redraws to its size."""

    DEFAULT_CSS = """
    TimeChart { height: 1fr; min-height: 8; }
    """

    def __init__(self, data: ChartData | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data = data or ChartData()

    def set_data(self, data: ChartData) -> None:
        self.data = data
        self.refresh()

    def render(self) -> Text:
        return render_chart(self.data, self.size.width, self.size.height)


def chart_from_rows(
    columns: Sequence[str], rows: Sequence[Sequence[object]], time_col: str | None = None
) -> ChartData:
    """Build chart data from a query result: the time column and every numeric column."""
    if not rows:
        return ChartData()
    tc = time_col if time_col in columns else None
    if tc is None:
        for i, name in enumerate(columns):
            if isinstance(rows[0][i], datetime) or name.lower() in (
                "ts",
                "time",
                "timestamp",
                "bucket",
            ):
                tc = name
                break
    if tc is None:
        return ChartData()
    ti = list(columns).index(tc)
    times = [epoch(r[ti]) for r in rows]
    series: dict[str, list[float | None]] = {}
    for i, name in enumerate(columns):
        if i == ti:
            continue
        col = [r[i] for r in rows]
        if all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in col):
            series[name] = [None if v is None else float(v) for v in col]
    return ChartData(times=times, series=series)


def epoch(v: object) -> float:
    """Seconds since the epoch; naive datetimes are UTC (as history stores them)."""
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()
    if isinstance(v, int | float):
        return float(v)
    return epoch(datetime.fromisoformat(str(v)))
