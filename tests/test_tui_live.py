"""The console against a live demo service: probes screen, probe steps, history and query steps."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Markdown, OptionList

from console.core.identity import now_iso
from console.demo.service import DemoService
from console.demo.site import write_site_config
from console.site import load_config
from screens.app import FixmapApp
from screens.history import HistoryScreen
from screens.probes import ProbesScreen
from screens.walkthrough import WalkthroughScreen
from screens.widgets.chart import TimeChart

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
    from console.history import seed_demo_history

    site = load_config(cfg)
    seed_demo_history(site.resolve(site.config.history.db), "demo")
    app = FixmapApp(site)
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

    assert history_for(site).sql("select count(*) from samples").rows[0][0] > 0


async def test_query_step_opens_history_and_records_the_gate_verdict(demo, fixmap_home):
    _svc, cfg = demo
    from console.history import seed_demo_history

    site = load_config(cfg)
    seed_demo_history(site.resolve(site.config.history.db), "demo")
    app = FixmapApp(site)
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


async def until(pilot, predicate, what: str, rounds: int = 200) -> None:
    """Let workers and messages run until `predicate()` holds (bounded; no sleeping)."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if predicate():
            return
    raise AssertionError(f"never happened: {what}")


async def test_actions_screen_freeze_then_break_glass_for_a_flag(demo, fixmap_home):
    from textual.widgets import Input, Label

    from console.actions import read_journal
    from screens.actions import ActionsScreen
    from screens.dialogs import ConfirmActionDialog, FormDialog
    from screens.widgets import SiteBar

    svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, ActionsScreen)
        await until(pilot, lambda: screen.query_one(DataTable).row_count > 0, "actions listed")
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("freeze"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog), "confirm dialog")
        await pilot.press("y")
        await until(
            pilot,
            lambda: svc.state()["frozen"] and app.site_state and app.site_state.frozen,
            "freeze applied and shown",
        )
        assert "FROZEN" in str(screen.query_one(SiteBar).content)

        table.move_cursor(row=table.get_row_index("flag"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "parameters asked")
        app.screen.query_one("#param-flag", Input).value = "rerank"
        app.screen.query_one("#param-value", Input).value = "false"
        app.screen.query_one("#param-value", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog), "confirm dialog")
        dialog = app.screen
        assert dialog.needs_break_glass
        dialog.query_one("#break-glass", Input).value = "too short"
        await pilot.press("enter", "y")
        assert "at least 10 characters" in str(dialog.query_one("#confirm-error", Label).content)
        assert svc.state()["flags"]["rerank"] is True  # nothing ran
        dialog.query_one("#break-glass", Input).value = "rerank melts p99, kill it now"
        dialog.query_one("#break-glass", Input).focus()
        await pilot.press("enter", "y")
        await until(pilot, lambda: svc.state()["flags"]["rerank"] is False, "flag changed")
        await until(pilot, lambda: read_journal()[0].status == "done", "journal outcome")
        assert read_journal()[0].break_glass == "rerank melts p99, kill it now"


async def test_walkthrough_rollback_step_needs_the_target_typed(demo, fixmap_home):
    from textual.widgets import Input, Label

    from screens.dialogs import ConfirmActionDialog

    svc, cfg = demo
    svc.set_fault("stale-index", True)
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_playbook("rollback_and_fast_recovery")
        await pilot.pause()
        walk = app.screen
        idx = next(i for i, s in enumerate(walk.playbook.steps) if s.id == "rollback")
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog), "confirm dialog")
        dialog = app.screen
        assert dialog.plan.destructive and dialog.plan.target == "demo"
        target = dialog.query_one("#confirm-target", Input)
        target.value = "dmeo"
        await pilot.press("enter")
        assert "is not 'demo'" in str(dialog.query_one("#confirm-error", Label).content)
        assert svc.has_fault("stale-index")  # nothing ran
        target.value = "demo"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: walk.progress.status("rollback") == "done",
            "rollback recorded on the step",
        )
        assert not svc.has_fault("stale-index")
        lines = walk.progress.results["rollback"]
        assert lines[0].startswith("rollback: done")
        assert any(line.startswith("verify index: pass") for line in lines), lines


async def test_an_interrupted_action_is_shown_on_start(demo, fixmap_home):
    """An intent with no outcome (the process died mid-action) is on every screen's bar."""
    from console.actions import journal
    from screens.widgets import SiteBar

    _svc, cfg = demo
    journal.append(
        {
            "type": "intent",
            "run": "r-dead",
            "key": "rollback-dead",
            "action": "rollback",
            "kind": "rollback",
            "ts": now_iso(),
            "who": "someone",
            "pid": 999999,
        }
    )
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.interrupted == 1, "interrupted entry counted")
        assert "1 INTERRUPTED" in str(app.screen.query_one(SiteBar).content)
        app.open_playbook("rollback_and_fast_recovery")
        await pilot.pause()
        assert "1 INTERRUPTED" in str(app.screen.query_one(SiteBar).content)


async def test_history_screen_with_an_empty_history_says_so(demo, fixmap_home):
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        screen = app.screen
        await until(
            pilot, lambda: screen.running is None and screen.last_request is not None, "first query"
        )
        table = screen.query_one(DataTable)
        assert "nothing left its baseline" in str(table.get_cell_at((0, 0)))
        assert not screen.query_one(TimeChart).display


async def test_a_step_result_lands_after_leaving_the_walkthrough(demo, fixmap_home):
    """Enter on a probe step, Esc at once: the verdict is still filed on the step."""
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_playbook("idempotency_dedupe")
        await pilot.pause()
        walk = app.screen
        idx = next(i for i, s in enumerate(walk.playbook.steps) if s.kind == "probe")
        step = walk.playbook.steps[idx]
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        await pilot.press("enter", "escape")
        await until(pilot, lambda: not app.running_steps, "the probe finished")
        assert step.id in app.progress_for(walk.playbook).results
        app.open_playbook("idempotency_dedupe")
        await pilot.pause()
        assert app.screen.progress.status(step.id) == "done"


async def test_the_same_playbook_open_twice_shares_its_progress(fixmap_home):
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_playbook("bootstrap_ordering")
        await pilot.pause()
        first = app.screen
        app.open_playbook("bootstrap_ordering")  # e.g. via a route step and back
        await pilot.pause()
        await pilot.press("d", "d", "d", "escape")
        await pilot.pause()
        assert app.screen is first
        await pilot.press("up")  # the old view saves on every move: it must not erase the marks
        await pilot.pause()
        from console.walkthrough import ProgressStore

        assert sum(v == "done" for v in ProgressStore().load(first.playbook).statuses.values()) == 3
        assert "3/" in str(first.query_one("#walk-title").content)


async def test_f_keys_go_back_to_an_open_screen_and_sql_may_repeat_a_column(demo, fixmap_home):
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2", "f3", "f2", "f3")
        await pilot.pause()
        assert [type(s).__name__ for s in app.screen_stack] == [
            "TriageScreen",
            "ProbesScreen",
            "HistoryScreen",
        ]
        screen = app.screen
        await until(pilot, lambda: screen.running is None, "first query")
        screen.run_request("select 1 as ts, 2 as ts")
        await until(
            pilot,
            lambda: screen.running is None and screen.last_request == "select 1 as ts, 2 as ts",
            "repeated-column query",
        )
        assert len(screen.query_one(DataTable).columns) == 2
