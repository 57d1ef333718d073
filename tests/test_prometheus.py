"""Ingest from a real Prometheus (Debian's `prometheus` package) scraping a loopback endpoint."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from console.history import History, HistoryError
from tests.conftest import FIXMAP

PROMETHEUS = shutil.which("prometheus") or (
    "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
)
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="the prometheus binary is not installed (apt-get install prometheus; make system-deps)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Metrics(BaseHTTPRequestHandler):
    """Prometheus text format, numbers moving a little on every scrape."""

    scrapes = 0
    lock = threading.Lock()

    def do_GET(self):
        with _Metrics.lock:
            _Metrics.scrapes += 1
            n = _Metrics.scrapes
        body = "\n".join(
            [
                "# TYPE demo_request_latency_ms gauge",
                f'demo_request_latency_ms{{service="demo"}} {100 + n % 7}',
                "# TYPE demo_requests_total counter",
                f'demo_requests_total{{service="demo",status="200"}} {100 * n}',
                f'demo_requests_total{{service="demo",status="429"}} {3 * n}',
                "# TYPE demo_queue_depth gauge",
                f"demo_queue_depth {n % 5}",
                "",
            ]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """A real Prometheus on a free loopback port, scraping a loopback /metrics every second."""
    tmp = tmp_path_factory.mktemp("prometheus")
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    config = tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: demo\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target.server_address[1]}']\n",
        encoding="utf-8",
    )
    proc = None
    url = ""
    try:
        for _attempt in range(3):  # a free port can be taken between finding and binding it
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = open(tmp / "prometheus.log", "w")  # noqa: SIM115 (closed with the process)
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if _wait_for_samples(url, proc, deadline=time.monotonic() + 45):
                break
            proc.kill()
            proc.wait(10)
            log.close()
            proc = None
        if proc is None:
            pytest.fail(
                "prometheus did not start or scrape:\n"
                + (tmp / "prometheus.log").read_text()[-2000:]
            )
        yield url
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        target.shutdown()


def _wait_for_samples(url: str, proc: subprocess.Popen, deadline: float) -> bool:
    """Poll until the 429 rate has points (it needs at least two scrapes in its window)."""
    query = 'sum by (job) (rate(demo_requests_total{status="429"}[5s]))'
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            r = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=2)
            if r.status_code == 200 and r.json()["data"]["result"]:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


RATE_429 = (
    'sum by (job) (rate(demo_requests_total{status="429"}[5s])) '
    "/ sum by (job) (rate(demo_requests_total[5s]))"
)


def test_ingest_named_queries_from_prometheus(prometheus, tmp_path):
    h = History(tmp_path / "h.duckdb")
    report = h.ingest_prometheus(
        prometheus,
        {"latency_ms": "demo_request_latency_ms", "rate_429": RATE_429},
        since="5m",
        step="1s",
    )
    assert report.rows > 0 and [s.series for s in report.sources] == [1, 1]
    rows = h.sql(
        "SELECT service, metric, count(*), min(value), max(value), any_value(labels) "
        "FROM samples GROUP BY ALL ORDER BY metric"
    ).rows
    assert [r[:2] for r in rows] == [["demo", "latency_ms"], ["demo", "rate_429"]]
    latency = rows[0]
    assert latency[2] >= 2 and 100 <= latency[3] <= latency[4] <= 106
    labels = json.loads(latency[5])
    assert labels["job"] == "demo" and labels["instance"].startswith("127.0.0.1:")
    assert 0.02 < rows[1][3] <= rows[1][4] < 0.04  # 3 of 103 requests
    # the same range again replaces what it covers instead of doubling it
    before = h.sql("SELECT count(*) FROM samples WHERE metric = 'latency_ms'").rows[0][0]
    again = h.ingest_prometheus(
        prometheus, {"latency_ms": "demo_request_latency_ms"}, since="5m", step="1s"
    )
    assert again.replaced >= before
    after = h.sql("SELECT count(*) FROM samples WHERE metric = 'latency_ms'").rows[0][0]
    assert before <= after <= before + 5
    r = h.named("latency_percentiles", window="15m", bucket="1m", service="demo")
    assert r.rows and r.rows[-1][2] >= 100


def test_long_ranges_are_fetched_in_chunks(prometheus, tmp_path):
    h = History(tmp_path / "h.duckdb")
    # 3 h at 1 s is 10,800 points: over Prometheus's 11,000-point limit per query only in total
    report = h.ingest_prometheus(prometheus, "demo_queue_depth", since="3h", step="1s")
    assert report.rows > 0
    rows = h.sql(
        "SELECT service, metric, count(*), count(DISTINCT ts) FROM samples GROUP BY ALL"
    ).rows
    assert rows[0][:2] == ["demo", "demo_queue_depth"] and rows[0][2] == rows[0][3]


def test_prometheus_errors_are_clear(prometheus, tmp_path):
    h = History(tmp_path / "h.duckdb")
    with pytest.raises(HistoryError) as err:
        h.ingest_prometheus(prometheus, "sum(rate(demo_requests_total[5s]", since="5m", step="1s")
    assert "Prometheus rejected" in err.value.render() and "parse error" in err.value.render()
    with pytest.raises(HistoryError) as err:
        h.ingest_prometheus(prometheus, "sum(demo_queue_depth)", since="5m", step="1s")
    assert "--metric" in err.value.render()
    with pytest.raises(HistoryError) as err:
        h.ingest_prometheus(
            f"http://127.0.0.1:{free_port()}", "up", since="5m", step="1s", timeout=2
        )
    assert "cannot reach Prometheus" in err.value.render()
    assert h.sql("SELECT count(*) FROM samples").rows == [[0]]


def test_cli_ingest_from_prometheus(prometheus, tmp_path):
    db = tmp_path / "h.duckdb"
    proc = subprocess.run(
        [
            FIXMAP,
            "history",
            "ingest",
            "--prometheus",
            prometheus,
            "--query",
            "sum by (job) (demo_queue_depth)",
            "--metric",
            "queue_depth",
            "--since",
            "2m",
            "--step",
            "1s",
            "--json",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] > 0
    out = subprocess.run(
        [
            FIXMAP,
            "history",
            "query",
            "SELECT DISTINCT service, metric FROM samples",
            "--json",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(out.stdout)["rows"] == [["demo", "queue_depth"]]
    bad = subprocess.run(
        [FIXMAP, "history", "ingest", "--prometheus", prometheus, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--query" in bad.stderr


def test_config_source_ingest(prometheus, tmp_path):
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        '[history]\ndb = "h.duckdb"\n'
        f'[history.sources.prom]\nkind = "prometheus"\nurl = "{prometheus}"\nsince = "2m"\nstep = "1s"\n'
        '[history.sources.prom.queries]\nlatency_ms = "demo_request_latency_ms"\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [FIXMAP, "history", "ingest", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] > 0
    assert (tmp_path / "h.duckdb").exists()
    typo = subprocess.run(
        [FIXMAP, "history", "ingest", "--config", str(cfg), "--source", "prm"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert typo.returncode == 2 and "did you mean 'prom'" in typo.stderr
