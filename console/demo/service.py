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
from console.demo.exposition import LATENCY_BUCKETS, metrics_text
from console.demo.faults import (
    DRIFTED_PINS,
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
from console.demo.levers import (
    BACKPRESSURE_WAIT_S,
    BUILDS,
    FLAGS,
    GOOD_BUILD,
    LIVE_ALIAS,
    RERANK_S,
    STALE_BUILD,
    check_alias,
    flag_value,
)

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
    flags: dict[str, Any] = field(default_factory=lambda: dict(FLAGS))
    aliases: dict[str, str] = field(default_factory=lambda: {LIVE_ALIAS: GOOD_BUILD})
    cache: set[str] = field(default_factory=set)
    namespace: int = 1
    queued: int = 0
    shadowed: int = 0
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
        self._state = _State()
        for name in faults:
            self._switch(name, True)
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
        for name, build in BUILDS.items():
            self._matrices[name] = self._embedder.embed_sync([s.text for s in build["snippets"]])
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
            self._switch(name, on)

    def _switch(self, name: str, on: bool) -> None:
        """A fault on or off (under the lock): stale-index is the live alias on the stale build,
        cold-cache an empty cache with a cold slow path."""
        st = self._state
        if name == "stale-index":
            st.aliases[LIVE_ALIAS] = STALE_BUILD if on else GOOD_BUILD
            return
        if on:
            st.faults.add(name)
        else:
            st.faults.discard(name)
        if name == "cold-cache":
            st.cache.clear()
            if not on:
                st.cache.update(_norm_query(q) for q in corpus.POPULAR_QUERIES)

    def _faults(self) -> set[str]:
        """The faults in force now (under the lock)."""
        st = self._state
        out = set(st.faults)
        if BUILDS[st.aliases[LIVE_ALIAS]]["stale"]:
            out.add("stale-index")
        return out

    def point_alias(self, alias: Any, build: Any) -> dict[str, Any]:
        """Point an index alias at a build: the answers come from that build from now on."""
        alias, build = check_alias(alias, build)
        with self._lock:
            previous, self._state.aliases[alias] = self._state.aliases[alias], build
        return {"alias": alias, "from": previous, "to": build}

    def set_flag(self, name: Any, raw: Any) -> Any:
        value = flag_value(name, raw)
        with self._lock:
            self._state.flags[name] = value
        return value

    def warm_cache(self) -> dict[str, Any]:
        """Fill the cache with the popular queries and the gold set; the slow path is warm."""
        queries = [*corpus.POPULAR_QUERIES, corpus.GOLD_QUESTION, *corpus.GOLD_PARAPHRASES]
        with self._lock:
            self._state.cache.update(_norm_query(q) for q in queries)
            self._state.faults.discard("cold-cache")
        return {"warmed": len(queries), "namespace": self._state.namespace}

    def rotate_cache(self) -> dict[str, Any]:
        """A new cache namespace: nothing stale is served, and it is cold until warmed."""
        with self._lock:
            st = self._state
            st.namespace += 1
            st.cache.clear()
            st.faults.add("cold-cache")
        return {"namespace": self._state.namespace}

    def rollback(self) -> dict[str, Any]:
        with self._lock:
            st = self._state
            cleared = sorted(self._faults() & ROLLBACK_CLEARS)
            st.faults -= ROLLBACK_CLEARS
            st.aliases[LIVE_ALIAS] = GOOD_BUILD  # the release's build
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
                "faults": sorted(self._faults()),
                "flags": dict(st.flags),
                "aliases": dict(st.aliases),
                "side_effects": st.side_effects,
                "cache_entries": len(st.cache),
                "cache_namespace": st.namespace,
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
        with self._lock:
            name = self._state.aliases[LIVE_ALIAS]
        build = BUILDS[name]["snippets"]
        return {
            "alias": LIVE_ALIAS,
            "build": name,
            "build_id": BUILDS[name]["build_id"],
            "doc_count": len({s.section for s in build}),
            "chunk_count": len(build),
            "index_hash": corpus.index_hash(build),
        }

    def has_fault(self, name: str) -> bool:
        with self._lock:
            return name in self._faults()

    # ------------------------------------------------------------ behaviour

    def retrieve(self, query: str, k: int, seed: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, body, headers) for one retrieve; sleeps when a fault says so."""
        import numpy as np

        with self._lock:
            st = self._state
            faults = self._faults()
            flags = dict(st.flags)
            build_name = st.aliases[LIVE_ALIAS]
            key = _norm_query(query)
            st.calls_by_query[key] += 1
            n = st.calls_by_query[key]
            cached = flags["answer_cache"]
            hit = cached and key in st.cache
            queued = rate_limited(faults, n) and flags["backpressure"]
            if rate_limited(faults, n) and not queued:
                return (
                    429,
                    {"error": "rate limited", "retry_after_s": int(RETRY_AFTER_429)},
                    {"Retry-After": RETRY_AFTER_429},
                )
            st.answers += 1
            st.queued += queued
            st.shadowed += bool(flags["shadow_mirror"])
            if hit:
                st.cache_hits += 1
            else:
                st.cache_misses += 1
                if cached and "cold-cache" not in faults:
                    st.cache.add(key)  # under cold-cache only the skipped warm-up fills it
        delay = delay_s(faults, n, hit)
        delay += BACKPRESSURE_WAIT_S if queued else 0.0
        delay += RERANK_S if flags["rerank"] and not hit else 0.0  # a hit is the reranked answer
        if delay:
            time.sleep(delay)
        build = BUILDS[build_name]["snippets"]
        assert self._embedder is not None
        scores = self._matrices[build_name] @ self._embedder.embed_sync([query])[0]
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
            "cache": "hit" if hit else ("miss" if cached else "bypass"),
            "reranked": bool(flags["rerank"]),
            "queued": queued,
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
            name = params.get("name") or params.get("flag")
            if not isinstance(name, str) or not name:
                return 400, {"error": "flag needs a 'name' (and a 'value')"}
            # the freeze is a policy fixmap enforces (and lets an engineer break glass through);
            # the service records that a change landed during it
            with self._lock:
                during_freeze = self._state.frozen
            try:
                self.set_flag(name, params.get("value", True))
            except DemoError as exc:
                return 400, {"error": str(exc)}
            return 200, {**self.state(), "changed_during_freeze": during_freeze}
        if action == "alias":
            try:
                moved = self.point_alias(params.get("alias"), params.get("to"))
            except DemoError as exc:
                return 400, {"error": str(exc)}
            return 200, {**moved, "index": self.live_index(), "state": self.state()}
        if action == "cache/warm":
            return 200, {**self.warm_cache(), "state": self.state()}
        if action == "cache/rotate":
            return 200, {**self.rotate_cache(), "state": self.state()}
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
            faults = self._faults()
            return metrics_text(st, faults, quality(faults, st.answers))


def _flag_value(value: Any) -> Any:
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "true", "on", "yes"):
            return True
        if low in ("0", "false", "off", "no"):
            return False
    return value
