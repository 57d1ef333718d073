"""Read-only plain text in a dialog (status drafts): what is shown is what gets pasted."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from screens.widgets.kept import KeptLine


class TextDialog(ModalScreen[None]):
    """Plain text in a box (status drafts): no Markdown marks, so a copy is ready to post;
    `s` saves it as a file (the path shows in the box) and copies it with OSC 52."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="text.close"),
        # a dialog stops the app's keys: its own save
        Binding("s,ctrl+s", "app.save_pane", "Save", id="text.save"),
    ]

    def __init__(self, title: str, text: str, name: str = "text") -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.pane_name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(self.title_text, id="pick-title")
            with VerticalScroll():
                yield Static(self.text, markup=False, id="text-body")
            kept = KeptLine("")
            kept.display = False
            yield kept
            yield Label("s saves and copies · Esc closes", id="help-hint")

    def pane_text(self) -> tuple[str, str]:
        return self.pane_name, self.text

    def action_close(self) -> None:
        self.dismiss(None)
