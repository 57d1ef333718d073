"""The live sampler: /metrics scrapes into the history (real demo service on loopback, real
DuckDB files), one sampler per history across real `fixmap watch` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from console.demo import DemoService
from console.demo.site import site_config_toml
from console.history import History, Sampler
from console.history.scrape import bucket_quantile, parse_scrape, scrape_rows
from console.site import load_config
from tests.conftest import FIXMAP


def wait_for(what, check, timeout: float = 30.0, every: float = 0.1):
    """Poll `check()` until it returns something true; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def fast_config(folder: Path, url: str, interval: str = "0.3s") -> Path:
    text = site_config_toml(url).replace('interval = "5s"', f'interval = "{interval}"', 1)
    path = folder / "fixmap.toml"
    path.write_text(text)
    return path


# ------------------------------------------------------------------ what a scrape means


def _source(toml_metrics: str, families: str = "[]"):
    """A scrape source as the site config gives one (validated from TOML)."""
    import tomllib

    from console.site import ScrapeSource

    data = tomllib.loads(
        f'kind = "scrape"\nurl = "/metrics"\nfamilies = {families}\n[metrics]\n{toml_metrics}'
    )
    return ScrapeSource.model_validate(data)


def test_counters_are_rates_and_shares_histograms_quantiles_gauges_as_they_are():
    before = parse_scrape(
        "\n".join(
            [
                "# TYPE req_total counter",
                'req_total{status="200"} 100',
                'req_total{status="429"} 10',
                "# TYPE lat_seconds histogram",
                'lat_seconds_bucket{le="0.1"} 10',
                'lat_seconds_bucket{le="1.0"} 10',
                'lat_seconds_bucket{le="+Inf"} 10',
                "lat_seconds_sum 0.5",
                "lat_seconds_count 10",
                "# TYPE depth gauge",
                "depth 3",
                "",
            ]
        ),
        at=1000.0,
    )
    after = parse_scrape(
        "\n".join(
            [
                "# TYPE req_total counter",
                'req_total{status="200"} 170',
                'req_total{status="429"} 40',
                "# TYPE lat_seconds histogram",
                'lat_seconds_bucket{le="0.1"} 10',  # nothing fast since the last scrape
                'lat_seconds_bucket{le="1.0"} 110',  # 100 between 0.1 and 1 s
                'lat_seconds_bucket{le="+Inf"} 110',
                "lat_seconds_sum 50.5",
                "lat_seconds_count 110",
                "# TYPE depth gauge",
                "depth 7",
                "",
            ]
        ),
        at=1010.0,
    )
    src = _source(
        "\n".join(
            [
                'rps = { counter = "req_total" }',
                'share_429 = { counter = "req", match = { status = "429" }, per = {} }',
                'p50_ms = { histogram = "lat_seconds", quantile = 0.5, scale = 1000 }',
                'depth = { gauge = "depth" }',
            ]
        ),
        families='["req", "lat_seconds"]',
    )
    rows = {(m, lab): v for m, v, lab in scrape_rows(src, after, before)}
    assert rows[("rps", None)] == pytest.approx((70 + 30) / 10)
    assert rows[("share_429", None)] == pytest.approx(30 / 100)
    assert rows[("p50_ms", None)] == pytest.approx(550.0)  # halfway through (0.1, 1.0]
    assert rows[("depth", None)] == 7
    assert rows[("req_total:rate", '{"status":"429"}')] == pytest.approx(3.0)
    assert rows[("lat_seconds:p99", None)] == pytest.approx(0.1 + 0.9 * 0.99)
    # the first scrape has no rates or quantiles yet, only what a gauge says
    first = {m for m, _v, _l in scrape_rows(src, before, None)}
    assert first == {"depth"}


def test_a_reset_counter_counts_from_zero_and_nothing_observed_is_no_quantile():
    a = parse_scrape("# TYPE c_total counter\nc_total 500\n", at=0.0)
    b = parse_scrape("# TYPE c_total counter\nc_total 20\n", at=10.0)
    src = _source('rate = { counter = "c" }')
    assert scrape_rows(src, b, a) == [("rate", 2.0, None)]
    assert bucket_quantile(0.95, {0.1: 0.0, float("inf"): 0.0}) is None


def test_bad_scrape_metric_specs_are_refused_with_the_reason():
    from pydantic import ValidationError

    for bad, words in (
        ('x = { counter = "a", gauge = "b" }', "exactly one of counter, histogram or gauge"),
        ('x = { histogram = "h" }', "needs a quantile"),
        ('x = { gauge = "g", per = {} }', "per (a share) goes with a counter"),
        ('x = { counter = "c", match = { s = "~(" } }', "is not a regex"),
    ):
        with pytest.raises(ValidationError) as exc:
            _source(bad)
        assert words in str(exc.value), bad


# ------------------------------------------------------------------ the demo's /metrics


def test_metrics_include_the_request_just_answered():
    """A request is counted before its answer is written: /metrics read next includes it."""
    with DemoService() as svc, httpx.Client() as client:
        for n in range(1, 31):
            assert client.get(svc.url + "/retrieve", params={"q": f"q{n}"}).status_code == 200
            text = client.get(svc.url + "/metrics").text
            assert f'demo_requests_total{{path="/retrieve",status="200"}} {n}' in text


def test_simulated_users_move_the_metrics(tmp_path):
    with DemoService(traffic=20) as svc:
        wait_for("the simulated users' retrieves and writes", lambda: svc.traffic.sent > 30)
        text = httpx.get(svc.url + "/metrics").text
        retrieves = parse_scrape(text, 0).family("demo_requests")
        paths = {dict(labels).get("path") for _n, labels in retrieves.values}
        assert {"/retrieve", "/write"} <= paths
        assert svc.state()["side_effects"] > 0
    assert svc.traffic is None  # stopped with the service


def test_a_sampler_round_stores_the_demo_metrics(tmp_path):
    with DemoService(traffic=20) as svc:
        site = load_config(fast_config(tmp_path, svc.url))
        sampler = Sampler(site)
        first = sampler.run_round()
        assert first.holder and not first.errors
        assert "first scrape" in first.note
        time.sleep(0.3)  # a rate needs time between two scrapes
        second = sampler.run_round()
        sampler.stop()
        assert second.samples > first.samples and not second.errors
        h = History(tmp_path / "history.duckdb")
        got = dict(h.sql("SELECT metric, count(*) FROM samples GROUP BY metric").rows)
        for metric in ("requests", "rate_429", "error_rate", "latency_ms", "delta_s", "coverage"):
            assert got.get(metric), metric
        assert "sampled demo_metrics" in second.line() and "no errors" in second.line()


def test_a_source_that_fails_is_an_error_of_the_round_not_the_end(tmp_path):
    svc = DemoService().__enter__()
    site = load_config(fast_config(tmp_path, svc.url))
    svc.stop()
    rnd = Sampler(site).run_round()
    assert rnd.errors and rnd.errors[0].startswith("demo_metrics: ")
    assert "errors: demo_metrics" in rnd.line()


# ------------------------------------------------------------------ one sampler per history


def _watch(config: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [FIXMAP, "watch", "--config", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )


def test_one_sampler_per_history_across_processes_and_takeover(tmp_path):
    with DemoService(traffic=10) as svc:
        config = fast_config(tmp_path, svc.url)
        first = _watch(config)
        try:
            wait_for("the first watch to sample", lambda: (tmp_path / "history.duckdb").exists())
            second = _watch(config, "--for", "60s")
            lines: list[str] = []

            def second_says(words: str):
                def check():
                    line = second.stdout.readline()
                    lines.append(line)
                    return words in line

                return check

            wait_for("the second watch to defer", second_says("samples this history; reading it"))
            assert f"process {first.pid} samples this history" in lines[-1]
            # the holder dies without a word: the second takes over
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            wait_for("the second watch to take over", second_says("sampled demo_metrics"))
            second.send_signal(signal.SIGTERM)
            out, _ = second.communicate(timeout=20)
            assert second.returncode == 0
            assert "stopped after" in out
        finally:
            for p in (first,):
                if p.poll() is None:
                    p.kill()
                    p.wait(10)
    # the gauges came from one sampler at a time: never two rows for one scrape time
    h = History(tmp_path / "history.duckdb")
    dup = h.sql(
        "SELECT count(*) FROM (SELECT ts FROM samples WHERE metric = 'delta_s' "
        "GROUP BY ts HAVING count(*) > 1)"
    ).rows[0][0]
    assert dup == 0


def test_watch_without_sampling_sources_says_what_to_add(tmp_path):
    text = site_config_toml("http://127.0.0.1:9").replace(
        'sources = ["demo_metrics"]', "sources = []", 1
    )
    (tmp_path / "fixmap.toml").write_text(text)
    proc = subprocess.run(
        [FIXMAP, "watch", "--config", str(tmp_path / "fixmap.toml"), "--for", "1s"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "history.sampling.sources" in proc.stderr and "names nothing to sample" in proc.stderr


def test_watch_for_a_duration_prints_a_line_a_round(tmp_path):
    with DemoService(traffic=10) as svc:
        config = fast_config(tmp_path, svc.url, interval="0.5s")
        proc = subprocess.run(
            [FIXMAP, "watch", "--config", str(config), "--for", "2s"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    rounds = [line for line in proc.stdout.splitlines() if "sampled demo_metrics" in line]
    assert len(rounds) >= 2
    assert all("samples" in line and "no errors" in line for line in rounds)
