"""The confirm dialog asks for what the engine's decision needs, and decides nothing itself:
real plans from a real site config and journal, a real Textual app, no sleeping."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textual.app import App
from textual.widgets import Input, Label

from console.actions import plan_action, run_action
from console.site import load_config
from screens.dialogs import ConfirmActionDialog, Confirmation


def _site(tmp_path: Path):
    def cmd(text: str, extra: str = "") -> str:
        code = f"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10)){extra}"
        words = [sys.executable, "-c", code, str(tmp_path / "marker"), text]
        return "argv = " + json.dumps(words)

    path = tmp_path / "fixmap.toml"
    path.write_text(
        f"""
[actions.freeze]
kind = "freeze"
destructive = false
{cmd("freeze")}

[actions.unfreeze]
kind = "unfreeze"
destructive = false
{cmd("unfreeze")}

[actions.ship]
kind = "flag"
destructive = false
{cmd("ship", "; sys.exit(1)")}

[actions.flip]
kind = "flag"
destructive = false
{cmd("flip")}

[actions.wipe]
kind = "flag"
destructive = true
target = "demo"
{cmd("wipe")}
"""
    )
    return load_config(path)


class Host(App[None]):
    """Pushes one confirm dialog and keeps what it was dismissed with."""

    def __init__(self, plan) -> None:
        super().__init__()
        self.plan = plan
        self.choice: Confirmation | None = None

    def on_mount(self) -> None:
        self.push_screen(ConfirmActionDialog(self.plan), self._decided)

    def _decided(self, choice: Confirmation | None) -> None:
        self.choice = choice


def _error(dialog: ConfirmActionDialog) -> str:
    return str(dialog.query_one("#confirm-error", Label).content)


async def test_a_reused_key_is_refused_up_front_and_y_runs_nothing(tmp_path):
    site = _site(tmp_path)
    run_action(site, plan_action(site, "freeze", key="change-1", check_site=False), True)
    app = Host(plan_action(site, "unfreeze", key="change-1", check_site=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmActionDialog)
        refused = str(dialog.query_one("#confirm-refused", Label).content)
        assert "was used for freeze" in refused
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is dialog and app.choice is None


async def test_a_freeze_and_a_broken_key_ask_for_a_reason_and_a_retry(tmp_path):
    site = _site(tmp_path)
    assert run_action(site, plan_action(site, "ship", key="k-1"), True).status == "failed"
    assert run_action(site, plan_action(site, "freeze"), True).status == "done"
    app = Host(plan_action(site, "ship", key="k-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmActionDialog)
        assert dialog.needs_break_glass and dialog.needs_retry and dialog.hard_refusal is None
        await pilot.press("y")
        assert "at least 10 characters" in _error(dialog)
        dialog.query_one("#break-glass", Input).value = "the flag melts p99, IC approved"
        dialog.query_one("#break-glass", Input).focus()
        await pilot.press("enter", "y")
        assert "Press r first" in _error(dialog)
        await pilot.press("r", "y")
        await pilot.pause()
    assert app.choice == Confirmation(True, "the flag melts p99, IC approved", True)


async def test_an_already_done_key_asks_for_no_break_glass_during_a_freeze(tmp_path):
    site = _site(tmp_path)
    assert run_action(site, plan_action(site, "flip", key="k-2"), True).status == "done"
    assert run_action(site, plan_action(site, "freeze"), True).status == "done"
    app = Host(plan_action(site, "flip", key="k-2"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert "already done under this key" in str(
            dialog.query_one("#confirm-title", Label).content
        )
        assert not dialog.query("#break-glass") and not dialog.needs_retry
        await pilot.press("y")
        await pilot.pause()
    assert app.choice == Confirmation(True, None, False)


async def test_an_already_done_action_runs_again_under_a_new_key_with_a_reason(tmp_path):
    from console.actions import journal

    site = _site(tmp_path)
    first = run_action(site, plan_action(site, "unfreeze", check_site=False), True)
    assert first.status == "done"
    plan = plan_action(site, "unfreeze", check_site=False)
    assert plan.already_done and plan.key == first.key
    app = Host(plan)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert "Ctrl+N runs it again" in str(dialog.query_one("#confirm-already", Label).content)
        await pilot.press("ctrl+n")
        field = dialog.query_one("#new-key-reason", Input)
        assert field.display and dialog.focused is field
        await pilot.press(*"again", "enter")
        assert "at least 10 characters" in _error(dialog)
        assert plan.key == first.key  # nothing re-keyed on a reason that will not do
        field.value = "the freeze came back from the calendar sync"
        await pilot.press("enter")
        assert plan.key != first.key and not plan.already_done
        assert "run again on purpose: the freeze came back" in plan.text()
        await pilot.press("y")
        await pilot.pause()
    assert app.choice == Confirmation(
        True, None, False, "the freeze came back from the calendar sync"
    )
    again = run_action(site, plan, True)
    assert again.status == "done" and again.key == plan.key
    assert (tmp_path / "marker").read_text().splitlines() == ["unfreeze", "unfreeze"]
    newest = journal.read_journal()[0]
    assert (
        newest.plan["key_basis"]["new_key_reason"] == "the freeze came back from the calendar sync"
    )
    assert "new key: run again on purpose" in journal.describe(newest)


async def test_the_target_field_starts_empty_and_the_label_names_what_to_type(tmp_path):
    site = _site(tmp_path)
    app = Host(plan_action(site, "wipe", check_site=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        field = dialog.query_one("#confirm-target", Input)
        assert field.value == "" and field.placeholder == "" and dialog.focused is field
        labels = " ".join(str(label.content) for label in dialog.query(Label))
        assert "Type the target's name, demo, and press Enter" in labels
        await pilot.press("enter")
        assert _error(dialog) == "Type demo to run it (nothing has run)."
        await pilot.press(*"dem", "enter")
        assert "'dem' is not 'demo'" in _error(dialog) and app.choice is None
        field.value = ""
        await pilot.press(*"demo", "enter")
        await pilot.pause()
    assert app.choice == Confirmation(True, None, False)
    assert not (tmp_path / "marker").exists()  # the dialog decides; running is the caller's


async def test_a_short_break_glass_reason_gets_one_message_on_enter_and_on_y(tmp_path):
    site = _site(tmp_path)
    assert run_action(site, plan_action(site, "freeze"), True).status == "done"
    app = Host(plan_action(site, "flip"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert dialog.needs_break_glass
        field = dialog.query_one("#break-glass", Input)
        assert dialog.focused is field and field.value == ""
        await pilot.press(*"hotfx", "enter")
        said = _error(dialog)
        assert "at least 10 characters" in said and "press y" not in said
        assert dialog.focused is field  # still in the field: the next key is text, not consent
        await pilot.press("y")  # typed into the field
        assert field.value == "hotfxy" and app.choice is None
        dialog.query_one("#confirm-plan").focus()
        await pilot.press("y")
        assert _error(dialog) == said and app.choice is None
        field.value = "kill switch for the 5xx storm"
        field.focus()
        await pilot.press("enter")
        assert "noted: press y" in _error(dialog)
        await pilot.press("y")
        await pilot.pause()
    assert app.choice == Confirmation(True, "kill switch for the 5xx storm", False)
