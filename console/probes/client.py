"""What the probes of one run share, and how every probe request is built and sent.

`open_run()` opens one httpx.AsyncClient for the whole run; `Run` holds it with the config, a
semaphore capping requests in flight at `max_in_flight`, and the secrets resolved so far (each
is looked up once per run, off the event loop).

Requests are built from the probe's templates in the one template language of console/core
(`{name}` a value the probe kind fills, `{secret:NAME}` a secret, `{{`/`}}` literal braces):
URLs through `render_text` with every value quoted as one segment, headers through
`render_text` (secrets only), JSON bodies through `render_json` (a bare `{seed}` keeps its
type). Which values each field may name is declared by its spec (`FILLS`) and checked when the
config loads, so a typo never reaches the wire.

`send()` turns connection trouble (timeouts, refused or dropped connections) into a fail
verdict and a body over MAX_BODY_BYTES into an error; `send_retrying()` also honours a short
Retry-After on 429/503.

httpx is imported inside the functions that need it: importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core import JsonPathError, lookup
from console.core.templates import TemplateError, names_in, render_json, render_text, url_quote
from console.probes.result import Verdict, broken, fail

if TYPE_CHECKING:
    from console.site import ProbeBase, Service, Site

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_RETRY_WAIT_S = 2.0


@dataclass
class Answer:
    """One HTTP answer, read whole (up to MAX_BODY_BYTES), with how long it took."""

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
            raise broken(
                f"{short(self.url)} answered {self.status} with a body that is not JSON "
                f"({ctype}, starts {start!r}); check the probe's url"
            ) from None

    def at(self, data: Any, path: str, what: str) -> Any:
        try:
            return lookup(data, path)
        except JsonPathError as exc:
            raise broken(
                f"{what}: {exc}; set the probe's path to where this site keeps it"
            ) from None

    def expect(self, *statuses: int) -> Answer:
        """This answer, or a fail verdict when its status is not one of `statuses`."""
        if self.status not in statuses:
            raise fail(f"{short(self.url)} answered {self.status}")
        return self


def short(url: str) -> str:
    """A URL as reasons show it: path and query, no scheme or host."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


def why(exc: Exception) -> str:
    """An exception's first line, short enough for a reason."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Run:
    """What the probes of one run share: the config, one client, one semaphore, secrets."""

    def __init__(self, site: Site, client: Any, max_in_flight: int):
        self.site = site
        self.config = site.config
        self.client = client
        self.sem = asyncio.Semaphore(max_in_flight)
        self._secrets: dict[str, str] = {}
        self.run_id = uuid.uuid4().hex[:12]

    # ------------------------------------------------------------ the service

    def service(self, spec: ProbeBase) -> tuple[str, Service]:
        name = spec.service or self.config.default_service()
        if name is None:
            raise broken("the site config has no [services]: add one with its base_url")
        svc = self.config.services.get(name)
        if svc is None:
            known = ", ".join(self.config.services) or "none"
            raise broken(f"service '{name}' is not in [services] (known: {known})")
        return name, svc

    def budget_ms(self, spec: Any) -> float:
        """The probe's latency budget, else its service's."""
        if getattr(spec, "budget_ms", None):
            return float(spec.budget_ms)
        return float(self.service(spec)[1].latency_budget_ms)

    # ------------------------------------------------------------ secrets and templates

    async def secret(self, name: str) -> str:
        """A secret's value (resolved once per run); unset is an error naming where to set it."""
        if name not in self._secrets:
            from console.core import SecretError, resolve

            try:
                self._secrets[name] = await asyncio.to_thread(resolve, name)
            except SecretError as exc:
                raise broken(str(exc)) from None
        return self._secrets[name]

    async def _secret_values(self, template: Any) -> dict[str, str]:
        return {name: await self.secret(name) for name in names_in(template, "secret")}

    async def url(
        self, spec: ProbeBase, field: str = "url", values: Mapping[str, Any] | None = None
    ) -> str:
        """The probe's `field` (a URL template) filled in; relative URLs go under the service."""
        template = getattr(spec, field)
        values = _fills(spec, field, values)
        secrets = await self._secret_values(template)
        url = _render(field, render_text, template, values, secrets, encode=url_quote)
        if url.startswith(("http://", "https://")):
            return url
        _, svc = self.service(spec)
        return svc.base_url.rstrip("/") + "/" + url.lstrip("/")

    async def body(
        self, spec: Any, values: Mapping[str, Any] | None = None, default: Any = None
    ) -> Any:
        """The probe's JSON body filled in, or `default` when the probe sets none."""
        template = getattr(spec, "body", None)
        if template is None:
            return default
        values = _fills(spec, "body", values)
        secrets = await self._secret_values(template)
        return _render("body", render_json, template, values, secrets)

    async def headers(self, spec: Any, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The probe's headers (secrets filled in), its bearer secret, then `extra`."""
        out: dict[str, str] = {}
        for name, template in (getattr(spec, "headers", {}) or {}).items():
            secrets = await self._secret_values(template)
            out[name] = _render(f"headers.{name}", render_text, template, {}, secrets)
        secret_name = getattr(spec, "bearer_secret", None)
        if secret_name:
            out["Authorization"] = f"Bearer {await self.secret(secret_name)}"
        out.update(extra or {})
        for name, value in out.items():
            if "\r" in value or "\n" in value:
                raise broken(f"header {name}: a value (secret?) contains a line break")
        return out

    # ------------------------------------------------------------ sending

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
                            raise broken(
                                f"{short(url)} answered a body over {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                                "stopped reading (point the probe at a smaller endpoint)"
                            )
                        chunks.append(chunk)
                    elapsed = (time.perf_counter() - started) * 1000
                    return Answer(resp.status_code, resp.headers, b"".join(chunks), elapsed, url)
            except httpx.TimeoutException:
                raise fail(
                    f"{method} {short(url)}: no answer within {timeout:g} s (timed out)"
                ) from None
            except httpx.ConnectError as exc:
                raise fail(f"{method} {short(url)}: cannot connect ({why(exc)})") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise fail(
                    f"{method} {short(url)}: connection dropped without an answer ({why(exc)})"
                ) from None
            except httpx.HTTPError as exc:
                raise fail(f"{method} {short(url)}: {type(exc).__name__}: {why(exc)}") from None

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

    async def request(
        self,
        spec: Any,
        values: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        headers: dict[str, str],
        default_body: Any = None,
        retrying: bool = False,
    ) -> Answer:
        """The probe's own request (its method, url and body) with `values` filled in."""
        url = await self.url(spec, "url", values)
        body = await self.body(spec, values, default_body)
        send = self.send_retrying if retrying else self.send
        return await send(spec.method, url, timeout=timeout, headers=headers, body=body)

    async def gather(
        self, n: int, concurrency: int, make: Callable[[int], Awaitable[Answer]]
    ) -> list[Answer | Verdict]:
        """n requests, at most `concurrency` at once; fail verdicts come back, errors raise."""
        local = asyncio.Semaphore(concurrency)

        async def one(i: int) -> Answer | Verdict:
            async with local:
                try:
                    return await make(i)
                except Verdict as v:
                    if v.status == "error":
                        raise
                    return v

        return list(await asyncio.gather(*(one(i) for i in range(n))))


def _fills(spec: Any, field: str, values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The values for one field, which must be among those its spec declares (`FILLS`)."""
    values = values or {}
    declared = type(spec).FILLS.get(field, frozenset())
    if not set(values) <= declared:
        raise RuntimeError(
            f"{spec.kind} probe fills {sorted(values)} into {field}, its spec declares {sorted(declared)}"
        )
    return values


def _render(field: str, render: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return render(*args, **kwargs)
    except TemplateError as exc:
        raise broken(f"{field}: {exc}") from None


# ------------------------------------------------------------------ the client


@asynccontextmanager
async def open_run(site: Site) -> AsyncIterator[Run]:
    """One client for the run, at most `max_in_flight` requests at once."""
    import httpx

    _remember_missing_sniffio()
    limit = site.config.max_in_flight
    # Few idle keep-alive connections: httpcore checks every idle connection on every request, so
    # a pool of 50 idle ones makes 100 probes cost 2-3x the CPU (0.47 s vs 0.21 s measured).
    limits = httpx.Limits(max_connections=limit, max_keepalive_connections=min(limit, 10))
    async with httpx.AsyncClient(
        limits=limits, timeout=httpx.Timeout(10.0), follow_redirects=False, verify=_ssl_context()
    ) as client:
        yield Run(site, client, limit)


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
