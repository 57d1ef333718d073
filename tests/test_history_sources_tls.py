"""A Prometheus-compatible API behind a private CA, with a tenant header that is a secret: the
history source trusts it through ca_file and sends the header resolved."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from console.core import ConfigError
from console.history import HistoryError, history_for, ingest_sources
from console.site import load_config

TENANT = "tenant-from-a-secret-7f3a"


class _Api(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        type(self).seen.append(self.headers.get("X-Scope-OrgID") or "")
        query = parse_qs(urlsplit(self.path).query)
        if "Content-Length" in self.headers:
            query.update(parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()))
        now = time.time()
        values = [[now - 60 * i, "0.25"] for i in range(5)]
        body = {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [{"metric": {"job": "rag"}, "values": sorted(values)}],
            },
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_api(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    _Api.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def config(tmp_path, url: str, extra: str = "") -> object:
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        f"""
[history.sources.mimir]
kind = "prometheus"
url = "{url}"
headers = {{ X-Scope-OrgID = "{{secret:tenant}}" }}
queries = {{ error_rate = 'sum(rate(errors[1m]))' }}
since = "10m"
step = "1m"
{extra}
""",
        encoding="utf-8",
    )
    return load_config(cfg)


def test_a_private_ca_and_a_secret_header_reach_the_api(tls_api, tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_TENANT", TENANT)
    untrusted = config(tmp_path, tls_api)
    with pytest.raises(HistoryError) as err:
        ingest_sources(history_for(untrusted), untrusted)
    assert "CERTIFICATE_VERIFY_FAILED" in err.value.render()

    site = config(tmp_path, tls_api, 'ca_file = "ca.pem"')
    report = ingest_sources(history_for(site), site)
    assert report.rows == 5
    assert _Api.seen and set(_Api.seen) == {TENANT}  # resolved, never the placeholder


def test_an_unset_secret_header_names_the_secret_and_sends_nothing(tls_api, tmp_path):
    site = config(tmp_path, tls_api, 'ca_file = "ca.pem"')
    with pytest.raises(ConfigError) as err:
        ingest_sources(history_for(site), site)
    assert "tenant" in err.value.render() and "FIXMAP_SECRET_TENANT" in err.value.render()
    assert _Api.seen == []


def test_a_header_naming_a_value_a_source_has_not_is_a_config_error(tmp_path):
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        '[history.sources.p]\nkind = "prometheus"\nurl = "http://127.0.0.1:9"\n'
        'headers = { X-Scope-OrgID = "{tenant}" }\nqueries = { m = "up" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg, eager=True)
    assert "history.sources.p.headers" in err.value.render() and "{tenant}" in err.value.render()
