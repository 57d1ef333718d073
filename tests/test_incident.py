"""Incidents and their timeline: open, record, note, close; files that survive restarts, torn
lines and threads; record() that never raises; secrets masked on disk; the history mirror."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from console.demo.site import site_config_toml
from console.incident import timeline as inc_mod
from console.incident.lifecycle import (
    add_note,
    close_incident,
    mark_update_posted,
    open_incident,
    set_phase,
)
from console.incident.model import (
    IncidentError,
    parse_severity,
)
from console.incident.timeline import (
    current_id,
    current_incident,
    list_incidents,
    load_incident,
    record,
    record_action,
    record_probes,
    record_query,
    record_route,
    record_step,
    resolve_id,
)
from console.site import load_config
from tests.conftest import FIXMAP

CANARY = "canary-incident-secret-Vv93kq"


def test_record_without_an_incident_is_a_cheap_no_op(fixmap_home):
    assert record("note", "nothing open") is None
    assert not list((fixmap_home / "incidents").glob("INC-*.jsonl"))
    assert inc_mod.last_error is None


def test_open_note_close_and_the_file_format(fixmap_home):
    inc = open_incident("answers cite old snippets", "sev2", "rag-api")
    assert inc.id.startswith("INC-") and inc.severity == "S2" and inc.service == "rag-api"
    assert current_id() == inc.id and current_incident().id == inc.id
    assert inc.phase == "investigating" and inc.is_open
    record("probe", "index probe failed", {"name": "index", "status": "fail"})
    add_note("rolled back the alias")
    closed = close_incident("alias back to docs_vA")
    assert not closed.is_open and closed.resolution == "alias back to docs_vA"
    assert closed.phase == "resolved"
    assert current_id() is None and current_incident() is None
    assert record("note", "after close") is None  # nothing current any more

    path = fixmap_home / "incidents" / f"{inc.id}.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["kind"] for r in lines] == ["opened", "probe", "note", "closed"]
    for r in lines:
        assert r["ts"].endswith("Z") and r["who"] and r["v"] == 1
    assert lines[0]["detail"]["severity"] == "S2"
    assert lines[-1]["detail"]["resolution"] == "alias back to docs_vA"


def test_only_one_current_incident(fixmap_home):
    first = open_incident("one", "S3")
    with pytest.raises(IncidentError, match="still open"):
        open_incident("two", "S3")
    close_incident("done")
    second = open_incident("two", "S1")
    assert current_id() == second.id != first.id
    ids = [i.id for i in list_incidents()]
    assert set(ids) == {first.id, second.id}


def test_incidents_survive_a_restart(fixmap_home):
    inc = open_incident("p95 doubled after deploy", "S2", "demo")
    add_note("looking at the latency chart")
    code = (
        "from console.incident.timeline import current_incident, record\n"
        "record('gate', 'readiness gate: no-go', {'verdict': 'no-go'})\n"
        "i = current_incident(); print(i.id, len(i.events), i.severity)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.split() == [inc.id, "3", "S2"]
    again = load_incident(inc.id)
    assert [e.kind for e in again.events] == ["opened", "note", "gate"]
    shown = subprocess.run(
        [FIXMAP, "incident", "show", "--json"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == inc.id


def test_record_never_raises(fixmap_home, monkeypatch):
    inc = open_incident("disk trouble", "S2")
    path = fixmap_home / "incidents" / f"{inc.id}.jsonl"
    path.unlink()
    path.mkdir()  # the timeline cannot be appended to now
    assert record("note", "lost") is None
    assert inc_mod.last_error and "timeline not written" in inc_mod.last_error
    blocker = fixmap_home / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("FIXMAP_HOME", str(blocker))  # data_dir() cannot be created now
    assert record("note", "lost") is None
    assert record("Bad Kind", "x", incident_id="INC-20260101-0000-abcd") is None
    assert record_action(object()) is None
    assert record_query(None) is None
    assert record_probes([object()]) is None


def test_secrets_are_masked_in_the_timeline_file(fixmap_home, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_SOME_TOKEN", CANARY)
    inc = open_incident(f"leak check {CANARY}", "S4")
    add_note(f"curl -H 'Authorization: Bearer {CANARY}' ...")
    record("action", "rollback", {"output": f"token={CANARY}", "nested": [CANARY]})
    text = (fixmap_home / "incidents" / f"{inc.id}.jsonl").read_text()
    assert CANARY not in text
    assert "••••••" in text


def test_threads_append_whole_lines(fixmap_home):
    inc = open_incident("many writers", "S3")

    def writer(n: int) -> None:
        for i in range(20):
            record("step", f"writer {n} step {i}", {"n": n, "i": i, "pad": "x" * 2000})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    site = load_incident(inc.id)
    assert len(site.events) == 1 + 100
    assert {e.title for e in site.events if e.kind == "step"} == {
        f"writer {n} step {i}" for n in range(5) for i in range(20)
    }


def test_a_torn_last_line_spoils_only_itself(fixmap_home):
    inc = open_incident("crash mid-write", "S2")
    path = fixmap_home / "incidents" / f"{inc.id}.jsonl"
    with open(path, "a") as fh:
        fh.write('{"v": 1, "ts": "2026-01-01T00:00:00.000Z", "kind": "no')  # killed here
    record("note", "after the crash")
    events = load_incident(inc.id).events
    assert [e.kind for e in events] == ["opened", "note"]


def test_severity_phase_and_comms(fixmap_home):
    for text, want in (("S1", "S1"), ("sev2", "S2"), ("SEV-3", "S3"), ("4", "S4"), ("p1", "S1")):
        assert parse_severity(text) == want
    with pytest.raises(IncidentError, match="S1-S4"):
        parse_severity("critical")
    inc = open_incident("phases", "S2")
    set_phase("identified", "cache keys missed the new index")
    mark_update_posted()
    now = load_incident(inc.id)
    assert now.phase == "identified"
    assert now.of_kind("comms")[0].detail["phase"] == "identified"
    with pytest.raises(IncidentError, match="did you mean 'monitoring'"):
        set_phase("monitorin")


def test_helpers_record_what_the_console_does(fixmap_home):
    inc = open_incident("helpers", "S3")
    record_route("vector_index_build_and_swap", "Vector index swap", why="stale snippets")
    record_step("vector_index_build_and_swap", "index", "done", "hash matches")
    record_step("vector_index_build_and_swap", "warm", "skipped")
    record_probes(
        [
            {"name": "index", "kind": "index", "status": "fail", "value": 3, "reason": "hash"},
            {"name": "health", "kind": "http", "status": "pass", "value": 200, "reason": "ok"},
        ]
    )
    events = load_incident(inc.id).events
    kinds = [e.kind for e in events]
    assert kinds == ["opened", "route", "step", "step", "probe"]
    assert events[1].detail["playbook"] == "vector_index_build_and_swap"
    assert events[3].title.startswith("step vector_index_build_and_swap/warm skipped")
    assert events[4].title == "probes: 1 of 2 pass (index fail)"


def test_resolve_id_by_its_suffix(fixmap_home):
    inc = open_incident("short ids", "S3")
    assert resolve_id(inc.id[-4:]) == inc.id
    with pytest.raises(IncidentError, match="no incident"):
        resolve_id("INC-19990101-0000-zzzz")


def test_open_and_close_are_mirrored_into_the_history(tmp_path, fixmap_home):
    path = tmp_path / "fixmap.toml"
    path.write_text(site_config_toml("http://127.0.0.1:9"))
    site = load_config(path)
    inc = open_incident("mirrored", "S2", site=site)
    assert inc.service == "demo" and not inc.notes
    close_incident("fine", site=site)
    from console.history import history_for

    events = history_for(site).events(kinds=["incident"])
    states = [e.detail["state"] for e in events if e.detail.get("id") == inc.id]
    assert states == ["opened", "resolved"]


def test_cli_open_note_list_close(fixmap_home):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FIXMAP, "incident", *args], capture_output=True, text=True, timeout=60
        )

    opened = run("open", "429 storm on /retrieve", "--severity", "S2", "--json")
    assert opened.returncode == 0, opened.stderr
    iid = json.loads(opened.stdout)["id"]
    assert run("open", "another").returncode == 2
    assert run("note", "raised the token bucket").returncode == 0
    assert run("open", "bad", "--severity", "S9").returncode == 2
    listed = json.loads(run("list", "--json").stdout)
    assert listed["current"] == iid
    closed = run("close", "--resolution", "limits back to normal")
    assert closed.returncode == 0 and "closed" in closed.stdout
    assert run("note", "too late").returncode == 2
    assert run("show", "nope-nope").returncode == 2
    shown = json.loads(run("show", iid, "--json").stdout)
    assert [e["kind"] for e in shown["events"]] == ["opened", "note", "closed"]
    assert Path(fixmap_home / "incidents" / f"{iid}.jsonl").exists()


def test_cli_lists_open_incidents_and_all_and_reopens_with_a_reason(fixmap_home):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FIXMAP, "incident", *args], capture_output=True, text=True, timeout=60
        )

    iid = json.loads(run("open", "stale answers", "--json").stdout)["id"]
    assert run("close", "--resolution", "rolled back").returncode == 0
    assert json.loads(run("list", "--json").stdout)["incidents"] == []
    assert [i["id"] for i in json.loads(run("list", "--all", "--json").stdout)["incidents"]] == [
        iid
    ]
    assert run("reopen", "--reason", "x").returncode == 2  # a reason is a sentence
    again = run("reopen", iid, "--reason", "stale answers are back after 10:05")
    assert again.returncode == 0, again.stderr
    shown = json.loads(run("show", "--json").stdout)
    assert shown["status"] == "open" and shown["events"][-1]["kind"] == "reopened"
    assert run("reopen", "--reason", "cannot reopen an open one").returncode == 2
