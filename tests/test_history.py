"""Metric history engine: real DuckDB files in tmp_path, the demo week, real files to ingest."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from console.history import (
    NAMED_QUERIES,
    History,
    HistoryError,
    QueryCancelled,
    close_all,
    history_for,
    seed_demo_history,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One seeded demo week shared by the read-only tests of this module."""
    db = tmp_path_factory.mktemp("history") / "history.duckdb"
    incident = seed_demo_history(db, "demo")
    yield History(db), incident
    close_all()


def count(h: History, table: str = "samples") -> int:
    return h.sql(f"SELECT count(*) FROM {table}").rows[0][0]


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def write_parquet(path: Path, select_sql: str) -> Path:
    import duckdb

    con = duckdb.connect()
    con.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT parquet)")
    con.close()
    return path


# ---------------------------------------------------------------- store


def test_schema_is_created_on_first_use(tmp_path):
    h = History(tmp_path / "sub" / "h.duckdb")
    result = h.sql("SELECT table_name FROM information_schema.tables ORDER BY 1")
    assert [r[0] for r in result.rows] == ["events", "ingests", "meta", "probe_results", "samples"]
    cols = h.sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'samples' ORDER BY ordinal_position"
    ).rows
    assert cols == [
        ["ts", "TIMESTAMP"],
        ["service", "VARCHAR"],
        ["metric", "VARCHAR"],
        ["value", "DOUBLE"],
        ["labels", "VARCHAR"],
    ]


def test_engine_import_does_not_load_duckdb_or_numpy():
    code = (
        "import sys, console.history, console.history.seed, console.site.history_spec, console.cli.history\n"
        "print(','.join(m for m in ('duckdb', 'numpy', 'httpx', 'pyarrow') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_times_are_utc_whatever_the_machine_zone(tmp_path):
    code = (
        "import sys; from console.history import History\n"
        "h = History(sys.argv[1])\n"
        "h.ingest_files([sys.argv[2]])\n"
        "print(h.sql(\"SELECT current_setting('TimeZone'), min(ts)::VARCHAR FROM samples\").rows)\n"
    )
    f = write_csv(tmp_path / "a.csv", "ts,service,metric,value\n2024-05-01 10:00:00,s,m,1\n")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "h.duckdb"), str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "TZ": "America/New_York"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[['UTC', '2024-05-01 10:00:00']]"


def test_history_for_uses_config_db_relative_to_config(tmp_path, fixmap_home):
    from console.site import load_config

    cfg = tmp_path / "site" / "fixmap.toml"
    cfg.parent.mkdir()
    cfg.write_text('[history]\ndb = "data/h.duckdb"\nlock_timeout = "5s"\n', encoding="utf-8")
    h = history_for(load_config(cfg))
    assert h.path == tmp_path / "site" / "data" / "h.duckdb"
    assert h.lock_timeout == 5.0 and h._store.memory_limit == "128MB"
    assert history_for(load_config(None)).path == fixmap_home / "history.duckdb"


def test_history_spec_sources_validate(tmp_path):
    from console.core import ConfigError
    from console.site import parse_config

    cfg = parse_config(
        """
[history.sources.prom]
kind = "prometheus"
url = "http://127.0.0.1:9090"
step = "15s"
[history.sources.prom.queries]
latency_ms = "demo_latency_ms"
[history.sources.files]
kind = "files"
paths = ["exports/*.parquet"]
service = "demo"
""",
        "fixmap.toml",
    )
    prom = cfg.history.sources["prom"]
    assert (
        prom.step == 15.0
        and prom.since == 86400.0
        and prom.queries == {"latency_ms": "demo_latency_ms"}
    )
    assert cfg.history.sources["files"].paths == ["exports/*.parquet"]
    with pytest.raises(ConfigError) as err:
        parse_config('[history.sources.x]\nkind = "promethus"\nurl = "http://x"\n', "fixmap.toml")
    assert "did you mean 'prometheus'" in err.value.render()
    with pytest.raises(ConfigError) as err:
        parse_config(
            '[history.sources.x]\nkind = "prometheus"\nurl = "http://x"\nquerys = {}\n', "f.toml"
        )
    assert "did you mean 'queries'" in err.value.render()


# ---------------------------------------------------------------- named queries on the demo week


def test_latency_percentiles(demo):
    h, _ = demo
    r = h.named("latency_percentiles", window="1h", bucket="5m", service="demo")
    assert r.columns == ["bucket", "p50", "p95", "p99", "samples"]
    assert 12 <= len(r.rows) <= 13
    assert (
        r.time_column == "bucket"
        and r.series_columns == ["p50", "p95", "p99"]
        and r.group_column is None
    )
    assert all(row[1] <= row[2] <= row[3] for row in r.rows)
    assert 80 < r.measures["p95_ms"] < 400 and "p95_uplift" in r.measures
    lines = r.chart_series()
    assert [label for label, _, _ in lines] == ["p50", "p95", "p99"]
    by_service = h.named("latency_percentiles", window="24h", bucket="none")
    assert by_service.columns == ["service", "p50", "p95", "p99", "samples"]
    assert by_service.rows[0][0] == "demo" and by_service.time_column is None


def test_window_vs_baseline_during_and_after_the_incident(demo):
    h, inc = demo
    during = h.named(
        "window_vs_baseline",
        metric="latency_ms",
        window="15m",
        baseline="24h",
        until=inc.deploy_at + timedelta(minutes=30),
    )
    assert during.columns == ["service", "stat", "window", "baseline", "delta", "ratio"]
    assert [row[1] for row in during.rows] == ["p50", "p95", "p99", "mean"]
    assert during.measures["p95_uplift"] > 1.0  # p95 more than doubled
    now = h.named("window_vs_baseline", metric="latency_ms", window="15m", baseline="24h")
    assert abs(now.measures["p95_uplift"]) < 0.5
    ds = h.named("window_vs_baseline", metric="delta_s", window="15m", baseline="24h")
    assert abs(ds.measures["ds_p95_drift"]) < 0.05 and ds.measures["ds_diff"] < 0.05


def test_error_rates_and_quality_and_cache(demo):
    h, inc = demo
    errors = h.named(
        "error_rates", window="15m", bucket="1m", until=inc.deploy_at + timedelta(minutes=20)
    )
    assert errors.columns == ["bucket", "service", "error_rate", "rate_5xx", "rate_429"]
    assert errors.group_column == "service"
    assert errors.measures["error_rate"] > 0.05 and errors.measures["rate_429"] > 0.05
    calm = h.named("error_rates", window="15m", bucket="1m")
    assert calm.measures["error_rate"] < 0.01
    quality = h.named("quality_trend", window="1h", bucket="5m")
    assert quality.series_columns == ["delta_s", "delta_s_p95", "coverage", "lambda_flip_rate"]
    assert quality.measures["lambda_flip_rate"] < 0.10 and quality.measures["coverage"] > 0.7
    flips = h.named("quality_trend", metric="lambda_flip_rate", window="15m")
    assert flips.columns == ["bucket", "service", "lambda_flip_rate"]
    cache = h.named("cache_hit_ratio", window="1h")
    assert 0.8 < cache.measures["cache_hit_ratio"] < 0.95 and cache.unit == "ratio"


def test_every_named_query_runs_with_the_playbooks_params(demo):
    import glob

    import yaml

    h, _ = demo
    seen = set()
    for path in glob.glob(str(Path(__file__).parent.parent / "playbooks" / "*.yaml")):
        for step in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["steps"]:
            if step["kind"] == "query" and step.get("query"):
                r = h.named(step["query"], **step.get("params", {}))
                assert r.rows or r.note, (path, step["id"])
                seen.add(step["query"])
    assert seen <= set(NAMED_QUERIES)


def test_what_changed_finds_the_demo_incident(demo):
    h, inc = demo
    changes = h.what_changed(window="24h", baseline="7d")
    metrics = [c.metric for c in changes]
    assert {"latency_ms", "rate_429"} <= set(metrics[:3])
    assert not {"delta_s", "coverage", "lambda_flip_rate", "requests", "cache_hit_ratio"} & set(
        metrics
    )
    for c in changes:
        if c.metric in ("latency_ms", "rate_429"):
            assert c.direction == "up"
            assert abs((c.started - inc.deploy_at).total_seconds()) <= 5 * 60, (c.metric, c.started)
            assert (
                c.ended is not None and abs((c.ended - inc.rollback_at).total_seconds()) <= 15 * 60
            )
    assert h.what_changed(window="1h", baseline="24h") == []
    r = h.named("what_changed", window="24h", baseline="7d")
    assert r.columns[:5] == ["service", "metric", "direction", "score", "started"]
    assert r.measures["changes"] == len(changes)


def test_events_in_a_range(demo):
    h, inc = demo
    events = h.events(inc.deploy_at - timedelta(minutes=1), inc.resolved_at, service="demo")
    assert [e.kind for e in events] == ["deploy", "incident", "rollback", "incident"]
    assert events[0].detail["version"] == "v1.5.0"
    assert len(h.events("8d")) == 6
    assert h.events("8d", kinds=["rollback"])[0].ts == inc.rollback_at


# ---------------------------------------------------------------- parameter validation


def test_unknown_param_names_the_closest_valid_one(demo):
    h, _ = demo
    with pytest.raises(HistoryError) as err:
        h.named("error_rates", windw="15m")
    assert "did you mean 'window'" in err.value.render()
    with pytest.raises(HistoryError) as err:
        h.named("latency_percentile")
    assert "did you mean 'latency_percentiles'" in err.value.render()


@pytest.mark.parametrize(
    ("params", "expect"),
    [
        ({"window": "15 minutes"}, "window"),
        ({"window": "5s"}, "out of range"),
        ({"bucket": "0s"}, "too small"),
        ({"bucket": "1s", "window": "30d"}, "too many"),
        ({"until": "yesterday-ish"}, "is not a time"),
        ({"metric": "latency ms"}, "not a valid metric"),
    ],
)
def test_bad_param_values(demo, params, expect):
    h, _ = demo
    with pytest.raises(HistoryError) as err:
        h.named("latency_percentiles", **params)
    assert expect in err.value.render()


def test_unknown_metric_or_service_suggests_a_name(demo):
    h, _ = demo
    with pytest.raises(HistoryError) as err:
        h.named("window_vs_baseline", metric="latncy_ms")
    assert "did you mean 'latency_ms'" in err.value.render()
    with pytest.raises(HistoryError) as err:
        h.named("error_rates", service="dmo")
    assert "did you mean 'demo'" in err.value.render()
    empty = h.named("error_rates", until="2001-01-01T00:00:00Z")
    assert empty.rows == [] and "no samples" in empty.note


# ---------------------------------------------------------------- ad-hoc SQL


def test_sql_typo_and_writes_are_refused_and_nothing_changes(demo, tmp_path):
    h, _ = demo
    before = count(h)
    with pytest.raises(HistoryError) as err:
        h.sql("SELEC count(*) FROM samples")
    assert "syntax error" in err.value.render()
    for stmt in (
        "DELETE FROM samples",
        "DROP TABLE samples",
        "INSERT INTO events VALUES (now(), 'x', 'y', 'z', NULL)",
        "CREATE TABLE t AS SELECT 1",
        "UPDATE samples SET value = 0",
    ):
        with pytest.raises(HistoryError) as err:
            h.sql(stmt)
        assert "read-only" in err.value.render()
    target = tmp_path / "leak.csv"
    with pytest.raises(HistoryError):
        h.sql(f"COPY samples TO '{target}'")
    assert not target.exists()
    assert count(h) == before
    with pytest.raises(HistoryError) as err:
        h.sql("SELECT * FROM sample")
    assert "samples" in err.value.render()


def test_sql_result_shape_and_limit(demo):
    h, _ = demo
    r = h.sql(
        "SELECT ts, metric, value FROM samples WHERE metric IN ('rate_429', 'rate_5xx') ORDER BY ts LIMIT 50"
    )
    assert r.columns == ["ts", "metric", "value"] and len(r.rows) == 50
    assert r.time_column == "ts" and r.series_columns == ["value"] and r.group_column == "metric"
    assert json.loads(json.dumps(r.to_json()))["rows"][0][0].startswith("20")
    capped = h.sql("SELECT * FROM samples", max_rows=10)
    assert len(capped.rows) == 10 and capped.truncated


def test_interrupt_cancels_a_running_query(demo):
    h, _ = demo
    outcome: dict[str, BaseException] = {}

    def run():
        try:
            h.sql("SELECT sum(a.range * b.range) FROM range(100000000) a, range(1000) b")
        except BaseException as exc:
            outcome["exc"] = exc

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 10
    while not h._active and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    h.interrupt()
    t.join(10)
    assert not t.is_alive()
    assert isinstance(outcome.get("exc"), QueryCancelled)
    assert h.sql("SELECT 1").rows == [[1]]  # the history still works afterwards


def test_query_timeout(demo):
    h, _ = demo
    slow = History(h.path, query_timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(QueryCancelled):
        slow.sql("SELECT sum(a.range * b.range) FROM range(100000000) a, range(1000) b")
    assert time.monotonic() - t0 < 5


# ---------------------------------------------------------------- ingest


def test_ingest_csv_and_parquet_with_other_column_spellings(tmp_path):
    h = History(tmp_path / "h.duckdb")
    a = write_csv(
        tmp_path / "a.csv",
        """
timestamp,svc,name,value
2024-05-01T10:00:00Z,api,latency_ms,12.5
2024-05-01T10:01:00+02:00,api,latency_ms,13
""",
    )
    b = write_csv(
        tmp_path / "b.csv",
        """
Time,Service,Metric,Val
1714557600000,api,rate_429,0.01
1714557660000,api,rate_429,0.02
""",
    )
    c = write_parquet(
        tmp_path / "c.parquet",
        "SELECT TIMESTAMP '2024-05-01 10:00:00' + INTERVAL (i) MINUTE AS ts, 'web' AS service, "
        "'coverage' AS metric, 0.8 AS value, 'pod-' || (i % 2) AS instance FROM range(100) t(i)",
    )
    d = write_parquet(
        tmp_path / "d.parquet",
        "SELECT 1714557600 + i AS time, 'web' AS job, 'requests' AS metric_name, i AS value, "
        '\'{"zone": "a"}\' AS labels FROM range(10) t(i)',
    )
    report = h.ingest_files([a, b, c, d])
    assert report.rows == 2 + 2 + 100 + 10 and [s.rows for s in report.sources] == [2, 2, 100, 10]
    rows = h.sql(
        "SELECT ts, service, metric, value FROM samples WHERE service = 'api' ORDER BY metric, ts"
    ).rows
    assert [r[0].isoformat() for r in rows] == [
        "2024-05-01T08:01:00",
        "2024-05-01T10:00:00",
        "2024-05-01T10:00:00",
        "2024-05-01T10:01:00",
    ]
    assert [r[2] for r in rows] == ["latency_ms", "latency_ms", "rate_429", "rate_429"]
    labels = h.sql("SELECT DISTINCT labels FROM samples WHERE metric = 'coverage' ORDER BY 1").rows
    assert [json.loads(r[0]) for r in labels] == [{"instance": "pod-0"}, {"instance": "pod-1"}]
    zone = h.sql(
        "SELECT labels::JSON->>'zone', min(ts) FROM samples WHERE metric = 'requests' GROUP BY 1"
    ).rows
    assert zone[0][0] == "a" and zone[0][1].isoformat() == "2024-05-01T10:00:00"


def test_csv_types_are_not_guessed_from_a_sample_only(tmp_path):
    h = History(tmp_path / "h.duckdb")
    lines = ["ts,service,metric,value"] + [f"2024-05-01 10:00:00,123,m,{i}" for i in range(30000)]
    lines.append("2024-05-01 10:00:00,api,m,12.5")
    f = tmp_path / "late_float.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert h.ingest_files([f]).rows == 30001
    assert h.sql("SELECT value FROM samples WHERE service = 'api'").rows == [[12.5]]


def test_ingest_without_a_service_column_needs_a_service(tmp_path):
    h = History(tmp_path / "h.duckdb")
    f = write_csv(tmp_path / "noservice.csv", "ts,metric,value\n2024-05-01 10:00:00,x,1\n")
    with pytest.raises(HistoryError) as err:
        h.ingest_files([f])
    assert "--service" in err.value.render() and "service" in err.value.render()
    assert h.ingest_files([f], service="demo").rows == 1
    assert h.sql("SELECT service FROM samples").rows == [["demo"]]


def test_a_bad_file_ingests_nothing(tmp_path):
    h = History(tmp_path / "h.duckdb")
    good = write_csv(tmp_path / "good.csv", "ts,service,metric,value\n2024-05-01 10:00:00,s,m,1\n")
    typo = write_csv(tmp_path / "typo.csv", "ts,service,metric,vaule\n2024-05-01 10:00:00,s,m,1\n")
    with pytest.raises(HistoryError) as err:
        h.ingest_files([good, typo])
    text = err.value.render()
    assert "typo.csv" in text and "vaule" in text and "'value'" in text
    assert count(h) == 0
    # a bad row far past the CSV sniffer's sample: the load fails half-way and is rolled back
    lines = ["ts,service,metric,value"] + [f"2024-05-01 10:00:00,s,m,{i}" for i in range(30000)]
    lines.append("2024-05-01 10:00:00,s,m,not-a-number")
    late = tmp_path / "late.csv"
    late.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(HistoryError) as err:
        h.ingest_files([good, late])
    text = err.value.render()
    assert (
        "late.csv" in text and "line 30002" in text and "not-a-number" in text and "value" in text
    )
    assert count(h) == 0 and count(h, "ingests") == 0
    words = write_csv(
        tmp_path / "words.csv", "ts,service,metric,value\n2024-05-01 10:00:00,s,m,high\n"
    )
    with pytest.raises(HistoryError) as err:
        h.ingest_files([words])
    assert "value" in err.value.render()
    bad_time = write_csv(tmp_path / "when.csv", "ts,service,metric,value\nlast tuesday,s,m,1\n")
    with pytest.raises(HistoryError) as err:
        h.ingest_files([bad_time])
    assert "when.csv" in err.value.render()
    with pytest.raises(HistoryError) as err:
        h.ingest_files([tmp_path / "missing.csv", tmp_path / "notes.txt"])
    assert "no such file" in err.value.render()
    assert count(h) == 0


def test_ingesting_the_same_file_twice_is_skipped_unless_forced(tmp_path):
    h = History(tmp_path / "h.duckdb")
    f = write_csv(tmp_path / "a.csv", "ts,service,metric,value\n2024-05-01 10:00:00,s,m,1\n")
    assert h.ingest_files([f]).rows == 1
    again = h.ingest_files([f])
    assert again.rows == 0 and "ingested before" in again.sources[0].skipped
    forced = h.ingest_files([f], force=True)
    assert forced.rows == 1 and forced.replaced == 1
    assert count(h) == 1  # the file's rows were replaced, not doubled


def test_a_corrected_file_of_the_same_size_replaces_its_rows(tmp_path):
    """Fingerprints cover the whole file: one changed digit in the middle is a new file."""
    h = History(tmp_path / "h.duckdb")
    rows = [f"2024-05-01 10:{m:02d}:00,s,m,{m % 10}" for m in range(60)]
    other = write_csv(tmp_path / "b.csv", "ts,service,metric,value\n2024-05-01 10:30:00,s,m,7\n")
    f = write_csv(tmp_path / "a.csv", "ts,service,metric,value\n" + "\n".join(rows) + "\n")
    assert h.ingest_files([f, other]).rows == 61
    rows[30] = rows[30][:-1] + "9"  # same size, another value
    size = f.stat().st_size
    write_csv(f, "ts,service,metric,value\n" + "\n".join(rows) + "\n")
    assert f.stat().st_size == size
    report = h.ingest_files([f])  # no --force needed: the content changed
    assert report.rows == 60 and report.replaced == 61  # its 60 rows and b.csv's one inside them
    got = h.sql("SELECT value FROM samples WHERE ts = TIMESTAMP '2024-05-01 10:30:00'").rows
    assert got == [[9.0]]
    assert count(h) == 60
    again = h.ingest_files([f, other], force=True)
    assert again.rows == 61 and count(h) == 61  # both at once: they never replace each other


def test_ingest_a_folder(tmp_path):
    h = History(tmp_path / "h.duckdb")
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(folder / "one.csv", "ts,service,metric,value\n2024-05-01 10:00:00,s,m,1\n")
    write_parquet(
        folder / "two.parquet",
        "SELECT TIMESTAMP '2024-05-01 10:00:00' AS ts, 's' AS service, 'm' AS metric, 2.0 AS value",
    )
    assert h.ingest_files([folder]).rows == 2


# ---------------------------------------------------------------- probe results and events


def test_probe_results_and_events_are_recorded_redacted(tmp_path):
    from console.core.redact import forget_all_for_tests, register_secret

    h = History(tmp_path / "h.duckdb")
    register_secret("s3cr3t-token-value")
    try:
        h.record_probe_results(
            [
                {
                    "name": "latency",
                    "kind": "latency",
                    "status": "fail",
                    "value": 1500.0,
                    "threshold": "<= 1200",
                    "reason": "p95 1500 ms with header Authorization: Bearer s3cr3t-token-value",
                    "duration_ms": 812,
                    "embedder": "builtin-ngram",
                    "values": {"p50": 400, "p95": 1500},
                    "service": "demo",
                    "step": "warm",
                },
                {"name": "health", "status": "pass"},
            ]
        )
        h.record_events(
            [
                {
                    "kind": "action",
                    "title": "rollback via s3cr3t-token-value",
                    "service": "demo",
                    "detail": {"argv": ["kubectl", "rollout", "undo"]},
                }
            ]
        )
    finally:
        forget_all_for_tests()
    rows = h.sql(
        "SELECT name, status, value, threshold, reason, values_json FROM probe_results ORDER BY name"
    ).rows
    assert rows[0][:2] == ["health", "pass"]
    assert rows[1][2] == 1500.0 and rows[1][3] == "<= 1200"
    assert "s3cr3t" not in rows[1][4] and "s3cr3t" not in json.dumps(rows)
    assert json.loads(rows[1][5]) == {"p50": 400, "p95": 1500, "step": "warm"}
    events = h.events()
    assert events[0].kind == "action" and "s3cr3t" not in events[0].title
    with pytest.raises(HistoryError) as err:
        h.record_events([{"kind": "Deploy!"}])
    assert "deploy" in err.value.render()
    with pytest.raises(HistoryError):
        h.record_probe_results([{"status": "pass"}])
    assert count(h, "probe_results") == 2


def test_a_text_probe_value_is_kept_without_losing_the_batch(tmp_path):
    """read_only's headline value is 'read-write': the batch is stored, that value as NULL."""
    from console.history import History

    h = History(tmp_path / "h.duckdb")
    h.record_probe_results(
        [
            {"name": "read_only", "kind": "read_only", "status": "pass", "value": "read-write"},
            {"name": "latency", "kind": "latency", "status": "pass", "value": 120.5},
        ]
    )
    rows = h.sql("select name, value, values_json from probe_results order by name").rows
    assert [r[:2] for r in rows] == [["latency", 120.5], ["read_only", None]]
    assert "read-write" in rows[1][2]
