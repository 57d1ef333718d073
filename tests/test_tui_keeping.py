"""Keeping what is on screen: `s` saves the pane as a redacted text file and shows its path on
screen; status drafts are plain text; the export path stays; the journal opens at its newest
entry and follows the file. A real app over real files and real actions; Pilot, no sleeping."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from textual.widgets import Input, RichLog, Static

from console.actions import plan_action, run_action
from console.core import register_secret
from console.site import load_config
from screens.app import FixmapApp
from screens.dialogs import TextDialog
from screens.widgets.kept import KeptLine, log_text

SECRET = "kp-Secret-9Qz7Lm2Rt8Vx4"


async def ready(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, condition, what: str, seconds: float = 20.0) -> None:
    """Poll a condition with a deadline (workers, timers and messages run meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError(f"never happened: {what}")


def kept(screen) -> str:
    found = screen.query(KeptLine)
    return str(found.first().content) if found and found.first().display else ""


def saved_path(screen) -> Path:
    said = kept(screen)
    assert said.startswith("saved "), said
    return Path(said.split()[1])


def site_with_actions(tmp_path: Path, probe: bool = False):
    words = [sys.executable, "-c", "print('flipped')"]
    text = f'[site]\nname = "keep"\n\n[actions.flip]\nkind = "flag"\ndestructive = false\nargv = {json.dumps(words)}\n'
    if probe:
        text += '\n[probes.health]\nkind = "http"\nurl = "http://127.0.0.1:9/healthz"\n'
    path = tmp_path / "fixmap.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


async def test_s_saves_the_probe_pane_redacted_and_the_path_stays_on_screen(tmp_path, fixmap_home):
    from console.probes import ProbeResult

    register_secret(SECRET)
    site = site_with_actions(tmp_path, probe=True)
    app = FixmapApp(site)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await ready(pilot)
        screen = app.screen
        # a target that echoes a credential back: the screen should never show it, the file
        # must not hold it either way
        echoed = f"503 from /healthz; body said token={SECRET}"
        screen._show(
            ProbeResult("health", "http", "fail", 503, "200", echoed, 12.0, "2026-12-01T14:00:00")
        )
        await pilot.press("s")
        await until(pilot, lambda: kept(screen).startswith("saved "), "the saved path on screen")
        path = saved_path(screen)
        assert path.parent == fixmap_home / "saved" and path.name.startswith("probes-")
        text = path.read_text(encoding="utf-8")
        assert "health (http): fail — 503 from /healthz" in text
        assert "health" in text.splitlines()[-1] and "✗ FAIL" in text
        assert SECRET not in text and SECRET[:16] not in text
        assert "copied (OSC 52" in kept(screen)
        # the same redacted text went to the terminal's clipboard (Textual sends it as OSC 52)
        assert "health (http): fail — 503 from /healthz" in app.clipboard
        assert SECRET not in app.clipboard and SECRET[:16] not in app.clipboard
        await pilot.press("down")  # the path stays while the engineer moves on
        await pilot.pause()
        assert kept(screen).startswith("saved ")


async def test_a_query_result_is_saved_whole_where_the_table_cuts_cells(tmp_path, fixmap_home):
    from console.history import seed_demo_history

    db = tmp_path / "history.duckdb"
    seed_demo_history(db, "demo", now="2024-05-08T12:00:00")
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(f'[site]\nname = "t"\n[history]\ndb = "{db}"\n', encoding="utf-8")
    request = "select 'a-' || repeat('y', 120) || '-z' as long, 7 as n"
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        screen = app.screen
        await until(pilot, lambda: screen.running is None, "the first query answered")
        field = screen.query_one(Input)
        field.value = request
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.last_request == request, "the query answered")
        await pilot.press("ctrl+s")  # the query box has the focus: s would be a letter
        await until(pilot, lambda: kept(screen).startswith("saved "), "saved")
        text = saved_path(screen).read_text(encoding="utf-8")
        assert text.startswith(request)
        assert "a-" + "y" * 120 + "-z" in text and "…" not in text


async def test_drafts_are_plain_text_and_s_saves_them_export_path_stays(tmp_path, fixmap_home):
    from console.incident import open_incident

    site = site_with_actions(tmp_path)
    open_incident("answers cite old snippets", "S2", site=site)
    app = FixmapApp(site)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: app.screen.incident is not None, "the incident loaded")
        incident_screen = app.screen
        await pilot.press("ctrl+d")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        body = str(dialog.query_one("#text-body", Static).content)
        assert "[INVESTIGATING]" in body and "▌" not in body and "\n> " not in body
        await pilot.press("s")
        await until(pilot, lambda: kept(dialog).startswith("saved "), "the drafts saved")
        path = saved_path(dialog)
        assert path.name.startswith("status-drafts-")
        assert path.read_text(encoding="utf-8").strip() == body.strip()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is incident_screen
        await pilot.press("ctrl+e")
        await until(pilot, lambda: kept(incident_screen).startswith("exported"), "export path")
        said = kept(incident_screen)
        md = Path(said.split("postmortem draft ")[1].split(" · ")[0])
        assert md.exists() and md.parent == fixmap_home / "exports"
        await pilot.press(*"still here")
        await pilot.pause()
        assert kept(incident_screen) == said  # on screen until the next save, not a toast


def _flip(site, n: int):
    outcome = run_action(site, plan_action(site, "flip", key=f"flip-{n}"), True)
    assert outcome.status == "done", outcome
    return outcome


async def test_the_journal_opens_at_its_newest_entry_and_follows_the_file(tmp_path, fixmap_home):
    site = site_with_actions(tmp_path)
    for n in range(30):
        _flip(site, n)
    app = FixmapApp(site)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await ready(pilot)
        await pilot.press("j")
        screen = app.screen
        log = screen.query_one(RichLog)
        await until(pilot, lambda: screen.total == 30, "the journal read")
        await until(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y, "end")
        shown = log_text(log)
        assert shown.index("key=flip-0 ") < shown.index("key=flip-28 ") < shown.index("key=flip-29")
        assert "key=flip-29" in "".join(s.text for s in log.lines[-3:])  # newest at the bottom

        # another process appends (a shell's `fixmap act`): the screen follows within seconds
        await asyncio.to_thread(_flip, site, 30)
        await until(pilot, lambda: screen.total == 31, "the new entry read", seconds=15)
        assert "key=flip-30" in "".join(s.text for s in log.lines[-3:])
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y, "still at the newest")

        await pilot.press("s")
        await until(pilot, lambda: kept(screen).startswith("saved "), "journal saved")
        text = saved_path(screen).read_text(encoding="utf-8")
        assert text.index("key=flip-29") < text.index("key=flip-30")
