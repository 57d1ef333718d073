"""A yes / no question for a change to the console's own records (a walkthrough's progress)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class YesNoDialog(ModalScreen[bool]):
    """`y` says yes; Esc or `n` says no and changes nothing."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="yes_no.yes"),
        Binding("escape,n", "answer(False)", "No", id="yes_no.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield Label(self.question, id="pick-title")
            yield Label("y yes · Esc or n: no, nothing changes", id="pick-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
