"""A whole incident on the demo, as an on-call engineer runs it: real processes, the real
service on loopback, a real DuckDB history, a canary admin token that must never leak.

open -> readiness gate go -> faults (stale-index, latency, duplicates) each turn their target
red -> rollback -> recovery exit gate: live targets pass, history not yet -> close -> export with every event and no secret.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from console.core import env_var
from console.demo.service import DemoService
from console.demo.site import ADMIN_SECRET, write_site_config
from console.gates import run_gate_set
from console.history import seed_demo_history
from console.incident import current_incident, load_incident
from console.site import load_config
from tests.conftest import FIXMAP, without_sampling

CANARY = "canary-e2e-admin-token-Ux7Wq2mz"


def fixmap(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [FIXMAP, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
    )
    assert CANARY not in proc.stdout + proc.stderr, args
    return proc


def test_a_whole_incident_on_the_demo(tmp_path: Path, fixmap_home: Path, monkeypatch):
    monkeypatch.setenv(env_var(ADMIN_SECRET), CANARY)
    with DemoService([], admin_token=CANARY) as svc:
        config = write_site_config(tmp_path, svc.url)
        # the seeded week, not sampled: judged with the unsampled 5-minute max_age
        config.write_text(without_sampling(config.read_text()))
        seed_demo_history(tmp_path / "history.duckdb", "demo")
        cfg = str(config)
        site = load_config(config)

        opened = fixmap(
            "incident", "open", "answers cite stale snippets after v1.5.0", "--severity", "sev2",
            "--config", cfg, "--json",
        )  # fmt: skip
        assert opened.returncode == 0, opened.stderr
        iid = json.loads(opened.stdout)["id"]
        assert json.loads(opened.stdout)["service"] == "demo"

        healthy = fixmap("gate", "--json", "--config", cfg)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert json.loads(healthy.stdout)["verdict"] == "go"

        # stale index: through the CLI, as a pipeline would see it
        svc.set_fault("stale-index", True)
        stale = fixmap("gate", "readiness", "--json", "--config", cfg)
        assert stale.returncode == 1
        data = json.loads(stale.stdout)
        assert data["verdict"] == "no-go"
        assert [t["name"] for t in data["targets"] if t["status"] == "fail"] == ["index"]

        # latency and duplicates: the engine the console calls, each its own target
        svc.set_fault("stale-index", False)
        for fault, target in (("latency", "p95"), ("duplicates", "idempotency")):
            svc.set_fault(fault, True)
            run = run_gate_set(site, "readiness")
            assert run.verdict == "no-go", (fault, run.summary())
            assert [t.name for t in run.by_status("fail")] == [target], run.summary()
            svc.set_fault(fault, False)

        fixmap("incident", "note", f"paging the index owner; admin token {CANARY} is in the log")

        # all three bad-release faults at once, then the rollback lever
        for fault in ("stale-index", "latency", "duplicates"):
            svc.set_fault(fault, True)
        before = run_gate_set(site, "recovery")
        assert before.verdict == "no-go"
        assert {t.name for t in before.by_status("fail")} >= {"duplicates", "index", "p95_live"}

        rolled = fixmap("act", "rollback", "--yes", "--config", cfg)
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        assert svc.state()["faults"] == []

        # seconds after the rollback: the live targets pass, the history windows are not yet
        # clean for their 10 minutes (and the minutes before the fix are not held against it)
        recovery = fixmap("gate", "recovery", "--json", "--config", cfg)
        assert recovery.returncode == 2, recovery.stdout + recovery.stderr
        verdict = json.loads(recovery.stdout)
        assert verdict["after"]["action"] == "rollback"
        assert verdict["summary"].startswith("not yet: clean since rollback at "), verdict
        live = [t for t in verdict["targets"] if t["source"].startswith("probe")]
        assert live and all(t["status"] == "pass" for t in live), live

        comms = fixmap("incident", "comms", "--phase", "monitoring", "--posted", "--json")
        assert comms.returncode == 0, comms.stderr
        closed = fixmap(
            "incident", "close", "--resolution", "rolled back to v1.4.1; alias and cache restored",
            "--config", cfg,
        )  # fmt: skip
        assert closed.returncode == 0, closed.stderr
        assert current_incident() is None

    inc = load_incident(iid)
    kinds = [e.kind for e in inc.events]
    assert kinds[0] == "opened" and kinds[-1] == "closed"
    assert kinds.count("gate") == 6  # healthy, stale, latency, duplicates, before, recovery
    assert {"note", "comms"} <= set(kinds)

    md = fixmap("incident", "export", iid, "--format", "md", "--config", cfg)
    assert md.returncode == 0, md.stderr
    text = md.stdout
    for e in inc.events:
        assert e.title.replace("|", "\\|") in text, e.title
    assert "| rollback | done |" in text  # the action, with its outcome...
    key = next(line for line in text.splitlines() if "| rollback | done |" in line)
    assert "`rollback-" in key  # ...and its idempotency key
    assert "index mismatches" in text and "p95" in text  # what fired, with values
    assert "| model | gpt-4o-mini-2024-07-18 | gpt-4o-mini-2024-07-18 |" in text
    assert "## Status-page drafts" in text and "Root cause" in text

    js = fixmap("incident", "export", iid, "--format", "json")
    assert js.returncode == 0
    record = json.loads(js.stdout)
    assert len(record["events"]) == len(inc.events)
    assert [a["action"] for a in record["actions"]] == ["rollback"]

    for path in (fixmap_home / "incidents").iterdir():
        if path.is_file():
            assert CANARY not in path.read_text(), path
    assert CANARY not in text and CANARY not in js.stdout
    public = " ".join(d["body"] for d in record["status_drafts"])
    assert "ΔS" not in public and "coverage" not in public.lower()
