"""The seed's 60-second ship checklist, ticked from the gate runs of this session where it can."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label, Static

from screens.theme import style
from screens.widgets import KeyFooter, SiteBar

MARK = {
    "ticked": ("[x]", style("good")),
    "open": ("[ ]", style("bad-text")),
    "unknown": ("[?]", style("warn")),
}


class ChecklistScreen(Screen):
    """Five lines to read before shipping; each says why it is ticked, open or unknown."""

    HELP = """
## 60-second ship checklist

The seed's five items. An item is **ticked** `[x]` when the gate runs of this session prove
it, **open** `[ ]` when a gate target behind it failed, and **unknown** `[?]` when nothing
measured it yet — run the readiness and canary gates (**F5**, then `1` / `2`) and come back.
**Esc** back.
"""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="checklist.back")]

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("60-second ship checklist", id="checklist-title")
        yield Static("", id="checklist-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        from console.exports import checklist_status

        runs = list(self.app.gate_runs.values())
        rows = checklist_status(self.app.site, runs or None)
        body = Text()
        for item, detail, status, why in rows:
            mark, tone = MARK.get(status, ("[?]", ""))
            body.append(f"{mark} ", style=tone)
            body.append(item, style="bold")
            body.append(f" — {detail}\n")
            body.append(f"    {why}\n\n", style="dim")
        if not runs:
            body.append(
                "No gate has run in this session: F5 runs the readiness gate.", style="italic"
            )
        self.query_one("#checklist-body", Static).update(body)
