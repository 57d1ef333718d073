"""Gates: is it safe to ship? Every target, its value, threshold and reason; the verdict on top."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from console.core import condition_text
from screens.feedback import NO_SITE
from screens.theme import status_text, style, verdict_badge
from screens.widgets import KeyFooter, SiteBar, cell
from screens.widgets.kept import cell_text, table_text
from screens.widgets.progress import TICK_S, count_text, progress_text

NAME_WIDTH = 13
MAX_NAME_WIDTH = 24


class GateDone(Message):
    def __init__(self, run: Any, error: str | None, token: int = 0) -> None:
        super().__init__()
        self.run = run
        self.error = error
        self.token = token


class GateProgress(Message):
    """How far a run got: probes finished, targets judged (of the set's total)."""

    def __init__(self, token: int, probes: int, targets: int, total: int) -> None:
        super().__init__()
        self.token = token
        self.probes = probes
        self.targets = targets
        self.total = total


class GateMeasured(Message):
    """One measurement of a watched run: the target's result so far."""

    bubble = False

    def __init__(self, token: int, name: str, measurement: dict, result: Any) -> None:
        super().__init__()
        self.token = token
        self.name = name
        self.measurement = measurement
        self.result = result


def verdict_text(run: Any) -> Text:
    text = verdict_badge(run.verdict)
    text.append(f"  {run.set} · {run.summary()}")
    return text


class GateScreen(Screen):
    """Run a gate set in a worker; the verdict goes on top, one row per target below."""

    HELP = """
## Gates

**go / no-go** on the seed's acceptance targets, judged the same way `fixmap gate` does in a
deploy pipeline:

- `1` **readiness** (the six targets: ΔS on 3 paraphrases, coverage, λ on 2 seeds,
  idempotency, index hash + counts, p95 in budget)
- `2` **canary** graduation and `3` **hard stop** (drift against a baseline window)
- `4` **recovery** exit after a rollback

Any **FAIL** → no-go. A target that could not be judged (`? incon.`: no data, NaN, data
older than its `max_age`; `! error`: the probe or query broke) makes the verdict
*inconclusive*, never a silent go. Each target says how old its newest data point is.

**w** watches the set: measurements repeat at each target's interval, `count` times, with its
failure, inconclusive and error limits (as Argo Rollouts' analysis), until every target has a
verdict, one fails, or 10 minutes pass; each measurement shows as it comes. **Esc** stops a watch.
**Enter** or **r** re-runs · **c** the 60-second ship checklist · **s** saves the verdict and
the targets as a text file (the path shows above the footer) · **Esc** back. A running set
counts probes done and targets judged (`2/7 targets`) with its seconds.
"""

    BINDINGS = [
        Binding("enter", "rerun", "Re-run", id="gates.enter"),
        Binding("r", "rerun", "Re-run", show=False, id="gates.rerun"),
        Binding("w", "watch", "Watch", id="gates.watch"),
        Binding("1", "run('readiness')", "Readiness", id="gates.readiness"),
        Binding("2", "run('canary')", "Canary", id="gates.canary"),
        Binding("3", "run('hard_stop')", "Hard stop", id="gates.hard_stop"),
        Binding("4", "run('recovery')", "Recovery", id="gates.recovery"),
        Binding("c", "checklist", "Checklist", id="gates.checklist"),
        Binding("escape", "stop_or_back", "Stop/Back", id="gates.back"),
    ]

    WATCH_TIMEOUT_S = 600.0

    def __init__(self, set_name: str = "readiness") -> None:
        super().__init__()
        self.set_name = set_name
        self.running: str | None = None
        self.shown: Any = None
        """The run whose targets are in the table (a newer one may be running)."""
        self.token = 0
        """The run whose answers count: a late answer of an older run is dropped."""
        self.stop_watch: Any = None
        """Set to end the watched run in flight."""
        self.measured: dict[str, Any] = {}
        """A watched run's results so far, by target."""
        self.name_width = NAME_WIDTH
        self.started = 0.0
        self.doing = ""
        """What the running line says before its counts and elapsed time."""
        self.counts = (0, 0, 0)
        """(probes finished, targets judged, targets in the set) of the run in flight."""

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("", id="gate-verdict")
        yield DataTable(id="gate-table", cursor_type="row")
        yield Static("", id="gate-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self._columns(table, NAME_WIDTH)
        if self.app.site.path is None:
            self.query_one("#gate-verdict", Label).update(
                "Gates need a site: run fixmap demo, or give --config PATH"
            )
            return
        self.set_interval(TICK_S, self._show_running, name="gate-progress")
        last = self.app.gate_runs.get(self.set_name)
        if last is not None:
            self._show(last)
        self.action_run(self.set_name)
        table.focus()

    def _columns(self, table: DataTable, name_width: int) -> None:
        """The table's columns; the reason takes what the others leave of the width."""
        table.clear(columns=True)
        table.add_column("target", key="name", width=name_width)
        table.add_column("status", key="status", width=8)
        table.add_column("value", key="value", width=9)
        table.add_column("threshold", key="threshold", width=16)
        self.table_width = self.app.size.width
        rest = self.table_width - name_width - 8 - 9 - 16 - 12
        table.add_column("reason", key="reason", width=max(20, rest))
        self.name_width = name_width

    def on_resize(self) -> None:
        """The terminal changed size: the reason column follows it."""
        if getattr(self, "table_width", None) not in (None, self.app.size.width):
            self._columns(self.query_one(DataTable), self.name_width)
            if self.shown is not None:
                self._show(self.shown)

    def _fit_names(self, names: list[str]) -> None:
        """Widen the target column to the longest name (to a point; past it, '…')."""
        want = min(max([NAME_WIDTH, *(len(n) for n in names)]), MAX_NAME_WIDTH)
        if want != self.name_width:
            self._columns(self.query_one(DataTable), want)

    def action_run(self, name: str, watch: bool = False) -> None:
        if self.app.site.path is None:
            self.app.cannot("Gates need a site to measure. " + NO_SITE)
            return
        if self.running:
            self.notify(f"{self.running} is still running", timeout=2)
            return
        self.set_name = name
        self.running = name
        self.token += 1
        token = self.token
        doing = "watching" if watch else "running"
        self.started = time.monotonic()
        self.doing = f" … {doing} the {name} gate set"
        self.counts = (0, 0, 0)
        self._show_running()
        site = self.app.site
        import threading

        stop = threading.Event()
        self.stop_watch = stop if watch else None
        self.measured = {}
        if watch and (self.shown is None or self.shown.set != name):
            self.query_one(DataTable).clear()
            self.shown = None

        def measured(tname: str, m: dict, so_far: Any) -> None:
            self.post_message(GateMeasured(token, tname, m, so_far))

        probes_done = [0]

        def probed(result: Any) -> None:
            probes_done[0] += 1
            self.post_message(GateProgress(token, probes_done[0], 0, 0))

        def judged(result: Any, done: int, total: int) -> None:
            self.post_message(GateProgress(token, probes_done[0], done, total))

        def work() -> None:
            from console.core import FixmapError
            from console.gates import run_gate_set, watch_gate_set

            try:
                if watch:
                    run = watch_gate_set(
                        site, name, timeout=self.WATCH_TIMEOUT_S, on_measurement=measured, stop=stop
                    )
                else:
                    run = run_gate_set(site, name, on_probe=probed, on_target=judged)
            except FixmapError as exc:
                self.post_message(GateDone(None, exc.render(), token))
                return
            self.post_message(GateDone(run, None, token))

        self.run_worker(
            work,
            thread=True,
            group="gates",
            exclusive=True,
            exit_on_error=False,
            description=f"gate set {name}",
        )

    def action_rerun(self) -> None:
        self.action_run(self.set_name)

    def action_watch(self) -> None:
        self.action_run(self.set_name, watch=True)

    def action_stop_or_back(self) -> None:
        if self.stop_watch is not None and self.running:
            self.stop_watch.set()
            self.notify("stopping the watch after the measurement in flight", timeout=2)
            return
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self.stop_watch is not None:
            self.stop_watch.set()

    def _show_running(self) -> None:
        """The running line: what runs, how far it got, for how long (ticked while it runs)."""
        if not self.running:
            return
        probes, targets, total = self.counts
        self.query_one("#gate-verdict", Label).update(
            Text(
                progress_text(
                    self.doing,
                    self.started,
                    count_text(probes, None, "probes done") if probes else "",
                    count_text(targets, total, "targets") if total else "",
                )
                + ("" if self.stop_watch is None else " · Esc stops"),
                style="italic",
            )
        )

    def on_gate_progress(self, message: GateProgress) -> None:
        if message.token != self.token:
            return
        _, targets, total = self.counts
        self.counts = (message.probes, message.targets or targets, message.total or total)
        self._show_running()

    def on_gate_measured(self, message: GateMeasured) -> None:
        if message.token != self.token:
            return  # a measurement of a run that was replaced
        self.measured[message.name] = message.result
        m = message.measurement
        r = message.result
        table = self.query_one(DataTable)
        reason = f"#{m['n']} {m['status']}: {m['reason']}"
        if message.name in table.rows:
            table.update_cell(message.name, "status", status_text(r.status))
            table.update_cell(message.name, "value", cell(r.value_text()))
            table.update_cell(message.name, "reason", cell(reason))
        else:
            table.add_row(
                cell(r.name + (" (dry)" if r.dry_run else "")),
                status_text(r.status),
                cell(r.value_text()),
                cell(condition_text(r.threshold, r.unit) if r.threshold else "—"),
                cell(reason),
                key=message.name,
            )
        self.doing = f" … watching {self.running}: {message.name} measured ({m['n']})"
        self._show_running()
        self._detail()

    def on_gate_done(self, message: GateDone) -> None:
        if message.token != self.token:
            return  # a late answer of a run that was replaced
        self.running = None
        self.stop_watch = None
        if message.error is not None:
            from console.core import redact

            self.query_one("#gate-verdict", Label).update(
                Text(f"✗ {redact(message.error)}", style=style("bad-text"))
            )
            return
        self.app.gate_runs[message.run.set] = message.run
        self._show(message.run)

    def _show(self, run: Any) -> None:
        self.shown = run
        self.query_one("#gate-verdict", Label).update(verdict_text(run))
        self._fit_names([t.name + (" (dry)" if t.dry_run else "") for t in run.targets])
        table = self.query_one(DataTable)
        table.clear()
        for t in run.targets:
            name = cell(t.name + (" (dry)" if t.dry_run else ""))
            table.add_row(
                name,
                status_text(t.status),
                cell(t.value_text()),
                cell(condition_text(t.threshold, t.unit) if t.threshold else "—"),
                cell(t.reason),
                key=t.name,
            )
        self._detail()

    def _detail(self) -> None:
        run = self.shown
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        shown = run.targets if run is not None else []
        t = self.measured.get(name) or next((t for t in shown if t.name == name), None)
        if t is None:
            return
        age = f" · newest {t.age_text()}" if t.age_s is not None else ""
        lines = [
            f"{t.label or t.name}: {t.status} — {t.reason}",
            f"  source: {t.source} · samples: {t.samples}{age}",
        ]
        if t.counts:
            lines.append("  " + "  ".join(f"{k}={v}" for k, v in t.counts.items() if v))
        for m in t.measurements[-4:]:
            lines.append(f"  #{m['n']} {m['at'][11:19]} {m['status']}: {m['reason']}")
        for note in run.notes if run is not None else []:
            lines.append(f"  note: {note}")
        self.query_one("#gate-detail", Static).update("\n".join(lines))

    def pane_text(self) -> tuple[str, str] | None:
        """The verdict, every target's row, and the selected target's detail."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        verdict = cell_text(self.query_one("#gate-verdict", Label).content)
        detail = str(self.query_one("#gate-detail", Static).content)
        return f"gates-{self.set_name}", f"{verdict}\n\n{table_text(table)}\n\n{detail}"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_rerun()

    def action_checklist(self) -> None:
        from screens.checklist import ChecklistScreen

        self.app.push_screen(ChecklistScreen())
