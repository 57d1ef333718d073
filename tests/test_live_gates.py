"""Verdicts that are true of the live service: the demo with simulated users, a real `fixmap
watch` process sampling its /metrics, `fixmap gate` processes judging the history.

Wall time stays short: the sampler runs every 0.5 s, the history gates' windows are 1 min (the
shortest a named query takes; the shipped ones are 10-15 min at 5 s), and the seeded week ends
a minute before the test starts, as if the demo had been running for longer than the windows:
every window holds live samples only, the baseline before it the seeded week. Every wait polls
a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from console.demo import DemoService
from console.demo.site import site_config_toml
from console.history import seed_demo_history, utcnow
from console.site import BUILTIN_SETS
from tests.conftest import FIXMAP

WINDOW = "1m"
INTERVAL = "0.5s"
MAX_AGE = "5s"


def live_config(folder: Path, url: str) -> Path:
    """The demo's config with a fast sampler and short windows on every history target."""
    text = site_config_toml(url).replace('interval = "5s"', f'interval = "{INTERVAL}"', 1)
    # a gate process reading the file can hold up a round by a second: 5 s, not 3 intervals
    text = text.replace(
        'db = "history.duckdb"\n', f'db = "history.duckdb"\nmax_age = "{MAX_AGE}"\n', 1
    )
    extra = []
    for set_name in ("canary", "hard_stop", "recovery"):
        for name, target in BUILTIN_SETS[set_name]["targets"].items():
            if "query" in target:
                extra += [f"[gates.{set_name}.{name}]", f'params = {{ window = "{WINDOW}" }}']
                if (set_name, name) == ("hard_stop", "rate_429"):
                    extra += ["count = 3"]
                extra += [""]
    path = folder / "fixmap.toml"
    path.write_text(text + "\n" + "\n".join(extra) + "\n")
    return path


def gate(config: Path, *args: str) -> tuple[int, dict]:
    proc = subprocess.run(
        [FIXMAP, "gate", *args, "--config", str(config), "--json", "--no-record"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1, 2), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def wait_for(what: str, check, timeout: float):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last and last[0]:
            return last
        time.sleep(0.2)
    pytest.fail(f"not within {timeout:.0f} s: {what}; last: {last}")


def targets(payload: dict) -> dict[str, dict]:
    return {t["name"]: t for t in payload["targets"]}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo service with users, its seeded week, and a `fixmap watch` sampling it."""
    folder = tmp_path_factory.mktemp("live")
    svc = DemoService(traffic=20)
    svc.start()
    seeded = seed_demo_history(
        folder / "history.duckdb", "demo", now=utcnow() - timedelta(seconds=61)
    )
    config = live_config(folder, svc.url)
    watch = subprocess.Popen(
        [FIXMAP, "watch", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        yield svc, config, watch, seeded
    finally:
        if watch.poll() is None:
            watch.send_signal(signal.SIGTERM)
            watch.wait(20)
        svc.stop()


def test_a_healthy_demo_stays_go_once_the_seeded_week_is_out_of_the_windows(live):
    _svc, config, _watch, seeded = live
    assert (utcnow() - seeded.end).total_seconds() > 60  # the windows hold live samples only
    for set_name in ("hard_stop", "canary", "recovery"):
        _, (code, payload) = wait_for(
            f"{set_name} GO on live data",
            lambda s=set_name: (lambda r: (r[0] == 0, r))(gate(config, s)),
            timeout=60,
        )
        assert code == 0, payload["summary"]
        for t in payload["targets"]:
            if t["source"].startswith("history"):
                assert t["age_s"] is not None and t["age_s"] <= 5, t


def test_rate_limit_fault_turns_hard_stop_no_go_naming_rate_429_then_go_again(live):
    svc, config, _watch, _seeded = live
    wait_for("hard_stop GO before the fault", lambda: (gate(config, "hard_stop")[0] == 0, None), 60)
    svc.set_fault("rate-limit", True)
    switched = time.monotonic()
    try:

        def no_go():
            code, payload = gate(config, "hard_stop")
            return code == 1 and targets(payload)["rate_429"]["status"] == "fail", payload

        _, payload = wait_for("hard_stop NO-GO on rate_429", no_go, timeout=90)
        assert "rate_429" in payload["summary"]
        took = time.monotonic() - switched
        # the watched run stops at the first failing measurement, each one recorded
        code, watched = gate(config, "hard_stop", "--watch", "--timeout", "60s")
        assert code == 1 and watched["watched"]
        assert targets(watched)["rate_429"]["measurements"][-1]["status"] == "fail"
    finally:
        svc.set_fault("rate-limit", False)
    wait_for(
        "hard_stop GO again once the 429s left the window",
        lambda: (gate(config, "hard_stop")[0] == 0, None),
        timeout=150,
    )
    print(f"rate-limit fault -> hard_stop NO-GO in {took:.1f} s")  # shown with -s


def test_a_watched_healthy_run_takes_count_measurements(live):
    _svc, config, _watch, _seeded = live
    code, payload = gate(config, "hard_stop", "--watch", "--timeout", "60s")
    assert code == 0, payload["summary"]
    assert len(targets(payload)["rate_429"]["measurements"]) == 3


def test_with_the_sampler_stopped_history_targets_go_inconclusive_with_their_age(live):
    _svc, config, watch, _seeded = live
    wait_for("the sampler to be running", lambda: (gate(config, "hard_stop")[0] == 0, None), 60)
    watch.send_signal(signal.SIGTERM)
    assert watch.wait(20) == 0

    def stale():
        code, payload = gate(config, "hard_stop")
        history = [t for t in payload["targets"] if t["source"].startswith("history")]
        return code == 2 and all(t["status"] == "inconclusive" for t in history), payload

    _, payload = wait_for("hard_stop inconclusive on stale data", stale, timeout=30)
    for t in payload["targets"]:
        assert t["reason"].startswith("newest sample "), t["reason"]
        assert " old (max_age 5.0 s): no verdict on stale data" in t["reason"]
        assert t["age_s"] > 5, t
