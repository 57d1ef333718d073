"""The console against a live demo service: probes screen, probe steps, history and query steps."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Markdown, OptionList

from console.config import load_config
from console.demo.service import DemoService
from console.demo.site import write_site_config
from screens.app import FixmapApp
from screens.chart import TimeChart
from screens.history import HistoryScreen
from screens.probes import ProbesScreen
from screens.walkthrough import WalkthroughScreen

TOKEN = "live-tui-admin-token"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(admin_token=TOKEN) as svc:
        cfg = write_site_config(tmp_path, svc.url)
        yield svc, cfg


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_workers(pilot, screen) -> None:
    """Wait for the workers the screen started (bounded by the probes' and queries' timeouts)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_probes_screen_runs_all_and_shows_a_fault(demo):
    svc, cfg = demo
    svc.set_fault("stale-index", True)
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProbesScreen)
        await pilot.press("a")
        await wait_workers(pilot, screen)
        statuses = {name: r.status for name, r in screen.results.items()}
        assert set(statuses) == set(load_config(cfg).config.probes)
        assert statuses["index"] == "fail"
        assert statuses["health"] == "pass"
        assert not screen.running
        table = screen.query_one(DataTable)
        assert "FAIL" in str(table.get_cell("index", "status"))


async def test_probe_step_runs_from_the_walkthrough_and_is_judged_by_its_gate(demo):
    svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_playbook("idempotency_dedupe")
        await pilot.pause()
        walk = app.screen
        assert isinstance(walk, WalkthroughScreen)
        idx = next(
            i
            for i, s in enumerate(walk.playbook.steps)
            if s.kind == "probe" and s.probe == "idempotency"
        )
        step = walk.playbook.steps[idx]
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        assert "Not configured" not in walk.query_one("#guide", Markdown).source
        await pilot.press("enter")
        await wait_workers(pilot, walk)
        assert walk.progress.status(step.id) == "done"
        assert any("exactly one side effect" in line for line in walk.progress.results[step.id])

        svc.set_fault("duplicates", True)
        await pilot.press("enter")
        await wait_workers(pilot, walk)
        assert walk.progress.status(step.id) == "failed"
        assert "Last result" in walk.query_one("#guide", Markdown).source


async def test_history_screen_finds_the_demo_incident_and_charts_it(demo, fixmap_home):
    _svc, cfg = demo
    from console.history_seed import seed_demo_history

    loaded = load_config(cfg)
    seed_demo_history(loaded.resolve(loaded.config.history.db), "demo")
    app = FixmapApp(loaded)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_workers(pilot, screen)
        changed = {c.metric for c in screen.changes or []}
        assert {"latency_ms", "rate_429"} <= changed
        chart = screen.query_one(TimeChart)
        assert chart.data.series and any(kind == "deploy" for _, kind in chart.data.events)

        screen.query_one("#history-input").value = "selec * from samples"
        await pilot.press("enter")
        await wait_workers(pilot, screen)
        title = str(screen.query_one("#history-title").content)
        assert "✗" in title and "syntax error" in title.lower()

        screen.query_one("#history-input").value = "delete from samples"
        await pilot.press("enter")
        await wait_workers(pilot, screen)
        assert "✗" in str(screen.query_one("#history-title").content)
    from console.history import history_for

    assert history_for(loaded).sql("select count(*) from samples").rows[0][0] > 0


async def test_query_step_opens_history_and_records_the_gate_verdict(demo, fixmap_home):
    _svc, cfg = demo
    from console.history_seed import seed_demo_history

    loaded = load_config(cfg)
    seed_demo_history(loaded.resolve(loaded.config.history.db), "demo")
    app = FixmapApp(loaded)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_playbook("rollback_and_fast_recovery")
        await pilot.pause()
        walk = app.screen
        idx = next(i for i, s in enumerate(walk.playbook.steps) if s.id == "watch-errors")
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        history = app.screen
        assert isinstance(history, HistoryScreen)
        await wait_workers(pilot, history)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is walk
        lines = walk.progress.results["watch-errors"]
        assert any(line.startswith("gate error_rate:") for line in lines)
        # the last 15 minutes of the demo are healthy: the error-rate gate passes
        assert walk.progress.status("watch-errors") == "done", lines
