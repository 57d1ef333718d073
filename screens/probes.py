"""Probes: every configured probe, its last verdict, run one or all, watch them land."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from screens.feedback import NO_SITE
from screens.theme import status_text
from screens.widgets import KeyFooter, SiteBar, cell
from screens.widgets.kept import table_text
from screens.widgets.progress import TICK_S, count_text, progress_text


class ProbeStarted(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ProbeFinished(Message):
    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class ProbeBatchDone(Message):
    """A batch ended (also after an error): none of its probes may stay 'running'."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names


class ProbesScreen(Screen):
    """Run the site's probes; the console stays live while they wait on slow targets."""

    HELP = """
## Probes

Every probe in the site config with its last verdict:
`✓ pass` · `✗ FAIL` (the value is bad; for health, latency and rate-limit probes also: the
target did not answer) · `! error` (could not measure: reads refused, throttled, reset or timed
out, an answer that is not JSON, a path that leads nowhere, a missing secret; gates count it as
inconclusive, never as a pass) · `? incon.` (not enough data to judge).

- **Enter** runs the selected probe · **a** runs them all (concurrently)
- Results land as each probe finishes; a hung target costs its request timeout, at most the
  probe's deadline, never the console.
- `fixmap doctor` (in a shell) says which probes the playbooks and gates need and how to add
  them.
- The pane below shows what the selected probe measured and the embedder behind any ΔS.
- **s** saves the detail and the table as a text file (its path shows above the footer) and
  copies them (OSC 52).
- **Esc** back.
"""

    BINDINGS = [
        Binding("enter", "run_selected", "Run probe", id="probes.run", priority=True),
        Binding("a", "run_all", "Run all", id="probes.all"),
        Binding("escape", "app.pop_screen", "Back", id="probes.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[str, Any] = {}
        self.running: set[str] = set()
        self.sweep = [0.0, 0, 0]
        """[started (monotonic), probes finished, probes asked] of the work in flight."""
        self.title = ""

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("Probes", id="probes-title")
        yield DataTable(id="probe-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="probe-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        site = self.app.site
        if site.path is None:
            self._fill(table)
            self.query_one("#probes-title", Label).update(
                "Probes — no site config: run fixmap demo, or give --config PATH"
            )
            return
        self._fill(table)
        self.title = f"Probes — {len(site.config.probes)} configured · Enter runs one · a runs all"
        self.query_one("#probes-title", Label).update(self.title)
        self.set_interval(TICK_S, self._show_sweep, name="probe-progress")
        self._load_last()
        table.focus()

    def _fill(self, table: DataTable) -> None:
        """Columns for this width (the reason takes the rest) and a row a probe, as last seen."""
        row = table.cursor_row
        table.clear(columns=True)
        self.table_width = self.app.size.width
        table.add_column("probe", key="name", width=14)
        table.add_column("status", key="status", width=9)
        table.add_column("value", key="value", width=10)
        table.add_column("reason", key="reason", width=max(20, self.table_width - 44))
        if self.app.site.path is None:
            return
        for name, spec in self.app.site.config.probes.items():
            table.add_row(
                cell(name), status_text("never"), "", cell(f"{spec.kind} probe"), key=name
            )
        for result in list(self.results.values()):
            self._show(result)
        for name in self.running:
            table.update_cell(name, "status", status_text("running"))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def on_resize(self) -> None:
        """The terminal changed size: the reason column follows it."""
        table = self.query_one(DataTable)
        if getattr(self, "table_width", None) not in (None, self.app.size.width):
            self._fill(table)

    def _load_last(self) -> None:
        from console.probes import ProbeResult, read_runs

        last: dict[str, Any] = {}
        for row in read_runs(limit=500):
            if row.get("name") in self.app.site.config.probes:
                result = ProbeResult.from_dict(row)
                if result is not None:
                    last[row["name"]] = result
        for result in last.values():
            self._show(result)

    def _show(self, result: Any) -> None:
        self.results[result.name] = result
        table = self.query_one(DataTable)
        if result.name not in table.rows:
            return
        table.update_cell(result.name, "status", status_text(result.status))
        table.update_cell(result.name, "value", cell(result.value_text()))
        table.update_cell(result.name, "reason", cell(result.reason))
        self._detail()

    def _detail(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        result = self.results.get(name)
        detail = self.query_one("#probe-detail", Static)
        if name in self.running:
            detail.update(f"{name}: running…")
        elif result is None:
            spec = self.app.site.config.probes.get(name)
            detail.update(
                f"{name}: never run here ({spec.kind if spec else '?'} probe). Enter runs it."
            )
        else:
            detail.update("\n".join(result.lines()))

    def pane_text(self) -> tuple[str, str] | None:
        """The selected probe's detail, then every probe's row."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        detail = str(self.query_one("#probe-detail", Static).content)
        return "probes", detail + "\n\n" + table_text(table)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_run_selected()

    # ------------------------------------------------------------ running

    def action_run_selected(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.app.cannot(
                "Enter: no probe to run. "
                + (NO_SITE if self.app.site.path is None else "The site config names none.")
            )
            return
        if table.row_count:
            self.run_probes([table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value])

    def action_run_all(self) -> None:
        if self.app.site.path is None:
            self.app.cannot("a: no probes to run. " + NO_SITE)
        elif not self.app.site.config.probes:
            self.app.cannot("a: the site config names no probes ([probes.NAME] tables).")
        else:
            self.run_probes(list(self.app.site.config.probes))

    def run_probes(self, names: list[str]) -> None:
        names = [n for n in names if n not in self.running]
        if not names:
            self.notify("Already running.", timeout=2)
            return
        if not self.running:
            self.sweep = [time.monotonic(), 0, 0]
        self.sweep[2] += len(names)
        for name in names:
            self.running.add(name)
            self.query_one(DataTable).update_cell(name, "status", status_text("running"))
        self._detail()
        site = self.app.site

        def work() -> None:
            from console.probes import run_probes_sync

            try:
                results = run_probes_sync(
                    site,
                    names,
                    on_result=lambda r: self.post_message(ProbeFinished(r)),
                    on_start=lambda n: self.post_message(ProbeStarted(n)),
                )
            finally:
                self.post_message(ProbeBatchDone(names))
            from console.incident import recorder

            for problem in recorder.probes(site, results, context="probes screen"):
                self.app.call_from_thread(self.notify, problem, severity="warning")

        self.run_worker(
            work, thread=True, group="probes", exit_on_error=False, description="run probes"
        )

    def _show_sweep(self) -> None:
        """While probes run: how many finished of how many, and for how long."""
        started, done, asked = self.sweep
        if not self.running or not asked:
            return
        line = progress_text("… running", started, count_text(done, asked, "probes done"))
        self.query_one("#probes-title", Label).update(Text(line, style="italic"))

    def _sweep_over(self) -> None:
        started, done, asked = self.sweep
        if asked:
            took = time.monotonic() - started
            self.query_one("#probes-title", Label).update(
                f"{self.title} · last: {done}/{asked} in {took:.1f} s"
            )
        self.sweep = [0.0, 0, 0]

    def on_probe_started(self, message: ProbeStarted) -> None:
        self.running.add(message.name)

    def on_probe_batch_done(self, message: ProbeBatchDone) -> None:
        table = self.query_one(DataTable)
        for name in message.names:
            if name in self.running:
                self.running.discard(name)
                previous = self.results.get(name)
                table.update_cell(
                    name, "status", status_text(previous.status if previous else "never")
                )
        if not self.running:
            self._sweep_over()
        self._detail()

    def on_probe_finished(self, message: ProbeFinished) -> None:
        result = message.result
        self.running.discard(result.name)
        self.sweep[1] += 1
        self._show(result)
        self._show_sweep()
        if hasattr(self.app, "record_probe"):
            self.app.record_probe(result)
