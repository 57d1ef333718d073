"""The simulated RAG service behind `fixmap demo`: real HTTP on 127.0.0.1, faults on demand.

Usable in-process (`DemoService(...).start()` / `.stop()`, as the tests do) and as a process
(`fixmap demo --serve`). This module is the service itself: its lifecycle (serve, boot the index
and warm the cache, stop), its state behind one lock (faults, release, read-only, freeze, flags,
cache, side effects, metrics), and what each endpoint answers. The HTTP surface is in
console/demo/handler.py, the faults and what they break in console/demo/faults.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from console.demo import corpus
from console.demo.faults import (
    DRIFTED_PINS,
    FAULTS,
    HEALTHY_PINS,
    RELEASES,
    RETRY_AFTER_429,
    ROLLBACK_CLEARS,
    DemoError,
    check_fault,
    delay_s,
    drift_noise,
    quality,
    rate_limited,
)
from console.demo.handler import DemoHandler, DemoServer

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RETRY_AFTER_READ_ONLY = "30"


def _norm_query(q: str) -> str:
    return " ".join(q.lower().split())


@dataclass
class _State:
    """Everything the service changes while it runs; read and written under the service's lock."""

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
    buckets: Counter[tuple[str, float]] = field(default_factory=Counter)
    latency_sum: Counter[str] = field(default_factory=Counter)
    latency_count: Counter[str] = field(default_factory=Counter)
    cache_hits: int = 0
    cache_misses: int = 0
    answers: int = 0


class DemoService:
    """The simulated RAG service. start() returns its base URL once it is ready."""

    def __init__(
        self,
        faults: list[str] | tuple[str, ...] = (),
        admin_token: str = "demo",
        port: int = 0,
        traffic: float = 0.0,
    ):
        """`traffic`: simulated users' requests per second (0: none, as tests want)."""
        for name in faults:
            check_fault(name)
        self.admin_token = admin_token
        self._port = port
        self._lock = threading.Lock()
        self._state = _State(faults=set(faults))
        self._server: DemoServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._embedder = None
        self._matrices: dict[bool, Any] = {}
        self._traffic_rate = traffic
        self.traffic: Any = None

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

        class Handler(DemoHandler):
            demo = service

        self._server = DemoServer(("127.0.0.1", self._port), Handler)
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
        if self._traffic_rate > 0:
            from console.demo.traffic import DemoTraffic

            self.traffic = DemoTraffic(self.url, self._traffic_rate).start()
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
        if self.traffic is not None:
            self.traffic.stop()
            self.traffic = None
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
        check_fault(name)
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
            if rate_limited(faults, n):
                return (
                    429,
                    {"error": "rate limited", "retry_after_s": int(RETRY_AFTER_429)},
                    {"Retry-After": RETRY_AFTER_429},
                )
            st.answers += 1
            if hit:
                st.cache_hits += 1
            else:
                st.cache_misses += 1
                st.cache.add(key)
        delay = delay_s(faults, n, hit)
        if delay:
            time.sleep(delay)
        stale = "stale-index" in faults
        build = corpus.PREVIOUS if stale else corpus.CURRENT
        assert self._embedder is not None
        scores = self._matrices[stale] @ self._embedder.embed_sync([query])[0]
        if "model-drift" in faults:
            scores = scores + np.array(drift_noise(seed, [s.id for s in build]))
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
            st.latency_sum[path] += seconds
            st.latency_count[path] += 1
            for b in LATENCY_BUCKETS:
                if seconds <= b:
                    st.buckets[(path, b)] += 1

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
                "# HELP demo_request_duration_seconds Request latency, by path.",
                "# TYPE demo_request_duration_seconds histogram",
            ]
            for path in sorted(st.latency_count):
                p = f'path="{path}"'
                for b in LATENCY_BUCKETS:
                    n = st.buckets[(path, b)]
                    lines.append(f'demo_request_duration_seconds_bucket{{{p},le="{b}"}} {n}')
                n = st.latency_count[path]
                lines.append(f'demo_request_duration_seconds_bucket{{{p},le="+Inf"}} {n}')
                lines.append(f"demo_request_duration_seconds_sum{{{p}}} {st.latency_sum[path]:.6f}")
                lines.append(f"demo_request_duration_seconds_count{{{p}}} {n}")
            evaluator = quality(st.faults, st.answers)
            lines += [
                "# HELP demo_cache_lookups_total Retrieve calls by cache result.",
                "# TYPE demo_cache_lookups_total counter",
                f'demo_cache_lookups_total{{result="hit"}} {st.cache_hits}',
                f'demo_cache_lookups_total{{result="miss"}} {st.cache_misses}',
                "# HELP demo_quality_delta_s ΔS of recent answers (the simulated online evaluator).",
                "# TYPE demo_quality_delta_s gauge",
                f"demo_quality_delta_s {evaluator['delta_s']}",
                "# HELP demo_quality_coverage Anchor coverage of recent answers (simulated evaluator).",
                "# TYPE demo_quality_coverage gauge",
                f"demo_quality_coverage {evaluator['coverage']}",
                "# HELP demo_quality_lambda_flip_rate Share of recent queries whose top-k changed "
                "with the seed (simulated evaluator).",
                "# TYPE demo_quality_lambda_flip_rate gauge",
                f"demo_quality_lambda_flip_rate {evaluator['lambda_flip_rate']}",
            ]
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
