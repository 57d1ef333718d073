"""Actions: the site's state changes, their guards and last outcomes, and the run log."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label, RichLog

from screens.feedback import NO_SITE
from screens.steps import ActionFlow, outcome_lines
from screens.theme import style
from screens.widgets import KeyFooter, SiteBar, cell
from screens.widgets.kept import log_text

RECENT = 8
"""Journal entries the run log starts with (j shows the journal whole)."""
LAST_STYLE = {
    "done": style("good"),
    "failed": style("bad-text"),
    "interrupted": style("bad"),
    "running": style("busy"),
    "refused": style("warn"),
}


class ActionsScreen(Screen):
    """Every state change goes through one confirm dialog; output streams into the log."""

    HELP = """
## Actions

The site's actions (rollback, freeze, read-only, flags…) with their last run from the
journal. **Enter** plans the selected action and opens the confirm dialog:

- the exact command or HTTP request (secrets shown as `{secret:NAME}`), its key and guards;
- destructive actions need the target's name typed; others a **y**;
- during a change freeze, actions that ship change need a written break-glass reason;
  rollback, freeze and read-only are never blocked by a freeze;
- the same key never runs twice: a second run reports the first outcome; after a relapse
  (what it was for failed again) or key_ttl, the plan gets a new key and says why, and
  **Ctrl+N** in the dialog runs an already-done action again under a new key (a written reason);
- afterwards fixmap re-checks what the action was for (the probes and gate targets failing
  when it was planned, and its verify probe): "done — still failing: rate_limit" is red;
- a command runs under its own supervisor: closing the console does not stop it, and its
  outcome reaches the journal.

`INTERRUPTED` means a run started and never recorded an outcome (a crash, a kill):
**check the target before retrying**. **j** shows the journal (newest at the bottom) · **s**
saves the run log as a text file · **Esc** back.
"""

    BINDINGS = [
        Binding("enter", "run_selected", "Run action", id="actions.run", priority=True),
        Binding("j", "show_journal", "Journal", id="actions.journal"),
        Binding("escape", "app.pop_screen", "Back", id="actions.back"),
    ]

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("Actions", id="actions-title")
        yield DataTable(id="action-table", cursor_type="row")
        yield RichLog(
            id="action-log", wrap=True, markup=False, highlight=False, max_lines=2000, min_width=20
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("action", key="name", width=14)
        table.add_column("kind", key="kind", width=12)
        table.add_column("", key="flags", width=5)
        table.add_column("last run", key="last", width=max(20, self.app.size.width - 42))
        if self.app.site.path is None:
            self.query_one("#actions-title", Label).update(
                "Actions — no site config: run fixmap demo, or give --config PATH"
            )
            return
        self.refresh_table()
        self._recent_journal()
        table.focus()

    def refresh_table(self) -> None:
        site = self.app.site

        def work() -> None:
            from console.actions import action_summaries

            summaries = action_summaries(site)
            self.app.call_from_thread(self._fill, summaries)

        self.run_worker(
            work,
            thread=True,
            group="actions-list",
            exclusive=True,
            exit_on_error=False,
            description="read the journal",
        )

    def _fill(self, summaries: list[Any]) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for s in summaries:
            flags = ("D" if s.destructive else "·") + ("S" if s.ships_change else "·")
            table.add_row(cell(s.name), cell(s.kind), flags, cell(_last(s.last)), key=s.name)
        if summaries:
            table.move_cursor(row=min(row, len(summaries) - 1))
        self.query_one("#actions-title", Label).update(
            f"Actions — {len(summaries)} · Enter plans and confirms · D destructive · S ships change"
        )

    def action_run_selected(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.app.cannot(
                "Enter: no action to plan. "
                + (NO_SITE if self.app.site.path is None else "The site config names none.")
            )
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        log = self.query_one(RichLog)
        log.write(Text(f"— {name}: planning…", style="bold"))

        def on_output(line: str) -> None:
            log.write(Text(line))

        def on_done(outcome: Any, error: str | None) -> None:
            if outcome is None:
                log.write(Text(f"— {name}: {error}", style="yellow"))
            else:
                fine = outcome.cli_exit == 0  # done, and what it was for passes now
                first = style("good") if fine else style("bad-text")
                for i, line in enumerate(outcome_lines(outcome)):
                    log.write(Text(line, style=first if i == 0 else ""))
                if outcome.kept_because:
                    warning = (
                        f"{name} RAN, but the journal could not take its outcome "
                        f"({outcome.kept_because}): it is kept in the run's reserved file, "
                        "which the journal reads"
                    )
                    log.write(Text(warning, style=style("bad")))
                    self.notify(warning, title="Journal", severity="error", timeout=30)
                self.notify(
                    outcome.reason or outcome_lines(outcome)[0],
                    title="Action",
                    severity="information" if fine else "error",
                )
            self.refresh_table()

        ActionFlow(self, name, on_output=on_output, on_done=on_done).start(ask=True)

    def pane_text(self) -> tuple[str, str] | None:
        """The run log: plans, output and outcomes as they were shown."""
        return "actions", log_text(self.query_one(RichLog))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_run_selected()

    def action_show_journal(self) -> None:
        from screens.journal import JournalScreen

        self.app.push_screen(JournalScreen())

    def _recent_journal(self) -> None:
        def work() -> None:
            from console.actions import describe, read_journal

            entries = list(reversed(read_journal(limit=RECENT)))  # the newest at the bottom
            self.app.call_from_thread(
                self._journal, [(e.status, describe(e), e.note) for e in entries]
            )

        self.run_worker(
            work,
            thread=True,
            group="journal",
            exclusive=True,
            exit_on_error=False,
            description="read the journal",
        )

    def _journal(self, rows: list[tuple[str, str, str]]) -> None:
        log = self.query_one(RichLog)
        log.write(
            Text(f"— journal, the last {RECENT} (newest at the bottom; j: all)", style="bold")
        )
        if not rows:
            log.write(Text("(empty: nothing has run from this machine)", style="dim"))
        for status, line, note in rows:
            log.write(Text(line, style=LAST_STYLE.get(status, "")))
            if status == "interrupted":
                log.write(Text(f"    {note}", style=style("bad-text")))


def _last(entry: Any) -> Text:
    if entry is None:
        return Text("never run here", style="dim")
    when = entry.started_at.replace("T", " ")[5:16]
    label = entry.status.upper() if entry.status == "interrupted" else entry.status
    text = Text(f"{label} ", style=LAST_STYLE.get(entry.status, ""))
    text.append(f"{when} by {entry.who}", style="dim")
    if entry.status == "interrupted":
        text.append(" — check the target", style=style("bad-text"))
    return text
