"""The one confirm dialog for every state change: the exact command, its key and guards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


@dataclass
class Confirmation:
    """What the engineer decided in the confirm dialog."""

    confirmed: bool
    break_glass: str | None = None
    retry: bool = False
    new_key_reason: str | None = None
    """Set when the engineer asked to run again under a new key (the plan is re-keyed)."""


class ConfirmActionDialog(ModalScreen[Confirmation]):
    """The one dialog every state change goes through: plan, guards, then an explicit yes.

    It decides nothing itself: the plan's decision (console.actions, `plan.decide`) says what
    stands in the way, and the dialog asks for that. Destructive actions need the target's name
    typed; others a 'y'. A freeze asks for a written break-glass reason; a key whose last run
    broke asks for 'r' (retry on purpose); a refusal nothing passes (a missing secret, a reused
    key) is shown and nothing can run. An action already done under its key can be run again
    under a new key (Ctrl+N, then a written reason, recorded with the run). Esc always cancels and
    nothing runs.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "yes", "Yes, run it", id="confirm.yes"),
        Binding("r", "retry", "Retry on purpose", show=False, id="confirm.retry"),
        Binding("ctrl+n", "new_key", "Run again, new key", show=False, id="confirm.new_key"),
    ]

    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan
        self.retry = False
        self.new_key_reason: str | None = None
        self._judge()

    def _judge(self) -> None:
        """What the plan's decision asks for, before the engineer offers anything."""
        plan = self.plan
        self.asked = plan.decide(confirmed=True)
        self.hard_refusal = self.asked.final  # refuses whatever the engineer offers
        self.needs_break_glass = "break_glass" in self.asked.needs
        self.needs_retry = "retry" in self.asked.needs

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="confirm-box"):
            yield Label(self._title(), id="confirm-title")
            with VerticalScroll(id="confirm-plan"):
                yield Static(plan.text(), markup=False)
            yield Label("", id="confirm-error")
            if self.asked.already_done:
                yield Label(
                    "Already done under this key: running it reports that outcome. "
                    "Ctrl+N runs it again under a new key (with a written reason, recorded)",
                    id="confirm-already",
                )
                reason = Input(placeholder="why it must run again", id="new-key-reason")
                reason.display = False
                yield reason
            if self.hard_refusal is not None:
                yield Label(f"Refused: {self.hard_refusal.reason}", id="confirm-refused")
                yield Label("Esc closes · nothing was run", classes="confirm-hint")
                return
            if self.needs_break_glass:
                from console.actions import MIN_BREAK_GLASS

                yield Label(
                    "Change freeze: write why this must ship now "
                    f"(≥ {MIN_BREAK_GLASS} characters, recorded)"
                )
                yield Input(id="break-glass")
            if self.needs_retry:
                yield Label(
                    "The last run under this key broke: check the target, then press r to retry on purpose",
                    id="confirm-retry",
                )
            if plan.confirm == "type_target":
                # the field starts empty: a placeholder of the name would look filled in
                yield Label(
                    f"Destructive. Type the target's name, {plan.target}, and press Enter to run it:"
                )
                yield Input(id="confirm-target")
                yield Label(
                    "Enter runs when the name matches · Esc cancels", classes="confirm-hint"
                )
            else:
                yield Label("y runs it · Esc cancels", classes="confirm-hint")

    def _title(self) -> str:
        plan = self.plan
        tag = "DESTRUCTIVE " if plan.destructive else ""
        done = " — already done under this key" if self.asked.already_done else ""
        return f"{tag}{plan.action} ({plan.kind}) on {plan.target}{done}"

    def on_mount(self) -> None:
        if self.needs_retry:
            self.query_one("#confirm-plan").focus()  # 'r' first, then the fields
            return
        for selector in ("#break-glass", "#confirm-target"):
            found = self.query(selector)
            if found:
                found.first().focus()
                return

    def _error(self, text: str) -> None:
        self.query_one("#confirm-error", Label).update(text)

    def _go(self) -> None:
        if self.hard_refusal is not None:
            return
        reason = None
        if self.needs_break_glass:
            reason = self._break_glass_reason()
            if reason is None:
                return
        decision = self.plan.decide(
            confirmed=True, break_glass=reason is not None, retry=self.retry
        )
        if decision.refused and decision.guard is not None:
            if decision.guard.override == "retry":
                self._error(
                    "Press r first: the last run under this key broke; retrying is a decision."
                )
            else:
                self._error(f"Refused: {decision.reason}")
            return
        self.dismiss(Confirmation(True, reason, self.retry, self.new_key_reason))

    def _break_glass_reason(self) -> str | None:
        """The reason typed, when the engine's rule takes it; else None, and the field says why
        (the same words on Enter and on y: the rule is console.actions.break_glass_problem)."""
        from console.actions import break_glass_problem

        field = self.query_one("#break-glass", Input)
        reason = field.value.strip()
        problem = break_glass_problem(reason)
        if problem:
            self._error(f"A break-glass reason is needed during a freeze: {problem}.")
            field.focus()
            return None
        return reason

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "new-key-reason":
            self._rekey(event.value)
            return
        if event.input.id == "break-glass":
            if self._break_glass_reason() is None:
                return
            target = self.query("#confirm-target")
            if target:
                target.first().focus()
            else:
                self.query_one("#confirm-plan").focus()  # so the next 'y' is consent, not text
                self._error("Break-glass reason noted: press y to run, Esc to cancel.")
            return
        if not event.value.strip():
            self._error(f"Type {self.plan.target} to run it (nothing has run).")
            return
        if not self.plan.confirmation_matches(event.value):
            self._error(f"'{event.value.strip()}' is not '{self.plan.target}': nothing runs.")
            return
        self._go()

    def action_yes(self) -> None:
        if isinstance(self.focused, Input):
            return  # 'y' typed into a field is text, not consent
        if self.plan.confirm == "type_target":
            self._error(f"Destructive: type '{self.plan.target}' in the field instead.")
            return
        self._go()

    def action_retry(self) -> None:
        if isinstance(self.focused, Input) or not self.needs_retry:
            return
        self.retry = True
        self.query_one("#confirm-retry", Label).update(
            "Retry on purpose: yes (recorded as a retry)"
        )

    def action_new_key(self) -> None:
        if not self.asked.already_done:
            return
        field = self.query_one("#new-key-reason", Input)
        field.display = True
        field.focus()
        self._error("Write why it must run again (recorded), then Enter.")

    def _rekey(self, reason: str) -> None:
        """The engine re-keys the plan; the dialog shows the new plan and asks again."""
        from console.core import FixmapError

        try:
            self.plan.rekey(reason)
        except FixmapError as exc:
            self._error(exc.render().replace("\n", " "))
            return
        self.new_key_reason = " ".join(reason.split())
        self._judge()
        self.query_one("#new-key-reason", Input).display = False
        self.query_one("#confirm-title", Label).update(self._title())
        self.query_one("#confirm-plan Static", Static).update(self.plan.text())
        self.query_one("#confirm-already", Label).update(
            f"New key {self.plan.key}: {self.plan.key_reason}"
        )
        target = self.query("#confirm-target")
        if target:
            target.first().focus()
            self._error(f"Type '{self.plan.target}' and Enter to run it under the new key.")
        else:
            self.query_one("#confirm-plan").focus()
            self._error("y runs it under the new key · Esc cancels")

    def action_cancel(self) -> None:
        self.dismiss(Confirmation(False))
