"""80x24 SVG snapshots of the two screens an engineer sees first."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from console.site import load_config
from screens.app import FixmapApp


def app_for(tmp_path: Path) -> FixmapApp:
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text('[site]\nname = "snapshot-site"\n', encoding="utf-8")
    return FixmapApp(load_config(cfg))


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    # a steady cursor: a blinking one is drawn or not by how long start-up took (0.5 s cycle)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


@pytest.fixture
def snap_app(tmp_path):
    return app_for(tmp_path)


def test_triage_quick_routes(snap_compare, snap_app):
    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=settle)


def test_triage_ranked_results(snap_compare, snap_app):
    async def typed(pilot):
        await settle(pilot)
        text = "index swap but answers cite old snippets"
        await pilot.press(*[("space" if c == " " else c) for c in text])
        await pilot.pause()

    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=typed)


def test_walkthrough(snap_compare, snap_app):
    async def opened(pilot):
        await settle(pilot)
        pilot.app.open_playbook("rollback_and_fast_recovery")
        await pilot.pause()
        await pilot.press("d", "s")
        await pilot.pause()

    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=opened)
