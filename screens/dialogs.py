"""Modal dialogs: help, and picking a playbook from a short list."""

from __future__ import annotations

from textwrap import dedent

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown, OptionList
from textual.widgets.option_list import Option


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


class PickDialog(ModalScreen[str | None]):
    """Choose one item from a short list (related routes, named queries)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick.cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield Label(self.title_text, id="pick-title")
            yield OptionList(
                *[Option(title, id=pid) for pid, title in self.choices], id="pick-list"
            )
            yield Label("Enter opens · Esc cancels", id="pick-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
