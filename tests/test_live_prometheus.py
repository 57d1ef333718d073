"""Gates and the sampler against a real Prometheus (Debian's `prometheus`), as the ingest tests."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from console.demo.site import site_config_toml
from console.history import History, Sampler
from console.site import load_config
from tests.conftest import FIXMAP
from tests.test_prometheus import PROMETHEUS, prometheus  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="the prometheus binary is not installed (apt-get install prometheus; make system-deps)",
)

SHARE_429 = 'sum(rate(demo_requests_total{status="429"}[5s])) / sum(rate(demo_requests_total[5s]))'


def config_with_prometheus(tmp_path, url: str, gates: str = "", sampled: bool = False):
    text = site_config_toml("http://127.0.0.1:9").replace(
        'sources = ["demo_metrics"]', 'sources = ["prom"]' if sampled else "sources = []", 1
    )
    text += f"""
[history.sources.prom]
kind = "prometheus"
url = "{url}"
since = "30s"
step = "1s"
service = "demo"
queries = {{ rate_429 = '{SHARE_429}' }}

{gates}
"""
    path = tmp_path / "fixmap.toml"
    path.write_text(text)
    return path


GATES = f"""
[gates.live.share_429]
label = "429 share asked of Prometheus now"
promql = '{SHARE_429}'
pass = "<= 0.05"
unit = "%"

[gates.live.strict]
promql = '{SHARE_429}'
pass = "<= 0.01"
unit = "%"

[gates.live.nothing]
promql = 'sum(rate(no_such_metric_total[5s]))'
pass = "<= 1"

[gates.live.broken]
promql = 'sum(rate(demo_requests_total[5s]'
pass = "<= 1"
"""


def test_a_promql_target_is_judged_at_decision_time(tmp_path, prometheus):  # noqa: F811
    path = config_with_prometheus(tmp_path, prometheus, GATES)
    proc = subprocess.run(
        [FIXMAP, "gate", "live", "--config", str(path), "--json", "--no-record"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr  # strict fails: no-go
    by = {t["name"]: t for t in json.loads(proc.stdout)["targets"]}
    share = by["share_429"]
    assert share["status"] == "pass" and share["value"] == pytest.approx(3 / 103, rel=0.05)
    assert share["source"].startswith("prometheus ") and "demo_requests_total" in share["source"]
    assert share["newest"] is not None and share["age_s"] < 30
    assert by["strict"]["status"] == "fail"
    assert (
        by["nothing"]["status"] == "inconclusive"
        and "returned no series" in by["nothing"]["reason"]
    )
    assert by["broken"]["status"] == "error" and "Prometheus rejected" in by["broken"]["reason"]


def test_a_watched_promql_target_takes_its_measurements(tmp_path, prometheus):  # noqa: F811
    from console.gates import watch_gate_set

    gates = f"""
[gates.live.share_429]
promql = '{SHARE_429}'
pass = "<= 0.05"
count = 3
interval = "1s"
"""
    site = load_config(config_with_prometheus(tmp_path, prometheus, gates))
    run = watch_gate_set(site, "live", timeout=60, record=False)
    t = run.target("share_429")
    assert run.verdict == "go" and [m["status"] for m in t.measurements] == ["pass"] * 3


def test_the_sampler_pulls_promql_since_its_last_sample(tmp_path, prometheus):  # noqa: F811
    site = load_config(config_with_prometheus(tmp_path, prometheus, sampled=True))
    sampler = Sampler(site)
    first = sampler.run_round()
    assert first.holder and not first.errors and first.samples >= 3
    time.sleep(2.1)  # two more Prometheus steps
    second = sampler.run_round()
    sampler.stop()
    assert not second.errors and 1 <= second.samples <= 4  # about 2 s at a 1 s step
    h = History(tmp_path / "history.duckdb")
    rows = h.sql("SELECT count(*), count(DISTINCT ts) FROM samples WHERE metric = 'rate_429'").rows[
        0
    ]
    assert rows[0] == rows[1]  # incremental: no point stored twice
    # a later sampler (another process, a restart) starts from the newest stored point
    again = Sampler(site).run_round()
    assert not again.errors and again.samples <= 3
