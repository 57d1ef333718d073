"""`fixmap gate` as a deploy pipeline runs it: a real process against the demo on loopback;
exit 0 go, 1 no-go, 2 could not evaluate; JSON on stdout, 80 columns for people."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from console.demo.service import DemoService
from console.demo.site import site_config_toml
from console.history import seed_demo_history
from tests.conftest import FIXMAP, without_sampling

TOKEN = "gate-cli-admin-token"


def gate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, "gate", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
    )


@pytest.fixture(scope="module")
def demo():
    with DemoService([], admin_token=TOKEN) as svc:
        yield svc


def config(folder: Path, svc: DemoService, extra: str = "", seed: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fixmap.toml"
    path.write_text(without_sampling(site_config_toml(svc.url)) + "\n" + extra)
    if seed:
        seed_demo_history(folder / "history.duckdb", "demo")
    return path


def test_healthy_demo_says_go_and_exits_0(tmp_path, demo):
    path = config(tmp_path, demo)
    proc = gate("--config", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("GO  readiness")
    assert all(len(line) <= 80 for line in lines), [len(x) for x in lines]
    names = [line.split()[0] for line in lines[1:]]
    assert names[:3] == ["boot", "version_lock", "index"] and "p95" in names


def test_stale_index_is_no_go_naming_the_target_in_json(tmp_path, demo):
    path = config(tmp_path, demo)
    demo.set_fault("stale-index", True)
    try:
        proc = gate("readiness", "--json", "--config", str(path))
    finally:
        demo.set_fault("stale-index", False)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["set"] == "readiness" and data["verdict"] == "no-go"
    failing = [t for t in data["targets"] if t["status"] == "fail"]
    assert [t["name"] for t in failing] == ["index"]
    assert failing[0]["value"] == 3 and failing[0]["threshold"] == "== 0"
    for t in data["targets"]:
        assert set(t) >= {"name", "status", "value", "threshold", "reason"}


def test_inconclusive_exits_2(tmp_path, demo):
    path = config(tmp_path, demo)  # no history at all
    proc = gate("canary", "--json", "--config", str(path))
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert data["verdict"] == "inconclusive"
    assert {t["status"] for t in data["targets"]} == {"inconclusive"}


def test_history_gates_on_the_seeded_week(tmp_path, demo):
    path = config(tmp_path, demo, seed=True)
    proc = gate("hard_stop", "--config", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("GO  hard_stop")


def test_bad_input_exits_2(tmp_path, demo):
    path = config(tmp_path, demo)
    unknown = gate("readyness", "--config", str(path))
    assert unknown.returncode == 2 and "did you mean 'readiness'" in unknown.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nosite = gate(cwd=empty)
    assert nosite.returncode == 2 and "no site config" in nosite.stderr
    bad = config(tmp_path / "bad", demo, '[gates.readiness.p95]\npass = "fast"\n')
    broken = gate("--config", str(bad))
    assert broken.returncode == 2 and "gates.readiness.p95.pass" in broken.stderr
    lines = bad.read_text().splitlines()
    new = config(tmp_path / "new", demo, '[gates.canary.p95]\npass = "<= 1"\n')
    incomplete = gate("canary", "--config", str(new))
    at = f"{new}:{lines.index('[gates.readiness.p95]') + 1}: gates.canary.p95: a new target needs"
    assert incomplete.returncode == 2 and at in incomplete.stderr, incomplete.stderr
    missing = gate("--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2


def test_list_and_checklist(tmp_path, demo):
    path = config(tmp_path, demo, '[gates.readiness.p95]\npass = "<= 5000"\n')
    listed = gate("--list", "--json", "--config", str(path))
    assert listed.returncode == 0
    sets = {s["name"]: s for s in json.loads(listed.stdout)["sets"]}
    assert set(sets) == {"readiness", "canary", "hard_stop", "recovery"}
    p95 = next(t for t in sets["readiness"]["targets"] if t["name"] == "p95")
    assert p95["pass"] == "<= 5000" and p95["overridden"] == ["pass"]
    checked = gate("--checklist", "--json", "--no-record", "--config", str(path))
    assert checked.returncode == 0
    items = {c["item"]: c["status"] for c in json.loads(checked.stdout)["checklist"]}
    assert items["Freeze the world"] == "ticked" and items["Know your exit"] == "ticked"
    assert items["Shadow then canary"] == "unknown"
