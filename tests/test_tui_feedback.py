"""Honest feedback in the console: toasts cover no result and no dialog; every key that cannot
act now says why. A real app, Pilot, no sleeping."""

from __future__ import annotations

from textual.widgets._toast import Toast

from console.site import load_config
from screens.app import FixmapApp
from screens.dialogs import TextDialog
from screens.widgets import SiteBar


async def ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def a_site(tmp_path):
    """A site with nothing to probe: no start-up toast ('Offline') to count."""
    path = tmp_path / "fixmap.toml"
    path.write_text('[site]\nname = "quiet"\n', encoding="utf-8")
    return load_config(path)


def toasts(app) -> list[Toast]:
    return list(app.screen.query(Toast))


async def shown_toasts(pilot, rounds: int = 20) -> list[Toast]:
    """The toasts on screen once mounted (a few message rounds; bounded, no sleeping)."""
    for _ in range(rounds):
        await pilot.pause()
        if toasts(pilot.app):
            break
    return toasts(pilot.app)


async def test_a_toast_is_one_line_on_the_site_bar_row_over_no_result(tmp_path):
    app = FixmapApp(a_site(tmp_path))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await ready(pilot)
        screen = app.screen
        app.notify(
            "rollback: done — still failing: rate_limit\nsecond line of a long message " * 3,
            title="Action",
            severity="error",
            timeout=30,
        )
        shown = await shown_toasts(pilot)
        assert len(shown) == 1
        toast = shown[0].region
        bar = screen.query_one(SiteBar).region
        assert toast.y == bar.y == 0 and toast.height == 1
        for widget in screen.query("#actions-title, #action-table, #action-log, Footer"):
            assert not toast.overlaps(widget.region), widget
        line = app.last_toast
        assert line.startswith("✗ Action: rollback: done") and "\n" not in line  # no colour needed


async def test_toasts_wait_while_a_dialog_is_open_then_show(tmp_path):
    app = FixmapApp(a_site(tmp_path))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready(pilot)
        app.notify("raised before the dialog")
        assert await shown_toasts(pilot)
        app.push_screen(TextDialog("Status-page drafts", "investigating: we are looking"))
        await pilot.pause()
        app.notify("a probe finished meanwhile")
        assert not await shown_toasts(pilot, rounds=5)
        assert isinstance(app.screen, TextDialog) and not toasts(app)
        await pilot.press("escape")
        shown = await shown_toasts(pilot)
        assert not isinstance(app.screen, TextDialog)
        assert [str(t.render()) for t in shown] == [
            "raised before the dialog",
            "a probe finished meanwhile",
        ]


async def _says(pilot, key: str, *words: str) -> None:
    app = pilot.app
    app.last_toast = ""
    await pilot.press(key)
    await ready(pilot)
    said = app.last_toast
    assert all(w in said for w in words), (key, said)


async def test_every_key_that_cannot_act_says_why(fixmap_home):
    app = FixmapApp(load_config(None))  # no site config, no incident open
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready(pilot)
        await _says(pilot, "ctrl+r", "no site config", "--config PATH")
        await pilot.press("f2")
        await _says(pilot, "enter", "no probe to run", "--config PATH")
        await _says(pilot, "a", "no probes to run")
        await pilot.press("f3")
        await _says(pilot, "ctrl+g", "History needs a site")
        await pilot.press("f4")
        await _says(pilot, "enter", "no action to plan")
        await pilot.press("f5")
        await _says(pilot, "1", "Gates need a site")
        await _says(pilot, "r", "Gates need a site")
        await pilot.press("f6")
        await ready(pilot)
        await _says(pilot, "ctrl+e", "No incident is open to export", "Ctrl+O")
        await _says(pilot, "ctrl+d", "No incident is open to draft")
        await _says(pilot, "ctrl+t", "No incident is open to move to the next phase")
        await _says(pilot, "ctrl+r", "No incident is open to mark an update posted")
        await _says(pilot, "ctrl+x", "No incident is open to close")
        await _says(pilot, "ctrl+u", "No closed incident to reopen")
