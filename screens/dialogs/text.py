"""Read-only Markdown in a dialog (status drafts)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown


class TextDialog(ModalScreen[None]):
    """Read-only Markdown in a box (status drafts, an export's path)."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="text.close")]

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__()
        self.title_text = title
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(self.title_text, id="pick-title")
            with VerticalScroll():
                yield Markdown(self.markdown)
            yield Label("Esc closes", id="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)
