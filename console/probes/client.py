"""What the probes of one run share, and how every probe request is built and sent.

`open_run()` opens one httpx.AsyncClient for the whole run; `Run` holds it with the config, a
semaphore capping requests in flight at the site's `max_in_flight`, one per service capping
what that service gets at its own `max_in_flight` (a small server's accept backlog is the limit
that matters), and the secrets resolved so far (each looked up once per run, off the event loop).

Requests are built from the probe's templates in the one template language of console/core
(`{name}` a value the probe kind fills, `{secret:NAME}` a secret, `{{`/`}}` literal braces):
URLs through `render_text` with every value quoted as one segment, headers through
`render_text` (secrets only), JSON bodies through `render_json` (a bare `{seed}` keeps its
type). Which values each field may name is declared by its spec (`FILLS`) and checked when the
config loads, so a typo never reaches the wire.

`send()` retries a refused or reset connection once after RETRY_BACKOFF_S (fixmap's own
connection trouble must not read as the service's), then turns connection trouble (timeouts,
refused or dropped connections) into a `NoAnswer` error and a body over MAX_BODY_BYTES into an
error; `send_retrying()` also honours a short Retry-After on 429/503. A kind whose property is
the answering itself (http status, latency, rate_limit) turns NoAnswer into its fail.

httpx is imported inside the functions that need it: importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core import JsonPathError, lookup
from console.core.http import ssl_context
from console.core.templates import TemplateError, names_in, render_json, render_text, url_quote
from console.probes.result import NoAnswer, Verdict, broken

if TYPE_CHECKING:
    from console.site import ProbeBase, Service, Site

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_RETRY_WAIT_S = 2.0
RETRY_BACKOFF_S = 0.25


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
        return at(data, path, what)

    def expect(self, *statuses: int, what: str = "") -> Answer:
        """This answer, or an error (could not measure) when its status is not one of
        `statuses`: a read refused, throttled or broken says nothing about what it measures."""
        if self.status not in statuses:
            raise broken(f"could not measure: {what or short(self.url)} {refusal(self)}")
        return self

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def refusal(answer: Answer) -> str:
    """'answered 429 (throttled, Retry-After 1)': what an unexpected status means, in words."""
    status = answer.status
    meaning = {
        401: "unauthorised: check the probe's headers or bearer_secret",
        403: "forbidden: check the probe's credentials",
        404: "not found: check the url",
        429: "throttled",
        503: "unavailable",
    }.get(status, "a server error" if status >= 500 else "")
    retry = answer.headers.get("retry-after")
    if retry and status in (429, 503):
        meaning += f", Retry-After {retry}"
    return f"answered {status}" + (f" ({meaning})" if meaning else "")


def at(data: Any, path: str, what: str) -> Any:
    """The value at a JSON path of parsed JSON; an error naming the field when it leads nowhere."""
    try:
        return lookup(data, path)
    except JsonPathError as exc:
        raise broken(f"{what}: {exc}; set the probe's path to where this site keeps it") from None


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


def origin(url: str) -> str:
    """scheme://host:port of a URL: what one server's accept backlog is shared by."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Run:
    """What the probes of one run share: the config, one client, the semaphores, secrets."""

    def __init__(self, site: Site, client: Any, max_in_flight: int):
        from console.site import Service

        self.site = site
        self.config = site.config
        self.client = client
        self.sem = asyncio.Semaphore(max_in_flight)
        self._default_in_flight = Service.model_fields["max_in_flight"].default
        self._service_limits = {
            origin(svc.base_url): svc.max_in_flight for svc in self.config.services.values()
        }
        self._service_sems: dict[str, asyncio.Semaphore] = {}
        self._secrets: dict[str, str] = {}
        self.run_id = uuid.uuid4().hex[:12]

    def _service_sem(self, url: str) -> asyncio.Semaphore:
        key = origin(url)
        if key not in self._service_sems:
            limit = self._service_limits.get(key, self._default_in_flight)
            self._service_sems[key] = asyncio.Semaphore(limit)
        return self._service_sems[key]

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
        return await self._url(spec, field, getattr(spec, field), values)

    async def _url(
        self, spec: ProbeBase, field: str, template: str, values: Mapping[str, Any] | None
    ) -> str:
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
        return await self._body(spec, "body", getattr(spec, "body", None), values, default)

    async def _body(
        self,
        spec: Any,
        field: str,
        template: Any,
        values: Mapping[str, Any] | None,
        default: Any = None,
    ) -> Any:
        if template is None:
            return default
        values = _fills(spec, field, values)
        secrets = await self._secret_values(template)
        return _render(field, render_json, template, values, secrets)

    async def headers(self, spec: Any, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The probe's headers (secrets filled in), its bearer secret, then `extra`."""
        out = await self._headers(getattr(spec, "headers", {}) or {}, "headers")
        secret_name = getattr(spec, "bearer_secret", None)
        if secret_name:
            out["Authorization"] = f"Bearer {await self.secret(secret_name)}"
        out.update(extra or {})
        _no_line_breaks(out)
        return out

    async def _headers(self, templates: Mapping[str, str], field: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, template in templates.items():
            secrets = await self._secret_values(template)
            out[name] = _render(f"{field}.{name}", render_text, template, {}, secrets)
        return out

    async def read(
        self,
        spec: Any,
        field: str,
        values: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        headers: dict[str, str],
        retrying: bool = False,
    ) -> Answer:
        """Send the probe's request `field`: a URL (a GET) or a request table (its method, url,
        headers and body), with `values` filled in and the probe's `headers` under its own."""
        target = getattr(spec, field)
        send = self.send_retrying if retrying else self.send
        if isinstance(target, str):
            url = await self._url(spec, field, target, values)
            return await send("GET", url, timeout=timeout, headers=headers)
        url = await self._url(spec, field, target.url, values)
        body = await self._body(spec, field, target.body, values)
        extra = await self._headers(target.headers, f"{field}.headers")
        _no_line_breaks(extra)
        return await send(
            target.method, url, timeout=timeout, headers={**headers, **extra}, body=body
        )

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
        """One request under the semaphores; a refused or reset connection is tried once more
        after RETRY_BACKOFF_S; connection trouble then raises NoAnswer."""
        import httpx

        retried = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
        for attempt in (1, 2):
            try:
                return await self._send_once(method, url, timeout, headers, body)
            except retried as exc:
                if attempt == 2:
                    raise _no_answer(method, url, exc, twice=True) from None
            except httpx.HTTPError as exc:
                raise _no_answer(method, url, exc, twice=False) from None
            await asyncio.sleep(RETRY_BACKOFF_S)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(
        self, method: str, url: str, timeout: float, headers: dict[str, str] | None, body: Any
    ) -> Answer:
        import httpx

        async with self._service_sem(url), self.sem:
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
                raise NoAnswer(
                    f"{method} {short(url)}: no answer within {timeout:g} s (timed out)", "timeout"
                ) from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise broken(f"{method} {short(url)}: {why(exc)}; check the url") from None

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
        """n requests, at most `concurrency` at once; requests that got no answer (NoAnswer)
        and fail verdicts come back, other errors raise. When the first `concurrency` requests
        all got no answer, the rest are not sent (a hung target costs one round of timeouts):
        they come back as NoAnswer 'not sent'."""
        local = asyncio.Semaphore(concurrency)
        give_up = min(concurrency, n)
        seen = {"answered": 0, "silent": 0}
        first: list[NoAnswer] = []

        async def one(i: int) -> Answer | Verdict:
            async with local:
                if not seen["answered"] and seen["silent"] >= give_up:
                    return NoAnswer(
                        f"the first {give_up} requests got no answer ({first[0].reason}); "
                        "stopped sending",
                        "not sent",
                    )
                try:
                    answer = await make(i)
                except NoAnswer as v:
                    seen["silent"] += 1
                    first.append(v)
                    return v
                except Verdict as v:
                    if v.status == "error":
                        raise
                    return v
                seen["answered"] += 1
                return answer

        return list(await asyncio.gather(*(one(i) for i in range(n))))


def _no_answer(method: str, url: str, exc: Exception, *, twice: bool) -> NoAnswer:
    import httpx

    again = ", twice" if twice else ""
    if isinstance(exc, httpx.ConnectError):
        return NoAnswer(f"{method} {short(url)}: cannot connect{again} ({why(exc)})", "refused")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return NoAnswer(
            f"{method} {short(url)}: connection dropped without an answer{again} ({why(exc)})",
            "reset",
        )
    return NoAnswer(f"{method} {short(url)}: {type(exc).__name__}: {why(exc)}", "reset")


def _no_line_breaks(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise broken(f"header {name}: a value (secret?) contains a line break")


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
        limits=limits,
        timeout=httpx.Timeout(10.0),
        follow_redirects=False,
        verify=ssl_context(_ca_files(site)),
    ) as client:
        yield Run(site, client, limit)


def _remember_missing_sniffio() -> None:
    """httpcore tries `import sniffio` on every request; when it is not installed, each failed
    import walks sys.path again (~0.1 ms, 60 ms per 100 probes). Record the absence once."""
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def _ca_files(site: Site) -> tuple[str, ...]:
    return tuple(
        sorted({str(site.resolve(s.ca_file)) for s in site.config.services.values() if s.ca_file})
    )
