"""History: what changed, named queries and SQL over the local metric history, charted."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label

from console.core import metric_unit
from screens.feedback import NO_SITE
from screens.history_text import IN_METRIC_UNIT, cell_text_of, column_units, parse_request
from screens.theme import style
from screens.widgets import KeyFooter, SiteBar
from screens.widgets.chart import ChartData, TimeChart, epoch
from screens.widgets.kept import cell_text, rows_text, table_text
from screens.widgets.progress import TICK_S, progress_text

MAX_TABLE_ROWS = 500
QUERY_TIMEOUT_S = 30.0
"""A console query that runs longer is interrupted (Esc cancels sooner)."""
FRESHNESS_S = 5.0
"""How often the screen asks the history for its newest sample."""


class Freshness(Message):
    def __init__(self, newest: float | None) -> None:
        super().__init__()
        self.newest = newest


class QueryDone(Message):
    def __init__(
        self,
        request: str,
        result: Any,
        events: list[Any],
        chart: Any = None,
    ) -> None:
        super().__init__()
        self.request = request
        self.result = result
        self.events = events
        self.chart = chart
        """A second result to draw instead of `result` (the series behind the top change)."""


class SeriesCharted(Message):
    """The series behind one change of the list, to draw; the list itself stays."""

    def __init__(self, request: str, chart: Any, events: list[Any]) -> None:
        super().__init__()
        self.request = request
        self.chart = chart
        self.events = events


def series_sql(service: str, metric: str, since: Any, until: Any) -> str:
    """SQL for one series over a time range in 15-minute buckets (what a change is charted from)."""

    def lit(v: Any) -> str:
        return "'" + str(v).replace("'", "''") + "'"

    return (
        f"select time_bucket(interval '15 minutes', ts) as ts, avg(value) as {metric}, "
        f"max(value) as {metric}_max from samples where service = {lit(service)} "
        f"and metric = {lit(metric)} and ts >= {lit(since)} and ts <= {lit(until)} group by 1 order by 1"
    )


class QueryFailed(Message):
    def __init__(self, request: str, error: str) -> None:
        super().__init__()
        self.request = request
        self.error = error


class HistoryScreen(Screen):
    """Ask the metric history a question; every query runs in a thread worker and can be cancelled."""

    HELP = """
## History

The local DuckDB of metric history: samples, probe results and events (deploys,
rollbacks, actions) marked on the chart with `┊` and `▲`.

Type into the box and press **Enter**:

- a named query and its parameters, e.g. `latency_percentiles window=24h bucket=5m`,
  `error_rates window=6h`, `window_vs_baseline metric=latency_ms window=1h baseline=7d`,
  `what_changed window=24h baseline=7d`, `quality_trend`, `cache_hit_ratio`;
- or SQL (read-only), e.g. `select metric, count(*) from samples group by 1`.
  Tables: `samples`, `probe_results`, `events`.

- **Enter** on a what-changed row charts that series over the query's window
- **Ctrl+N** pick a named query · **Ctrl+G** what changed · **Esc** cancel a running
  query, or go back
- Errors (a typo, a write statement) show inline; nothing in the store changes.
- **Ctrl+S** (or **s** outside the box) saves the query and its whole result as a text file
  (its path shows above the footer) and copies it (OSC 52). A running query shows its seconds.
"""

    BINDINGS = [
        Binding("enter", "run_input", "Run query", id="history.run"),
        Binding("ctrl+n", "pick_named", "Named", id="history.named"),
        Binding("ctrl+g", "what_changed", "What changed", id="history.changed"),
        Binding("escape", "cancel_or_back", "Cancel/Back", id="history.back"),
    ]

    def __init__(self, request: str | None = None, on_result: Any = None) -> None:
        super().__init__()
        self.initial = request
        self.on_result = on_result
        self.history: Any = None
        self.running: str | None = None
        self.last_request: str | None = None
        self.delivered = False
        self.changes: list[Any] | None = None
        self.range: tuple[Any, Any] = (None, None)
        self.started = 0.0
        self.doing = ""
        self.shown_result: Any = None
        """The answer in the table, whole (the table cuts long cells; a save does not)."""

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("History", id="history-title")
        yield Label("", id="history-freshness")
        yield Input(
            placeholder="named query k=v … or SQL · Ctrl+N names · Ctrl+G what changed",
            id="history-input",
        )
        yield TimeChart(id="history-chart")
        yield DataTable(id="history-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.app.site.path is None:
            self._title(
                "History — no site config: run fixmap demo, or give --config PATH", "warning"
            )
            return
        request = self.initial or "what_changed window=24h baseline=7d"
        self.query_one(Input).value = request
        self.run_request(request)
        self.newest: float | None = None
        self._check_freshness()
        self.set_interval(1.0, self._show_freshness)
        self.set_interval(TICK_S, self._show_running, name="query-elapsed")

    def _show_running(self) -> None:
        """While a query runs: what it is and for how long (`… running q · 3.2 s`)."""
        if self.running:
            self._title(progress_text(self.doing, self.started, "Esc cancels"), "italic")

    # ------------------------------------------------------------ freshness

    def _check_freshness(self) -> None:
        """Ask the history for its newest sample in a worker; ask again after FRESHNESS_S."""
        site = self.app.site

        def work() -> None:
            from console.history import history_for

            try:
                ts = history_for(site, lock_timeout=2.0).newest_sample()
                newest = epoch(ts) if ts is not None else None
            except Exception:  # busy or missing: the label keeps what it knew, the poll goes on
                newest = self.newest
            self.post_message(Freshness(newest))

        self.run_worker(
            work,
            thread=True,
            group="history-freshness",
            exclusive=True,
            exit_on_error=False,
            description="newest sample",
        )

    def on_freshness(self, message: Freshness) -> None:
        self.newest = message.newest
        self._show_freshness()
        if self.is_attached:
            self.set_timer(FRESHNESS_S, self._check_freshness)

    def _show_freshness(self) -> None:
        from console.gates import age_text

        label = self.query_one("#history-freshness", Label)
        newest = getattr(self, "newest", None)
        if newest is None:
            label.update(Text("no samples yet", style="dim"))
            return
        age = time.time() - newest
        live = " · sampling" if self.app.sampling else ""
        stale = age > self.app.site.config.history.default_max_age()
        style = "bold yellow" if stale else "dim"
        label.update(Text(f"last sample {age_text(age)} ago{live}", style=style))

    # ------------------------------------------------------------ running

    def _title(self, text: str, style: str = "") -> None:
        self.query_one("#history-title", Label).update(Text(text, style=style))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.run_request(event.value)
        else:
            self.app.cannot("Enter: type a named query (Ctrl+N lists them) or SQL first.")

    def run_request(self, request: str) -> None:
        if self.app.site.path is None:
            self.app.cannot("History needs a site's history to ask. " + NO_SITE)
            return
        kind, what, params = parse_request(request)

        def ask(history: Any) -> QueryDone:
            if kind == "sql":
                result = history.sql(what)
            else:  # the gate measures' extra statement only for a step that judges them
                result = history.named(what, measures=self.on_result is not None, **params)
            chart = None
            if result.changes:
                top = result.changes[0]
                chart = history.sql(series_sql(top.service, top.metric, result.since, result.until))
            events = []
            if result.since is not None:
                events = history.events(result.since, result.until)
            return QueryDone(request, result, events, chart)

        self._ask(request, ask, f"… running {request}", "history query")

    def _ask(self, request: str, ask: Any, title: str, description: str) -> None:
        """Cancel what runs, then run `ask(history)` in a thread worker and post its answer (or
        QueryFailed); an answer counts only while its request is still the one running."""
        if self.running:
            self._cancel()
        self.running = request
        self.started = time.monotonic()
        self.doing = title
        self._show_running()
        site = self.app.site

        def work() -> None:
            from console.core import FixmapError
            from console.history import history_for

            try:
                if self.history is None:
                    self.history = history_for(site, query_timeout=QUERY_TIMEOUT_S)
                self.post_message(ask(self.history))
            except FixmapError as exc:
                self.post_message(QueryFailed(request, exc.render()))

        self.run_worker(
            work, thread=True, group="history", exit_on_error=False, description=description
        )

    def _cancel(self) -> None:
        if self.history is not None:
            self.history.interrupt()

    def on_query_failed(self, message: QueryFailed) -> None:
        if message.request != self.running:
            return  # a cancelled or superseded query
        self.running = None
        from console.core import redact

        self._title("✗ " + redact(message.error).replace("\n", " "), style("bad-text"))
        # the last answer must not pass for this query's (a failed chart leaves the change list)
        self.query_one(TimeChart).display = False
        if not message.request.startswith("chart "):
            self.query_one(DataTable).clear(columns=True)
            self.changes = None
            self.shown_result = None
            self._deliver(None, message.error)

    def on_query_done(self, message: QueryDone) -> None:
        if message.request != self.running:
            return  # a late answer to a query the engineer already replaced
        self.running = None
        self.last_request = message.request
        result = message.result
        summary = f"{result.title or message.request} · {len(result.rows)} rows · {result.elapsed_ms:.0f} ms"
        if result.truncated:
            summary += " (truncated)"
        if result.note:
            summary += f" · {result.note}"
        self._title(summary)
        self._chart(message.chart or result, message.events)
        # the clickable list is the table's own rows: one answer for both
        self.changes = result.changes
        self.range = (result.since, result.until)
        self.shown_result = result if result.rows else None
        self._table(result)
        self._deliver(result, None)
        self.app.timeline(lambda inc: inc.recorder.query(result))

    def on_series_charted(self, message: SeriesCharted) -> None:
        if message.request != self.running:
            return
        self.running = None
        chart = message.chart
        self._title(
            f"{message.request.removeprefix('chart ')} · {len(chart.rows)} buckets · "
            f"{chart.elapsed_ms:.0f} ms · Enter on another row charts it"
        )
        self._chart(chart, message.events)

    def _deliver(self, result: Any, error: str | None) -> None:
        """Give a walkthrough step the first answer to the query it asked for."""
        if self.on_result is not None and not self.delivered:
            self.delivered = True
            self.on_result(result, error)

    def on_unmount(self) -> None:
        self._cancel()
        self._deliver(None, "left before the query finished")

    def _chart(self, result: Any, events: list[Any]) -> None:
        chart = self.query_one(TimeChart)
        series = result.chart_series()
        if not series:
            chart.set_data(ChartData())
            chart.display = False
            return
        chart.display = True
        times = sorted({epoch(t) for _, ts, _ in series for t in ts})
        index = {t: i for i, t in enumerate(times)}
        data: dict[str, list[float | None]] = {}
        for label, ts, vs in series[:6]:
            line: list[float | None] = [None] * len(times)
            for t, v in zip(ts, vs, strict=False):
                line[index[epoch(t)]] = v
            data[label] = line
        marks = [(epoch(e.ts), e.kind) for e in events]
        # the axis runs to the query's end (now, unless it asked for another time)
        until = epoch(result.until) if result.until is not None else time.time()
        unit = result.unit or metric_unit(series[0][0].split()[-1])
        chart.set_data(ChartData(times=times, series=data, events=marks, unit=unit, until=until))

    def _table(self, result: Any) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        if result.changes is not None and not result.rows:
            table.add_column("what changed", key="empty")
            table.add_row("nothing left its baseline in this window; try a longer one (window=48h)")
            return
        for col in result.columns:
            table.add_column(col)  # no key: SQL may repeat a column name (select ts, ts …)
        units = column_units(result.columns, result.unit or "")
        mi = result.columns.index("metric") if "metric" in result.columns else None
        for row in result.rows[:MAX_TABLE_ROWS]:
            row_units = units
            if mi is not None:  # what changed, by metric: its values are in the metric's unit
                own = metric_unit(str(row[mi]))
                row_units = [
                    own if c in IN_METRIC_UNIT else u
                    for c, u in zip(result.columns, units, strict=True)
                ]
            # auto-width columns: nothing is cut but the long text _cell ends in '…' itself
            table.add_row(*[cell_text_of(v, u) for v, u in zip(row, row_units, strict=False)])

    def pane_text(self) -> tuple[str, str] | None:
        """The query, its summary line and its result table (every row shown, uncut)."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        title = cell_text(self.query_one("#history-title", Label).content)
        request = self.last_request or self.query_one(Input).value
        result = self.shown_result
        body = rows_text(result.columns, result.rows) if result is not None else table_text(table)
        return "history", f"{request}\n{title}\n\n{body}"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """On a what-changed row: chart that series over the query's range, with its events."""
        if not self.changes or event.cursor_row >= len(self.changes):
            self.app.cannot("Enter charts a row of a what-changed answer (Ctrl+G); not this one.")
            return
        change = self.changes[event.cursor_row]
        since, until = self.range
        request = f"chart {change.service} {change.metric}"

        def ask(history: Any) -> SeriesCharted:
            chart = history.sql(series_sql(change.service, change.metric, since, until))
            return SeriesCharted(request, chart, history.events(since, until))

        self._ask(request, ask, f"… charting {change.service} {change.metric}", "chart series")

    # ------------------------------------------------------------ actions

    def action_cancel_or_back(self) -> None:
        if self.running:
            self._cancel()
            self.running = None
            self._title("cancelled", "bold yellow")
            return
        self.app.pop_screen()

    def action_run_input(self) -> None:
        """Enter where the box does not take it (the box and the table have their own)."""
        request = self.query_one(Input).value
        if request.strip():
            self.run_request(request)

    def action_what_changed(self) -> None:
        request = "what_changed window=24h baseline=7d"
        self.query_one(Input).value = request
        self.run_request(request)

    def action_pick_named(self) -> None:
        from console.history import named_queries
        from screens.dialogs import PickDialog

        choices = []
        for q in named_queries():
            defaults = " ".join(f"{k}={v}" for k, v in q.params.items() if v not in (None, ""))
            choices.append((f"{q.name} {defaults}".strip(), f"{q.name} — {q.title}"))

        def chosen(request: str | None) -> None:
            if request:
                self.query_one(Input).value = request
                self.query_one(Input).focus()
                self.run_request(request)

        self.app.push_screen(PickDialog("Named queries", choices), chosen)
