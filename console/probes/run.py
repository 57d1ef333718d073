"""Live probes: run the site's `[probes.*]` against its services and judge each one.

A verdict is `pass`, `fail` (the target answered outside the threshold, or did not answer at
all), `inconclusive` (not enough data to judge) or `error` (the probe itself could not work:
a response that is not JSON, a JSON path that leads nowhere, a missing secret...). Each result
carries the measured values, the threshold, a one-line reason and its duration.

All probes of a run share one httpx.AsyncClient; at most `max_in_flight` requests are in flight
(an asyncio.Semaphore); each probe has its own deadline, so a hung or resetting target costs its
timeout and nothing else. Every run is appended, redacted, to `probe_runs.jsonl` in the data dir.

httpx and numpy are imported inside the functions that need them: importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from console.core import ConfigError, FixmapError, JsonPathError, Problem, closest, lookup
from console.site import (
    CommandProbe,
    HttpProbe,
    IdempotencyProbe,
    IndexProbe,
    JsonCheck,
    LatencyProbe,
    PinsProbe,
    ProbeBase,
    RateLimitProbe,
    ReadOnlyProbe,
    StabilityProbe,
    WarmupProbe,
)

if TYPE_CHECKING:
    from console.site import Service, Site

STATUSES = ("pass", "fail", "inconclusive", "error")
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_RETRY_WAIT_S = 2.0
RUNS_FILE = "probe_runs.jsonl"

OnResult = Callable[["ProbeResult"], Awaitable[None] | None]
OnStart = Callable[[str], Awaitable[None] | None]


@dataclass
class ProbeResult:
    """One probe's verdict and what it measured."""

    name: str
    kind: str
    status: str
    """pass | fail | inconclusive | error"""
    value: float | int | str | None
    """The headline measure (p95 ms, ΔS, share, mismatch count...)."""
    threshold: str | None
    """What the value is judged against, e.g. '<= 300 ms'."""
    reason: str
    """One line an on-call engineer can act on."""
    duration_ms: float
    started_at: str
    """ISO 8601, UTC."""
    values: dict[str, Any] = field(default_factory=dict)
    """Every measured value, by measure name (p95_ms, delta_s, coverage, pin_mismatches...)."""
    embedder: str | None = None
    """For ΔS results: the embedder that produced them."""
    unit: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def value_text(self) -> str:
        v = self.value
        if v is None:
            return "-"
        if isinstance(v, float):
            if self.unit == "%":
                return f"{v * 100:.1f}%"
            if self.unit == "ms":
                return f"{v:.0f} ms"
            return f"{v:.2f}{(' ' + self.unit) if self.unit else ''}"
        return f"{v}{(' ' + self.unit) if self.unit and self.unit != '%' else ''}"


class UnknownProbe(FixmapError):
    """A probe name that is not in the site config."""


class _Verdict(Exception):
    """Raised inside a probe to end it with a verdict (fail or error) and a reason."""

    def __init__(self, status: str, reason: str, values: dict[str, Any] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.values = values or {}


def _fail(reason: str, **values: Any) -> _Verdict:
    return _Verdict("fail", reason, values)


def _broken(reason: str, **values: Any) -> _Verdict:
    return _Verdict("error", reason, values)


@dataclass
class _Outcome:
    status: str
    value: Any
    threshold: str | None
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    embedder: str | None = None


# ------------------------------------------------------------------ HTTP plumbing


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes
    elapsed_ms: float
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            from console.core import redact

            ctype = self.headers.get("content-type", "no content type")
            # redact before cutting: a cut secret no longer matches its registered value
            start = redact(self.body[:4096].decode("utf-8", "replace"))[:40].replace("\n", " ")
            raise _broken(
                f"{_short(self.url)} answered {self.status} with a body that is not JSON "
                f"({ctype}, starts {start!r}); check the probe's url"
            ) from None

    def at(self, data: Any, path: str, what: str) -> Any:
        try:
            return lookup(data, path)
        except JsonPathError as exc:
            raise _broken(
                f"{what}: {exc}; set the probe's path to where this site keeps it"
            ) from None


def _short(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


class _Run:
    """What the probes of one run share: the config, one client, one semaphore, secrets."""

    def __init__(self, site: Site, client: Any, max_in_flight: int):
        self.site = site
        self.config = site.config
        self.client = client
        self.sem = asyncio.Semaphore(max_in_flight)
        self._secrets: dict[str, str] = {}
        self.run_id = uuid.uuid4().hex[:12]

    def service(self, spec: ProbeBase) -> tuple[str, Service]:
        name = spec.service or self.config.default_service()
        if name is None:
            raise _broken("the site config has no [services]: add one with its base_url")
        svc = self.config.services.get(name)
        if svc is None:
            known = ", ".join(self.config.services) or "none"
            raise _broken(f"service '{name}' is not in [services] (known: {known})")
        return name, svc

    def url(self, spec: ProbeBase, url: str, values: dict[str, Any] | None = None) -> str:
        if values:
            for key, val in values.items():
                url = url.replace("{" + key + "}", quote(str(val), safe=""))
        if url.startswith(("http://", "https://")):
            return url
        _, svc = self.service(spec)
        return svc.base_url.rstrip("/") + "/" + url.lstrip("/")

    async def secret(self, name: str) -> str:
        if name not in self._secrets:
            from console.core import SecretError, resolve

            try:
                self._secrets[name] = await asyncio.to_thread(resolve, name)
            except SecretError as exc:
                raise _broken(str(exc)) from None
        return self._secrets[name]

    async def headers(self, spec: Any, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = dict(getattr(spec, "headers", {}) or {})
        secret_name = getattr(spec, "bearer_secret", None)
        if secret_name:
            out["Authorization"] = f"Bearer {await self.secret(secret_name)}"
        out.update(extra or {})
        return out

    async def send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> Answer:
        """One request under the shared semaphore; connection trouble becomes a fail verdict."""
        import httpx

        async with self.sem:
            started = time.perf_counter()
            try:
                async with self.client.stream(
                    method,
                    url,
                    headers=headers,
                    json=body if body is not None else None,
                    timeout=timeout,
                ) as resp:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_BODY_BYTES:
                            raise _broken(
                                f"{_short(url)} answered a body over {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                                "stopped reading (point the probe at a smaller endpoint)"
                            )
                        chunks.append(chunk)
                    elapsed = (time.perf_counter() - started) * 1000
                    return Answer(resp.status_code, resp.headers, b"".join(chunks), elapsed, url)
            except httpx.TimeoutException:
                raise _fail(
                    f"{method} {_short(url)}: no answer within {timeout:g} s (timed out)"
                ) from None
            except httpx.ConnectError as exc:
                raise _fail(f"{method} {_short(url)}: cannot connect ({_why(exc)})") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise _fail(
                    f"{method} {_short(url)}: connection dropped without an answer ({_why(exc)})"
                ) from None
            except httpx.HTTPError as exc:
                raise _fail(f"{method} {_short(url)}: {type(exc).__name__}: {_why(exc)}") from None

    async def send_retrying(
        self, method: str, url: str, *, timeout: float, headers=None, body=None, retries: int = 2
    ) -> Answer:
        """Like send, but honours 429/503 + Retry-After (up to MAX_RETRY_WAIT_S) a few times."""
        for attempt in range(retries + 1):
            answer = await self.send(method, url, timeout=timeout, headers=headers, body=body)
            if answer.status not in (429, 503) or attempt == retries:
                return answer
            wait = _retry_after(answer.headers.get("retry-after"))
            if wait is None or wait > MAX_RETRY_WAIT_S:
                return answer
            await asyncio.sleep(wait)
        return answer  # pragma: no cover - loop always returns


def _why(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def fill(template: Any, values: dict[str, Any]) -> Any:
    """Put {query}, {seed}, {k}, {key} into a JSON body template (a bare '{seed}' keeps its type)."""
    if isinstance(template, str):
        for key, val in values.items():
            marker = "{" + key + "}"
            if template == marker:
                return val
            template = template.replace(marker, str(val))
        return template
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def _percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default), without importing numpy."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * pct / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _budget(run: _Run, spec: Any) -> float:
    if getattr(spec, "budget_ms", None):
        return float(spec.budget_ms)
    return float(run.service(spec)[1].latency_budget_ms)


# ------------------------------------------------------------------ the kinds


async def _probe_http(run: _Run, spec: HttpProbe, timeout: float) -> _Outcome:
    answer = await run.send(
        spec.method,
        run.url(spec, spec.url),
        timeout=timeout,
        headers=await run.headers(spec),
        body=spec.body,
    )
    values: dict[str, Any] = {
        "status_code": answer.status,
        "latency_ms": round(answer.elapsed_ms, 1),
    }
    expected = "/".join(str(s) for s in spec.expect_status)
    if answer.status not in spec.expect_status:
        detail = ""
        if spec.expect_json or spec.checks:
            try:
                data = json.loads(answer.body)
                if isinstance(data, dict):
                    detail = " (" + ", ".join(f"{k}={data[k]}" for k in list(data)[:3]) + ")"
            except ValueError:
                pass
        return _Outcome(
            "fail",
            answer.status,
            f"status {expected}",
            f"answered {answer.status}, expected {expected}{detail}",
            values,
        )
    seen: list[str] = []
    if spec.expect_json or spec.checks:
        data = answer.json()
        for path, want in spec.expect_json.items():
            got = answer.at(data, path, "expect_json")
            values[path] = got
            if got != want:
                return _Outcome(
                    "fail",
                    answer.status,
                    f"status {expected}",
                    f"{path} is {got!r}, expected {want!r}",
                    values,
                )
            seen.append(f"{path}={got}")
        for check in spec.checks:
            problem = _check(answer, data, check, values)
            if problem:
                return _Outcome("fail", answer.status, f"status {expected}", problem, values)
            if check.exists is not False:
                seen.append(f"{check.path}={values.get(check.path)!s}")
    tail = ("; " + ", ".join(seen)) if seen else ""
    return _Outcome(
        "pass",
        answer.status,
        f"status {expected}",
        f"{answer.status} in {answer.elapsed_ms:.0f} ms{tail}",
        values,
    )


def _check(answer: Answer, data: Any, check: JsonCheck, values: dict[str, Any]) -> str | None:
    if check.exists is not None:
        try:
            values[check.path] = lookup(data, check.path)
            present = True
        except JsonPathError:
            present = False
        if present != check.exists:
            return f"{check.path} is {'missing' if check.exists else 'present'}"
        return None
    got = answer.at(data, check.path, "checks")
    values[check.path] = got
    if check.equals is not None and got != check.equals:
        return f"{check.path} is {got!r}, expected {check.equals!r}"
    if check.one_of is not None and got not in check.one_of:
        return f"{check.path} is {got!r}, expected one of {check.one_of!r}"
    if check.min is not None or check.max is not None:
        if not isinstance(got, int | float) or isinstance(got, bool):
            return f"{check.path} is {got!r}, not a number"
        if check.min is not None and got < check.min:
            return f"{check.path} is {got}, below {check.min}"
        if check.max is not None and got > check.max:
            return f"{check.path} is {got}, above {check.max}"
    return None


async def _gather_requests(
    run: _Run, n: int, concurrency: int, make: Callable[[int], Awaitable[Answer]]
) -> list[Answer | _Verdict]:
    """n requests, at most `concurrency` at once; failures come back as verdicts, not raised."""
    local = asyncio.Semaphore(concurrency)

    async def one(i: int) -> Answer | _Verdict:
        async with local:
            try:
                return await make(i)
            except _Verdict as v:
                if v.status == "error":
                    raise
                return v

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def _probe_latency(run: _Run, spec: LatencyProbe, timeout: float) -> _Outcome:
    url = run.url(spec, spec.url)
    headers = await run.headers(spec)
    budget = _budget(run, spec)
    threshold = f"p{spec.percentile} <= {budget:g} ms"

    async def send(_i: int) -> Answer:
        return await run.send(spec.method, url, timeout=timeout, headers=headers, body=spec.body)

    for i in range(spec.warmup_requests):
        await send(i)  # steady state only: cold starts are the warmup probe's business
    answers = await _gather_requests(run, spec.requests, spec.concurrency, send)
    ok = [a.elapsed_ms for a in answers if isinstance(a, Answer) and a.status in spec.expect_status]
    statuses: dict[str, int] = {}
    for a in answers:
        key = str(a.status) if isinstance(a, Answer) else "no answer"
        statuses[key] = statuses.get(key, 0) + 1
    values: dict[str, Any] = {
        "requests": spec.requests,
        "answered": len(ok),
        "statuses": statuses,
        "budget_ms": budget,
    }
    values["error_rate"] = round(1 - len(ok) / spec.requests, 4)
    if not ok:
        first = next((a for a in answers if isinstance(a, _Verdict)), None)
        why = first.reason if first else f"statuses {statuses}"
        return _Outcome(
            "fail", None, threshold, f"no request answered as expected: {why}", values, "ms"
        )
    for p in (50, 95, 99):
        values[f"p{p}_ms"] = round(_percentile(ok, p), 1)
    value = values[f"p{spec.percentile}_ms"]
    others = [p for p in (50, 95, 99) if p != spec.percentile]
    summary = ", ".join(f"p{p} {values[f'p{p}_ms']:.0f}" for p in others) + f"; {len(ok)} requests"
    if len(ok) / spec.requests < spec.min_answered:
        return _Outcome(
            "inconclusive",
            value,
            threshold,
            f"only {len(ok)} of {spec.requests} requests answered as expected ({statuses})",
            values,
            "ms",
        )
    if value > budget:
        return _Outcome(
            "fail",
            value,
            threshold,
            f"p{spec.percentile} {value:.0f} ms over the {budget:g} ms budget ({summary})",
            values,
            "ms",
        )
    return _Outcome(
        "pass",
        value,
        threshold,
        f"p{spec.percentile} {value:.0f} ms within the {budget:g} ms budget ({summary})",
        values,
        "ms",
    )


async def _probe_rate_limit(run: _Run, spec: RateLimitProbe, timeout: float) -> _Outcome:
    url = run.url(spec, spec.url)
    headers = await run.headers(spec)
    threshold = f"429 share <= {spec.max_share * 100:g}%"

    async def send(_i: int) -> Answer:
        return await run.send(spec.method, url, timeout=timeout, headers=headers, body=spec.body)

    answers = await _gather_requests(run, spec.requests, spec.concurrency, send)
    got = [a for a in answers if isinstance(a, Answer)]
    limited = [a for a in got if a.status == 429]
    no_retry_after = [a for a in limited if not a.headers.get("retry-after")]
    errors_5xx = [a for a in got if a.status >= 500]
    values: dict[str, Any] = {
        "requests": spec.requests,
        "answered": len(got),
        "count_429": len(limited),
        "missing_retry_after": len(no_retry_after),
        "error_rate_5xx": round(len(errors_5xx) / spec.requests, 4),
    }
    if not got:
        first = next(a for a in answers if isinstance(a, _Verdict))
        return _Outcome(
            "fail", None, threshold, f"no request answered: {first.reason}", values, "%"
        )
    share = len(limited) / len(got)
    values["share_429"] = round(share, 4)
    if limited:
        values["retry_after"] = sorted({a.headers.get("retry-after") or "missing" for a in limited})
    if spec.require_retry_after and no_retry_after:
        return _Outcome(
            "fail",
            share,
            threshold,
            f"{len(no_retry_after)} of {len(limited)} 429 answers carry no Retry-After: clients cannot back off",
            values,
            "%",
        )
    if share > spec.max_share:
        ra = ", ".join(values["retry_after"])
        return _Outcome(
            "fail",
            share,
            threshold,
            f"{len(limited)} of {len(got)} answered 429 ({share * 100:.1f}%, Retry-After {ra}): the rate limit is biting",
            values,
            "%",
        )
    return _Outcome(
        "pass",
        share,
        threshold,
        f"{len(limited)} of {len(got)} answered 429 in a burst",
        values,
        "%",
    )


def _cache_signal(spec: WarmupProbe, answer: Answer) -> bool | None:
    raw: Any = None
    if spec.cache_header:
        raw = answer.headers.get(spec.cache_header)
        if raw is None:
            raise _broken(
                f"{_short(answer.url)} sent no {spec.cache_header} header; set cache_header to the one this site uses"
            )
    elif spec.cache_path:
        raw = answer.at(answer.json(), spec.cache_path, "cache_path")
    else:
        return None
    hits = {h.lower() for h in spec.hit_values}
    return str(raw).strip().lower() in hits


async def _probe_warmup(run: _Run, spec: WarmupProbe, timeout: float) -> _Outcome:
    headers = await run.headers(spec)
    budget = _budget(run, spec)

    async def first_call(i: int) -> Answer:
        q = spec.queries[i]
        return await run.send_retrying(
            spec.method,
            run.url(spec, spec.url, {"query": q}),
            timeout=timeout,
            headers=headers,
            body=fill(spec.body, {"query": q}),
        )

    answers = await _gather_requests(run, len(spec.queries), len(spec.queries), first_call)
    good = [a for a in answers if isinstance(a, Answer) and a.status in spec.expect_status]
    if not good:
        first = answers[0]
        why = first.reason if isinstance(first, _Verdict) else f"answered {first.status}"
        return _Outcome("fail", None, None, f"no warm-up query answered: {why}", {}, "")
    first_ms = [a.elapsed_ms for a in good]
    values: dict[str, Any] = {
        "queries": len(spec.queries),
        "answered": len(good),
        "first_call_p95_ms": round(_percentile(first_ms, 95), 1),
        "first_call_max_ms": round(max(first_ms), 1),
        "budget_ms": budget,
    }
    signals = [_cache_signal(spec, a) for a in good]
    if signals[0] is not None:
        misses = sum(1 for s in signals if not s)
        share = misses / len(good)
        values["miss_share"] = round(share, 4)
        values["cache_hit_ratio"] = round(1 - share, 4)
        threshold = f"cache misses <= {spec.max_miss_share * 100:g}%"
        line = f"{misses} of {len(good)} popular queries missed (first calls p95 {values['first_call_p95_ms']:.0f} ms)"
        if len(good) < len(spec.queries):
            return _Outcome(
                "inconclusive",
                share,
                threshold,
                f"only {len(good)} of {len(spec.queries)} warm-up queries answered; {line}",
                values,
                "%",
            )
        if share > spec.max_miss_share:
            return _Outcome("fail", share, threshold, f"cold cache: {line}", values, "%")
        return _Outcome("pass", share, threshold, f"cache warm: {line}", values, "%")

    # No cache signal: judge the first calls' latency, against the budget and against a repeat.
    async def repeat(i: int) -> Answer:
        return await first_call(i)

    again = await _gather_requests(run, len(spec.queries), len(spec.queries), repeat)
    repeat_ms = [
        a.elapsed_ms for a in again if isinstance(a, Answer) and a.status in spec.expect_status
    ]
    threshold = f"first calls p95 <= {budget:g} ms"
    p95_first = values["first_call_p95_ms"]
    values["repeat_p95_ms"] = round(_percentile(repeat_ms, 95), 1) if repeat_ms else None
    line = f"first calls p95 {p95_first:.0f} ms, repeated {values['repeat_p95_ms'] or 0:.0f} ms"
    if p95_first > budget and (not repeat_ms or p95_first > 2 * values["repeat_p95_ms"]):
        return _Outcome(
            "fail",
            p95_first,
            threshold,
            f"cold start: {line}, over the {budget:g} ms budget",
            values,
            "ms",
        )
    return _Outcome("pass", p95_first, threshold, f"{line}, within {budget:g} ms", values, "ms")


async def _probe_index(run: _Run, spec: IndexProbe, timeout: float) -> _Outcome:
    headers = await run.headers(spec)
    manifest_a, live_a = await asyncio.gather(
        run.send("GET", run.url(spec, spec.manifest_url), timeout=timeout, headers=headers),
        run.send("GET", run.url(spec, spec.live_url), timeout=timeout, headers=headers),
    )
    for a in (manifest_a, live_a):
        if a.status != 200:
            raise _fail(f"{_short(a.url)} answered {a.status}")
    manifest, live = manifest_a.json(), live_a.json()
    values: dict[str, Any] = {}
    mismatches: list[str] = []
    for label, mpath, lpath in (
        ("hash", spec.manifest_hash, spec.live_hash),
        ("docs", spec.manifest_docs, spec.live_docs),
        ("chunks", spec.manifest_chunks, spec.live_chunks),
    ):
        if not (mpath and lpath):
            continue
        want = manifest_a.at(manifest, mpath, f"manifest_{label}")
        got = live_a.at(live, lpath, f"live_{label}")
        values[f"manifest_{label}"] = want
        values[f"live_{label}"] = got
        if str(want) != str(got):
            mismatches.append(f"{label} {got} vs {want}")
    values["index_mismatches"] = len(mismatches)
    if mismatches:
        return _Outcome(
            "fail",
            len(mismatches),
            "== 0 mismatches",
            "live index differs from the manifest (live vs manifest): " + ", ".join(mismatches),
            values,
        )
    parts = [
        f"{label} {values[f'live_{label}']}"
        for label in ("docs", "chunks", "hash")
        if f"live_{label}" in values
    ]
    return _Outcome(
        "pass",
        0,
        "== 0 mismatches",
        "live index matches the manifest: " + ", ".join(parts),
        values,
    )


async def _embedder_for(run: _Run, spec: StabilityProbe) -> tuple[Any, str | None]:
    """The embedder to use and, when it is the lexical fallback, why."""
    from console.probes.embed import HashEmbedder, SiteEmbedder

    endpoint = run.config.embeddings
    if spec.embedder == "builtin":
        return HashEmbedder(), "the probe asks for the built-in embedder"
    if endpoint is None:
        if spec.embedder == "site":
            raise _broken("embedder = 'site' but the site config has no [embeddings]")
        return HashEmbedder(), "no [embeddings] configured"
    key = await run.secret(endpoint.api_key_secret) if endpoint.api_key_secret else None
    return SiteEmbedder(endpoint, run.client, key), None


async def _probe_stability(run: _Run, spec: StabilityProbe, timeout: float) -> _Outcome:
    from console.probes.embed import EmbeddingError, HashEmbedder, delta_s, zone

    headers = await run.headers(spec)
    queries = [spec.question, *spec.paraphrases]
    jobs = [(q, s) for q in queries for s in spec.seeds]

    async def retrieve(i: int) -> Answer:
        q, seed = jobs[i]
        vals = {"query": q, "seed": seed, "k": spec.k}
        return await run.send_retrying(
            spec.method,
            run.url(spec, spec.url, vals),
            timeout=timeout,
            headers=headers,
            body=fill(spec.body, vals),
        )

    answers = await _gather_requests(run, len(jobs), len(jobs), retrieve)
    snippets: dict[tuple[str, Any], list[tuple[str, str, str]]] = {}
    for (q, seed), a in zip(jobs, answers, strict=True):
        if isinstance(a, _Verdict):
            raise a
        if a.status not in spec.expect_status:
            raise _fail(f"retrieve answered {a.status} for {q!r} (seed {seed})")
        items = a.at(a.json(), spec.results_path, "results_path")
        if not isinstance(items, list):
            raise _broken(f"results_path '{spec.results_path}' is not a list in {_short(a.url)}")
        top = []
        for item in items[: spec.k]:
            top.append(
                (
                    str(a.at(item, spec.id_path, "id_path")),
                    str(a.at(item, spec.anchor_path, "anchor_path")),
                    str(a.at(item, spec.text_path, "text_path")),
                )
            )
        snippets[(q, seed)] = top

    first_seed, second_seed = spec.seeds[0], spec.seeds[1]
    expected = set(spec.expected_anchors)
    coverage = {
        q: len(expected & {anchor for _i, anchor, _t in snippets[(q, first_seed)]}) / len(expected)
        for q in queries
    }
    flips = [
        q
        for q in queries
        if [i for i, _a, _t in snippets[(q, first_seed)]]
        != [i for i, _a, _t in snippets[(q, second_seed)]]
    ]
    contexts = [
        "\n".join(t for _i, _a, t in snippets[(q, first_seed)][: spec.context]) for q in queries
    ]

    embedder, fallback = await _embedder_for(run, spec)
    try:
        vectors = await embedder.embed(queries + contexts)
    except EmbeddingError as exc:
        if spec.embedder == "site":
            raise _broken(f"site embeddings: {exc}") from None
        embedder, fallback = (
            HashEmbedder(),
            f"site embeddings failed: {exc}",
        )
        vectors = await embedder.embed(queries + contexts)
    n = len(queries)
    ds = [round(delta_s(vectors[i], vectors[n + i]), 4) for i in range(n)]
    bands = embedder.bands
    stable = spec.delta_s_pass or bands.stable
    high = spec.delta_s_fail or max(bands.high_risk, stable)
    if spec.delta_s_pass or spec.delta_s_fail:
        band_source = "bands set by the probe"
    else:
        band_source = bands.source
    worst_ds = max(ds)
    worst_cov = min(coverage.values())
    values: dict[str, Any] = {
        "delta_s": worst_ds,
        "delta_s_per_query": dict(zip(queries, ds, strict=True)),
        "delta_s_zones": {
            q: zone(d, type(bands)(stable, high, band_source))
            for q, d in zip(queries, ds, strict=True)
        },
        "delta_s_bands": {"stable": stable, "high_risk": high, "source": band_source},
        "coverage": round(worst_cov, 4),
        "coverage_per_query": {q: round(c, 4) for q, c in coverage.items()},
        "lambda_convergent": not flips,
        "lambda_flip_rate": round(len(flips) / n, 4),
        "lambda_flips": flips,
        "seeds": [first_seed, second_seed],
        "embedder": embedder.name,
        "embedder_lexical": bool(embedder.lexical),
        "lexical_fallback": fallback,
    }
    threshold = f"ΔS <= {stable:.2f}, coverage >= {spec.min_coverage:.2f}, λ convergent"
    if not fallback:
        lead = ""
    elif fallback.startswith("site embeddings failed"):
        lead = f"lexical fallback ({fallback}): "
    else:
        lead = "lexical fallback: "
    who = "" if fallback else f" (ΔS by {embedder.name})"
    lam = (
        "λ convergent"
        if not flips
        else f"λ divergent on {len(flips)} of {n} queries (seeds {first_seed}/{second_seed})"
    )
    worst_zone = zone(worst_ds, type(bands)(stable, high, ""))
    line = f"{lead}ΔS {worst_ds:.2f} {worst_zone}, coverage {worst_cov:.2f}, {lam}{who}"
    if worst_ds > high or worst_cov < spec.min_coverage or flips:
        status = "fail"
    elif worst_ds > stable:
        status = "inconclusive"
    else:
        status = "pass"
    return _Outcome(status, worst_ds, threshold, line, values, "", embedder.name)


async def _probe_idempotency(run: _Run, spec: IdempotencyProbe, timeout: float) -> _Outcome:
    base_headers = await run.headers(spec)
    per_key = "{key}" in spec.counter_url
    threshold = f"exactly-once share >= {spec.min_share * 100:g}%"
    prefix = f"fixmap-probe-{uuid.uuid4().hex[:10]}"
    keys = [f"{prefix}-{i}" for i in range(spec.keys)]

    async def counter(key: str | None) -> int:
        url = run.url(spec, spec.counter_url, {"key": key} if key else None)
        a = await run.send("GET", url, timeout=timeout, headers=base_headers)
        if a.status != 200:
            raise _fail(f"side-effect counter {_short(url)} answered {a.status}")
        value = a.at(a.json(), spec.counter_path, "counter_path")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _broken(f"counter_path '{spec.counter_path}' is {value!r}, not a number")
        return int(value)

    before = None if per_key else await counter(None)
    jobs = [(k, r) for k in keys for r in range(spec.replays)]

    async def write(i: int) -> Answer:
        key = jobs[i][0]
        return await run.send(
            spec.method,
            run.url(spec, spec.url, {"key": key}),
            timeout=timeout,
            headers={**base_headers, spec.key_header: key},
            body=fill(spec.body, {"key": key})
            if spec.body is not None
            else {"probe": "fixmap idempotency", "key": key},
        )

    answers = await _gather_requests(run, len(jobs), len(jobs), write)
    statuses: dict[str, int] = {}
    for a in answers:
        k = str(a.status) if isinstance(a, Answer) else "no answer"
        statuses[k] = statuses.get(k, 0) + 1
    values: dict[str, Any] = {"keys": spec.keys, "replays": spec.replays, "statuses": statuses}
    refused = [a for a in answers if isinstance(a, Answer) and a.status in spec.refused_status]
    if refused:
        return _Outcome(
            "inconclusive",
            None,
            threshold,
            f"writes refused ({refused[0].status}, Retry-After {refused[0].headers.get('retry-after', '-')}): read-only mode? nothing to judge",
            values,
            "%",
        )
    dropped = [a for a in answers if isinstance(a, _Verdict)]
    if dropped:
        raise _fail(
            f"{len(dropped)} of {len(jobs)} writes got no answer: {dropped[0].reason}", **values
        )
    unexpected = [
        a for a in answers if isinstance(a, Answer) and a.status not in spec.expect_status
    ]
    if unexpected:
        raise _fail(
            f"{len(unexpected)} of {len(jobs)} writes answered {unexpected[0].status}", **values
        )

    if per_key:
        effects = await asyncio.gather(*(counter(k) for k in keys))
        exactly_once = sum(1 for e in effects if e == 1)
        duplicates = sum(max(0, e - 1) for e in effects)
        lost = sum(1 for e in effects if e == 0)
        share = exactly_once / len(keys)
    else:
        delta = await counter(None) - (before or 0)
        duplicates = max(0, delta - len(keys))
        lost = max(0, len(keys) - delta)
        share = max(0.0, 1 - (duplicates + lost) / len(keys))
        values["counter_delta"] = delta
    values.update(
        {
            "duplicate_effects": duplicates,
            "lost_effects": lost,
            "exactly_once_share": round(share, 4),
        }
    )
    line = f"{spec.keys} keys × {spec.replays} replays"
    if share < spec.min_share:
        return _Outcome(
            "fail",
            share,
            threshold,
            f"{duplicates} duplicate and {lost} lost side effects ({line}): replays are not idempotent",
            values,
            "%",
        )
    return _Outcome(
        "pass", share, threshold, f"exactly one side effect per key ({line})", values, "%"
    )


async def _probe_pins(run: _Run, spec: PinsProbe, timeout: float) -> _Outcome:
    lock = spec.lock if spec.lock is not None else dict(run.config.pins)
    if not lock:
        raise _broken(
            "no pinned lock: add a [pins] table (model, prompt, embedder, index...) to the site config"
        )
    a = await run.send(
        "GET", run.url(spec, spec.url), timeout=timeout, headers=await run.headers(spec)
    )
    if a.status != 200:
        raise _fail(f"{_short(a.url)} answered {a.status}")
    data = a.json()
    deployed_raw = (
        a.at(data, spec.pins_path, "pins_path")
        if spec.pins_path and any(k not in spec.fields for k in lock)
        else {}
    )
    if not isinstance(deployed_raw, dict):
        raise _broken(f"pins_path '{spec.pins_path}' is not an object of versions")
    deployed = {k: deployed_raw.get(k) for k in lock}
    for key, path in spec.fields.items():
        deployed[key] = a.at(data, path, f"fields.{key}")
    diffs = [
        f"{k} {deployed.get(k) if deployed.get(k) is not None else 'unset'} ≠ lock {v}"
        for k, v in lock.items()
        if str(deployed.get(k)) != v
    ]
    values = {"pin_mismatches": len(diffs), "deployed": deployed, "lock": lock}
    if diffs:
        return _Outcome(
            "fail",
            len(diffs),
            "== 0 mismatches",
            f"{len(diffs)} pins differ from the lock: " + "; ".join(diffs),
            values,
        )
    return _Outcome(
        "pass", 0, "== 0 mismatches", f"{len(lock)} pins match the lock: {', '.join(lock)}", values
    )


async def _probe_read_only(run: _Run, spec: ReadOnlyProbe, timeout: float) -> _Outcome:
    headers = await run.headers(spec)
    mode_a = await run.send("GET", run.url(spec, spec.mode_url), timeout=timeout, headers=headers)
    if mode_a.status not in (200, 503):
        raise _fail(f"{_short(mode_a.url)} answered {mode_a.status}")
    mode = mode_a.at(mode_a.json(), spec.mode_path, "mode_path")
    read_only = str(mode).strip().lower() in {v.lower() for v in spec.read_only_values}
    values: dict[str, Any] = {"mode": mode, "read_only": read_only}
    refused = "/".join(str(s) for s in spec.refused_status)
    threshold = f"writes refused with {refused}" + (
        " + Retry-After" if spec.require_retry_after else ""
    )
    if not read_only:
        if spec.expect_read_only:
            return _Outcome(
                "fail",
                str(mode),
                threshold,
                f"service reports mode {mode!r}, expected read-only",
                values,
            )
        return _Outcome(
            "pass",
            str(mode),
            threshold,
            f"{mode}: nothing to refuse (mode from {_short(mode_a.url)})",
            values,
        )
    key = f"fixmap-read-only-probe-{uuid.uuid4().hex[:10]}"
    w = await run.send(
        spec.method,
        run.url(spec, spec.url, {"key": key}),
        timeout=timeout,
        headers={**headers, spec.key_header: key},
        body=fill(spec.body, {"key": key})
        if spec.body is not None
        else {"probe": "fixmap read-only"},
    )
    retry_after = w.headers.get("retry-after")
    values.update({"write_status": w.status, "retry_after": retry_after})
    if w.status not in spec.refused_status:
        return _Outcome(
            "fail",
            w.status,
            threshold,
            f"read-only mode leaks: a write answered {w.status}",
            values,
        )
    if spec.require_retry_after and not retry_after:
        return _Outcome(
            "fail",
            w.status,
            threshold,
            f"write refused with {w.status} but without Retry-After",
            values,
        )
    return _Outcome(
        "pass",
        w.status,
        threshold,
        f"write refused in read-only mode: {w.status}, Retry-After {retry_after}",
        values,
    )


async def _probe_command(run: _Run, spec: CommandProbe, timeout: float) -> _Outcome:
    env = dict(os.environ)
    env.update(spec.env)
    for var, secret_name in spec.secret_env.items():
        env[var] = await run.secret(secret_name)
    cwd = str(run.site.resolve(__import__("pathlib").Path(spec.cwd))) if spec.cwd else None
    try:
        proc = await asyncio.create_subprocess_exec(
            *spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
    except FileNotFoundError:
        raise _broken(f"program not found: {spec.argv[0]}") from None
    except PermissionError:
        raise _broken(f"program not executable: {spec.argv[0]}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    rc = proc.returncode
    values: dict[str, Any] = {"exit_code": rc}
    last_err = (err.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:160]
    if spec.judge == "exit_code":
        if rc in spec.pass_exit_codes:
            return _Outcome(
                "pass", rc, f"exit {spec.pass_exit_codes}", f"{spec.argv[0]} exited {rc}", values
            )
        return _Outcome(
            "fail",
            rc,
            f"exit {spec.pass_exit_codes}",
            f"{spec.argv[0]} exited {rc}" + (f": {last_err}" if last_err else ""),
            values,
        )
    try:
        data = json.loads(out)
    except ValueError:
        raise _broken(f"{spec.argv[0]} printed no JSON on stdout (exit {rc})") from None
    try:
        raw = lookup(data, spec.status_path)
        value = lookup(data, spec.value_path) if spec.value_path else rc
    except JsonPathError as exc:
        raise _broken(f"{spec.argv[0]} output: {exc}") from None
    values["output"] = data
    mapping = {
        True: "pass",
        False: "fail",
        "ok": "pass",
        "pass": "pass",
        "fail": "fail",
        "inconclusive": "inconclusive",
        "error": "error",
    }
    status = mapping.get(raw if isinstance(raw, bool) else str(raw).lower())
    if status is None:
        raise _broken(
            f"{spec.argv[0]} said status {raw!r}; expected pass/fail/inconclusive/error or true/false"
        )
    return _Outcome(
        status,
        value,
        "status pass",
        f"{spec.argv[0]} says {raw}" + (f" (value {value})" if spec.value_path else ""),
        values,
    )


_KINDS: dict[type, Callable[[_Run, Any, float], Awaitable[_Outcome]]] = {
    HttpProbe: _probe_http,
    LatencyProbe: _probe_latency,
    RateLimitProbe: _probe_rate_limit,
    WarmupProbe: _probe_warmup,
    IndexProbe: _probe_index,
    StabilityProbe: _probe_stability,
    IdempotencyProbe: _probe_idempotency,
    PinsProbe: _probe_pins,
    ReadOnlyProbe: _probe_read_only,
    CommandProbe: _probe_command,
}


# ------------------------------------------------------------------ running


def _timeout_for(run: _Run, spec: ProbeBase) -> float:
    if spec.timeout:
        return float(spec.timeout)
    try:
        return float(run.service(spec)[1].timeout)
    except _Verdict:
        return 10.0


async def _run_one(run: _Run, name: str, spec: ProbeBase) -> ProbeResult:
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    timeout = 10.0
    try:
        timeout = _timeout_for(run, spec)
        async with asyncio.timeout(timeout):
            out = await _KINDS[type(spec)](run, spec, timeout)
    except _Verdict as v:
        out = _Outcome(v.status, None, None, v.reason, v.values)
    except TimeoutError:
        out = _Outcome(
            "fail",
            None,
            None,
            f"no verdict within the probe's timeout of {timeout:g} s: the target is hanging or too slow",
        )
    except Exception as exc:  # a probe must never take the run down
        out = _Outcome("error", None, None, f"probe crashed: {type(exc).__name__}: {_why(exc)}")
    from console.core import redact

    return ProbeResult(
        name=name,
        kind=spec.kind,
        status=out.status,
        value=redact(out.value) if isinstance(out.value, str) else out.value,
        threshold=out.threshold,
        reason=redact(out.reason),
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        started_at=started_at,
        values=_redacted_values(out.values),
        embedder=out.embedder,
        unit=out.unit,
    )


def _redacted_values(values: dict[str, Any]) -> dict[str, Any]:
    """Measured values with secrets masked: one pass over their JSON text (redaction is per call
    costly), falling back to a walk over every string if masking broke the JSON."""
    from console.core import redact, redact_obj

    if not values:
        return {}
    try:
        text = json.dumps(values, ensure_ascii=False, default=str)
        masked = redact(text)
        return values if masked == text else json.loads(masked)
    except (TypeError, ValueError):
        return redact_obj(values)


def select(site: Site, names: list[str] | None) -> list[tuple[str, ProbeBase]]:
    """The probes to run, in config order; unknown names raise UnknownProbe (exit 2)."""
    probes = site.config.probes
    if not names:
        if not probes:
            from console.site import NO_CONFIG_HINT

            where = str(site.path) if site.path else "no config"
            raise ConfigError(
                f"no probes to run ({where})",
                [
                    Problem(
                        str(site.path) if site.path else None,
                        "probes",
                        "no [probes.*] tables",
                        None,
                        NO_CONFIG_HINT
                        if not site.path
                        else "add [probes.NAME] tables, or run 'fixmap demo'",
                    )
                ],
            )
        return list(probes.items())
    out: list[tuple[str, ProbeBase]] = []
    for name in names:
        if name not in probes:
            guess = closest(name, probes)
            known = ", ".join(probes) or "none"
            hint = f"did you mean '{guess}'?" if guess else f"known probes: {known}"
            raise UnknownProbe(f"no probe named '{name}' in the site config ({hint})")
        out.append((name, probes[name]))
    return out


def check_probes(site: Site, names: list[str] | None = None) -> list[Problem]:
    """Config problems a run would hit (probes naming a service that does not exist)."""
    cfg = site.config
    file = str(site.path) if site.path else None
    problems = []
    for name, spec in select(site, names):
        if spec.kind == "command" and not spec.service:
            continue
        svc = spec.service or cfg.default_service()
        if svc is None:
            problems.append(
                Problem(
                    file,
                    f"probes.{name}",
                    "no service to probe: the config has no [services]",
                    None,
                    "add [services.NAME] with base_url",
                )
            )
        elif svc not in cfg.services:
            guess = closest(svc, cfg.services)
            problems.append(
                Problem(
                    file,
                    f"probes.{name}.service",
                    f"'{svc}' is not in [services]",
                    None,
                    f"did you mean '{guess}'?"
                    if guess
                    else "known: " + (", ".join(cfg.services) or "none"),
                )
            )
    return problems


async def run_probes(
    site: Site,
    names: list[str] | None = None,
    on_result: OnResult | None = None,
    *,
    on_start: OnStart | None = None,
    record: bool = True,
) -> list[ProbeResult]:
    """Run the named probes (all when None) concurrently; results in the order asked.

    `on_start(name)` and `on_result(result)` are called as each probe starts and finishes
    (plain functions or coroutines). Raises UnknownProbe / ConfigError before anything runs.
    """
    import httpx

    chosen = select(site, names)
    if any(isinstance(spec, StabilityProbe) for _n, spec in chosen):
        # numpy's import takes ~0.2 s of CPU: done before any request is timed, off the loop
        await asyncio.to_thread(__import__, "console.probes.embed")
        await asyncio.to_thread(__import__, "numpy")
    _remember_missing_sniffio()
    limit = site.config.max_in_flight
    # Few idle keep-alive connections: httpcore checks every idle connection on every request, so
    # a pool of 50 idle ones makes 100 probes cost 2-3x the CPU (0.47 s vs 0.21 s measured).
    limits = httpx.Limits(max_connections=limit, max_keepalive_connections=min(limit, 10))
    async with httpx.AsyncClient(
        limits=limits, timeout=httpx.Timeout(10.0), follow_redirects=False, verify=_ssl_context()
    ) as client:
        run = _Run(site, client, limit)

        async def one(name: str, spec: ProbeBase) -> ProbeResult:
            if on_start is not None:
                await _maybe_await(on_start(name))
            result = await _run_one(run, name, spec)
            if record:
                _append_record(run.run_id, site, result)
            if on_result is not None:
                await _maybe_await(on_result(result))
            return result

        return list(await asyncio.gather(*(one(n, s) for n, s in chosen)))


def _remember_missing_sniffio() -> None:
    """httpcore tries `import sniffio` on every request; when it is not installed, each failed
    import walks sys.path again (~0.1 ms, 60 ms per 100 probes). Record the absence once."""
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_ssl_lock = threading.Lock()
_ssl_cached: Any = None


def _ssl_context() -> Any:
    """One SSL context per process (loading the CA bundle costs ~17 ms per client)."""
    global _ssl_cached
    with _ssl_lock:
        if _ssl_cached is None:
            import httpx

            _ssl_cached = httpx.create_ssl_context()
        return _ssl_cached


def run_probes_sync(
    site: Site,
    names: list[str] | None = None,
    on_result: OnResult | None = None,
    **kwargs: Any,
) -> list[ProbeResult]:
    """run_probes for callers without an event loop (the CLI, thread workers)."""
    return asyncio.run(run_probes(site, names, on_result, **kwargs))


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


_record_lock = threading.Lock()


def _append_record(run_id: str, site: Site, result: ProbeResult) -> None:
    from console.core import data_dir, redact

    line = {
        "run_id": run_id,
        "config": str(site.path) if site.path else None,
        **result.to_dict(),
    }
    # registered secrets are masked in their JSON-escaped form too: one pass over the line does
    text = redact(json.dumps(line, ensure_ascii=False, default=str))
    try:
        with _record_lock, open(data_dir() / RUNS_FILE, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError:
        pass  # a full or read-only data dir must not hide the verdicts themselves


def read_runs(limit: int | None = None) -> list[dict[str, Any]]:
    """Recorded probe results, oldest first (the last `limit` when given)."""
    from console.core import data_dir

    path = data_dir() / RUNS_FILE
    if not path.is_file():
        return []
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(raw))
        except ValueError:
            continue
    return rows[-limit:] if limit else rows
