"""`fixmap history ...` as a user runs it: real processes, real files, exit codes, JSON contract."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.cli.tables import format_table
from console.history import seed_demo_history
from tests.conftest import FIXMAP


def fixmap(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, "history", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "history.duckdb"
    incident = seed_demo_history(db, "demo")
    return db, incident


def test_ingest_and_query_without_a_config(tmp_path, fixmap_home):
    f = tmp_path / "m.csv"
    f.write_text(
        "time,service,name,value\n2024-05-01T10:00:00Z,api,latency_ms,12.5\n"
        "2024-05-01T10:01:00Z,api,latency_ms,14\n",
        encoding="utf-8",
    )
    proc = fixmap("ingest", str(f))
    assert proc.returncode == 0, proc.stderr
    assert "ingested 2 rows" in proc.stdout
    assert (fixmap_home / "history.duckdb").exists()
    proc = fixmap(
        "query", "SELECT metric, count(*) AS n, max(ts) AS last FROM samples GROUP BY ALL", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "columns": ["metric", "n", "last"],
        "rows": [["latency_ms", 2, "2024-05-01T10:01:00"]],
    }
    again = fixmap("ingest", str(f), "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["sources"][0]["skipped"]


def test_ingest_with_a_config_uses_its_db_and_default_service(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    cfg = site / "fixmap.toml"
    cfg.write_text(
        '[site]\nservice = "api"\n[services.api]\nbase_url = "http://127.0.0.1:1"\n'
        '[history]\ndb = "metrics.duckdb"\n',
        encoding="utf-8",
    )
    f = tmp_path / "noservice.csv"
    f.write_text("ts,metric,value\n2024-05-01 10:00:00,requests,5\n", encoding="utf-8")
    proc = fixmap("ingest", str(f), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert (site / "metrics.duckdb").exists()
    out = fixmap("query", "SELECT service, value FROM samples", "--json", "--config", str(cfg))
    assert json.loads(out.stdout)["rows"] == [["api", 5.0]]


def test_bad_file_exit_2_and_nothing_ingested(tmp_path, fixmap_home):
    good = tmp_path / "good.csv"
    good.write_text("ts,service,metric,value\n2024-05-01 10:00:00,s,m,1\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,service,metrc,value\n2024-05-01 10:00:00,s,m,1\n", encoding="utf-8")
    proc = fixmap("ingest", str(good), str(bad))
    assert proc.returncode == 2
    assert "bad.csv" in proc.stderr and "metrc" in proc.stderr and "'metric'" in proc.stderr
    assert "Traceback" not in proc.stderr
    out = fixmap("query", "SELECT count(*) FROM samples", "--json")
    assert json.loads(out.stdout)["rows"] == [[0]]
    nothing = fixmap("ingest")
    assert nothing.returncode == 2 and "nothing to ingest" in nothing.stderr


def test_sql_errors_exit_2(seeded):
    db, _ = seeded
    typo = fixmap("query", "SELEC 1", "--db", str(db))
    assert typo.returncode == 2 and "syntax error" in typo.stderr and "Traceback" not in typo.stderr
    write = fixmap("query", "DELETE FROM samples", "--db", str(db))
    assert write.returncode == 2 and "read-only" in write.stderr
    count = fixmap("query", "SELECT count(*) FROM samples", "--json", "--db", str(db))
    assert json.loads(count.stdout)["rows"][0][0] > 100_000
    both = fixmap("query", "SELECT 1", "--named", "error_rates", "--db", str(db))
    assert both.returncode == 2
    stray = fixmap("query", "SELECT 1", "--param", "window=1h", "--db", str(db))
    assert stray.returncode == 2


def test_named_query_json_and_table(seeded):
    db, _ = seeded
    proc = fixmap(
        "query",
        "--named",
        "window_vs_baseline",
        "--param",
        "metric=latency_ms",
        "--param",
        "window=15m",
        "--param",
        "baseline=24h",
        "--json",
        "--db",
        str(db),
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["columns"] == ["service", "stat", "window", "baseline", "delta", "ratio"]
    assert "p95_uplift" in payload["measures"] and payload["name"] == "window_vs_baseline"
    table = fixmap(
        "query",
        "--named",
        "error_rates",
        "--param",
        "window=15m",
        "--param",
        "bucket=1m",
        "--db",
        str(db),
    )
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[1].split() == ["bucket", "service", "error_rate", "rate_5xx", "rate_429"]
    assert all(len(line) <= 80 for line in lines if not line.startswith("measures:"))
    bad = fixmap("query", "--named", "error_rates", "--param", "windw=15m", "--db", str(db))
    assert bad.returncode == 2 and "did you mean 'window'" in bad.stderr
    wide = fixmap(
        "query",
        "SELECT *, labels AS a_very_long_column_name_number_one, "
        "'x' || repeat('y', 120) AS long_text FROM samples LIMIT 3",
        "--db",
        str(db),
    )
    assert wide.returncode == 0, wide.stderr
    assert all(len(line) <= 80 for line in wide.stdout.splitlines())


def test_changed_finds_the_incident(seeded):
    db, incident = seeded
    proc = fixmap("changed", "--window", "24h", "--baseline", "7d", "--json", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    metrics = [c["metric"] for c in changes]
    assert {"latency_ms", "rate_429"} <= set(metrics)
    started = datetime.fromisoformat(
        next(c for c in changes if c["metric"] == "latency_ms")["started"]
    )
    assert abs((started - incident.deploy_at).total_seconds()) <= 300
    table = fixmap("changed", "--window", "24h", "--baseline", "7d", "--db", str(db))
    assert table.returncode == 0 and "demo/latency_ms" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    bad = fixmap("changed", "--window", "soon", "--db", str(db))
    assert bad.returncode == 2 and "window" in bad.stderr
    events = fixmap("events", "--since", "8d", "--json", "--db", str(db))
    assert [e["kind"] for e in json.loads(events.stdout)].count("deploy") == 3


def test_format_table_fits_and_cuts():
    rows = [[datetime(2024, 5, 1, 10, 0), "x" * 200, 1234.5678, None, 0.000012345]]
    text = format_table(["ts", "text", "num", "empty", "tiny"], rows, 80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "2024-05-01 10:00" in text and "…" in text and "1234.6" in text and "1.234e-05" in text
    many = format_table([f"column_{i}" for i in range(20)], [list(range(20))], 80)
    assert all(len(line) <= 80 for line in many.splitlines())
    assert "more columns" in many


class _FakePrometheus(BaseHTTPRequestHandler):
    """query_range answering one series of three points; remembers each request's credentials."""

    seen: list[str | None] = []

    def do_POST(self):
        _FakePrometheus.seen.append(self.headers.get("Authorization"))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        result = {
            "metric": {"__name__": "up", "job": "api"},
            "values": [[1714557600 + 60 * i, str(i)] for i in range(3)],
        }
        body = json.dumps(
            {"status": "success", "data": {"resultType": "matrix", "result": [result]}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_prometheus():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _FakePrometheus.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_bearer_token_comes_from_its_secret_on_the_command_line_and_in_the_config(
    tmp_path, monkeypatch, fake_prometheus
):
    token = "tok-" + "x7" * 12
    monkeypatch.setenv("FIXMAP_SECRET_PROM_TOKEN", token)
    when = ["--since", "1h", "--until", "2024-05-01T10:05:00Z", "--step", "60s"]
    proc = fixmap(
        "ingest", "--prometheus", fake_prometheus, "--query", "up", "--token-secret",
        "prom-token", *when, "--db", str(tmp_path / "cli.duckdb"), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] == 3
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        '[history]\ndb = "cfg.duckdb"\n'
        f'[history.sources.prom]\nkind = "prometheus"\nurl = "{fake_prometheus}"\n'
        'token_secret = "prom-token"\n[history.sources.prom.queries]\nup = "up"\n',
        encoding="utf-8",
    )
    proc = fixmap("ingest", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    assert _FakePrometheus.seen == [f"Bearer {token}"] * 2
    assert token not in proc.stdout + proc.stderr

    monkeypatch.delenv("FIXMAP_SECRET_PROM_TOKEN")
    missing = fixmap("ingest", "--config", str(cfg))
    assert missing.returncode == 2 and "FIXMAP_SECRET_PROM_TOKEN" in missing.stderr
    assert len(_FakePrometheus.seen) == 2  # nothing was asked without the token
