"""Postmortem and status-page drafts from real incident timelines, the comms timer and the ship
checklist; public text never carries internal measures; secrets never reach an export."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from console.actions import journal
from console.core.identity import now_iso
from console.demo.site import site_config_toml
from console.exports import (
    checklist_status,
    export_incident,
    incident_actions,
    internal_terms,
    next_update_due,
    postmortem_markdown,
    status_drafts,
)
from console.gates import GateRun, TargetResult
from console.incident.lifecycle import (
    add_note,
    close_incident,
    mark_update_posted,
    open_incident,
    set_phase,
)
from console.incident.timeline import (
    load_incident,
    record,
    record_action,
)
from console.site import load_config

CANARY = "canary-export-secret-Pp40ze"
_NUMBER = re.compile(r"\d+\.\d+")


def _gate_event(set_name: str, verdict: str, targets: list[dict]) -> None:
    record(
        "gate",
        f"{set_name} gate: {verdict}",
        {
            "set": set_name,
            "verdict": verdict,
            "summary": f"{verdict}: test",
            "targets": targets,
            "probes": [
                {
                    "name": "pins",
                    "kind": "pins",
                    "status": "pass",
                    "value": 0,
                    "threshold": "== 0 mismatches",
                    "reason": "4 pins match",
                    "values": {
                        "deployed": {"model": "m-1", "index": "build-2"},
                        "lock": {"model": "m-1", "index": "build-2"},
                    },
                }
            ],
        },
    )


def _incident_with_everything(monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_ADMIN_TOKEN", CANARY)
    inc = open_incident("ΔS 0.62 and coverage 0.55 after the index swap", "S2", "rag-api")
    _gate_event(
        "readiness",
        "no-go",
        [
            {"name": "index", "status": "fail", "value": 3, "threshold": "== 0", "reason": "hash"},
            {"name": "p95", "status": "pass", "value": 80, "threshold": "<= 750", "reason": "ok"},
        ],
    )
    add_note(f"coverage fell to 0.55; λ divergent; token={CANARY}")
    record("route", "route opened: vector_index_build_and_swap", {"playbook": "x"})
    record("step", "step vector_index_build_and_swap/swap done", {})
    record(
        "query",
        "query window_vs_baseline: 4 rows",
        {"name": "window_vs_baseline", "measures": {"p95_uplift": 0.41}},
    )
    journal.append(
        {
            "type": "intent",
            "run": "run-1",
            "key": "rollback-abc123",
            "action": "rollback",
            "kind": "rollback",
            "ts": now_iso(),
            "who": "alice",
            "incident": None,
            "params": {},
        }
    )
    journal.append(
        {
            "type": "outcome",
            "run": "run-1",
            "key": "rollback-abc123",
            "action": "rollback",
            "ts": now_iso(),
            "status": "done",
            "http_status": 200,
            "reason": f"ok Bearer {CANARY}",
        }
    )
    journal.append(
        {
            "type": "intent",
            "run": "run-2",
            "key": "freeze-other",
            "action": "freeze",
            "kind": "freeze",
            "ts": now_iso(),
            "incident": "INC-20200101-0000-beef",
        }
    )
    set_phase("monitoring")
    _gate_event(
        "recovery",
        "go",
        [
            {
                "name": "error_rate",
                "status": "pass",
                "value": 0.002,
                "threshold": "<",
                "reason": "ok",
            }
        ],
    )
    close_incident("alias back to docs_vA; cache namespace rotated")
    return load_incident(inc.id)


def test_postmortem_has_every_event_and_no_secret(fixmap_home, monkeypatch):
    inc = _incident_with_everything(monkeypatch)
    md = postmortem_markdown(inc)
    assert CANARY not in md
    for e in inc.events:
        assert e.title.replace("|", "\\|") in md, e.title
    for section in (
        "## Summary",
        "## Impact window",
        "## Timeline",
        "## What fired",
        "## Actions",
        "## Versions and pins in play",
        "## Route taken",
        "## Root cause",
        "## Follow-ups",
        "## Status-page drafts",
    ):
        assert section in md
    assert md.startswith("# Incident ") and "severity S2" in md.splitlines()[0]
    assert "fails on the pre-fix build and passes on the fixed one" in md
    assert "alias swap rehearsal" in md  # the failing index target's regression test
    assert "`rollback-abc123`" in md and "freeze-other" not in md
    assert "| model | m-1 | m-1 |" in md
    assert "First red signal" in md and "Green confirmed" in md
    assert "publish within 48 h" in md


def test_json_export_round_trips(fixmap_home, monkeypatch):
    inc = _incident_with_everything(monkeypatch)
    text = export_incident(inc.id, "json")
    assert CANARY not in text
    data = json.loads(text)
    assert data["id"] == inc.id and len(data["events"]) == len(inc.events)
    assert [a["key"] for a in data["actions"]] == ["rollback-abc123"]
    assert {d["phase"] for d in data["status_drafts"]} == {
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    }
    with pytest.raises(ValueError):
        export_incident(inc.id, "pdf")


def test_status_drafts_carry_no_internal_measures(fixmap_home, monkeypatch):
    inc = _incident_with_everything(monkeypatch)
    drafts = status_drafts(inc)
    assert [d.phase for d in drafts] == ["investigating", "identified", "monitoring", "resolved"]
    for d in drafts:
        public = f"{d.title}\n{d.body}\n{d.banner}"
        assert internal_terms(public) == [], (d.phase, public)
        assert not _NUMBER.search(public.replace(":", " ")), public
        assert CANARY not in public
    assert drafts[0].state == "Degraded performance" and drafts[3].state == "Operational"
    assert "Next update by" in drafts[0].body and drafts[3].next_update is None
    assert "restored the previous version" in drafts[2].body  # the rollback ran
    assert "48 hours" in drafts[3].body


def test_internal_service_names_stay_out_of_public_text(fixmap_home):
    inc = open_incident("x", "S1", "delta_s-scorer")
    for d in status_drafts(inc):
        assert "delta_s" not in d.body and "the service" in d.body
    assert status_drafts(inc)[0].state == "Major outage"


def test_next_update_timer(fixmap_home):
    inc = open_incident("timer", "S2")
    due = next_update_due(inc)
    assert due.due == inc.opened + timedelta(minutes=10) and not due.overdue
    assert next_update_due(inc, inc.opened + timedelta(minutes=11)).overdue
    mark_update_posted()
    inc = load_incident(inc.id)
    posted = inc.of_kind("comms")[-1].time
    assert next_update_due(inc).due == posted + timedelta(minutes=15)
    set_phase("monitoring")
    mark_update_posted()
    inc = load_incident(inc.id)
    posted = inc.of_kind("comms")[-1].time
    due = next_update_due(inc)
    assert due.due == posted + timedelta(minutes=30) and "stable" in due.why
    inc = close_incident("ok")
    done = next_update_due(inc)
    assert done.due is None and "48 h" in done.why


def test_action_outcomes_on_the_timeline_merge_with_the_journal(fixmap_home):
    inc = open_incident("merge", "S3")

    class _Plan:
        incident = None
        params = {"release": "v41"}
        kind = "rollback"

    class _Outcome:
        action = "rollback"
        key = "rollback-k1"
        status = "done"
        run = "run-9"
        exit_code = None
        http_status = 200
        duration_s = 0.2
        reason = ""
        verify = {"probe": "index", "status": "pass", "reason": "ok"}
        break_glass = None
        guard = None
        plan = _Plan()

    journal.append(
        {
            "type": "intent",
            "run": "run-9",
            "key": "rollback-k1",
            "action": "rollback",
            "kind": "rollback",
            "ts": now_iso(),
            "incident": inc.id,
        }
    )
    journal.append(
        {
            "type": "outcome",
            "run": "run-9",
            "key": "rollback-k1",
            "action": "rollback",
            "ts": now_iso(),
            "status": "done",
            "http_status": 200,
        }
    )
    assert record_action(_Outcome()) is not None
    rows = incident_actions(load_incident(inc.id))
    assert len(rows) == 1
    assert rows[0]["key"] == "rollback-k1" and rows[0]["from"] == "timeline + journal"
    assert rows[0]["verify"]["status"] == "pass"


def _run(set_name: str, verdict: str, **statuses: str) -> GateRun:
    targets = [
        TargetResult(name, status, None, None, "because", "probe x")
        for name, status in statuses.items()
    ]
    return GateRun(set_name, verdict, targets, "2026-01-01T00:00:00+00:00", 1.0)


def test_checklist_ticks_itself_from_gate_results(tmp_path):
    path = tmp_path / "fixmap.toml"
    path.write_text(site_config_toml("http://127.0.0.1:9"))
    site = load_config(path)
    readiness = _run(
        "readiness",
        "no-go",
        version_lock="pass",
        index="fail",
        warmup="pass",
        idempotency="pass",
        p95="pass",
    )
    items = {i: (s, w) for i, _d, s, w in checklist_status(site, readiness)}
    assert items["Freeze the world"][0] == "open" and "index" in items["Freeze the world"][1]
    assert items["Warm up safely"][0] == "open"
    assert items["Guard the edge"][0] == "ticked"
    assert items["Shadow then canary"][0] == "unknown"
    assert items["Know your exit"][0] == "ticked" and "rollback" in items["Know your exit"][1]
    canary = _run("canary", "go", error_rate="pass")
    items = {
        i: s
        for i, _d, s, _w in checklist_status(
            site, [_run("readiness", "go", version_lock="pass", index="pass"), canary]
        )
    }
    assert items["Freeze the world"] == "ticked" and items["Shadow then canary"] == "ticked"
    assert items["Warm up safely"] == "unknown"
    nothing = checklist_status(None, None)
    assert [s for _i, _d, s, _w in nothing] == ["unknown", "unknown", "unknown", "unknown", "open"]
    assert len(nothing) == 5
