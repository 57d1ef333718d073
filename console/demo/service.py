"""The simulated RAG service behind `fixmap demo`: real HTTP on 127.0.0.1, faults on demand.

Built on the stdlib's ThreadingHTTPServer (no hand-written HTTP parsing). Usable in-process
(`DemoService(...).start()` / `.stop()`, as the tests do) and as a process (`fixmap demo --serve`).

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

Faults (FAULTS; switchable at start and at run time through /admin/fault):
  stale-index  the live index is the previous build: its hash and counts disagree with the
               manifest and answers cite old snippets
  latency      every 3rd call of the same query answers 0.9-1.2 s late (p95 far over the
               750 ms budget, p50 unchanged)
  rate-limit   a share of 429s with Retry-After: the 2nd, 5th, 8th... call of the same query
Per-query counters keep these shares exact whatever else runs at the same time, and the first
call of a query is never hit, so polite clients (and probes meant for other faults) get through.
  duplicates   replayed writes with the same key cause another side effect each time
  model-drift  the deployed model/prompt differ from the lock, and ranking ties break by seed
  cold-cache   the cache starts empty and a miss is slow: the first call of each query is slow
Rollback clears the faults a bad release brings: stale-index, latency, duplicates, model-drift.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from console.demo import corpus

FAULTS: tuple[str, ...] = (
    "stale-index",
    "latency",
    "rate-limit",
    "duplicates",
    "model-drift",
    "cold-cache",
)
ROLLBACK_CLEARS: frozenset[str] = frozenset({"stale-index", "latency", "duplicates", "model-drift"})
FAULT_PROBES: dict[str, frozenset[str]] = {
    "stale-index": frozenset({"index"}),
    "latency": frozenset({"latency"}),
    "rate-limit": frozenset({"rate_limit"}),
    "duplicates": frozenset({"idempotency"}),
    "model-drift": frozenset({"pins", "stability"}),
    "cold-cache": frozenset({"warmup"}),
}
"""Which of the demo config's probes each fault turns red (and no others)."""

HEALTHY_PINS = {
    "model": "gpt-4o-mini-2024-07-18",
    "prompt": "answer-with-citations-v12",
    "embedder": "fixmap-hash-char3-5-v1",
    "index": "build-2024-11-02",
}
DRIFTED_PINS = {
    **HEALTHY_PINS,
    "model": "gpt-4o-mini-2024-12-17",
    "prompt": "answer-with-citations-v13",
}
RELEASES = ("2024.11.1", "2024.11.2")  # known-good, current
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
COLD_MISS_S = 0.4
SLOW_EXTRA_S = (0.9, 1.2)
RETRY_AFTER_429 = "1"
RETRY_AFTER_READ_ONLY = "30"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops a burst of probes' connections (1 s SYN retry)


class DemoError(ValueError):
    """A bad request to the demo (unknown fault, bad flag...)."""


def _norm_query(q: str) -> str:
    return " ".join(q.lower().split())


@dataclass
class _State:
    faults: set[str] = field(default_factory=set)
    phase: str = "starting"
    read_only: bool = False
    frozen: bool = False
    release: str = RELEASES[1]
    flags: dict[str, Any] = field(default_factory=lambda: {"rerank": True, "answer_cache": True})
    cache: set[str] = field(default_factory=set)
    calls_by_query: Counter[str] = field(default_factory=Counter)
    effects_by_key: Counter[str] = field(default_factory=Counter)
    side_effects: int = 0
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    buckets: Counter[float] = field(default_factory=Counter)
    latency_sum: float = 0.0
    latency_count: int = 0
    cache_hits: int = 0
    cache_misses: int = 0


class DemoService:
    """The simulated RAG service. start() returns its base URL once it is ready."""

    def __init__(
        self, faults: list[str] | tuple[str, ...] = (), admin_token: str = "demo", port: int = 0
    ):
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise DemoError(f"unknown fault {unknown[0]!r}; faults: {', '.join(FAULTS)}")
        self.admin_token = admin_token
        self._port = port
        self._lock = threading.Lock()
        self._state = _State(faults=set(faults))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._embedder = None
        self._matrices: dict[bool, Any] = {}

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo service is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, timeout: float = 10.0) -> str:
        """Serve on 127.0.0.1, boot (load index, warm cache), return the base URL when ready."""
        service = self

        class Handler(_Handler):
            demo = service

        self._server = _Server(("127.0.0.1", self._port), Handler)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="fixmap-demo", daemon=True
        )
        self._thread.start()
        booter = threading.Thread(target=self._boot, name="fixmap-demo-boot", daemon=True)
        booter.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("the demo service did not become ready")
        return self.url

    def _boot(self) -> None:
        from console.probes import HashEmbedder

        with self._lock:
            self._state.phase = "loading_index"
        self._embedder = HashEmbedder()
        for previous, build in ((False, corpus.CURRENT), (True, corpus.PREVIOUS)):
            self._matrices[previous] = self._embedder.embed_sync([s.text for s in build])
        with self._lock:
            if "cold-cache" not in self._state.faults:
                self._state.phase = "warming_cache"
                self._state.cache.update(_norm_query(q) for q in corpus.POPULAR_QUERIES)
            self._state.phase = "ready"
        self._ready.set()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DemoService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ state changes

    def set_fault(self, name: str, on: bool) -> None:
        if name not in FAULTS:
            raise DemoError(f"unknown fault {name!r}; faults: {', '.join(FAULTS)}")
        with self._lock:
            st = self._state
            if on:
                st.faults.add(name)
            else:
                st.faults.discard(name)
            if name == "cold-cache":
                st.cache.clear()
                if not on:
                    st.cache.update(_norm_query(q) for q in corpus.POPULAR_QUERIES)

    def rollback(self) -> dict[str, Any]:
        with self._lock:
            st = self._state
            cleared = sorted(st.faults & ROLLBACK_CLEARS)
            st.faults -= ROLLBACK_CLEARS
            previous, st.release = st.release, RELEASES[0]
        return {"rolled_back_from": previous, "release": RELEASES[0], "cleared": cleared}

    def state(self) -> dict[str, Any]:
        with self._lock:
            st = self._state
            return {
                "phase": st.phase,
                "mode": "read-only" if st.read_only else "read-write",
                "frozen": st.frozen,
                "release": st.release,
                "faults": sorted(st.faults),
                "flags": dict(st.flags),
                "side_effects": st.side_effects,
                "cache_entries": len(st.cache),
            }

    def manifest(self) -> dict[str, Any]:
        with self._lock:
            drift = "model-drift" in self._state.faults
            release = self._state.release
        return {
            "service": "fixmap-demo-rag",
            "release": release,
            "build_id": HEALTHY_PINS["index"],
            "doc_count": len(corpus.SECTION_TITLES),
            "chunk_count": len(corpus.CURRENT),
            "index_hash": corpus.index_hash(corpus.CURRENT),
            "pins": dict(DRIFTED_PINS if drift else HEALTHY_PINS),
        }

    def live_index(self) -> dict[str, Any]:
        stale = self.has_fault("stale-index")
        build = corpus.PREVIOUS if stale else corpus.CURRENT
        return {
            "build_id": "build-2024-10-19" if stale else HEALTHY_PINS["index"],
            "doc_count": len({s.section for s in build}),
            "chunk_count": len(build),
            "index_hash": corpus.index_hash(build),
        }

    def has_fault(self, name: str) -> bool:
        with self._lock:
            return name in self._state.faults

    # ------------------------------------------------------------ behaviour

    def retrieve(self, query: str, k: int, seed: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, body, headers) for one retrieve; sleeps when a fault says so."""
        import numpy as np

        with self._lock:
            st = self._state
            faults = set(st.faults)
            key = _norm_query(query)
            st.calls_by_query[key] += 1
            n = st.calls_by_query[key]
            hit = key in st.cache
            if "rate-limit" in faults and n % 3 == 2:
                return (
                    429,
                    {"error": "rate limited", "retry_after_s": int(RETRY_AFTER_429)},
                    {"Retry-After": RETRY_AFTER_429},
                )
            if hit:
                st.cache_hits += 1
            else:
                st.cache_misses += 1
                st.cache.add(key)
        delay = 0.0
        if not hit and "cold-cache" in faults:
            delay += COLD_MISS_S
        if "latency" in faults and n % 3 == 0:
            lo, hi = SLOW_EXTRA_S
            delay += lo + (zlib.crc32(str(n).encode()) % 1000) / 1000 * (hi - lo)
        if delay:
            time.sleep(delay)
        stale = "stale-index" in faults
        build = corpus.PREVIOUS if stale else corpus.CURRENT
        assert self._embedder is not None
        scores = self._matrices[stale] @ self._embedder.embed_sync([query])[0]
        if "model-drift" in faults:
            noise = np.array(
                [zlib.crc32(f"{seed}:{s.id}".encode()) % 1000 / 1000 * 0.2 for s in build]
            )
            scores = scores + noise
        order = sorted(range(len(build)), key=lambda i: (-round(float(scores[i]), 6), build[i].id))[
            :k
        ]
        ihash = corpus.index_hash(build)
        results = [
            {
                "id": build[i].id,
                "section": build[i].section,
                "anchor": build[i].anchor,
                "text": build[i].text,
                "score": round(float(scores[i]), 4),
                "index_hash": ihash,
            }
            for i in order
        ]
        body = {
            "query": query,
            "k": k,
            "seed": seed,
            "index_hash": ihash,
            "cache": "hit" if hit else "miss",
            "results": results,
        }
        return 200, body, {"X-Cache": "HIT" if hit else "MISS"}

    def write(self, key: str | None, payload: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            st = self._state
            if st.read_only:
                return (
                    423,
                    {"error": "read-only mode: writes are paused"},
                    {"Retry-After": RETRY_AFTER_READ_ONLY},
                )
            replay = key is not None and st.effects_by_key[key] > 0
            if replay and "duplicates" not in st.faults:
                return 200, {"applied": False, "replayed": True, "key": key}, {}
            st.side_effects += 1
            if key is not None:
                st.effects_by_key[key] += 1
            return 201, {"applied": True, "key": key, "effect_id": st.side_effects}, {}

    def effects(self, key: str | None) -> dict[str, Any]:
        with self._lock:
            st = self._state
            out: dict[str, Any] = {"total": st.side_effects}
            if key is not None:
                out["key"] = key
                out["effects"] = st.effects_by_key.get(key, 0)
            return out

    def admin(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if action == "state":
            return 200, self.state()
        if action == "rollback":
            return 200, {**self.rollback(), "state": self.state()}
        if action in ("freeze", "unfreeze"):
            with self._lock:
                self._state.frozen = action == "freeze"
            return 200, self.state()
        if action in ("read-only", "read-write", "read_only", "read_write"):
            with self._lock:
                self._state.read_only = action.replace("_", "-") == "read-only"
            return 200, self.state()
        if action == "flag":
            name = params.get("name")
            if not isinstance(name, str) or not name:
                return 400, {"error": "flag needs a 'name' (and a 'value')"}
            # the freeze is a policy fixmap enforces (and lets an engineer break glass through);
            # the service records that a change landed during it
            with self._lock:
                during_freeze = self._state.frozen
                self._state.flags[name] = _flag_value(params.get("value", True))
            return 200, {**self.state(), "changed_during_freeze": during_freeze}
        if action == "fault":
            name = params.get("name")
            try:
                self.set_fault(str(name), _flag_value(params.get("on", True)) is not False)
            except DemoError as exc:
                return 400, {"error": str(exc)}
            return 200, self.state()
        return 404, {"error": f"no admin action {action!r}"}

    def record(self, path: str, status: int, seconds: float) -> None:
        with self._lock:
            st = self._state
            st.requests[(path, status)] += 1
            st.latency_sum += seconds
            st.latency_count += 1
            for b in LATENCY_BUCKETS:
                if seconds <= b:
                    st.buckets[b] += 1

    def metrics_text(self) -> str:
        with self._lock:
            st = self._state
            lines = [
                "# HELP demo_requests_total Requests answered, by path and status.",
                "# TYPE demo_requests_total counter",
            ]
            for (path, status), n in sorted(st.requests.items()):
                lines.append(f'demo_requests_total{{path="{path}",status="{status}"}} {n}')
            lines += [
                "# HELP demo_request_duration_seconds Request latency.",
                "# TYPE demo_request_duration_seconds histogram",
            ]
            for b in LATENCY_BUCKETS:
                lines.append(f'demo_request_duration_seconds_bucket{{le="{b}"}} {st.buckets[b]}')
            lines.append(f'demo_request_duration_seconds_bucket{{le="+Inf"}} {st.latency_count}')
            lines.append(f"demo_request_duration_seconds_sum {st.latency_sum:.6f}")
            lines.append(f"demo_request_duration_seconds_count {st.latency_count}")
            lines += [
                "# HELP demo_cache_hits_total Retrieve calls answered from the cache.",
                "# TYPE demo_cache_hits_total counter",
                f"demo_cache_hits_total {st.cache_hits}",
                "# HELP demo_cache_misses_total Retrieve calls that missed the cache.",
                "# TYPE demo_cache_misses_total counter",
                f"demo_cache_misses_total {st.cache_misses}",
                "# HELP demo_side_effects_total Side effects caused by writes.",
                "# TYPE demo_side_effects_total counter",
                f"demo_side_effects_total {st.side_effects}",
                "# HELP demo_read_only 1 while writes are refused.",
                "# TYPE demo_read_only gauge",
                f"demo_read_only {int(st.read_only)}",
                "# HELP demo_fault_active 1 while a fault is switched on.",
                "# TYPE demo_fault_active gauge",
            ]
            lines += [f'demo_fault_active{{fault="{f}"}} {int(f in st.faults)}' for f in FAULTS]
        return "\n".join(lines) + "\n"


def _flag_value(value: Any) -> Any:
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "true", "on", "yes"):
            return True
        if low in ("0", "false", "off", "no"):
            return False
    return value


class _Handler(BaseHTTPRequestHandler):
    demo: DemoService
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

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
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
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
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
