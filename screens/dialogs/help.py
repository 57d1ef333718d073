"""F1 help: the current screen's HELP text, every key it has."""

from __future__ import annotations

from textwrap import dedent

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown


class HelpScreen(ModalScreen[None]):
    """F1: the current screen's HELP and its keys."""

    BINDINGS = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        help_text = dedent(
            getattr(self.for_screen, "HELP", None) or "No help for this screen."
        ).strip()
        keys = []
        for binding in [*self.for_screen.BINDINGS, *self.app.BINDINGS]:
            if isinstance(binding, Binding) and binding.description:
                keys.append(f"| `{self.app.get_key_display(binding)}` | {binding.description} |")
        if keys:
            help_text += "\n\n| key | does |\n| --- | --- |\n" + "\n".join(keys)
        with Vertical(id="help-box"):
            with VerticalScroll():
                yield Markdown(help_text)
            yield Label("Esc or F1 closes", id="help-hint")

    def action_dismiss(self) -> None:
        self.dismiss(None)
