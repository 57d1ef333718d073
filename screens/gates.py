"""Gates: is it safe to ship? Every target, its value, threshold and reason; the verdict on top."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from screens.widgets import SiteBar

VERDICT_STYLE = {
    "go": "bold green reverse",
    "no-go": "bold red reverse",
    "inconclusive": "bold yellow reverse",
}
STATUS = {
    "pass": ("✓ pass", "bold green"),
    "fail": ("✗ FAIL", "bold red reverse"),
    "error": ("! error", "bold magenta"),
    "inconclusive": ("? incon.", "bold yellow"),
}


class GateDone(Message):
    def __init__(self, run: Any, error: str | None) -> None:
        super().__init__()
        self.run = run
        self.error = error


def verdict_text(run: Any) -> Text:
    text = Text()
    text.append(f" {run.verdict.upper()} ", style=VERDICT_STYLE.get(run.verdict, "bold"))
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

Any **FAIL** → no-go. A target that could not be judged (`? incon.`: no data, NaN;
`! error`: the probe or query broke) makes the verdict *inconclusive*, never a silent go.
**Enter** or **r** re-runs · **c** the 60-second ship checklist · **Esc** back.
"""

    BINDINGS = [
        Binding("1", "run('readiness')", "Readiness", id="gates.readiness"),
        Binding("2", "run('canary')", "Canary", id="gates.canary"),
        Binding("3", "run('hard_stop')", "Hard stop", id="gates.hard_stop"),
        Binding("4", "run('recovery')", "Recovery", id="gates.recovery"),
        Binding("r", "rerun", "Re-run", id="gates.rerun"),
        Binding("c", "checklist", "Checklist", id="gates.checklist"),
        Binding("escape", "app.pop_screen", "Back", id="gates.back"),
    ]

    def __init__(self, set_name: str = "readiness") -> None:
        super().__init__()
        self.set_name = set_name
        self.running: str | None = None
        self.shown: Any = None
        """The run whose targets are in the table (a newer one may be running)."""

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("", id="gate-verdict")
        yield DataTable(id="gate-table", cursor_type="row")
        yield Static("", id="gate-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("target", key="name", width=13)
        table.add_column("status", key="status", width=8)
        table.add_column("value", key="value", width=9)
        table.add_column("threshold", key="threshold", width=16)
        table.add_column("reason", key="reason", width=max(20, self.app.size.width - 58))
        if self.app.site.path is None:
            self.query_one("#gate-verdict", Label).update(
                "Gates need a site: run fixmap demo, or give --config PATH"
            )
            return
        last = self.app.gate_runs.get(self.set_name)
        if last is not None:
            self._show(last)
        self.action_run(self.set_name)
        table.focus()

    def action_run(self, name: str) -> None:
        if self.app.site.path is None:
            return
        if self.running:
            self.notify(f"{self.running} is still running", timeout=2)
            return
        self.set_name = name
        self.running = name
        self.query_one("#gate-verdict", Label).update(
            Text(f" … running the {name} gate set (probes and history queries)", style="italic")
        )
        site = self.app.site

        def work() -> None:
            from console.core import FixmapError
            from console.gates import run_gate_set

            try:
                run = run_gate_set(site, name)
            except FixmapError as exc:
                self.post_message(GateDone(None, exc.render()))
                return
            self.post_message(GateDone(run, None))

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

    def on_gate_done(self, message: GateDone) -> None:
        self.running = None
        if message.error is not None:
            from console.core import redact

            self.query_one("#gate-verdict", Label).update(
                Text(f"✗ {redact(message.error)}", style="bold red")
            )
            return
        self.app.gate_runs[message.run.set] = message.run
        self._show(message.run)

    def _show(self, run: Any) -> None:
        self.shown = run
        self.query_one("#gate-verdict", Label).update(verdict_text(run))
        table = self.query_one(DataTable)
        table.clear()
        for t in run.targets:
            label, style = STATUS.get(t.status, (t.status, ""))
            name = Text(t.name + (" (dry)" if t.dry_run else ""))
            table.add_row(
                name,
                Text(label, style=style),
                t.value_text(),
                t.threshold or "—",
                t.reason,
                key=t.name,
            )
        self._detail()

    def _detail(self) -> None:
        run = self.shown
        table = self.query_one(DataTable)
        if run is None or not table.row_count:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        t = next((t for t in run.targets if t.name == name), None)
        if t is None:
            return
        lines = [
            f"{t.label or t.name}: {t.status} — {t.reason}",
            f"  source: {t.source} · samples: {t.samples}",
        ]
        if t.counts:
            lines.append("  " + "  ".join(f"{k}={v}" for k, v in t.counts.items() if v))
        for note in run.notes:
            lines.append(f"  note: {note}")
        self.query_one("#gate-detail", Static).update("\n".join(lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_rerun()

    def action_checklist(self) -> None:
        from screens.checklist import ChecklistScreen

        self.app.push_screen(ChecklistScreen())
