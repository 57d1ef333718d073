"""The history screen over a real DuckDB file: what changed, listed and charted from one answer."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable

from console.history import History, close_all, seed_demo_history
from console.site import load_config
from screens.app import FixmapApp
from screens.history import HistoryScreen
from screens.widgets.chart import TimeChart, epoch
from tests.test_tui_live import until


def charted(screen: HistoryScreen) -> set[str]:
    return set(screen.query_one(TimeChart).data.series)


async def test_what_changed_in_the_past_lists_and_charts_the_rows_of_its_table(tmp_path):
    db = tmp_path / "history.duckdb"
    incident = seed_demo_history(db, "demo", now="2024-05-08T12:00:00")
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(f'[site]\nname = "test-site"\n[history]\ndb = "{db}"\n', encoding="utf-8")
    # long before now: a what-changed that forgot `until` would find nothing to click
    end = (incident.rollback_at + timedelta(minutes=20)).isoformat(timespec="seconds")
    request = f"what_changed window=2h baseline=24h until={end} bucket=5m limit=2"
    expected = History(db).what_changed(
        window="2h", baseline="24h", until=end, bucket="5m", limit=2
    )
    assert len(expected) == 2

    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.app.workers.wait_for_complete()
        screen = HistoryScreen(request)
        app.push_screen(screen)
        await until(pilot, lambda: screen.last_request == request, "what changed answered")
        table = screen.query_one(DataTable)

        assert screen.changes == expected
        assert table.row_count == len(screen.changes) == 2
        for i, change in enumerate(screen.changes):
            service, metric, direction, _score, started, *_ = table.get_row_at(i)
            assert (service, metric, direction) == (change.service, change.metric, change.direction)
            assert started == change.started.strftime("%m-%d %H:%M")  # 5m buckets, not 1m
        top = screen.changes[0].metric
        assert charted(screen) == {top, f"{top}_max"}

        for row in (1, 0):  # the second pick too: the range is the query's, not the chart's
            change = screen.changes[row]
            table.focus()
            table.move_cursor(row=row)
            await pilot.press("enter")
            await until(
                pilot,
                lambda change=change: (
                    screen.running is None
                    and charted(screen) == {change.metric, f"{change.metric}_max"}
                ),
                f"row {row} charted",
            )
            times = screen.query_one(TimeChart).data.times
            since, end_at = screen.range
            assert epoch(since) - 900 <= times[0] and times[-1] <= epoch(end_at)
            assert table.row_count == 2 and screen.changes == expected  # the list stays
            assert "✗" not in str(screen.query_one("#history-title").content)
    close_all()


async def test_a_query_run_on_the_screen_lands_on_the_open_incident(tmp_path, fixmap_home):
    from console import incident

    db = tmp_path / "history.duckdb"
    seed_demo_history(db, "demo")
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(f'[site]\nname = "test-site"\n[history]\ndb = "{db}"\n', encoding="utf-8")
    opened = incident.open_incident("latency climbing")
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.app.workers.wait_for_complete()
        screen = HistoryScreen("error_rates window=1h")
        app.push_screen(screen)
        await until(
            pilot,
            lambda: any(e.kind == "query" for e in incident.load_incident(opened.id).events),
            "the query on the timeline",
        )
    close_all()
