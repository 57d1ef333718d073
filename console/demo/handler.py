"""The demo's HTTP surface: one request handler over a DemoService, on the stdlib's
ThreadingHTTPServer (no hand-written HTTP parsing).

Endpoints (JSON unless said otherwise):
  GET  /healthz                  liveness
  GET  /readyz                   readiness with boot phase, mode (read-write / read-only), release
  GET|POST /retrieve             q (or body "query"), k, seed -> top-k snippets with id, anchor,
                                 section, text, score, index_hash; "cache": hit|miss
  GET  /manifest                 doc_count, chunk_count, index_hash, pins, build_id, release
  GET  /index/stats              what the live index really holds (doc/chunk counts, hash)
  GET  /metrics                  Prometheus text format
  POST /write                    a write with a side effect; honours the Idempotency-Key header
  GET  /effects?key=K            side effects caused by key K (and the total)
  POST /admin/rollback | freeze | unfreeze | read-only | read-write | flag | fault
  GET  /admin/state              admin endpoints need 'Authorization: Bearer <token>'

The handler parses and checks requests and writes answers; what an answer says is the
service's. Every request is answered, even one that breaks the service (a 500 with the error),
and every answer is counted in the service's metrics.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, Any, dict[str, str]]
"""(status, JSON body or text, headers)."""


class DemoBackend(Protocol):
    """What the handler asks of the service (DemoService is the one implementation)."""

    admin_token: str

    def state(self) -> dict[str, Any]: ...
    def manifest(self) -> dict[str, Any]: ...
    def live_index(self) -> dict[str, Any]: ...
    def metrics_text(self) -> str: ...
    def retrieve(self, query: str, k: int, seed: str) -> Answer: ...
    def write(self, key: str | None, payload: Any) -> Answer: ...
    def effects(self, key: str | None) -> dict[str, Any]: ...
    def admin(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...
    def record(self, path: str, status: int, seconds: float) -> None: ...


class DemoServer(ThreadingHTTPServer):
    """A thread per connection, on daemon threads so a hung client never holds up exit."""

    daemon_threads = True
    request_queue_size = 256  # the default 5 drops a burst of probes' connections (1 s SYN retry)


class DemoHandler(BaseHTTPRequestHandler):
    """One request: parse, route to the service, answer, count. `demo` is set per server."""

    demo: DemoBackend
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = (
        True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    )
    server_version = "fixmap-demo/1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body: Any = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            raw = self.rfile.read(min(length, 1_000_000))
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, {"error": "body is not JSON"}, path=path, started=started)
                return
        try:
            status, payload, headers = self._route(method, path, query, body)
        except Exception as exc:  # the demo must answer, not drop the connection
            status, payload, headers = 500, {"error": f"{type(exc).__name__}: {exc}"}, {}
        self._send(status, payload, headers, path=path, started=started)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        demo = self.demo
        params = {**query, **(body if isinstance(body, dict) else {})}
        if path == "/healthz":
            return 200, {"status": "ok"}, {}
        if path == "/readyz":
            st = demo.state()
            ready = st["phase"] == "ready"
            return (
                (200 if ready else 503),
                {
                    "status": "ready" if ready else "booting",
                    "phase": st["phase"],
                    "mode": st["mode"],
                    "frozen": st["frozen"],
                    "release": st["release"],
                },
                {},
            )
        if path == "/retrieve":
            q = str(params.get("q") or params.get("query") or "").strip()
            if not q:
                return 400, {"error": 'retrieve needs a query: ?q=... or {"query": ...}'}, {}
            try:
                k = max(1, min(50, int(params.get("k", 5))))
            except (TypeError, ValueError):
                return 400, {"error": "k must be a whole number"}, {}
            return demo.retrieve(q, k, str(params.get("seed", "0")))
        if path == "/manifest":
            return 200, demo.manifest(), {}
        if path == "/index/stats":
            return 200, demo.live_index(), {}
        if path == "/metrics":
            return 200, demo.metrics_text(), {"Content-Type": "text/plain; version=0.0.4"}
        if path == "/write":
            if method != "POST":
                return 405, {"error": "use POST"}, {"Allow": "POST"}
            return demo.write(self.headers.get("Idempotency-Key"), body)
        if path == "/effects":
            return 200, demo.effects(query.get("key")), {}
        if path.startswith("/admin/"):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return (
                    401,
                    {"error": "admin endpoints need 'Authorization: Bearer <token>'"},
                    {"WWW-Authenticate": "Bearer"},
                )
            if auth.removeprefix("Bearer ").strip() != demo.admin_token:
                return 403, {"error": "wrong admin token"}, {}
            action = path.removeprefix("/admin/")
            if action != "state" and method != "POST":
                return 405, {"error": "admin actions use POST"}, {"Allow": "POST"}
            status, payload = demo.admin(action, params)
            return status, payload, {}
        return 404, {"error": f"no such endpoint: {path}"}, {}

    def _send(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        path: str,
        started: float,
    ) -> None:
        headers = dict(headers or {})
        if isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        # counted before it is written: a client that reads /metrics next sees this answer
        known = path in (
            "/healthz",
            "/readyz",
            "/retrieve",
            "/manifest",
            "/index/stats",
            "/metrics",
            "/write",
            "/effects",
        )
        self.demo.record(
            path if known else ("/admin" if path.startswith("/admin/") else "other"),
            status,
            time.perf_counter() - started,
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
