"""A service fixmap has never seen, probed with built-in kinds only: a POST search whose answers
carry the build they were served from, side-effect counters only in Prometheus text, ops
endpoints behind an X-Ops-Token header, and the stdlib's default listen backlog of 5."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.probes import run_probes_sync
from console.site import load_config

OPS_TOKEN = "ops-token-for-the-any-site-test"
BUILD = "b-2"
DOCS = [
    {
        "id": "d1",
        "section": "rollback/how",
        "text": "Roll back the release to the last good build.",
    },
    {"id": "d2", "section": "rollback/check", "text": "After you roll back, check the error rate."},
    {"id": "d3", "section": "cache/warm", "text": "Warm the cache before traffic."},
]


class _State:
    """What the service is doing; the handler reads it, the test sets faults on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served_build = BUILD
        self.duplicates = False
        self.throttle_reads = False
        self.read_only = False
        self.effects = 0
        self.keys: set[str] = set()
        self.requests: dict[str, int] = {}
        self.cached: set[str] = set()
        self.ops_headers: list[str | None] = []


class _Service(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: _State

    def log_message(self, *args):
        return

    def _send(self, status, payload, headers=None, ctype="application/json"):
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.state.lock:
            self.state.requests[str(status)] = self.state.requests.get(str(status), 0) + 1

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n)) if n else {}

    def _ops(self) -> bool:
        given = self.headers.get("X-Ops-Token")
        self.state.ops_headers.append(given)
        if given != OPS_TOKEN:
            self._send(401, {"error": "bad ops token"})
            return False
        return True

    def do_GET(self):
        st = self.state
        if st.throttle_reads and self.path.startswith("/v1/"):
            return self._send(429, {"error": "slow down"}, {"Retry-After": "30"})
        if self.path == "/v1/health":
            return self._send(200, {"ok": True, "build": BUILD})
        if self.path == "/v1/release":
            return self._send(
                200,
                {
                    "build": BUILD,
                    "docs": len(DOCS),
                    "chunks": 9,
                    "versions": {"model": "m-1", "prompt": "p-7"},
                },
            )
        if self.path == "/v1/stats":  # the self-report: always the new build
            return self._send(200, {"index": {"build": BUILD, "docs": len(DOCS), "chunks": 9}})
        if self.path == "/ops/state":
            if self._ops():
                self._send(200, {"mode": "read-only" if st.read_only else "read-write"})
            return None
        if self.path == "/metrics":
            with st.lock:
                lines = [
                    "# HELP orders_side_effects_total Side effects of order writes.",
                    "# TYPE orders_side_effects_total counter",
                    f'orders_side_effects_total{{shard="a"}} {st.effects}',
                    "# TYPE http_requests_total counter",
                    *(
                        f'http_requests_total{{code="{code}"}} {n}'
                        for code, n in sorted(st.requests.items())
                    ),
                ]
            return self._send(200, "\n".join(lines) + "\n", ctype="text/plain; version=0.0.4")
        return self._send(404, {"error": "no such endpoint"})

    def do_POST(self):
        st = self.state
        body = self._body()
        if self.path == "/v1/search":
            if st.throttle_reads:
                return self._send(429, {"error": "slow down"}, {"Retry-After": "30"})
            time.sleep(0.005)  # a small service does some work
            query = str(body.get("query", ""))
            top = int(body.get("top_k", 3))
            with st.lock:
                hit = query in st.cached
                st.cached.add(query)
            hits = [{**d, "build": st.served_build} for d in DOCS[:top]]
            meta = {"build": st.served_build, "model": "m-1"}
            return self._send(
                200, {"hits": hits, "meta": meta}, {"X-Cache": "hit" if hit else "miss"}
            )
        if self.path == "/v1/orders":
            if st.read_only:
                return self._send(423, {"error": "read-only"}, {"Retry-After": "60"})
            key = self.headers.get("X-Request-Id") or ""
            with st.lock:
                if st.duplicates or key not in st.keys:
                    st.effects += 1
                st.keys.add(key)
            return self._send(201, {"ok": True})
        return self._send(404, {"error": "no such endpoint"})


@contextmanager
def any_service():
    state = _State()
    handler = type("Handler", (_Service,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    assert server.request_queue_size == 5  # the stdlib default: a small server's backlog
    server.daemon_threads = True
    t = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    t.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


SITE = """
[services.rag]
base_url = "{url}"
latency_budget_ms = 500

[pins]
model = "m-1"
prompt = "p-7"
build = "b-2"

[probes.health]
kind = "http"
url = "/v1/health"
expect_json = {{ ok = true }}

[probes.ops]
kind = "http"
url = "/ops/state"
headers = {{ "X-Ops-Token" = "{{secret:ops_token}}" }}
checks = [{{ path = "mode", one_of = ["read-write", "read-only"] }}]

[probes.latency]
kind = "latency"
method = "POST"
url = "/v1/search"
body = {{ query = "how do I roll back", top_k = 3 }}
requests = 40
concurrency = 20   # more than the backlog: fixmap's per-service cap keeps it from overflowing

[probes.rate_limit]
kind = "rate_limit"
method = "POST"
url = "/v1/search"
body = {{ query = "burst", top_k = 1 }}

[probes.warmup]
kind = "warmup"
method = "POST"
url = "/v1/search"
body = {{ query = "{{query}}", top_k = 1 }}
queries = ["roll back", "check errors"]
cache_header = "X-Cache"
max_miss_share = 1.0

[probes.index]
kind = "index"
manifest_url = "/v1/release"
manifest_hash = "build"
manifest_docs = "docs"
manifest_chunks = "chunks"
live_url = "/v1/stats"
live_hash = "index.build"
live_docs = "index.docs"
live_chunks = "index.chunks"
served = {{ method = "POST", url = "/v1/search", body = {{ query = "{{query}}", top_k = 3 }} }}
served_queries = ["roll back", "warm the cache"]
served_hits = "hits"
served_hash = "build"

[probes.served_pin]
kind = "index"
manifest_url = ""
live_url = ""
served = {{ method = "POST", url = "/v1/search", body = {{ query = "index check" }} }}
served_hash = "meta.build"
served_pin = "build"

[probes.stability]
kind = "stability"
method = "POST"
url = "/v1/search"
body = {{ query = "{{query}}", top_k = "{{k}}", seed = "{{seed}}" }}
question = "How do I roll back the release?"
paraphrases = ["How to roll back a release", "Roll back the release: how?", "What is the way to roll back?"]
expected_anchors = ["rollback/how", "rollback/check"]
k = 2
results_path = "hits"
anchor_path = "section"

[probes.idempotency]
kind = "idempotency"
url = "/v1/orders"
key_header = "X-Request-Id"
counter_url = "/metrics"
counter_metric = "orders_side_effects_total"
counter_labels = {{ shard = "a" }}
keys = 3
replays = 3

[probes.pins]
kind = "pins"
url = "/v1/release"
pins_path = "versions"
fields = {{ build = "build" }}
served = {{ method = "POST", url = "/v1/search", body = {{ query = "pins" }} }}
served_fields = {{ model = "meta.model", build = "meta.build" }}

[probes.errors]
kind = "http"
url = "/metrics"
checks = [
  {{ metric = "http_requests_total", labels = {{ code = "500" }}, exists = false }},
  {{ metric = "orders_side_effects_total", min = 0, name = "side_effects" }},
]

[probes.read_only]
kind = "read_only"
mode_url = {{ url = "/ops/state", headers = {{ "X-Ops-Token" = "{{secret:ops_token}}" }} }}
url = "/v1/orders"
key_header = "X-Request-Id"
refused_status = [423]
"""


@pytest.fixture
def site_of(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    monkeypatch.setenv("FIXMAP_SECRET_OPS_TOKEN", OPS_TOKEN)

    def make(url: str):
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(SITE.format(url=url))
        return load_config(cfg)

    return make


def _red(results):
    return {r.name: (r.status, r.reason) for r in results if r.status != "pass"}


def test_healthy_any_site_passes_every_probe_twenty_runs_in_a_row(site_of):
    with any_service() as (state, url):
        site = site_of(url)
        assert site.config.services["rag"].max_in_flight == 4  # the default, not tuned here
        for run in range(20):
            results = run_probes_sync(site, record=False)
            assert _red(results) == {}, f"run {run + 1}: {_red(results)}"
    by = {r.name: r for r in results}
    assert len(by) == len(site.config.probes)
    assert by["index"].values["served_checked"] == 6  # 2 queries x 3 hits
    assert by["index"].values["served_hash"] == BUILD
    assert by["idempotency"].values["counter_delta"] == 3
    assert by["pins"].values["served"] == {"build": [BUILD], "model": ["m-1"]}
    assert set(by["errors"].values) == {"status_code", "latency_ms", "side_effects"}
    assert set(state.ops_headers) == {OPS_TOKEN}  # the secret reached the server resolved


def test_stale_served_build_fails_index_while_the_stats_say_new(site_of):
    with any_service() as (state, url):
        state.served_build = "b-1"
        results = {
            r.name: r for r in run_probes_sync(site_of(url), ["index", "served_pin", "pins"])
        }
    index = results["index"]
    assert index.status == "fail"
    assert index.values["live_hash"] == BUILD  # the self-report is right...
    assert index.values["served_mismatches"] == 6  # ...every answer came from the old build
    assert "6 of 6 served hits carry b-1, the manifest says b-2" in index.reason
    assert (
        results["served_pin"].status == "fail"
        and "pin build says b-2" in results["served_pin"].reason
    )
    assert (
        results["pins"].status == "fail" and "build served b-1 ≠ lock b-2" in results["pins"].reason
    )


def test_duplicate_side_effects_fail_idempotency_from_prometheus_text(site_of):
    with any_service() as (state, url):
        state.duplicates = True
        [result] = run_probes_sync(site_of(url), ["idempotency"])
    assert result.status == "fail", result.reason
    assert result.values["counter_delta"] == 9 and result.values["duplicate_effects"] == 6
    assert "counter orders_side_effects_total" in result.reason


def test_reads_answered_429_are_an_error_not_a_fail(site_of):
    with any_service() as (state, url):
        state.throttle_reads = True
        results = {
            r.name: r
            for r in run_probes_sync(site_of(url), ["index", "pins", "stability", "warmup"])
        }
    for name, r in results.items():
        assert r.status == "error", (name, r.status, r.reason)
        assert "429" in r.reason and "throttled" in r.reason, (name, r.reason)
    assert "could not measure" in results["index"].reason


def test_a_wrong_ops_token_is_not_sent_as_a_placeholder(site_of, monkeypatch):
    monkeypatch.delenv("FIXMAP_SECRET_OPS_TOKEN")
    with any_service() as (state, url):
        [ops] = run_probes_sync(site_of(url), ["ops"])
    assert ops.status == "error" and "secret 'ops_token' is not set" in ops.reason
    assert state.ops_headers == []


def test_a_metric_that_is_not_there_names_the_closest(site_of, tmp_path):
    with any_service() as (_state, url):
        cfg = Path(tmp_path / "fixmap.toml")
        cfg.write_text(
            f'[services.rag]\nbase_url = "{url}"\n'
            '[probes.m]\nkind = "http"\nurl = "/metrics"\n'
            'checks = [{ metric = "orders_side_effect_total", max = 5 }]\n'
        )
        [result] = run_probes_sync(load_config(cfg))
    assert result.status == "error"
    assert "did you mean 'orders_side_effects_total'" in result.reason


def test_a_service_behind_a_private_ca_is_trusted_through_ca_file(tmp_path):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    state = _State()
    handler = type("Handler", (_Service,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    t = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    t.start()
    try:
        base = f"https://127.0.0.1:{server.server_address[1]}"
        cfg = tmp_path / "fixmap.toml"
        probe = '[probes.up]\nkind = "http"\nurl = "/v1/health"\nexpect_json = { ok = true }\n'
        cfg.write_text(f'[services.s]\nbase_url = "{base}"\n{probe}')
        [untrusted] = run_probes_sync(load_config(cfg))
        cfg.write_text(f'[services.s]\nbase_url = "{base}"\nca_file = "cert.pem"\n{probe}')
        [trusted] = run_probes_sync(load_config(cfg))
    finally:
        server.shutdown()
        server.server_close()
    assert untrusted.status == "fail" and "CERTIFICATE_VERIFY_FAILED" in untrusted.reason
    assert trusted.status == "pass", trusted.reason


def test_openmetrics_and_prometheus_text_parse_alike():
    from console.probes.metrics import MetricError, parse_exposition, select

    prom = '# TYPE jobs_total counter\njobs_total{queue="a"} 3\njobs_total{queue="b"} 4\n'
    om = '# TYPE jobs counter\njobs_total{queue="a"} 3.0\njobs_total{queue="b"} 4.0\n# EOF\n'
    for text, ctype in ((prom, "text/plain; version=0.0.4"), (om, "application/openmetrics-text")):
        samples = parse_exposition(text, ctype)
        assert select(samples, "jobs_total", {}) == 7
        assert select(samples, "jobs", {"queue": "b"}) == 4  # a counter without its _total
    with pytest.raises(MetricError, match="has labels"):
        select(parse_exposition(prom), "jobs_total", {"queue": "c"})
    with pytest.raises(MetricError, match="not Prometheus text"):
        parse_exposition("<html>502</html>")
