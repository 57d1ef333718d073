"""Gates, the checklist and an incident walked in the console against a live demo."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, OptionList, RichLog

from console.demo.service import DemoService
from console.demo.site import write_site_config
from console.site import load_config
from screens.app import FixmapApp
from screens.checklist import ChecklistScreen
from screens.dialogs import FormDialog
from screens.gates import GateScreen
from screens.incident import IncidentScreen
from tests.test_tui_live import until

TOKEN = "incident-tui-admin-token"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(admin_token=TOKEN) as svc:
        yield svc, write_site_config(tmp_path, svc.url)


async def test_gate_screen_says_go_then_no_go_naming_the_failing_target(demo, fixmap_home):
    svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalog is not None, "catalog")
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, GateScreen)
        await until(
            pilot, lambda: "readiness" in app.gate_runs and screen.running is None, "readiness run"
        )
        assert app.gate_runs["readiness"].verdict == "go", app.gate_runs["readiness"].summary()
        assert "GO" in str(screen.query_one("#gate-verdict").content)

        svc.set_fault("stale-index", True)
        previous = app.gate_runs["readiness"]
        await pilot.press("enter")
        await until(
            pilot,
            lambda: app.gate_runs["readiness"] is not previous and screen.running is None,
            "second run",
        )
        run = app.gate_runs["readiness"]
        assert run.verdict == "no-go" and run.target("index").status == "fail"
        verdict = str(screen.query_one("#gate-verdict").content)
        assert "NO-GO" in verdict and "index" in verdict
        assert "FAIL" in str(screen.query_one(DataTable).get_cell("index", "status"))

        await pilot.press("c")
        assert isinstance(app.screen, ChecklistScreen)
        body = str(app.screen.query_one("#checklist-body").content)
        assert "[ ]" in body or "[?]" in body  # the failing index keeps an item open or unknown


async def test_incident_walked_in_the_console_exports_what_happened(demo, fixmap_home):
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalog is not None, "catalog")
        await pilot.press("f6")
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#param-title", Input).value = "answers cite old snippets"
        app.screen.query_one("#param-service", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.incident is not None, "incident opened")
        assert "S2" in str(screen.query_one("#incident-head").content)

        note = screen.query_one("#note", Input)
        note.value = "stale answers reported by support"
        note.focus()
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(e.kind == "note" for e in app.incident.events),
            "note on the timeline",
        )

        app.open_playbook("vector_index_build_and_swap")
        await pilot.pause()
        walk = app.screen
        probe_idx = next(
            i for i, s in enumerate(walk.playbook.steps) if s.kind == "probe" and s.probe == "index"
        )
        walk.query_one("#steps", OptionList).highlighted = probe_idx
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: not app.running_steps, "probe step ran")
        await pilot.press("escape")
        await pilot.press("f6")
        screen = app.screen
        await until(
            pilot,
            lambda: (
                screen.incident is not None
                and any(e.kind == "probe" for e in screen.incident.events)
            ),
            "probe verdict on the timeline",
        )
        kinds = {e.kind for e in screen.incident.events}
        assert {"opened", "note", "route", "probe"} <= kinds
        assert len(screen.query_one(RichLog).lines) >= 4

        await pilot.press("ctrl+e")
        exports = fixmap_home / "exports"
        await until(
            pilot,
            lambda: exports.is_dir() and any(exports.glob("*-postmortem.md")),
            "export written",
        )
        text = next(exports.glob("*-postmortem.md")).read_text()
        assert "stale answers reported by support" in text
        assert "vector_index_build_and_swap" in text
        assert TOKEN not in text

        await pilot.press("ctrl+x")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one(
            "#param-resolution", Input
        ).value = "rebuilt the index and swapped the alias"
        app.screen.query_one("#param-resolution", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.incident is None, "incident closed")
    from console.incident import list_incidents

    (closed,) = list_incidents()
    assert (
        closed.status == "closed" and closed.resolution == "rebuilt the index and swapped the alias"
    )


async def test_gate_step_in_a_walkthrough_records_the_verdict(demo, fixmap_home):
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalog is not None, "catalog")
        app.open_playbook("rollout_readiness_gate")
        await pilot.pause()
        walk = app.screen
        idx = next(i for i, s in enumerate(walk.playbook.steps) if s.kind == "gate")
        walk.query_one("#steps", OptionList).highlighted = idx
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: "run-gate" in walk.progress.results, "gate step result")
        assert walk.progress.status("run-gate") == "done", walk.progress.results["run-gate"]
        assert walk.progress.results["run-gate"][0].startswith("readiness: go")
        assert app.gate_runs["readiness"].verdict == "go"


async def test_one_enter_opens_an_incident_and_a_missing_title_is_asked_for(demo, fixmap_home):
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalog is not None, "catalog")
        await pilot.press("f6", "ctrl+o", "enter")  # no title yet: the dialog stays, on the title
        assert isinstance(app.screen, FormDialog)
        assert app.screen.focused.id == "param-title"
        await pilot.press(*"429 storm", "enter")  # one burst, one Enter
        await until(pilot, lambda: app.incident is not None, "incident opened")
        assert app.incident.title == "429 storm" and app.incident.service == "demo"


async def test_notes_typed_in_one_burst_land_once_each_in_order(demo, fixmap_home):
    _svc, cfg = demo
    app = FixmapApp(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.catalog is not None, "catalog")
        await pilot.press("f6", "ctrl+o", *"burst test", "enter")
        await until(pilot, lambda: app.incident is not None, "incident opened")
        keys: list[str] = []
        for n in range(1, 9):
            keys += [*f"note {n}", "enter"]
        await pilot.press(*keys)  # one burst, as a laggy SSH link delivers fast typing
        screen = app.screen
        await until(
            pilot,
            lambda: (
                sum(e.kind == "note" for e in (screen.incident.events if screen.incident else []))
                >= 8
            ),
            "eight notes",
        )
        notes = [e.title for e in screen.incident.events if e.kind == "note"]
        assert notes == [f"note {n}" for n in range(1, 9)]


async def test_no_incident_open_notes_are_kept_and_past_incidents_can_be_reopened(fixmap_home):
    from console import incident

    closed = incident.open_incident("429 storm on /retrieve")
    incident.close_incident("limits back to normal")
    app = FixmapApp(load_config(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        await until(pilot, lambda: bool(screen.past), "past incidents listed")
        log = "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)
        assert closed.id in log and "limits back to normal" in log

        await pilot.press("ctrl+t")  # nothing to move: says why instead of nothing
        await pilot.pause()
        assert any("No incident is open" in str(n.message) for n in app._notifications)

        screen.query_one(Input).value = "typed after the other console closed it"
        await pilot.press("enter")
        await until(pilot, lambda: bool(incident.pending_notes()), "note kept")

        await pilot.press("ctrl+u")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "reopen dialog")
        app.screen.query_one("#param-reason", Input).value = "the 429s came back at 09:40"
        await pilot.press("enter")
        await until(pilot, lambda: screen.incident is not None, "reopened")
        assert screen.incident.id == closed.id and screen.incident.is_open
        events = incident.load_incident(closed.id).events
        assert [e.kind for e in events][-2:] == ["reopened", "note"]
        assert events[-1].title == "typed after the other console closed it"
        assert incident.pending_notes() == []
