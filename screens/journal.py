"""Journal: every action run from this machine, oldest at the top, the newest in view."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, RichLog

from screens.widgets import SiteBar
from screens.widgets.kept import log_text

JOURNAL_POLL_S = 3.0
"""How often the screen looks at the journal file's size and time (another console, `fixmap
act` in a shell, a supervisor finishing a run all append to it)."""
SHOWN = 500
"""The newest entries shown (`fixmap journal --json` has every one)."""
STYLE = {
    "done": "bold green",
    "failed": "bold red",
    "interrupted": "bold red reverse",
    "running": "italic",
    "refused": "yellow",
}


class JournalRead(Message):
    def __init__(self, stamp: Any, rows: list[tuple[str, str, str]], total: int) -> None:
        super().__init__()
        self.stamp = stamp
        self.rows = rows
        self.total = total


class JournalUnchanged(Message):
    """The poll found the file as it was."""


class JournalScreen(Screen):
    """The journal, refreshed when the file changes; opens scrolled to the newest entry."""

    HELP = """
## Journal

Every action run from this machine, oldest at the top, **the newest at the bottom** (the
screen opens there). An entry says when, which action, its outcome, exit code or HTTP status,
its key and who ran it. `INTERRUPTED` means a run started and never recorded an outcome:
**check the target before retrying**.

The screen re-reads the journal when it changes (another console, `fixmap act` in a shell,
a run finishing under its supervisor), within a few seconds.

- **s** saves the journal as a text file (the path shows above the footer) and copies it
- **Esc** back
"""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="journal.back")]

    def __init__(self) -> None:
        super().__init__()
        self.stamp: Any = None
        """(size, mtime) of the journal file as last read."""
        self.total = 0
        self._timer: Any = None

    def compose(self) -> ComposeResult:
        yield SiteBar()
        yield Label("Journal", id="journal-title")
        yield RichLog(id="journal-log", wrap=True, markup=False, highlight=False, max_lines=5000)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RichLog).focus()

    def on_screen_resume(self) -> None:
        # shown (first, or back from another screen: an action may have run): read it now
        self._poll(force=True)

    def pane_text(self) -> tuple[str, str]:
        return "journal", log_text(self.query_one(RichLog))

    def _poll(self, force: bool = False) -> None:
        """In a worker: the file's size and time; read it again only when they changed. The
        next poll is armed when this one is done, so polls never pile up."""
        known = None if force else self.stamp

        def work() -> None:
            from console.actions import describe, journal

            path = journal.journal_path()
            try:
                info = path.stat()
                stamp: Any = (info.st_size, info.st_mtime_ns)
            except OSError:
                stamp = None
            if stamp == known and not force:
                self.post_message(JournalUnchanged())
                return
            entries = journal.entries()  # oldest first
            rows = [(e.status, describe(e), e.note or "") for e in entries[-SHOWN:]]
            self.post_message(JournalRead(stamp, rows, len(entries)))

        self.run_worker(
            work,
            thread=True,
            group="journal-poll",
            exclusive=True,
            exit_on_error=False,
            description="read the journal",
        )

    def on_journal_unchanged(self, message: JournalUnchanged) -> None:
        self._rearm()

    def on_journal_read(self, message: JournalRead) -> None:
        self.stamp = message.stamp
        self.total = message.total
        log = self.query_one(RichLog)
        log.clear()
        if not message.rows:
            log.write(Text("(empty: nothing has run from this machine)", style="dim"))
        for status, line, note in message.rows:
            log.write(Text(line, style=STYLE.get(status, "")))
            if status == "interrupted" and note:
                log.write(Text(f"    {note}", style="bold red"))
        self.call_after_refresh(log.scroll_end, animate=False)  # once the lines are laid out
        shown = len(message.rows)
        more = f" (the newest {shown})" if message.total > shown else ""
        self.query_one("#journal-title", Label).update(
            f"Journal — {message.total} entries{more} · newest at the bottom · s saves · Esc back"
        )
        self._rearm()

    def _rearm(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self.is_attached:
            self._timer = self.set_timer(JOURNAL_POLL_S, self._poll, name="journal-poll")
