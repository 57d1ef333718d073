"""Triage's resume line: the walkthrough in progress, how far it got, and the keys to open it
(Ctrl+O) or start it over (Ctrl+N, after a yes). A mixin of TriageScreen, which owns the line's
place on the screen (`_box`) and the bindings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.widgets import Static


class ResumeLine:
    """Walkthroughs in progress, the latest change first (the line shows the first)."""

    resumable: list[Any]
    _box: Callable[[str, bool], Static | None]
    """TriageScreen's: the line's widget, mounted the first time it is shown."""

    def find_resumable(self) -> None:
        """In a worker: the walkthroughs in progress (from the progress store), newest first."""
        catalog = self.app.catalog
        if catalog is None:
            return
        store = self.app.progress

        def work() -> None:
            found = store.in_progress(list(catalog))
            self.app.call_from_thread(self._show_resumable, found)

        self.run_worker(
            work,
            thread=True,
            group="triage-resume",
            exclusive=True,
            exit_on_error=False,
            description="find walkthroughs in progress",
        )

    def _show_resumable(self, found: list[Any]) -> None:
        self.resumable = found
        box = self._box("resume", bool(found))
        if box is None:
            return
        box.set_class(not found, "-empty")
        if not found:
            box.update("")
            return
        playbook = self.app.catalog[found[0].playbook_id]
        done = found[0].counts(playbook)["done"]  # as the walkthrough's own heading counts
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"resume: {playbook.title} {done}/{len(playbook.steps)} done", style="bold")
        line.append(" · Ctrl+O opens it · Ctrl+N starts it over")
        if len(found) > 1:
            line.append(f" · {len(found) - 1} more in progress", style="dim")
        box.update(line)

    def action_resume(self) -> None:
        if not self.resumable:
            self.app.cannot("Ctrl+O: no walkthrough is in progress to resume.")
            return
        self.app.open_playbook(self.resumable[0].playbook_id)

    def action_start_over(self) -> None:
        if not self.resumable:
            self.app.cannot("Ctrl+N: no walkthrough is in progress to start over.")
            return
        from screens.dialogs import YesNoDialog

        playbook = self.app.catalog[self.resumable[0].playbook_id]
        settled = len(playbook.steps) - self.resumable[0].counts(playbook)["pending"]

        def answered(yes: bool | None) -> None:
            if yes:
                self._reset(playbook)

        self.app.push_screen(
            YesNoDialog(
                f"Start “{playbook.title}” over? Its {settled} settled step(s) and their "
                "results go back to pending, in every console on this data dir."
            ),
            answered,
        )

    def _reset(self, playbook: Any) -> None:
        app = self.app
        shared = app.progress_for(playbook)  # the walkthroughs on screen show it at once

        def work() -> None:
            app.progress.reset(playbook, shared)
            app.call_from_thread(app.notify, f"{playbook.title}: started over, every step pending")
            app.call_from_thread(self.find_resumable)

        self.run_worker(
            work,
            thread=True,
            group="triage-reset",
            exit_on_error=False,
            description="reset the walkthrough's progress",
        )

    def on_screen_resume(self) -> None:
        self.find_resumable()  # back from a walkthrough: its progress moved
