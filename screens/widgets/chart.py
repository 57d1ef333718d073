"""A terminal time-series chart: braille lines, a y axis, time ticks and event markers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.text import Text
from textual.widget import Widget

from console.core.numbers import axis_text

# braille dot bits for (column 0/1, row 0..3) inside one character cell
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
SERIES_STYLES = ("bold cyan", "bold magenta", "bold yellow", "bold green", "bold blue", "bold red")


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


def render_chart(data: ChartData, width: int, height: int) -> Text:
    """The chart as Rich text of exactly `height` lines (legend, plot, axis) at `width` columns."""
    out = Text()
    values = [v for vs in data.series.values() for v in vs if v is not None and math.isfinite(v)]
    if not data.times or not values or width < 20 or height < 5:
        out.append("no data to chart", style="dim")
        return out
    legend = Text()
    for i, name in enumerate(data.series):
        legend.append("━ ", style=SERIES_STYLES[i % len(SERIES_STYLES)])
        legend.append(f"{name}  ")
    if data.events:
        legend.append("┊ events", style="bold red")
    legend.truncate(width)
    plot_h = height - 3  # legend, x-axis line, x labels
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    y_labels = [axis_text(v, data.unit) for v in (hi, (hi + lo) / 2, lo)]
    axis_w = max(len(s) for s in y_labels) + 1
    plot_w = width - axis_w - 1
    t0, t1 = data.times[0], max(data.times[-1], data.until or data.times[-1])
    span = (t1 - t0) or 1.0
    dots_w, dots_h = plot_w * 2, plot_h * 4
    cells = [[0] * plot_w for _ in range(plot_h)]
    owner = [[-1] * plot_w for _ in range(plot_h)]

    def put(x: int, y: int, s: int) -> None:
        cx, cy = x // 2, (dots_h - 1 - y) // 4
        if 0 <= cx < plot_w and 0 <= cy < plot_h:
            cells[cy][cx] |= _DOTS[x % 2][(dots_h - 1 - y) % 4]
            owner[cy][cx] = s

    for s, vs in enumerate(data.series.values()):
        prev: tuple[int, int] | None = None
        for t, v in zip(data.times, vs, strict=False):
            if v is None or not math.isfinite(v):
                prev = None
                continue
            x = round((t - t0) / span * (dots_w - 1))
            y = round((v - lo) / (hi - lo) * (dots_h - 1))
            if prev is not None and prev != (x, y):
                px, py = prev
                steps = max(abs(x - px), abs(y - py))
                for k in range(1, steps):
                    put(px + (x - px) * k // steps, py + (y - py) * k // steps, s)
            put(x, y, s)
            prev = (x, y)

    event_cols: dict[int, str] = {}
    for t, label in data.events:
        if t0 <= t <= t1:
            event_cols[round((t - t0) / span * (plot_w - 1))] = label

    out.append_text(legend)
    out.append("\n")
    label_rows = {0: y_labels[0], plot_h // 2: y_labels[1], plot_h - 1: y_labels[2]}
    for r in range(plot_h):
        out.append(f"{label_rows.get(r, ''):>{axis_w - 1}} ", style="dim")
        out.append("┤" if r in label_rows else "│", style="dim")
        for c in range(plot_w):
            if cells[r][c]:
                out.append(
                    chr(0x2800 + cells[r][c]), style=SERIES_STYLES[owner[r][c] % len(SERIES_STYLES)]
                )
            elif c in event_cols:
                out.append("┊", style="bold red")
            else:
                out.append(" ")
        out.append("\n")
    axis = [" "] * plot_w
    for c in event_cols:
        axis[c] = "▲"
    out.append(" " * axis_w + "└", style="dim")
    out.append("".join(axis).replace(" ", "─"), style="dim")
    out.append("\n")
    out.append_text(_time_labels(t0, t1, axis_w + 1, plot_w, event_cols))
    return out


def _time_labels(
    t0: float, t1: float, indent: int, plot_w: int, event_cols: dict[int, str]
) -> Text:
    fmt = "%H:%M" if t1 - t0 < 20 * 3600 else "%m-%d %H:%M"
    left = datetime.fromtimestamp(t0, UTC).strftime(fmt)
    right = datetime.fromtimestamp(t1, UTC).strftime(fmt) + " UTC"
    line = [" "] * plot_w
    for i, ch in enumerate(left[:plot_w]):
        line[i] = ch
    for i, ch in enumerate(right):
        pos = plot_w - len(right) + i
        if 0 <= pos < plot_w:
            line[pos] = ch
    for c, label in sorted(event_cols.items()):
        tag = label[:12]
        start = min(max(c - len(tag) // 2, len(left) + 1), plot_w - len(right) - len(tag) - 1)
        if start > len(left) and all(ch == " " for ch in line[start : start + len(tag)]):
            for i, ch in enumerate(tag):
                line[start + i] = ch
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
