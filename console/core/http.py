"""HTTP under one overall deadline: a server that trickles its headers or its body, or a DNS
lookup that hangs, costs the caller its timeout and no more (httpx's timeouts are per phase)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

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


_ssl_lock = threading.Lock()
_ssl_cached: dict[tuple[str, ...], Any] = {}


def ssl_context(ca_files: tuple[str, ...] = ()) -> Any:
    """One SSL context per set of extra CA files, per process (loading the CA bundle costs
    ~17 ms per client): the system's CAs plus each `ca_file` given (a private CA)."""
    with _ssl_lock:
        if ca_files not in _ssl_cached:
            import ssl

            import httpx

            ctx = httpx.create_ssl_context()
            for path in ca_files:
                try:
                    ctx.load_verify_locations(cafile=path)
                except (OSError, ssl.SSLError) as exc:
                    from console.core.errors import ConfigError, Problem

                    raise ConfigError(
                        f"ca_file {path} cannot be loaded",
                        [Problem(path, "ca_file", str(exc), None, "give a PEM file of CAs")],
                    ) from None
            _ssl_cached[ca_files] = ctx
        return _ssl_cached[ca_files]
