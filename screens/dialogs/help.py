"""F1 help: the current screen's HELP text, every key it has."""

from __future__ import annotations

from textwrap import dedent

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown


def screen_keys(screen: Screen) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every key of the screen, shown in its footer or not: (the screen's own, the app's
    F-keys and Ctrl+Q and the command palette; then the focused widget's), each key once."""
    app = screen.app
    rows: list[tuple[str, str]] = []
    widget_rows: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(binding: Binding, into: list[tuple[str, str]]) -> None:
        if binding.description and binding.key not in seen:
            seen.add(binding.key)
            into.append((app.get_key_display(binding), binding.description))

    for binding in screen.BINDINGS:
        if isinstance(binding, Binding):
            add(binding, rows)
    for binding in app.BINDINGS:
        if isinstance(binding, Binding):
            add(binding, rows)
    if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING not in seen:
        seen.add(app.COMMAND_PALETTE_BINDING)
        rows.append((app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "")), "Commands"))
    for entry in screen.active_bindings.values():
        if entry.node is not app and entry.node is not screen:
            add(entry.binding, widget_rows)
    return rows, widget_rows


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
        ours, widgets = screen_keys(self.for_screen)
        for title, rows in (("key", ours), ("in the focused box or list", widgets)):
            if rows:
                lines = "\n".join(f"| `{key}` | {does} |" for key, does in rows)
                help_text += f"\n\n| {title} | does |\n| --- | --- |\n{lines}"
        with Vertical(id="help-box"):
            with VerticalScroll():
                yield Markdown(help_text)
            yield Label("Esc or F1 closes", id="help-hint")

    def action_dismiss(self) -> None:
        self.dismiss(None)
