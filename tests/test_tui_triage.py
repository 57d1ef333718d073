"""The triage screen: nothing matched is an answer; evidence from a live demo, above the routes."""

from __future__ import annotations

import time

from textual.widgets import Label, OptionList, Static

from console.demo.service import DemoService
from console.demo.site import write_site_config
from console.site import load_config
from screens.app import FixmapApp
from screens.triage import TriageScreen

TOKEN = "triage-tui-admin-token"


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[("space" if c == " " else c) for c in text])


async def until(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def test_gibberish_ranks_nothing_and_enter_opens_nothing():
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.router is not None)
        await type_text(pilot, "qwxz zzkq")
        await pilot.pause()
        screen = app.screen
        routes = screen.query_one("#routes", OptionList)
        assert routes.option_count == 0
        title = str(screen.query_one("#results-title", Label).content)
        assert title.startswith("No route matches “qwxz zzkq”") and "\n  try “" in title
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and isinstance(screen, TriageScreen)


async def test_evidence_block_and_routes_from_a_failing_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(faults=["stale-index"], admin_token=TOKEN) as svc:
        cfg = write_site_config(tmp_path, svc.url)
        app = FixmapApp(load_config(cfg))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            await until(pilot, lambda: screen.evidence is not None and app.catalog is not None)
            await pilot.pause()
            block = str(screen.query_one("#evidence", Static).content)
            assert "index probe FAIL" in block and "\u2192 Vector index build and swap" in block
            taken = screen.evidence.started_at  # the sweep says when it looked
            assert f"probed {taken[11:19]} UTC, " in block and " ago" in block, block
            routes = screen.query_one("#routes", OptionList)
            assert routes.get_option_at_index(0).id == "vector_index_build_and_swap"
            first = screen.evidence
            await pilot.press("ctrl+r")  # probe again: a new sweep replaces the last one
            await until(pilot, lambda: screen.evidence is not first)
            assert "index probe FAIL" in str(screen.query_one("#evidence", Static).content)
            # text and evidence rank together: a latency sentence keeps the failing index first
            await type_text(pilot, "answers look off")
            await pilot.pause()
            assert routes.get_option_at_index(0).id == "vector_index_build_and_swap"
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.playbook.id == "vector_index_build_and_swap"


async def test_a_healthy_site_says_nothing_is_failing(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(admin_token=TOKEN) as svc:
        app = FixmapApp(load_config(write_site_config(tmp_path, svc.url)))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            await until(pilot, lambda: screen.evidence is not None and app.catalog is not None)
            await pilot.pause()
            block = str(screen.query_one("#evidence", Static).content)
            assert "9 probes: 9 pass" in block and "nothing failing" in block
            routes = screen.query_one("#routes", OptionList)
            assert routes.get_option_at_index(0).id == "rollout_readiness_gate"  # the quick routes


async def test_typing_with_the_cursor_in_the_route_list_types_the_symptom():
    from textual.widgets import Input

    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.router is not None)
        screen = app.screen
        screen.query_one("#routes", OptionList).focus()
        await pilot.pause()
        await type_text(pilot, "429 storm")
        box = screen.query_one(Input)
        await until(pilot, lambda: box.value == "429 storm")  # every key, none replacing one
        assert box.has_focus
        title = screen.query_one("#results-title", Label)
        await until(pilot, lambda: str(title.content).startswith("Best routes for “429 storm”"))
        first = str(screen.query_one("#routes", OptionList).get_option_at_index(0).prompt)
        assert "Rate limits" in first
