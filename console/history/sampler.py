"""The live sampler: the site's /metrics endpoints and Prometheus queries into the history,
every `[history.sampling] interval`, while the console or `fixmap watch` runs.

One sampler per history file across processes: the one that holds an flock on a small file
next to the database samples; any other one reads what it writes, and takes over when the
holder dies (the kernel lets go of a dead process's lock). A round is one write transaction of
what every source gave (a Prometheus source's range replaces what it covers, so nothing is
stored twice); a source that fails is an error in that round's report, never the end of the
sampler. It runs on its own thread and stops with the process (or `stop()`).

Probe runs are not sampled here: they land in the history through console.incident.recorder.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.core import redact
from console.history.scrape import Scrape, parse_scrape, scrape_rows


@dataclass
class SourceRound:
    """What one source gave in one round."""

    name: str
    kind: str
    samples: int = 0
    error: str | None = None


@dataclass
class SamplingRound:
    """One round of the sampler: when, what each source gave, or why nothing was sampled."""

    at: datetime
    sources: list[SourceRound] = field(default_factory=list)
    holder: bool = True
    """False: another process samples this history; this one only reads."""
    note: str = ""
    elapsed_s: float = 0.0

    @property
    def samples(self) -> int:
        return sum(s.samples for s in self.sources)

    @property
    def errors(self) -> list[str]:
        return [f"{s.name}: {s.error}" for s in self.sources if s.error]

    def line(self) -> str:
        """The round in one line, as `fixmap watch` prints it."""
        head = self.at.strftime("%H:%M:%S")
        if not self.holder:
            return f"{head} {self.note}"
        parts = [f"{s.name} {s.samples}" for s in self.sources]
        text = f"{head} sampled {', '.join(parts) or 'nothing'}: {self.samples} samples"
        if self.note:
            text += f" ({self.note})"
        errors = self.errors
        return text + ("; errors: " + "; ".join(errors) if errors else "; no errors")

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "holder": self.holder,
            "samples": self.samples,
            "sources": [s.__dict__ for s in self.sources],
            "note": self.note,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def sampling_sources(site: Any) -> list[str]:
    """The sources the site's [history.sampling] names (empty: sampling is off)."""
    if site is None or getattr(site, "path", None) is None:
        return []
    return list(site.config.history.sampling.sources)


class SamplerLock:
    """An flock on `.<db>.sampler.lock` next to the history file: who samples it."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(f".{db_path.name}.sampler.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (never waits)."""
        import fcntl

        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds it, in words ('process 1234')."""
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return f"process {pid}" if pid.isdigit() else "another process"

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


class Sampler:
    """Samples the site's [history.sampling] sources into its history, one round an interval.

    `run_round()` is one round, synchronously (the thread and tests call it); `start()` runs
    rounds on a daemon thread until `stop()`. `on_round(round)` is called after each round,
    on the sampler's thread.
    """

    def __init__(
        self,
        site: Any,
        *,
        history: Any = None,
        on_round: Callable[[SamplingRound], Any] | None = None,
        interval: float | None = None,
    ) -> None:
        from console.history.config import history_for

        self.site = site
        spec = site.config.history
        self.interval = float(interval or spec.sampling.interval)
        self.names = list(spec.sampling.sources)
        self.sources = {n: spec.sources[n] for n in self.names}
        self.history = history or history_for(site, lock_timeout=min(5.0, self.interval * 2))
        self.lock = SamplerLock(self.history.path)
        self.on_round = on_round
        self.rounds = 0
        self.last: SamplingRound | None = None
        self._previous: dict[str, Scrape] = {}
        self._prom_since: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clients: dict[int, Any] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Sampler:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="fixmap-sampler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in flight (if any); let go of the lock."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        self.lock.release()
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                rnd = self.run_round()
            except Exception as exc:  # a round must never end the sampler
                rnd = SamplingRound(
                    datetime.now(UTC).replace(tzinfo=None),
                    note=redact(f"the round failed: {type(exc).__name__}: {exc}"),
                )
            self.last = rnd
            if self.on_round is not None:
                with contextlib.suppress(Exception):
                    self.on_round(rnd)
            next_at += self.interval
            now = time.monotonic()
            if next_at < now:  # a slow round: start the next one an interval from now
                next_at = now + self.interval
            self._stop.wait(next_at - now)

    # ------------------------------------------------------------ one round

    def run_round(self) -> SamplingRound:
        """Sample every source once (when this process holds the lock) and store the rows."""
        t0 = time.perf_counter()
        at = datetime.now(UTC).replace(tzinfo=None)
        if not self.lock.acquire():
            self._previous.clear()  # a scrape from before someone else sampled is no baseline
            self._prom_since.clear()
            return SamplingRound(
                at, holder=False, note=f"{self.lock.holder()} samples this history; reading it"
            )
        self.rounds += 1
        rnd = SamplingRound(at)
        columns: dict[str, list[Any]] = {k: [] for k in ("ts", "service", "metric", "value")}
        columns["labels"] = []
        for name in self.names:
            src = self.sources[name]
            report = SourceRound(name, src.kind)
            rnd.sources.append(report)
            try:
                if src.kind == "scrape":
                    report.samples = self._scrape(name, src, columns)
                else:
                    report.samples = self._prometheus(name, src)
            except Exception as exc:
                report.error = redact(_error_text(exc))
        if columns["ts"]:
            try:
                self.history.insert_samples(columns)
            except Exception as exc:
                for s in rnd.sources:
                    if s.kind == "scrape" and s.samples:
                        s.error, s.samples = redact(f"not stored: {_error_text(exc)}"), 0
        if self.rounds == 1 and any(s.kind == "scrape" for s in rnd.sources):
            rnd.note = "first scrape: rates and quantiles start with the next one"
        rnd.elapsed_s = time.perf_counter() - t0
        return rnd

    def _http(self, src: Any = None) -> Any:
        """One client per way of verifying TLS (the system's CAs, or with a source's ca_file)."""
        from console.history.prometheus import source_verify

        verify = source_verify(self.site, src) if src is not None else True
        key = id(verify) if verify is not True else 0
        clients = self._clients
        if key not in clients:
            import httpx

            clients[key] = httpx.Client(follow_redirects=False, verify=verify)
        return clients[key]

    def _service(self, src: Any) -> str:
        return src.service or self.site.config.default_service() or "default"

    def _url(self, src: Any) -> str:
        if src.url.startswith(("http://", "https://")):
            return src.url
        svc = self.site.config.services.get(self._service(src))
        if svc is None:
            raise ValueError(
                f"url {src.url!r} is a path, and service '{self._service(src)}' has no base_url"
            )
        return str(svc.base_url).rstrip("/") + src.url

    def _scrape(self, name: str, src: Any, columns: dict[str, list[Any]]) -> int:
        """Read the endpoint, add its rows to `columns`; how many."""
        from console.history.prometheus import auth_headers

        headers = auth_headers(dict(src.headers), src.token_secret)
        resp = self._http(src).get(self._url(src), headers=headers, timeout=src.timeout)
        if resp.status_code != 200:
            raise ValueError(f"{self._url(src)} answered HTTP {resp.status_code}")
        at = time.time()
        try:
            cur = parse_scrape(resp.text, at)
        except ValueError as exc:
            raise ValueError(f"{self._url(src)} is not Prometheus text: {exc}") from None
        prev = self._previous.get(name)
        self._previous[name] = cur
        ts = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
        service = self._service(src)
        rows = scrape_rows(src, cur, prev)
        for metric, value, labels in rows:
            columns["ts"].append(ts)
            columns["service"].append(service)
            columns["metric"].append(metric)
            columns["value"].append(value)
            columns["labels"].append(labels)
        return len(rows)

    def _prometheus(self, name: str, src: Any) -> int:
        """The source's queries since the last round (else its newest stored point, at most
        `since` ago), its range replacing what it covers."""
        from console.history.prometheus import (
            auth_headers,
            fetch_samples,
            promql_queries,
            source_verify,
        )
        from console.history.records import insert_columns, insert_ingests

        end = datetime.now(UTC).replace(tzinfo=None)
        start = self._prom_since.get(name) or self._newest(
            list(src.queries), end - timedelta(seconds=src.since)
        )
        if (end - start).total_seconds() < src.step:
            return 0
        # the API is asked in whole milliseconds: the range it answers starts at this one
        start = start.replace(microsecond=start.microsecond // 1000 * 1000)
        headers = auth_headers(dict(src.headers), src.token_secret)
        report, batch = fetch_samples(
            src.url,
            promql_queries(dict(src.queries), None),
            start,
            end,
            src.step,
            service=src.service,
            headers=headers,
            timeout=min(src.timeout, max(self.interval, 1.0) * 2),
            verify=source_verify(self.site, src),
        )
        if batch is not None:
            with self.history.write() as conn:
                insert_columns(conn, batch, replace_range=(start, end))
                insert_ingests(conn, [(s.source, "sampler", s.rows) for s in report.sources])
        self._prom_since[name] = end
        return report.rows

    def _newest(self, metrics: list[str], floor: datetime) -> datetime:
        """The newest stored point of these metrics, not before `floor`."""
        try:
            with self.history.read() as cur:
                row = cur.execute(
                    "SELECT max(ts) FROM samples WHERE metric IN (SELECT unnest(?))", [metrics]
                ).fetchone()
        except Exception:
            return floor
        newest = row[0] if row else None
        return max(newest, floor) if newest is not None else floor


def _error_text(exc: BaseException) -> str:
    render = getattr(exc, "render", None)
    if callable(render):
        return str(render()).replace("\n", " ")
    return f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
