"""A small form: incident title and severity, an action's parameters."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A few labelled text fields. Enter submits once every field has a value (else it moves to
    the first empty one); Tab moves between fields; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, title: str, fields: list[tuple[str, ...]], hint: str = "") -> None:
        """fields: (name, label, initial value[, "optional"])."""
        super().__init__()
        self.title_text = title
        self.fields = [(f[0], f[1], f[2]) for f in fields]
        self.optional = {f[0] for f in fields if len(f) > 3 and f[3] == "optional"}
        self.hint = hint or "Enter submits · Tab next field · Esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical(id="params-box"):
            yield Label(self.title_text, id="params-title")
            for name, label, value in self.fields:
                yield Label(label, classes="param-label")
                yield Input(value=value, placeholder=name, id=f"param-{name}")
            yield Label(self.hint, classes="confirm-hint")

    def on_mount(self) -> None:
        self._first_empty_or(self.query(Input).first()).focus()

    def _empty(self) -> list[Input]:
        return [
            i
            for i in self.query(Input)
            if not i.value.strip() and (i.id or "").removeprefix("param-") not in self.optional
        ]

    def _first_empty_or(self, fallback: Input) -> Input:
        return next(iter(self._empty()), fallback)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        empty = self._empty()
        if empty:
            empty[0].focus()
            return
        values = {
            name: self.query_one(f"#param-{name}", Input).value.strip()
            for name, _l, _v in self.fields
        }
        self.dismiss({k: v for k, v in values.items() if v})

    def action_cancel(self) -> None:
        self.dismiss(None)


def params_dialog(action: str, params: dict[str, Any], given: dict[str, Any]) -> FormDialog:
    """The parameters of an action, with their choices, before it is planned."""
    fields = []
    for name, spec in params.items():
        bits = [spec.description] if spec.description else []
        if spec.enum:
            bits.append("one of: " + " | ".join(str(v) for v in spec.enum))
        elif spec.type == "bool":
            bits.append("true | false")
        if spec.regex:
            bits.append(f"matches {spec.regex}")
        value = given.get(name, spec.default)
        shown = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
        required = spec.required is not False and spec.default is None
        label = f"{name} — {'; '.join(bits)}" if bits else name
        fields.append((name, label, shown) if required else (name, label, shown, "optional"))
    return FormDialog(
        f"{action}: parameters",
        fields,
        "Enter plans it (when every field is filled) · Tab next · Esc cancels",
    )
