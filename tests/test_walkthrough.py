"""The headless walkthrough: `fixmap step` / `fixmap walk` against a live demo, and the same
step in the console giving the same verdict."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest
from textual.widgets import OptionList

from console.actions import read_journal
from console.demo.service import DemoService
from console.demo.site import site_config_toml, write_site_config
from console.site import load_config
from tests.conftest import FIXMAP, without_sampling

TOKEN = "walkthrough-admin-token"
INDEX_ROUTE = "vector_index_build_and_swap"
ROLLBACK_ROUTE = "rollback_and_fast_recovery"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(admin_token=TOKEN) as svc:
        yield svc, write_site_config(tmp_path, svc.url)


def fixmap(cfg, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env=os.environ,
    )


def test_a_probe_step_headless_reports_the_failing_index_with_its_gate(demo):
    svc, cfg = demo
    svc.set_fault("stale-index", True)
    done = fixmap(cfg, "step", INDEX_ROUTE, "index", "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "fail" and result["mark"] == "failed"
    assert result["summary"].startswith("gate index: fail")
    assert result["source"] == "probe index"

    walked = json.loads(fixmap(cfg, "walk", INDEX_ROUTE, "--json").stdout)
    step = next(s for s in walked["steps"] if s["id"] == "index")
    assert step["status"] == "failed" and step["last"] == result["lines"]

    svc.set_fault("stale-index", False)
    again = fixmap(cfg, "step", INDEX_ROUTE, "2", "--json")  # by number too
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["mark"] == "done"


async def test_the_console_gives_the_same_verdict_for_the_same_step(demo, fixmap_home):
    from screens.app import FixmapApp

    svc, cfg = demo
    svc.set_fault("stale-index", True)
    headless = json.loads(fixmap(cfg, "step", INDEX_ROUTE, "index", "--json").stdout)
    # forget the headless result: the console must find the verdict on its own
    (fixmap_home / "progress" / f"{INDEX_ROUTE}.json").unlink()

    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.open_playbook(INDEX_ROUTE)
        await pilot.pause()
        walk = app.screen
        idx = [s.id for s in walk.playbook.steps].index("index")
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert walk.progress.status("index") == "failed"
        gate_line = next(x for x in walk.progress.results["index"] if x.startswith("gate "))
        assert gate_line == headless["summary"]


def test_destructive_action_steps_need_the_target_typed(demo):
    _svc, cfg = demo
    refused = fixmap(cfg, "step", ROLLBACK_ROUTE, "rollback", "--yes")
    assert refused.returncode == 3
    assert "pass --confirm demo" in refused.stdout
    assert not [e for e in read_journal() if e.status in ("done", "running")]

    wrong = fixmap(cfg, "step", ROLLBACK_ROUTE, "rollback", "--confirm", "dmeo")
    assert wrong.returncode == 3 and "is not the target 'demo'" in wrong.stdout

    dry = fixmap(cfg, "step", ROLLBACK_ROUTE, "rollback", "--dry-run")
    assert dry.returncode == 0 and "dry-run: nothing was changed" in dry.stdout

    ran = fixmap(cfg, "step", ROLLBACK_ROUTE, "rollback", "--confirm", "demo", "--json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout)
    assert result["status"] == "pass" and result["source"] == "action rollback"
    assert [e.action for e in read_journal() if e.status == "done"] == ["rollback"]


def test_check_steps_need_a_yes_and_unknown_steps_say_what_exists(demo):
    _svc, cfg = demo
    ask = fixmap(cfg, "step", ROLLBACK_ROUTE, "throttle")
    assert ask.returncode == 3 and "run again with --yes" in ask.stdout
    assert fixmap(cfg, "step", ROLLBACK_ROUTE, "throttle", "--yes").returncode == 0
    walked = json.loads(fixmap(cfg, "walk", ROLLBACK_ROUTE, "--json").stdout)
    assert next(s for s in walked["steps"] if s["id"] == "throttle")["status"] == "done"

    typo = fixmap(cfg, "step", ROLLBACK_ROUTE, "rolback")
    assert typo.returncode == 2 and "did you mean 'rollback'?" in typo.stderr


def test_a_step_naming_what_the_site_lacks_says_what_to_add(tmp_path):
    with DemoService(admin_token=TOKEN) as svc:
        cfg = write_site_config(tmp_path, svc.url)
        text = cfg.read_text()
        cut = text.index("[actions.rollback]")
        end = text.index("\n[", cut + 1)
        cfg.write_text(text[:cut] + text[end + 1 :])
        done = fixmap(cfg, "step", ROLLBACK_ROUTE, "rollback", "--yes")
    assert done.returncode == 2
    assert "has no [actions.rollback]" in done.stderr


async def test_a_mark_made_elsewhere_shows_in_the_console_and_neither_is_lost(demo, fixmap_home):
    """The console open on a playbook, `fixmap step` (another process) marks a step: the console
    shows it within a poll, and its own next mark keeps the other one."""
    from screens.app import FixmapApp
    from screens.walkthrough import WalkthroughScreen

    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.open_playbook(ROLLBACK_ROUTE)
        await pilot.pause()
        walk = app.screen
        assert isinstance(walk, WalkthroughScreen)
        assert fixmap(cfg, "step", ROLLBACK_ROUTE, "throttle", "--yes").returncode == 0
        deadline = asyncio.get_running_loop().time() + 15
        while walk.progress.status("throttle") != "done":
            assert asyncio.get_running_loop().time() < deadline, "the console never saw the mark"
            await pilot.pause(0.2)
        walk.query_one("#steps", OptionList).highlighted = 0
        await pilot.press("d")
        await pilot.pause()
    walked = {
        s["id"]: s["status"]
        for s in json.loads(fixmap(cfg, "walk", ROLLBACK_ROUTE, "--json").stdout)["steps"]
    }
    assert walked["throttle"] == "done" and walked["decide"] == "done"


def test_a_step_with_no_verdict_is_offered_again_next(tmp_path):
    """A probe that could not measure (nothing listens) decides nothing: run it again, not on."""
    from console.playbooks import load_catalog
    from console.walkthrough import Walkthrough

    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(without_sampling(site_config_toml("http://127.0.0.1:9")), encoding="utf-8")
    site = load_config(cfg)
    pb = load_catalog([]).require("vector_index_build_and_swap")
    w = Walkthrough(site, pb)
    result = w.run("index")
    assert result.status in ("error", "inconclusive"), result
    assert w.progress.status("index") == "pending"
    nxt = w.next()
    assert nxt is not None and nxt.step == "index", nxt
    assert nxt.why.startswith("no verdict yet")
