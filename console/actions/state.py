"""Change freeze and read-only mode: what the console shows on every screen and the freeze guard
reads before an action that ships change.

Where the answer comes from, per dimension (frozen; read-only), first that works:

1. live: the `state` table of a freeze/unfreeze (resp. read_only/read_write) action in the site
   config: a GET whose JSON answer holds the value at a dotted path. The service (or the team's
   freeze calendar behind it) is the shared truth: other engineers on other bastions change it.
2. last known: the newest freeze/unfreeze (resp. read_only/read_write) action that completed in
   this machine's journal. This covers sites whose freeze is an argv command with nothing to ask.
3. unknown: neither: reported as not frozen / read-write, and said so.

A live check that fails (the service is down, mid-incident) falls back to the last known state and
says "live check failed"; it never blocks rollback, freeze or read-only, which no freeze blocks.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from console.actions import journal
from console.core.redact import redact, redact_obj
from console.site.action_spec import (
    FREEZE_KINDS,
    READ_ONLY_KINDS,
    ActionSpec,
    Placeholder,
    parse_template,
    render_text,
    url_quote,
)

_ON = {
    "true",
    "yes",
    "on",
    "1",
    "frozen",
    "read_only",
    "readonly",
    "active",
    "enabled",
    "maintenance",
}
_OFF = {
    "false",
    "no",
    "off",
    "0",
    "",
    "none",
    "normal",
    "read_write",
    "readwrite",
    "inactive",
    "disabled",
    "unfrozen",
}


@dataclass
class SiteState:
    """Change freeze and read-only mode, and where each answer came from.

    Unpacks as a pair: `frozen, read_only = site_state(loaded)`.
    """

    frozen: bool
    read_only: bool
    frozen_source: str
    read_only_source: str
    errors: list[str] = field(default_factory=list)
    checked_at: str = ""

    def __iter__(self):
        yield self.frozen
        yield self.read_only

    def to_json(self) -> dict[str, Any]:
        return redact_obj(
            {
                "frozen": self.frozen,
                "read_only": self.read_only,
                "frozen_source": self.frozen_source,
                "read_only_source": self.read_only_source,
                "errors": self.errors,
                "checked_at": self.checked_at,
            }
        )

    def text(self) -> str:
        f = "FROZEN" if self.frozen else "not frozen"
        r = "READ-ONLY" if self.read_only else "read-write"
        return f"{f} ({self.frozen_source}) · {r} ({self.read_only_source})"


def service_name(loaded, spec: ActionSpec) -> str | None:
    """The service an action acts on: its own, else the site's default (None if unknown)."""
    if spec.service is not None:
        return spec.service if spec.service in loaded.config.services else None
    return loaded.config.default_service()


def service_base_url(loaded, spec: ActionSpec) -> str:
    svc = service_name(loaded, spec)
    return loaded.config.services[svc].base_url.rstrip("/") if svc else ""


def _on_off(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        low = value.strip().lower().replace("-", "_")
        if low in _ON:
            return True
        if low in _OFF:
            return False
    raise ValueError(f"cannot read {value!r} as on/off")


def _json_path(data: Any, path: str) -> Any:
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise KeyError(f"no '{path}' in the answer")
    return cur


# ---------------------------------------------------------------- bounded HTTP

T = TypeVar("T")


class RequestAbandoned(Exception):
    """An HTTP request given up at its overall deadline (or cancelled): its socket was shut."""

    def __init__(self, timeout: float, *, cancelled: bool = False) -> None:
        self.cancelled = cancelled
        self.timeout = timeout
        super().__init__(
            "cancelled by the operator: the request was abandoned"
            if cancelled
            else f"timed out after {timeout:g}s: the request was abandoned"
        )


class _BoundedStream:
    """An httpcore network stream whose every read/write ends by the overall deadline."""

    def __init__(self, inner: Any, guard: _Deadline) -> None:
        self._inner = inner
        self._guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._guard.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._guard.clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout=None):
        tls = self._inner.start_tls(ssl_context, server_hostname, self._guard.clamp(timeout))
        return self._guard.track(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Deadline:
    """An httpcore network backend: connections clamp their timeouts to one overall deadline,
    and abort() shuts their sockets down, which wakes a thread blocked reading them."""

    def __init__(self, deadline: float) -> None:
        import httpcore

        self._backend = httpcore.SyncBackend()
        self.deadline = deadline
        self._lock = threading.Lock()
        self._sockets: list[Any] = []
        self._aborted = False

    def clamp(self, timeout: float | None) -> float:
        left = max(self.deadline - time.monotonic(), 0.001)
        return left if timeout is None else min(timeout, left)

    def track(self, stream: Any) -> _BoundedStream:
        sock = stream.get_extra_info("socket")
        with self._lock:
            aborted = self._aborted
            if not aborted and sock is not None:
                self._sockets.append(sock)
        if aborted:
            _shut(sock)
        return _BoundedStream(stream, self)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return self.track(
            self._backend.connect_tcp(
                host, port, self.clamp(timeout), local_address, socket_options
            )
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return self.track(
            self._backend.connect_unix_socket(path, self.clamp(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(min(seconds, self.clamp(None)))

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def _shut(sock: Any) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed, or never connected
        sock.shutdown(socket.SHUT_RDWR)


def bounded_http(
    work: Callable[[Any], T],
    *,
    timeout: float,
    verify: bool = True,
    cancel: threading.Event | None = None,
) -> T:
    """Run `work(client)` with ONE overall deadline of `timeout` seconds for everything it does.

    httpx's timeout bounds each connect/read/write, not the request: a server trickling a byte
    at a time would hold it forever. Here `work` runs in a daemon thread on a client whose
    connections clamp every socket operation to the deadline; this thread waits on it with the
    deadline, and at the deadline (or when `cancel` is set, or on Ctrl-C) shuts the sockets down
    and raises RequestAbandoned. Errors of `work` are raised here.
    """
    import httpx

    guard = _Deadline(time.monotonic() + timeout)
    client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, verify=verify)
    for transport in (client._transport, *client._mounts.values()):  # env proxies included
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = guard
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            with client:
                box["value"] = work(client)
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="fixmap-http", daemon=True)
    worker.start()
    try:
        while not done.is_set():
            left = guard.deadline - time.monotonic()
            if left <= 0:
                raise RequestAbandoned(timeout)
            if cancel is not None and cancel.is_set():
                raise RequestAbandoned(timeout, cancelled=True)
            done.wait(min(left, 0.1) if cancel is not None else left)
    except BaseException:
        guard.abort()
        worker.join(0.5)  # bounded: the shut socket wakes it; a stuck DNS lookup does not
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def _live(loaded, spec: ActionSpec) -> bool:
    from console.core.secrets import resolve

    st = spec.state
    assert st is not None
    names = {
        p.name
        for text in (st.url, *st.headers.values())
        for p in parse_template(text)
        if isinstance(p, Placeholder) and p.kind == "secret"
    }
    values = {n: resolve(n) for n in names}
    url = render_text(st.url, {}, values, encode=url_quote)
    if url.startswith("/"):
        url = service_base_url(loaded, spec) + url
    headers = {k: render_text(v, {}, values) for k, v in st.headers.items()}
    resp = bounded_http(lambda client: client.get(url, headers=headers), timeout=st.timeout)
    if resp.status_code // 100 != 2:
        raise ValueError(f"HTTP {resp.status_code}")
    return _on_off(_json_path(resp.json(), st.path))


def site_state(loaded, *, live: bool = True) -> SiteState:
    """Change freeze and read-only mode: live where the site says how, else last known here."""
    history = journal.entries()
    errors: list[str] = []
    result: dict[str, tuple[bool, str]] = {}
    actions: dict[str, ActionSpec] = loaded.config.actions if loaded is not None else {}
    for dim, kinds, on_kind in (
        ("frozen", FREEZE_KINDS, "freeze"),
        ("read_only", READ_ONLY_KINDS, "read_only"),
    ):
        known = next((e for e in reversed(history) if e.kind in kinds and e.status == "done"), None)
        if known is not None:
            when = known.finished_at or known.started_at
            fallback = (
                known.kind == on_kind,
                f"last known: {known.action} at {when} by {known.who}",
            )
        else:
            fallback = (False, "unknown: no live state configured or recorded")
        result[dim] = fallback
        if not live:
            continue
        for name, spec in actions.items():
            if spec.kind not in kinds or spec.state is None:
                continue
            try:
                result[dim] = (_live(loaded, spec), f"live: GET {spec.state.url} of actions.{name}")
            except Exception as exc:  # the service may be the thing on fire
                errors.append(redact(f"{name} state: {type(exc).__name__}: {exc}"))
                if known is not None:
                    result[dim] = (fallback[0], fallback[1] + " (live check failed)")
                else:
                    result[dim] = (False, "unknown: the live check failed and nothing is recorded")
            break
    return SiteState(
        frozen=result["frozen"][0],
        read_only=result["read_only"][0],
        frozen_source=result["frozen"][1],
        read_only_source=result["read_only"][1],
        errors=errors,
        checked_at=journal.now_iso(),
    )
