"""Incident: the open incident's timeline, a note box, comms drafts, close and export."""

from __future__ import annotations

import queue
import threading
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, RichLog

from screens.theme import style
from screens.widgets import KeyFooter, SiteBar
from screens.widgets.kept import log_text

KIND_STYLE = {
    "opened": "bold",
    "closed": "bold",
    "note": "",
    "action": "bold cyan",
    "gate": "bold magenta",
    "probe": "cyan",
    "query": "blue",
    "route": "dim",
    "step": "dim",
    "comms": "bold yellow",
    "phase": "bold yellow",
}


class NoteInput(Input):
    """The note box: Enter takes the text and empties the box in one step, so keys typed
    right after Enter (a laggy SSH link delivers them in a burst) start the next note."""

    class Noted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    async def _on_key(self, event: events.Key) -> None:
        # Enter is taken here, in key order: as a binding it would run after the keys behind it
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text, self.value = self.value, ""
            if text.strip():
                self.post_message(self.Noted(text.strip()))
            return
        await super()._on_key(event)


class IncidentScreen(Screen):
    """Everything seen and done lands here with a time; the postmortem starts from it."""

    HELP = """
## Incident

The open incident: its timeline (routes opened, steps done, probe and gate verdicts,
queries, actions with their keys and outcomes, notes), its age, severity and comms phase,
and when the next public update is due (first ≤ 10 min, then every 15–20 min).

- Type a note and press **Enter** — it lands on the timeline with the time.
- **Ctrl+O** open an incident · **Ctrl+T** next comms phase · **Ctrl+R** a public update was posted
- **Ctrl+D** status-page drafts for every phase (no internal numbers in them)
- **Ctrl+E** export the postmortem draft (Markdown + JSON) into the data dir (the paths stay
  on screen above the footer)
- **Ctrl+X** close with a resolution · **Ctrl+S** save the timeline as a text file · **Esc** back
- With none open: the past incidents are listed; **Ctrl+U** reopens one with a reason.
  A note typed while none is open (another console closed it) is kept and goes onto the
  next incident opened or reopened.
"""

    BINDINGS = [
        Binding("enter", "add_note", "Add note", id="incident.note"),
        # priority: the note box would otherwise take ctrl+d / ctrl+e / ctrl+x as editing keys
        Binding("ctrl+o", "open_incident", "Open", id="incident.open", priority=True),
        Binding("ctrl+t", "next_phase", "Phase", id="incident.phase", priority=True),
        Binding("ctrl+r", "update_posted", "Posted", id="incident.posted", priority=True),
        Binding("ctrl+d", "drafts", "Drafts", id="incident.drafts", priority=True),
        Binding("ctrl+e", "export", "Export", id="incident.export", priority=True),
        Binding("ctrl+x", "close_incident", "Close", id="incident.close", priority=True),
        Binding("ctrl+u", "reopen_incident", "Reopen", id="incident.reopen", priority=True),
        Binding("escape", "app.pop_screen", "Back", id="incident.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.incident: Any = None
        self.past: list[Any] = []
        self.kept = 0
        self._writes: queue.Queue = queue.Queue()
        self._writes_lock = threading.Lock()
        self._draining = False

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("", id="incident-head")
        # min_width: RichLog renders at least 78 columns wide, then crops what the pane cannot show
        yield RichLog(
            id="timeline", wrap=True, markup=False, highlight=False, max_lines=5000, min_width=20
        )
        yield NoteInput(
            placeholder="note: what you see or decided (Enter adds it to the timeline)", id="note"
        )
        yield KeyFooter()

    def pane_text(self) -> tuple[str, str]:
        """The head and the timeline (or the past incidents), as on screen."""
        head = str(self.query_one("#incident-head", Label).content)
        return "incident", head + "\n\n" + log_text(self.query_one(RichLog))

    def on_mount(self) -> None:
        self.reload()
        self.query_one(Input).focus()
        self.set_interval(30, self._tick, name="incident-clock")

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        def work() -> None:
            from console.incident import current_incident

            inc = current_incident()
            due = None
            past: list[Any] = []
            if inc is not None:
                from console.exports import next_update_due

                due = next_update_due(inc)
            else:
                from console.incident import list_incidents, pending_notes

                past = [i for i in list_incidents() if not i.is_open][:20]
                self.kept = len(pending_notes())
            self.app.call_from_thread(self._show, inc, due, past)

        self.run_worker(
            work,
            thread=True,
            group="incident",
            exclusive=True,
            exit_on_error=False,
            description="read the incident",
        )

    def _tick(self) -> None:
        if self.incident is not None:
            self.reload()

    def _show(self, inc: Any, due: Any, past: list[Any] | None = None) -> None:
        self.incident = inc
        self.app.incident = inc
        self.refresh_bindings()
        self.past = past or []
        head = self.query_one("#incident-head", Label)
        log = self.query_one(RichLog)
        log.clear()
        if inc is None:
            head.update(
                Text(
                    "No incident open — Ctrl+O opens one"
                    + (" · Ctrl+U reopens a past one" if self.past else ""),
                    style="bold",
                )
            )
            if self.kept:
                log.write(Text(f"{self.kept} note(s) kept for the next incident", style="bold"))
            if self.past:
                log.write(Text("Past incidents, newest first:", style="bold"))
            for old in self.past:
                closed = (old.closed_at or "")[:16].replace("T", " ")
                line = Text(f"{old.id}  {old.severity}  closed {closed}  ", style="dim")
                line.append(old.title)
                if old.resolution:
                    line.append(f" — {old.resolution}", style="dim")
                log.write(line)
            self.app.refresh_bars()
            return
        text = Text()
        text.append(f" {inc.severity} ", style="bold reverse")
        text.append(f" {inc.id} · {inc.title} · open {inc.age_text()} · {inc.phase}")
        if due is not None:
            text.append(f"\n {due.text()}", style=style("bad-text") if due.overdue else "dim")
        head.update(text)
        for e in inc.events:
            line = Text(e.ts[11:19] + " ", style="dim")
            line.append(f"{e.kind:<7} ", style=KIND_STYLE.get(e.kind, ""))
            line.append(e.title)
            log.write(line)
        self.app.refresh_bars()

    # ------------------------------------------------------------ the note box

    def on_note_input_noted(self, event: NoteInput.Noted) -> None:
        event.stop()
        text = event.text

        def note(inc: Any) -> str:
            if inc.add_note(text, keep=True) is None:
                return (
                    "No incident is open (closed meanwhile?): the note is kept and goes onto "
                    "the next incident you open (Ctrl+O) or reopen (Ctrl+U)."
                )
            return "note added"

        self._do(note, "")

    def _do(self, call: Any, done: str) -> None:
        """Queue one incident write; one worker drains the queue, so notes land in typed order."""
        self._writes.put((call, done))
        with self._writes_lock:
            if self._draining:
                return
            self._draining = True

        def work() -> None:
            from console import incident
            from console.core import FixmapError

            while True:
                with self._writes_lock:
                    if self._writes.empty():
                        self._draining = False
                        break
                    job, message = self._writes.get()
                try:
                    said = job(incident)
                except FixmapError as exc:
                    self.app.call_from_thread(
                        self.notify, exc.render(), severity="error", timeout=10
                    )
                    continue
                text = said if isinstance(said, str) else message
                for extra in getattr(said, "notes", None) or []:
                    text += f"\n{extra}"
                self.app.call_from_thread(self.notify, text, timeout=3)
            self.app.call_from_thread(self.reload)

        self.run_worker(
            work,
            thread=True,
            group="incident-write",
            exit_on_error=False,
            description="update the incident",
        )

    # ------------------------------------------------------------ actions

    OPEN_ONLY = frozenset({"ctrl+t", "ctrl+r", "ctrl+d", "ctrl+e", "ctrl+x"})
    CLOSED_ONLY = frozenset({"ctrl+o", "ctrl+u"})

    def footer_hidden(self, binding: Binding) -> bool:
        """The footer shows what applies now (every key still answers, and F1 lists them)."""
        return binding.key in (self.CLOSED_ONLY if self.incident is not None else self.OPEN_ONLY)

    def action_add_note(self) -> None:
        """Enter outside the note box: into it (in the box, Enter adds the note)."""
        self.query_one(NoteInput).focus()

    def action_open_incident(self) -> None:
        from screens.dialogs import FormDialog

        if self.incident is not None:
            self.notify(
                f"{self.incident.id} is still open: close it first (Ctrl+X).", severity="warning"
            )
            return
        site = self.app.site
        service = site.default_service if site.path else ""
        fields = [
            ("title", "Title — what users see (e.g. answers cite old snippets)", ""),
            ("severity", "Severity — S1 (worst) … S4", "S2"),
            ("service", "Service (optional)", service or "", "optional"),
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if not values:
                return
            self._do(
                lambda inc: inc.open_incident(
                    values.get("title", ""),
                    values.get("severity"),
                    values.get("service"),
                    site=site,
                ),
                "incident opened",
            )

        self.app.push_screen(FormDialog("Open an incident", fields), chosen)

    def on_screen_resume(self) -> None:
        """Back from a walkthrough or a dialog: show what landed on the timeline meanwhile."""
        self.query_one(Input).focus()
        self.reload()

    def _none_open(self, what: str) -> bool:
        """True (and says so) when there is no open incident to `what`."""
        if self.incident is not None:
            return False
        self.notify(
            f"No incident is open to {what}: Ctrl+O opens one"
            + (", Ctrl+U reopens a past one." if self.past else "."),
            severity="warning",
            timeout=4,
        )
        return True

    def action_next_phase(self) -> None:
        if self._none_open("move to the next phase"):
            return
        order = ["investigating", "identified", "monitoring", "resolved"]
        current = self.incident.phase
        nxt = order[min(order.index(current) + 1, len(order) - 1)] if current in order else order[0]
        self._do(lambda inc: inc.set_phase(nxt), f"phase: {nxt}")

    def action_update_posted(self) -> None:
        if not self._none_open("mark an update posted"):
            self._do(
                lambda inc: inc.mark_update_posted(),
                "update recorded; the next one is timed from now",
            )

    def action_drafts(self) -> None:
        if self._none_open("draft status updates for"):
            return
        from console.exports import status_drafts
        from screens.dialogs import TextDialog

        rule = "-" * 40
        text = f"\n{rule}\n".join(d.text() for d in status_drafts(self.incident))
        self.app.push_screen(
            TextDialog("Status-page drafts (copy, edit, post)", text, name="status-drafts")
        )

    def action_export(self) -> None:
        inc = self.incident
        if self._none_open("export"):
            return
        site = self.app.site

        def work() -> None:
            from console.core import atomic_write, data_dir
            from console.exports import export_incident

            folder = data_dir() / "exports"
            md = folder / f"{inc.id}-postmortem.md"
            js = folder / f"{inc.id}.json"
            atomic_write(md, export_incident(inc.id, "md", site=site))
            atomic_write(js, export_incident(inc.id, "json", site=site))
            self.app.call_from_thread(
                self.app.kept_on, self, f"exported: postmortem draft {md} · timeline {js}", None
            )

        self.run_worker(
            work,
            thread=True,
            group="incident-export",
            exit_on_error=False,
            description="export the incident",
        )

    def action_close_incident(self) -> None:
        if self._none_open("close"):
            return
        from screens.dialogs import FormDialog

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            resolution = values.get("resolution", "")
            self._do(
                lambda inc: inc.close_incident(resolution, site=self.app.site),
                "incident closed",
            )

        self.app.push_screen(
            FormDialog(
                f"Close {self.incident.id}", [("resolution", "Resolution — what fixed it", "")]
            ),
            chosen,
        )

    def action_reopen_incident(self) -> None:
        from screens.dialogs import FormDialog

        if self.incident is not None:
            self.notify(f"{self.incident.id} is open: close it before reopening another.")
            return
        if not self.past:
            self.notify("No closed incident to reopen.", severity="warning", timeout=4)
            return
        site = self.app.site
        fields = [
            ("id", "Incident (newest closed one shown)", self.past[0].id),
            ("reason", "Reason — what came back", ""),
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if not values:
                return
            self._do(
                lambda inc: inc.reopen_incident(
                    values.get("id"), values.get("reason", ""), site=site
                ),
                "incident reopened",
            )

        self.app.push_screen(FormDialog("Reopen an incident", fields), chosen)
