"""Recovery after a change: its history windows are judged since the last change fixmap made.

A service clean since the rollback is not failing (the window's older minutes are from before
the fix), and not yet recovered either (the seed asks for 10 clean minutes): inconclusive, with
the time to re-run. Bad since the change is a fail; a change older than the window changes
nothing. Real DuckDB histories, a real journal written by a real `fixmap act`.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

import pytest

from console.demo.service import DemoService
from console.demo.site import site_config_toml
from console.gates import GateRun, get_set, measure_targets, overall
from console.gates.after import Change, last_change
from console.history import close_all, history_for, utcnow
from console.site import load_config
from tests.conftest import FIXMAP, without_sampling

BAD, CLEAN = 0.05, 0.001  # the recovery target passes below 0.5 %


@pytest.fixture(scope="module", autouse=True)
def _history_closed_at_the_end():
    yield
    close_all()


def site_at(tmp_path, url: str = "http://127.0.0.1:9"):
    path = tmp_path / "fixmap.toml"
    path.write_text(without_sampling(site_config_toml(url)))
    return load_config(path)


def error_rates(site, change_age_s: float, before: float, after: float) -> None:
    """error_rate every 20 s over the last 12 min: `before` up to the change, `after` since."""
    now = utcnow()
    ages = [a for a in range(0, 12 * 60, 20)]
    history_for(site).insert_samples(
        {
            "ts": [now - timedelta(seconds=a) for a in ages],
            "service": ["demo"] * len(ages),
            "metric": ["error_rate"] * len(ages),
            "value": [after if a < change_age_s else before for a in ages],
        }
    )


def judge(site, change: Change | None):
    target = get_set(site, "recovery").target("error_rate")
    [result], _probes = measure_targets(site, [target], change=change)
    return result


def ago(seconds: float) -> Change:
    return Change("rollback", utcnow() - timedelta(seconds=seconds))


def test_clean_since_the_change_is_not_yet_a_pass_and_not_a_fail(tmp_path):
    site = site_at(tmp_path)
    error_rates(site, 120, BAD, CLEAN)
    assert judge(site, None).status == "fail"  # the 10 min window as configured holds the fault

    change = ago(120)
    r = judge(site, change)
    assert r.status == "inconclusive", r.reason
    ready = (change.at + timedelta(minutes=10)).strftime("%H:%M:%S")
    assert r.reason.startswith(
        f"clean for 2m of the 10m needed since rollback at {change.at:%H:%M:%S}: "
        f"re-run after {ready} UTC"
    ), r.reason
    run = GateRun("recovery", overall([r]), [r], "", 0.0, after=change)
    assert run.summary().startswith(f"not yet: clean since rollback at {change.at:%H:%M:%S}")
    assert run.exit_code == 2
    assert run.to_json()["after"]["action"] == "rollback"


def test_bad_since_the_change_is_a_fail(tmp_path):
    site = site_at(tmp_path)
    error_rates(site, 120, BAD, BAD)
    r = judge(site, ago(120))
    assert r.status == "fail", r.reason
    assert "since rollback at" in r.reason


def test_a_change_older_than_the_window_judges_the_whole_window(tmp_path):
    site = site_at(tmp_path)
    error_rates(site, 11 * 60, BAD, CLEAN)
    r = judge(site, ago(11 * 60))
    assert r.status == "pass", r.reason
    assert "after_change" not in r.detail


def test_seconds_after_the_change_are_too_soon_to_measure(tmp_path):
    site = site_at(tmp_path)
    error_rates(site, 3, BAD, CLEAN)
    r = judge(site, ago(3))
    assert r.status == "inconclusive" and r.value is None
    assert "too soon to measure" in r.reason


def test_fixmap_gate_recovery_counts_from_the_last_action_in_the_journal(tmp_path):
    token = "after-test-admin-token-0123"
    env = {
        **os.environ,
        "FIXMAP_HOME": str(tmp_path / "home"),
        "FIXMAP_SECRET_DEMO_ADMIN_TOKEN": token,
    }
    with DemoService([], admin_token=token) as svc:
        site = site_at(tmp_path, svc.url)
        error_rates(site, 0, BAD, BAD)  # bad for the whole 12 minutes before the rollback
        config = str(site.path)
        act = subprocess.run(
            [FIXMAP, "--config", config, "act", "rollback", "--yes", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert act.returncode == 0, act.stderr
        journal = tmp_path / "home" / "journal.jsonl"
        change = last_change(journal)
        assert change is not None and change.action == "rollback"
        gate = subprocess.run(
            [FIXMAP, "--config", config, "gate", "recovery", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        payload = json.loads(gate.stdout)
        assert payload["after"]["action"] == "rollback", payload
        error_rate = next(t for t in payload["targets"] if t["name"] == "error_rate")
        # seconds after the rollback: the 12 bad minutes before it are not held against it
        assert error_rate["status"] == "inconclusive", error_rate
        assert "since rollback at" in error_rate["reason"]
