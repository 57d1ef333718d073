"""Embedders for ΔS: the built-in lexical one (deterministic, calibrated bands) and a site's
OpenAI-compatible endpoint (a loopback server speaking that API)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.demo.service import DemoService
from console.demo.site import site_config_toml
from console.probes import run_probes_sync
from console.probes.embed import BUILTIN_BANDS, SEED_BANDS, HashEmbedder, calibrate, delta_s, zone
from console.site import load_config


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIXMAP_NO_KEYRING", "1")
    monkeypatch.delenv("FIXMAP_CONFIG", raising=False)


def test_builtin_embedder_is_deterministic_across_processes():
    text = "Roll back the release to the last known-good build."
    here = HashEmbedder().embed_sync([text])[0]
    code = (
        "from console.probes.embed import HashEmbedder; import hashlib, sys;"
        f"v = HashEmbedder().embed_sync([{text!r}])[0]; print(hashlib.sha256(v.tobytes()).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import hashlib

    assert out.stdout.strip() == hashlib.sha256(here.tobytes()).hexdigest()
    assert delta_s(here, here) == pytest.approx(0.0, abs=1e-6)
    other = HashEmbedder().embed_sync(["How long should pasta boil?"])[0]
    assert delta_s(here, other) > 0.9


def test_builtin_bands_are_the_ones_the_shipped_pairs_give():
    cal = calibrate()
    assert (cal.bands.stable, cal.bands.high_risk) == (
        BUILTIN_BANDS.stable,
        BUILTIN_BANDS.high_risk,
    )
    assert cal.auc_off_topic >= 0.9
    # why the seed's bands do not fit a lexical embedder: they would call most right answers unstable
    assert sum(d <= SEED_BANDS.stable for d in cal.correct) / len(cal.correct) <= 0.2
    assert sum(d <= BUILTIN_BANDS.stable for d in cal.correct) / len(cal.correct) >= 0.8
    assert zone(0.2, BUILTIN_BANDS) == "stable" and zone(0.99, BUILTIN_BANDS) == "high risk"


class _Embeddings(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/embeddings endpoint (every text gets the same unit vector)."""

    protocol_version = "HTTP/1.1"
    auth: list[str] = []
    fail = False

    def log_message(self, *args):
        return

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).auth.append(self.headers.get("Authorization", ""))
        if type(self).fail:
            payload, status = {"error": {"message": "overloaded"}}, 503
        else:
            data = [
                {"object": "embedding", "index": i, "embedding": [1.0, 0.0, 0.0]}
                for i, _ in enumerate(body["input"])
            ]
            payload, status = (
                {"object": "list", "model": body["model"], "data": list(reversed(data))},
                200,
            )
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@contextmanager
def embeddings_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    server.daemon_threads = True
    t = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _site(tmp_path, demo_url, emb_url, embedder="auto"):
    text = site_config_toml(demo_url)
    text = text.replace(
        "[probes.stability]",
        f'[embeddings]\nurl = "{emb_url}/v1/embeddings"\nmodel = "test-embed"\napi_key_secret = "emb_key"\n\n[probes.stability]',
    )
    if embedder != "auto":
        text = text.replace("seeds = [1, 2]", f'seeds = [1, 2]\nembedder = "{embedder}"')
    path = tmp_path / "fixmap.toml"
    path.write_text(text)
    return load_config(path)


def test_stability_uses_the_sites_embeddings_endpoint_and_its_bands(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_EMB_KEY", "emb-key-0123456789")
    _Embeddings.auth, _Embeddings.fail = [], False
    with DemoService(admin_token="t") as demo, embeddings_server() as emb:
        [result] = run_probes_sync(_site(tmp_path, demo.url, emb), ["stability"])
    assert result.status == "pass", result.reason
    assert result.embedder.startswith("test-embed @ 127.0.0.1:")
    assert result.values["embedder_lexical"] is False and result.values["lexical_fallback"] is None
    assert result.values["delta_s_bands"]["stable"] == SEED_BANDS.stable
    assert "lexical" not in result.reason
    assert _Embeddings.auth == ["Bearer emb-key-0123456789"]


def test_a_failing_embeddings_endpoint_falls_back_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_EMB_KEY", "emb-key-0123456789")
    _Embeddings.auth, _Embeddings.fail = [], True
    with DemoService(admin_token="t") as demo, embeddings_server() as emb:
        [auto] = run_probes_sync(_site(tmp_path, demo.url, emb), ["stability"])
        [strict] = run_probes_sync(_site(tmp_path, demo.url, emb, embedder="site"), ["stability"])
    assert auto.status == "pass" and auto.embedder == HashEmbedder.name
    assert "lexical fallback" in auto.reason and "503" in auto.reason
    assert strict.status == "error" and "503" in strict.reason


def test_engine_modules_import_without_numpy_httpx_or_the_ui():
    code = (
        "import sys; import console.probes, console.probes.run, console.probes.client, console.probes.kinds, "
        "console.probes.embed, console.site.probe_spec, console.cli.probe, "
        "console.demo.site, console.demo.launch, console.demo.service;"
        "print(sorted(m for m in ('numpy', 'httpx', 'textual', 'rich', 'duckdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
