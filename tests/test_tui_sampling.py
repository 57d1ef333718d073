"""The console on a live demo: it samples, the gate screen shows a watched run's measurements as
they come (a late one never overwrites a newer run), the history says how old its data is."""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Label

from console.demo.service import DemoService
from console.demo.site import site_config_toml
from console.history import seed_demo_history
from console.site import load_config
from screens.app import FixmapApp
from screens.gates import GateMeasured, GateScreen
from screens.history import HistoryScreen
from screens.widgets.chart import TimeChart
from tests.test_tui_live import until


async def until_sampled(pilot, app, rounds: int = 2, timeout: float = 60.0) -> None:
    """Wait (bounded) for the console's sampler child to log `rounds` sampling rounds."""
    from console.core import data_dir

    log = data_dir() / "sampler.log"
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        if app.sampler is not None and text.count(" samples;") >= rounds:
            return
        assert time.monotonic() < deadline, f"the sampler logged: {text!r}"
        await pilot.pause(0.1)


@pytest.fixture
def live(tmp_path):
    with DemoService(traffic=20) as svc:
        text = site_config_toml(svc.url).replace('interval = "5s"', 'interval = "0.3s"', 1)
        text = text.replace('db = "history.duckdb"\n', 'db = "history.duckdb"\nmax_age = "30s"\n')
        text += '\n[gates.hard_stop.rate_429]\ncount = 3\ninterval = "0.2s"\n'
        (tmp_path / "fixmap.toml").write_text(text)
        seed_demo_history(tmp_path / "history.duckdb", "demo")
        yield svc, load_config(tmp_path / "fixmap.toml")


async def test_the_gate_screen_shows_a_watched_runs_measurements_as_they_come(live, fixmap_home):
    _svc, site = live
    measured: list[GateMeasured] = []

    def hook(message) -> None:
        if isinstance(message, GateMeasured) and all(m is not message for m in measured):
            measured.append(message)  # the hook sees a message at every pump it passes

    app = FixmapApp(site)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await until_sampled(pilot, app)
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, GateScreen)
        await until(pilot, lambda: screen.running is None, "the readiness run")
        await pilot.press("3")
        await until(
            pilot, lambda: "hard_stop" in app.gate_runs and screen.running is None, "hard_stop"
        )
        await pilot.press("w")
        await until(
            pilot, lambda: screen.running is None and screen.stop_watch is None, "the watch"
        )
        run = app.gate_runs["hard_stop"]
        assert run.watched and run.verdict == "go", run.summary()
        mine = [m for m in measured if m.name == "rate_429"]
        assert [m.measurement["n"] for m in mine] == [1, 2, 3]
        assert len(run.target("rate_429").measurements) == 3
        table = screen.query_one(DataTable)
        assert "pass" in str(table.get_cell("rate_429", "status"))

        # a measurement of a replaced run never lands in the table
        before = str(table.get_cell("rate_429", "reason"))
        stale = mine[0]
        screen.post_message(
            GateMeasured(screen.token - 1, "rate_429", {**stale.measurement, "n": 99}, stale.result)
        )
        await pilot.pause()
        assert str(table.get_cell("rate_429", "reason")) == before
        assert "#99" not in str(screen.query_one("#gate-detail").content)
    assert app.sampler is not None and app.sampler.poll() is not None  # stopped with the console


async def test_history_says_how_old_its_newest_sample_is_and_charts_to_now(live, fixmap_home):
    _svc, site = live
    app = FixmapApp(site)
    async with app.run_test(size=(100, 30)) as pilot:
        await until_sampled(pilot, app)
        screen = HistoryScreen("latency_percentiles window=1h bucket=1m")
        app.push_screen(screen)
        await until(pilot, lambda: screen.last_request is not None, "the query")
        label = screen.query_one("#history-freshness", Label)
        await until(pilot, lambda: "last sample" in str(label.content), "the freshness line")
        text = str(label.content)
        assert "ago · sampling" in text and " s ago" in text
        chart = screen.query_one(TimeChart).data
        assert chart.until is not None and abs(chart.until - time.time()) < 60
