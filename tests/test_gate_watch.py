"""Watched gate runs: Argo Rollouts' measurement semantics (interval, count, failure_limit,
inconclusive_limit, consecutive_error_limit) and staleness, on real DuckDB files."""

from __future__ import annotations

import threading
from datetime import timedelta

from console.demo.site import site_config_toml
from console.gates import run_gate_set, watch_gate_set
from console.history import History, utcnow
from console.site import load_config
from tests.conftest import without_sampling

FIVE = "SELECT 5.0 AS v"


def site_with(tmp_path, gates: str, history: str = ""):
    tmp_path.mkdir(parents=True, exist_ok=True)
    text = without_sampling(site_config_toml("http://127.0.0.1:9"))
    if history:
        text = text.replace('db = "history.duckdb"\n', 'db = "history.duckdb"\n' + history, 1)
    path = tmp_path / "fixmap.toml"
    path.write_text(text + "\n" + gates)
    return load_config(path)


def test_failures_within_the_limit_are_tolerated_until_one_more(tmp_path):
    site = site_with(
        tmp_path,
        f"""
[gates.w.five]
sql = "{FIVE}"
measure = "v"
pass = "<= 3"
failure_limit = 1
count = 5
interval = "0.05s"
""",
    )
    seen = []
    run = watch_gate_set(
        site, "w", timeout=30, record=False, on_measurement=lambda *a: seen.append(a)
    )
    t = run.target("five")
    assert run.verdict == "no-go" and t.status == "fail"
    assert [m["n"] for m in t.measurements] == [1, 2]  # the second failure is one too many
    assert "2 failed (limit 1)" in t.reason
    assert [name for name, _m, _r in seen] == ["five", "five"]
    assert run.to_json()["targets"][0]["measurements"][1]["status"] == "fail"


def test_count_measurements_within_the_limits_pass(tmp_path):
    site = site_with(
        tmp_path,
        """
[gates.w.one]
sql = "SELECT 1.0 AS v"
measure = "v"
pass = "<= 3"
count = 3
interval = "0.05s"
""",
    )
    run = watch_gate_set(site, "w", timeout=30, record=False)
    t = run.target("one")
    assert run.verdict == "go" and len(t.measurements) == 3
    assert "3 of 3 within the limits" in t.reason


def test_errors_are_retried_then_an_error_past_the_consecutive_limit(tmp_path):
    site = site_with(
        tmp_path,
        """
[gates.w.broken]
sql = "SELECT v FROM no_such_table"
measure = "v"
pass = "<= 3"
consecutive_error_limit = 2
interval = "0.05s"
""",
    )
    run = watch_gate_set(site, "w", timeout=30, record=False)
    t = run.target("broken")
    assert t.status == "error" and run.verdict == "inconclusive"
    assert len(t.measurements) == 3 and "3 errors in a row (limit 2)" in t.reason
    # one shot (no --watch): the error at once
    assert run_gate_set(site, "w", record=False).target("broken").status == "error"


def test_the_deadline_leaves_an_unfinished_target_inconclusive(tmp_path):
    site = site_with(
        tmp_path,
        """
[gates.w.slow]
sql = "SELECT 1.0 AS v"
measure = "v"
pass = "<= 3"
count = 100
interval = "0.2s"
""",
    )
    run = watch_gate_set(site, "w", timeout=0.5, record=False)
    t = run.target("slow")
    assert t.status == "inconclusive" and "the deadline passed" in t.reason
    assert 1 <= len(t.measurements) < 100


def test_a_stop_ends_the_watch(tmp_path):
    site = site_with(
        tmp_path,
        """
[gates.w.slow]
sql = "SELECT 1.0 AS v"
measure = "v"
pass = "<= 3"
count = 100
interval = "5s"
""",
    )
    stop = threading.Event()
    run = watch_gate_set(
        site, "w", timeout=60, record=False, on_measurement=lambda *a: stop.set(), stop=stop
    )
    assert "the run was stopped" in run.target("slow").reason and run.verdict == "inconclusive"


def _samples(path, metric: str, ages_s: list[float], value: float) -> None:
    now = utcnow()
    History(path).insert_samples(
        {
            "ts": [now - timedelta(seconds=a) for a in ages_s],
            "service": ["demo"] * len(ages_s),
            "metric": [metric] * len(ages_s),
            "value": [value] * len(ages_s),
        }
    )


def test_stale_data_is_inconclusive_with_its_age_never_a_pass(tmp_path):
    gates = """
[gates.live.rate_429]
query = "error_rates"
params = { window = "30m", bucket = "1m" }
measure = "rate_429"
pass = "<= 0.02"
max_age = "5m"
unit = "%"
"""
    site = site_with(tmp_path, gates)
    _samples(tmp_path / "history.duckdb", "rate_429", [13 * 60 + k for k in range(10)], 0.0)
    t = run_gate_set(site, "live", record=False).target("rate_429")
    assert t.status == "inconclusive"
    assert t.reason.startswith("newest sample 13 min old (max_age 5 min)")
    assert "pass: rate 429 0%" in t.reason  # what the old data said, kept for the engineer
    data = t.to_json()
    assert data["newest"].endswith("Z") and 13 * 60 - 2 <= data["age_s"] < 14 * 60
    # a failing value on stale data is no fail either
    _samples(tmp_path / "history.duckdb", "rate_429", [12 * 60], 0.5)
    assert run_gate_set(site, "live", record=False).target("rate_429").status == "inconclusive"
    # fresh data is judged, and says how old it is
    _samples(tmp_path / "history.duckdb", "rate_429", [2], 0.0)
    fresh = run_gate_set(site, "live", record=False).target("rate_429")
    assert fresh.status == "fail" and fresh.age_s is not None and fresh.age_s < 60


def test_max_age_defaults_to_three_sampling_intervals(tmp_path):
    site = load_config_with_sampling(tmp_path)
    assert site.config.history.default_max_age() == 3 * 5.0
    unsampled = site_with(tmp_path / "b", "", history='max_age = "2m"\n')
    assert unsampled.config.history.default_max_age() == 120.0


def load_config_with_sampling(tmp_path):
    path = tmp_path / "fixmap.toml"
    path.write_text(site_config_toml("http://127.0.0.1:9"))
    return load_config(path)
