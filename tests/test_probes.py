"""The probes engine against real loopback services: the demo with each fault, a second site with
other endpoints and JSON shapes, and hostile targets (hanging, resetting, non-JSON, huge)."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.core import ConfigError
from console.demo import FAULT_PROBES, FAULTS, DemoService
from console.demo.site import write_site_config
from console.probes import UnknownProbe, read_runs, run_probes, run_probes_sync
from console.site import load_config
from console.site.names import PROBES as CONVENTIONAL_PROBES

TOKEN = "probe-test-admin-token"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    monkeypatch.delenv("FIXMAP_CONFIG", raising=False)


@contextmanager
def demo_site(tmp_path: Path, faults=()):
    with DemoService(list(faults), admin_token=TOKEN) as svc:
        path = write_site_config(tmp_path, svc.url)
        yield svc, load_config(path)


def verdicts(results):
    return {r.name: r.status for r in results}


def red(results):
    return {r.name for r in results if r.status != "pass"}


def assert_declared_measures(site, results):
    """Every value a result carries is a measure its kind declares (or a JSON path it checked)."""
    from console.probes.kinds import kind_of

    for r in results:
        spec = site.config.probes[r.name]
        kind = kind_of(spec)
        allowed = set(kind.measures)
        if kind.json_paths:
            allowed |= set(spec.expect_json) | {c.key for c in spec.checks}
        assert set(r.values) <= allowed, (r.name, sorted(set(r.values) - allowed))


# ------------------------------------------------------------------ the demo


def test_healthy_demo_passes_every_probe(tmp_path):
    with demo_site(tmp_path) as (_svc, site):
        assert set(CONVENTIONAL_PROBES) <= set(site.config.probes)
        results = run_probes_sync(site)
    assert red(results) == set(), [(r.name, r.reason) for r in results if r.status != "pass"]
    assert_declared_measures(site, results)
    for r in results:
        assert r.reason and r.duration_ms >= 0 and r.started_at.endswith("+00:00")
    by_name = {r.name: r for r in results}
    stability = by_name["stability"]
    assert stability.embedder == "fixmap-hash-char3-5-v1"
    assert "lexical fallback" in stability.reason
    assert stability.values["lambda_convergent"] is True and stability.values["coverage"] >= 0.7
    assert by_name["latency"].values["p95_ms"] <= 750


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_turns_exactly_its_probes_red(tmp_path, fault):
    with demo_site(tmp_path, [fault]) as (_svc, site):
        results = run_probes_sync(site)
    assert_declared_measures(site, results)
    assert red(results) == set(FAULT_PROBES[fault]), [(r.name, r.status, r.reason) for r in results]
    for r in results:
        if r.name in FAULT_PROBES[fault]:
            assert r.status == "fail", (r.name, r.reason)


def test_faults_at_run_time_and_rollback(tmp_path):
    with demo_site(tmp_path) as (svc, site):
        svc.set_fault("stale-index", True)
        svc.set_fault("duplicates", True)
        assert verdicts(run_probes_sync(site, ["index", "idempotency", "pins"])) == {
            "index": "fail",
            "idempotency": "fail",
            "pins": "pass",
        }
        svc.rollback()
        assert red(run_probes_sync(site, ["index", "idempotency"])) == set()


def test_read_only_mode_refuses_writes_and_idempotency_cannot_judge(tmp_path):
    with demo_site(tmp_path) as (svc, site):
        svc.admin("read-only", {})
        results = {r.name: r for r in run_probes_sync(site, ["read_only", "idempotency"])}
    assert results["read_only"].status == "pass"
    assert "423" in results["read_only"].reason
    assert results["idempotency"].status == "inconclusive"


def test_stability_reports_what_diverged_under_model_drift(tmp_path):
    with demo_site(tmp_path, ["model-drift"]) as (_svc, site):
        [result] = run_probes_sync(site, ["stability"])
    assert result.status == "fail"
    assert result.values["lambda_convergent"] is False
    assert "λ divergent" in result.reason


def test_runs_are_recorded_and_callbacks_fire(tmp_path):
    seen: list[str] = []
    started: list[str] = []

    async def on_result(result):
        seen.append(result.name)

    with demo_site(tmp_path) as (_svc, site):
        results = asyncio.run(
            run_probes(site, ["health", "pins"], on_result, on_start=started.append)
        )
    assert sorted(seen) == ["health", "pins"] and sorted(started) == ["health", "pins"]
    rows = read_runs()
    assert [r["name"] for r in rows] == [r.name for r in results] or sorted(
        r["name"] for r in rows
    ) == ["health", "pins"]
    assert len({r["run_id"] for r in rows}) == 1
    assert all(r["status"] == "pass" for r in rows)


def test_unknown_probe_name_suggests_the_closest(tmp_path):
    with (
        demo_site(tmp_path) as (_svc, site),
        pytest.raises(UnknownProbe, match="did you mean 'latency'"),
    ):
        run_probes_sync(site, ["latncy"])


# ------------------------------------------------------------------ a second site, other shapes


class _OtherSite(BaseHTTPRequestHandler):
    """A RAG service with its own endpoints and JSON shapes (nothing like the demo's)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    effects = 0
    seen_keys: set[str] = set()
    lock = threading.Lock()
    writes_disabled = False
    items = [
        {
            "doc": {
                "key": "d1",
                "section": {"slug": "rollback/how"},
                "body": "Roll back the release to the last good build.",
            }
        },
        {
            "doc": {
                "key": "d2",
                "section": {"slug": "rollback/check"},
                "body": "After you roll back, check the error rate.",
            }
        },
        {
            "doc": {
                "key": "d3",
                "section": {"slug": "cache/warm"},
                "body": "Warm the cache before traffic.",
            }
        },
    ]

    def log_message(self, *args):
        return

    def _send(self, status, payload, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n)) if n else {}

    def do_GET(self):
        cls = type(self)
        if self.path == "/api/v2/status":
            mode = "disabled" if cls.writes_disabled else "enabled"
            return self._send(
                200, {"data": {"state": {"ready": True, "stage": "serving"}}, "writes": mode}
            )
        if self.path == "/api/v2/catalog":
            return self._send(
                200,
                {
                    "meta": {
                        "index": {"sha": "abc", "documents": 2, "passages": 3},
                        "versions": {"llm": "m-1", "tmpl": "p-7"},
                    }
                },
            )
        if self.path == "/api/v2/live":
            return self._send(200, {"stats": [{"sha": "abc", "docs": 2, "chunks": 3}]})
        if self.path == "/api/v2/ledger":
            return self._send(200, {"counters": {"effects_total": cls.effects}})
        return self._send(404, {"detail": "nope"})

    def do_POST(self):
        cls = type(self)
        body = self._body()
        if self.path == "/api/v2/search":
            top = body["opts"]["top"]
            return self._send(200, {"hits": {"items": cls.items[:top]}}, {"X-Cache-Status": "HIT"})
        if self.path == "/api/v2/orders":
            if cls.writes_disabled:
                return self._send(503, {"detail": "maintenance"}, {"Retry-After": "60"})
            key = self.headers.get("X-Request-Key")
            with cls.lock:
                if key in cls.seen_keys:
                    return self._send(200, {"ok": True})
                cls.seen_keys.add(key)
                cls.effects += 1
            return self._send(201, {"ok": True})
        return self._send(404, {"detail": "nope"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connections of a burst


@contextmanager
def serve(handler):
    server = _Server(("127.0.0.1", 0), handler)
    t = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


OTHER_SITE = """
[services.search]
base_url = "{url}"
latency_budget_ms = 500

[pins]
model = "m-1"
prompt = "p-7"

[probes.ready]
kind = "http"
url = "/api/v2/status"
expect_json = {{ "data.state.ready" = true }}
checks = [{{ path = "data.state.stage", one_of = ["serving", "warm"] }}]

[probes.speed]
kind = "latency"
method = "POST"
url = "/api/v2/search"
body = {{ text = "roll back", opts = {{ top = 2, replica = 1 }} }}
requests = 10

[probes.burst]
kind = "rate_limit"
method = "POST"
url = "/api/v2/search"
body = {{ text = "roll back", opts = {{ top = 1, replica = 1 }} }}
requests = 10

[probes.warm]
kind = "warmup"
method = "POST"
url = "/api/v2/search"
body = {{ text = "{{query}}", opts = {{ top = 1, replica = 1 }} }}
queries = ["roll back", "warm cache"]
cache_header = "X-Cache-Status"

[probes.warm_by_latency]
kind = "warmup"
method = "POST"
url = "/api/v2/search"
body = {{ text = "{{query}}", opts = {{ top = 1, replica = 1 }} }}
queries = ["roll back"]
cache_path = ""

[probes.idx]
kind = "index"
manifest_url = "/api/v2/catalog"
live_url = "/api/v2/live"
manifest_hash = "meta.index.sha"
manifest_docs = "meta.index.documents"
manifest_chunks = "meta.index.passages"
live_hash = "stats[0].sha"
live_docs = "stats[0].docs"
live_chunks = "stats[0].chunks"

[probes.gold]
kind = "stability"
method = "POST"
url = "/api/v2/search"
body = {{ text = "{{query}}", opts = {{ top = "{{k}}", replica = "{{seed}}" }} }}
question = "How do I roll back the release?"
paraphrases = ["How to roll back a release", "Roll back the release: how?", "What is the way to roll back?"]
expected_anchors = ["rollback/how", "rollback/check"]
k = 2
results_path = "hits.items"
id_path = "doc.key"
anchor_path = "doc.section.slug"
text_path = "doc.body"

[probes.once]
kind = "idempotency"
url = "/api/v2/orders"
key_header = "X-Request-Key"
body = {{ sku = "probe", ref = "{{key}}" }}
counter_url = "/api/v2/ledger"
counter_path = "counters.effects_total"
keys = 3
replays = 3

[probes.lock]
kind = "pins"
url = "/api/v2/catalog"
fields = {{ model = "meta.versions.llm", prompt = "meta.versions.tmpl" }}

[probes.maintenance]
kind = "read_only"
mode_url = "/api/v2/status"
mode_path = "writes"
read_only_values = ["disabled"]
url = "/api/v2/orders"
key_header = "X-Request-Key"
"""


def test_a_site_with_other_endpoints_and_shapes(tmp_path):
    _OtherSite.effects = 0
    _OtherSite.seen_keys = set()
    _OtherSite.writes_disabled = False
    with serve(_OtherSite) as url:
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(OTHER_SITE.format(url=url))
        site = load_config(cfg)
        results = run_probes_sync(site)
        assert red(results) == set(), [(r.name, r.reason) for r in results if r.status != "pass"]
        _OtherSite.writes_disabled = True
        [maintenance] = run_probes_sync(site, ["maintenance"])
        assert maintenance.status == "pass" and "503" in maintenance.reason
    assert_declared_measures(site, [*results, maintenance])
    by = {r.name: r for r in results}
    assert by["gold"].values["coverage"] == 1.0
    assert by["once"].values["duplicate_effects"] == 0
    assert by["idx"].values["live_hash"] == "abc"
    assert by["warm"].values["miss_share"] == 0
    assert "repeat_p95_ms" in by["warm_by_latency"].values


def test_a_json_path_that_leads_nowhere_is_an_error_that_says_where(tmp_path):
    with serve(_OtherSite) as url:
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(
            f'[services.s]\nbase_url = "{url}"\n[pins]\nmodel = "m-1"\n'
            '[probes.lock]\nkind = "pins"\nurl = "/api/v2/catalog"\nfields = { model = "meta.version.llm" }\n'
        )
        [result] = run_probes_sync(load_config(cfg))
    assert result.status == "error"
    assert "meta.version.llm" in result.reason and "no key 'version'" in result.reason


# ------------------------------------------------------------------ hostile targets


@contextmanager
def raw_server(behaviour: str):
    """A TCP server that hangs (accepts, never answers) or resets every connection."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def loop():
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            if behaviour == "reset":
                conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                held.append(conn)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        t.join(timeout=2)
        for c in held:
            c.close()
        sock.close()


class _Odd(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        return

    def do_GET(self):
        if self.path == "/html":
            data = b"<html><body>502 Bad Gateway (from a proxy)</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/huge":
            size = 12 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif self.path == "/echo-auth":
            data = ("unauthorised: " + self.headers.get("Authorization", "")).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            data = b'{"status": "ready"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


def test_hostile_targets_cost_their_timeout_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_SITE_TOKEN", "s3cr3t-value-for-the-test")
    with raw_server("hang") as hang, raw_server("reset") as reset, serve(_Odd) as odd:
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(
            f"""
[services.hang]
base_url = "{hang}"
timeout = "1s"
[services.reset]
base_url = "{reset}"
[services.odd]
base_url = "{odd}"

[probes.hung]
kind = "http"
service = "hang"
url = "/readyz"
expect_json = {{ status = "ready" }}

[probes.hung_latency]
kind = "latency"
service = "hang"
url = "/readyz"
requests = 30

[probes.reset]
kind = "http"
service = "reset"
url = "/readyz"

[probes.not_json]
kind = "http"
service = "odd"
url = "/html"
expect_json = {{ status = "ready" }}

[probes.huge]
kind = "http"
service = "odd"
url = "/huge"
expect_json = {{ status = "ready" }}

[probes.leaky]
kind = "http"
service = "odd"
url = "/echo-auth"
bearer_secret = "site_token"
expect_json = {{ status = "ready" }}

[probes.fine]
kind = "http"
service = "odd"
url = "/ok"
expect_json = {{ status = "ready" }}
"""
        )
        site = load_config(cfg)
        finished: dict[str, float] = {}
        t0 = time.perf_counter()

        def on_result(result):
            finished[result.name] = time.perf_counter() - t0

        results = {r.name: r for r in run_probes_sync(site, on_result=on_result)}
        wall = time.perf_counter() - t0

    assert results["fine"].status == "pass"
    assert finished["fine"] < 0.9  # did not wait for the hung target
    for name in ("hung", "hung_latency"):
        assert results[name].status == "fail"
        assert 0.9 <= results[name].duration_ms / 1000 < 2.0
        assert "1 s" in results[name].reason
    assert wall < 3.0
    assert results["reset"].status == "fail" and "connection" in results["reset"].reason
    assert results["not_json"].status == "error" and "not JSON" in results["not_json"].reason
    assert results["huge"].status == "error" and "MiB" in results["huge"].reason
    assert results["leaky"].status == "error"
    assert "s3cr3t-value-for-the-test" not in results["leaky"].reason
    recorded = (Path(site.path).parent / "home" / "probe_runs.jsonl").read_text()
    assert "s3cr3t-value-for-the-test" not in recorded and '"leaky"' in recorded


def test_a_probe_naming_no_known_service_is_an_error_result(tmp_path):
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        '[services.a]\nbase_url = "http://127.0.0.1:9"\n[probes.x]\nkind = "http"\nservice = "b"\nurl = "/"\n'
    )
    [result] = run_probes_sync(load_config(cfg))
    assert result.status == "error" and "'b' is not in [services]" in result.reason


def test_unreachable_service_fails_fast(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        f'[services.a]\nbase_url = "http://127.0.0.1:{port}"\n[probes.up]\nkind = "http"\nurl = "/"\n'
    )
    [result] = run_probes_sync(load_config(cfg))
    assert result.status == "fail" and "cannot connect" in result.reason


# ------------------------------------------------------------------ command probes


def test_command_probes_judge_exit_code_json_and_timeout(tmp_path):
    py = json.dumps(sys.executable)
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        f"""
[probes.ok]
kind = "command"
argv = [{py}, "-c", "pass"]
[probes.bad]
kind = "command"
argv = [{py}, "-c", "import sys; print('disk full', file=sys.stderr); sys.exit(3)"]
[probes.json]
kind = "command"
argv = [{py}, "-c", "import json; print(json.dumps({{'verdict': {{'ok': False}}, 'lag': 42}}))"]
judge = "json"
status_path = "verdict.ok"
value_path = "lag"
[probes.slow]
kind = "command"
argv = [{py}, "-c", "import time; time.sleep(30)"]
timeout = "0.5s"
[probes.missing]
kind = "command"
argv = ["/no/such/program-fixmap"]
"""
    )
    results = {r.name: r for r in run_probes_sync(load_config(cfg))}
    assert results["ok"].status == "pass"
    assert results["bad"].status == "fail" and "disk full" in results["bad"].reason
    assert results["json"].status == "fail" and results["json"].value == 42
    # a command that could not finish could not say: an error, not a fail
    assert results["slow"].status == "error" and results["slow"].duration_ms < 5000
    assert "did not finish within 0.5 s" in results["slow"].reason
    assert results["missing"].status == "error" and "not found" in results["missing"].reason


# ------------------------------------------------------------------ bad config


def config_error(tmp_path: Path, toml: str) -> str:
    """The rendered ConfigError of a site config that must not load."""
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    return info.value.render()


def test_bad_probe_config_names_the_field(tmp_path):
    text = config_error(
        tmp_path,
        '[services.a]\nbase_url = "http://127.0.0.1:1"\n'
        '[probes.lat]\nkind = "latency"\nurl = "/r"\nrequests = 0\n'
        '[probes.st]\nkind = "stabilty"\n'
        '[probes.ix]\nkind = "index"\nlive_hash = "a..b"\n'
        '[probes.h]\nkind = "http"\nurl = "/"\nexpect_jsn = { a = 1 }\n',
    )
    assert "probes.lat.requests" in text and ":6:" in text
    assert "unknown kind 'stabilty'" in text and "did you mean 'stability'" in text
    assert "probes.ix.live_hash" in text and "not a JSON path" in text
    assert "probes.h.expect_jsn" in text and "did you mean 'expect_json'" in text


# ------------------------------------------------------------------ templates and secrets


class _Echo(BaseHTTPRequestHandler):
    """Remembers every request it got (path, headers, JSON body) and answers {"ok": true}."""

    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args):
        return

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        type(self).seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        data = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


SECRET_SITE = """
[services.echo]
base_url = "{url}"

[probes.authed]
kind = "http"
method = "POST"
url = "/echo?token={{secret:query_token}}"
headers = {{ "X-Api-Key" = "{{secret:site_key}}" }}
body = {{ auth = "{{secret:site_key}}", literal = "{{{{not a placeholder}}}}", n = 3 }}
expect_json = {{ ok = true }}

[probes.unset]
kind = "http"
method = "POST"
url = "/echo"
headers = {{ "X-Api-Key" = "{{secret:missing_key}}" }}
"""


def test_secrets_in_url_headers_and_body_reach_the_service_resolved(tmp_path, monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    monkeypatch.setenv("FIXMAP_SECRET_SITE_KEY", "k3y-value-for-the-echo")
    monkeypatch.setenv("FIXMAP_SECRET_QUERY_TOKEN", "t0ken/with&odd=chars")
    _Echo.seen = []
    with serve(_Echo) as url:
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(SECRET_SITE.format(url=url))
        site = load_config(cfg)
        [result] = run_probes_sync(site, ["authed"])
    assert result.status == "pass", result.reason
    assert site.config.probes["authed"].secret_names() == ["query_token", "site_key"]
    [got] = _Echo.seen
    assert got["headers"]["X-Api-Key"] == "k3y-value-for-the-echo"
    assert parse_qs(urlsplit(got["path"]).query) == {"token": ["t0ken/with&odd=chars"]}
    assert got["body"] == {
        "auth": "k3y-value-for-the-echo",
        "literal": "{not a placeholder}",
        "n": 3,
    }
    shown = json.dumps(result.to_dict()) + Path(tmp_path / "home" / "probe_runs.jsonl").read_text()
    assert "k3y-value-for-the-echo" not in shown and "t0ken" not in shown


def test_an_unset_secret_is_an_error_that_names_it_and_where_to_set_it(tmp_path):
    _Echo.seen = []
    with serve(_Echo) as url:
        cfg = tmp_path / "fixmap.toml"
        cfg.write_text(SECRET_SITE.format(url=url))
        [result] = run_probes_sync(load_config(cfg), ["unset"])
    assert result.status == "error"
    assert "secret 'missing_key' is not set" in result.reason
    assert (
        "FIXMAP_SECRET_MISSING_KEY" in result.reason
        and "keyring set fixmap missing_key" in result.reason
    )
    assert _Echo.seen == []  # nothing was sent with a hole in it


def test_a_placeholder_the_kind_never_fills_is_a_config_error(tmp_path):
    text = config_error(
        tmp_path,
        '[services.a]\nbase_url = "http://127.0.0.1:1"\n'
        '[probes.warm]\nkind = "warmup"\nqueries = ["a"]\nurl = "/r?q={qeury}"\n'
        '[probes.up]\nkind = "http"\nurl = "/"\nbody = { ref = "{key}" }\n'
        '[probes.auth]\nkind = "index"\nheaders = { Authorization = "Bearer {token}" }\n'
        '[probes.gold]\nkind = "stability"\nquestion = "why?"\nparaphrases = ["how?"]\n'
        'expected_anchors = ["a"]\nbody = { q = "{query}", top = "{k}", seed = "{seed}" }\n'
        '[probes.brace]\nkind = "http"\nurl = "/{"\n',
    )
    assert ":6: probes.warm.url: '/r?q={qeury}': '{qeury}' is not a value here" in text
    assert "did you mean '{query}'?" in text
    assert "probes.up.body" in text and "'{key}' is not a value here (known: none)" in text
    assert "probes.auth.headers" in text and "header Authorization" in text
    assert "probes.brace.url" in text and "unmatched '{'" in text
    assert "probes.gold" not in text


def test_command_probes_get_only_the_secrets_they_name(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_UNRELATED", "unrelated-secret-value")
    monkeypatch.setenv("FIXMAP_SECRET_NAMED", "named-secret-value-1")
    py = json.dumps(sys.executable)
    show = (
        "import json, os; print(json.dumps({'status': 'pass', 'env': sorted("
        "k for k in os.environ if 'SECRET' in k or k == 'DB_TOKEN')}))"
    )
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        f'[probes.env]\nkind = "command"\nargv = [{py}, "-c", {json.dumps(show)}]\n'
        'judge = "json"\nsecret_env = { DB_TOKEN = "named" }\n'
    )
    [result] = run_probes_sync(load_config(cfg))
    assert result.status == "pass", result.reason
    assert result.values["output"]["env"] == ["DB_TOKEN"]
