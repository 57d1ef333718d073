"""After a restart, triage knows a walkthrough is in progress: "resume: <title> 3/N done", a key
to open it, and a confirmed way to start it over. Real progress files; Pilot; no sleeping."""

from __future__ import annotations

from textual.widgets import Static

from console.site import load_config
from console.walkthrough import ProgressStore
from screens.app import FixmapApp
from screens.dialogs import YesNoDialog
from screens.triage import TriageScreen
from screens.walkthrough import WalkthroughScreen

PLAYBOOK = "idempotency_dedupe"


async def ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, condition, what: str, rounds: int = 200) -> None:
    for _ in range(rounds):
        await ready(pilot)
        if condition():
            return
    raise AssertionError(f"never happened: {what}")


def resume_line(app) -> str:
    boxes = app.screen.query("#resume")  # mounted the first time there is a line to show
    box = boxes.first(Static) if boxes else None
    return "" if box is None or box.has_class("-empty") else str(box.content)


async def test_triage_offers_to_resume_a_walkthrough_and_to_start_it_over(fixmap_home):
    first = FixmapApp(load_config(None))
    async with first.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: first.catalog is not None, "playbooks loaded")
        assert resume_line(first) == ""  # nothing begun yet: no line
        first.open_playbook(PLAYBOOK)
        await ready(pilot)
        await pilot.press("d", "d", "d")
        await ready(pilot)
        title = first.catalog[PLAYBOOK].title
        total = len(first.catalog[PLAYBOOK].steps)

    app = FixmapApp(load_config(None))  # a restart over the same data dir
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: resume_line(app) != "", "the resume line")
        line = resume_line(app)
        assert line.startswith(f"resume: {title} 3/{total} done")
        assert "Ctrl+O opens it" in line and "Ctrl+N starts it over" in line

        await pilot.press("ctrl+o")
        await ready(pilot)
        walk = app.screen
        assert isinstance(walk, WalkthroughScreen) and walk.playbook.id == PLAYBOOK
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TriageScreen), "back on triage")

        await pilot.press("ctrl+n")
        await ready(pilot)
        assert isinstance(app.screen, YesNoDialog)
        assert "3 settled step(s)" in app.screen.question
        await pilot.press("escape")  # no: nothing changes
        await ready(pilot)
        assert resume_line(app).startswith(f"resume: {title} 3/{total} done")

        await pilot.press("ctrl+n")
        await ready(pilot)
        await pilot.press("y")
        await until(pilot, lambda: resume_line(app) == "", "the line gone after the reset")
        on_disk = ProgressStore().load(app.catalog[PLAYBOOK])
        assert on_disk.counts(app.catalog[PLAYBOOK])["pending"] == total
        assert not on_disk.started()

        app.last_toast = ""
        await pilot.press("ctrl+o")
        await ready(pilot)
        assert "no walkthrough is in progress" in app.last_toast
        assert isinstance(app.screen, TriageScreen)
