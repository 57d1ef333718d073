"""The console as an engineer uses it: type a symptom, open the route, mark steps, come back."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Markdown, OptionList

from console.site import load_config
from screens.app import FixmapApp
from screens.dialogs import HelpScreen, PickDialog
from screens.triage import TriageScreen
from screens.walkthrough import WalkthroughScreen


async def ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def site_config(tmp_path: Path) -> Path:
    path = tmp_path / "fixmap.toml"
    path.write_text('[site]\nname = "test-site"\n', encoding="utf-8")
    return path


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[("space" if c == " " else c) for c in text])


async def test_type_symptom_open_route_mark_steps_go_back_and_resume():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert isinstance(app.screen, TriageScreen)
        routes = app.screen.query_one("#routes", OptionList)
        assert routes.get_option_at_index(0).id == "rollout_readiness_gate"  # quick routes first

        await type_text(pilot, "customers charged twice when clients retry")
        await pilot.pause()
        assert routes.get_option_at_index(0).id == "idempotency_dedupe"
        await pilot.press("enter")
        await pilot.pause()
        walk = app.screen
        assert isinstance(walk, WalkthroughScreen)
        assert walk.playbook.id == "idempotency_dedupe"
        first, second, third = (s.id for s in walk.playbook.steps[:3])

        await pilot.press("d", "s", "x")
        await pilot.pause()
        assert walk.progress.statuses == {first: "done", second: "skipped", third: "failed"}
        guide = walk.query_one("#guide", Markdown)
        assert "status **failed**" in guide.source

        await pilot.press("escape")
        assert isinstance(app.screen, TriageScreen)
        await pilot.press("enter")  # same query, same top route
        await pilot.pause()
        again = app.screen
        assert isinstance(again, WalkthroughScreen)
        assert again.progress.statuses == {first: "done", second: "skipped", third: "failed"}
        assert again.query_one("#steps", OptionList).highlighted == 2

    # a restart: a new app over the same data dir resumes where the engineer left off
    app2 = FixmapApp(load_config(None))
    async with app2.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app2.open_playbook("idempotency_dedupe")
        await pilot.pause()
        walk = app2.screen
        assert isinstance(walk, WalkthroughScreen)
        assert walk.progress.statuses[first] == "done"
        assert walk.query_one("#steps", OptionList).highlighted == 2
        await pilot.press("u")
        await pilot.pause()
        assert third not in walk.progress.statuses


async def test_arrow_keys_choose_another_route_from_the_input():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await type_text(pilot, "need rollback now")
        await pilot.pause()
        routes = app.screen.query_one("#routes", OptionList)
        second = routes.get_option_at_index(1).id
        assert app.screen.query_one(Input).has_focus
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen.playbook.id == second


async def test_route_step_and_related_dialog_open_other_playbooks():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.open_playbook("rollback_and_fast_recovery")
        await pilot.pause()
        walk = app.screen
        steps = walk.query_one("#steps", OptionList)
        steps.highlighted = len(walk.playbook.steps) - 1  # the route to the postmortem
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.playbook.id == "postmortem_and_regression_tests"
        await pilot.press("escape", "r")
        await pilot.pause()
        assert isinstance(app.screen, PickDialog)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.playbook.id == walk.playbook.related[0]


async def test_probe_step_says_it_is_not_configured_without_a_site():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.open_playbook("rollback_and_fast_recovery")
        await pilot.pause()
        walk = app.screen
        idx = next(i for i, s in enumerate(walk.playbook.steps) if s.kind == "probe")
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        source = walk.query_one("#guide", Markdown).source
        assert "Runs probe 'latency'" in source
        assert "Not configured: no site config" in source
        await pilot.press("enter")
        await pilot.pause()
        assert walk.progress.status(walk.playbook.steps[idx].id) == "pending"


async def test_f1_shows_the_screens_help_and_closes():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert (
            "What you see" in app.screen.query_one(Markdown).source
            or "Triage" in app.screen.query_one(Markdown).source
        )
        await pilot.press("escape")
        assert isinstance(app.screen, TriageScreen)


async def test_command_palette_opens_any_playbook():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "shadow traffic")
        from textual.command import CommandList

        for _ in range(200):  # bounded: the palette searches in the background
            await pilot.pause()
            hits = app.screen.query(CommandList)
            if hits and hits.first().option_count:
                break
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WalkthroughScreen)
        assert app.screen.playbook.id == "shadow_traffic_mirroring"


async def test_site_bar_names_the_site(tmp_path):
    app = FixmapApp(load_config(site_config(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        from screens.widgets import SiteBar

        assert "site test-site" in str(app.screen.query_one(SiteBar).content)


async def test_every_step_of_every_playbook_renders_at_80x24():
    """Open all 20 routes and show each step's guidance: nothing crashes, nothing is empty."""
    from console.playbooks import ALL_IDS

    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for pid in ALL_IDS:
            app.open_playbook(pid)
            await pilot.pause()
            walk = app.screen
            assert isinstance(walk, WalkthroughScreen) and walk.playbook.id == pid
            for step in walk.playbook.steps:
                text = walk._guidance(step)
                assert step.title in text and f"`{step.kind}`" in text, (pid, step.id)
            steps = walk.query_one("#steps", OptionList)
            steps.highlighted = len(walk.playbook.steps) - 1  # and one real render of a step
            await pilot.pause()
            assert walk.playbook.steps[-1].title in walk.query_one("#guide", Markdown).source
            await pilot.press("escape")
