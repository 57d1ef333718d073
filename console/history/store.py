"""Metric history in a local DuckDB file: ingest, named queries, ad-hoc SQL, what changed.

DuckDB lets one process hold a database file read-write and then refuses every other process,
read-only ones included, at once and without waiting. So fixmap never holds the file for long:

- a write opens the file, runs one short transaction and closes it; while another process holds
  the file it retries briefly (bounded, with jitter) and announces itself in a small
  "write wanted" file next to the database, so readers elsewhere step aside;
- reads share one read-only connection per process (a cursor per call, so thread workers can
  run side by side and be interrupted one by one); it is closed as soon as it has been idle
  for a moment, or at once when a writer in this process or another one is waiting.

duckdb, numpy and httpx are imported inside the functions that use them: the console's first
frame must not pay for them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.core import FixmapError, Problem, closest

SCHEMA_VERSION = "1"
DB_NAME = "history.duckdb"

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS samples (
        ts TIMESTAMP NOT NULL,
        service VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE,
        labels VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS probe_results (
        ts TIMESTAMP NOT NULL,
        name VARCHAR NOT NULL,
        kind VARCHAR,
        service VARCHAR,
        status VARCHAR,
        value DOUBLE,
        threshold VARCHAR,
        reason VARCHAR,
        duration_ms DOUBLE,
        embedder VARCHAR,
        values_json VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        ts TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL,
        service VARCHAR,
        title VARCHAR,
        detail VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS ingests (
        ingested_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        fingerprint VARCHAR,
        rows BIGINT
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
)
TABLES = ("samples", "probe_results", "events", "ingests", "meta")

KNOWN_METRICS: tuple[str, ...] = (
    "latency_ms",
    "requests",
    "error_rate",
    "rate_5xx",
    "rate_429",
    "delta_s",
    "coverage",
    "lambda_flip_rate",
    "cache_hit_ratio",
)
"""The metric names the playbooks and the demo use; any other name can be stored too."""

EVENT_KINDS: tuple[str, ...] = (
    "deploy",
    "rollback",
    "action",
    "incident",
    "freeze",
    "unfreeze",
    "read_only",
    "read_write",
    "flag",
    "index_swap",
    "cache_rotate",
    "gate",
    "note",
)
"""Event kinds charts know how to mark; other lower-case kinds are stored as given."""

# Accepted spellings of each column of a metric file (lower-cased, stripped).
COLUMN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "datetime", "date_time", "date", "@timestamp"),
    "service": ("service", "service_name", "svc", "job", "app"),
    "metric": ("metric", "name", "metric_name", "__name__", "series"),
    "value": ("value", "val", "metric_value", "y"),
    "labels": ("labels", "tags", "attributes"),
}
FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq")

_EVENT_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_METRIC_NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:.\-]*$")
_LOCK_MARKERS = ("could not set lock", "conflicting lock")
_INTENT_FRESH_S = 1.5
_MAX_ROWS = 10_000

# ---------------------------------------------------------------- results


@dataclass
class QueryResult:
    """Rows of a named or ad-hoc query, and what a chart needs to draw them."""

    columns: list[str]
    rows: list[list[Any]]
    elapsed_ms: float
    types: list[str] = field(default_factory=list)
    """DuckDB type of each column ('TIMESTAMP', 'DOUBLE', 'VARCHAR', ...)."""
    time_column: str | None = None
    """The column to put on a chart's x axis; None: show as a table only."""
    series_columns: list[str] = field(default_factory=list)
    """Numeric columns to draw as lines."""
    group_column: str | None = None
    """Rows split into one line per value of this column (e.g. 'service'); None: one line each."""
    name: str | None = None
    """The named query, or None for ad-hoc SQL."""
    title: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    """The parameters as resolved (durations as given, times as ISO strings)."""
    sql: str = ""
    """The main statement that produced the rows."""
    statements: list[tuple[str, list[Any]]] = field(default_factory=list)
    """Every statement run, with its parameters (the rows' statement first)."""
    since: datetime | None = None
    until: datetime | None = None
    """The time range the query covered (naive UTC), for fetching events to mark on a chart."""
    measures: dict[str, float] = field(default_factory=dict)
    """Summary numbers a gate can judge (p95_uplift, error_rate, ds_p95_drift, ...)."""
    unit: str | None = None
    truncated: bool = False
    """More rows existed than were fetched (max_rows)."""
    note: str | None = None
    """Something to tell the engineer about an empty or partial result."""
    changes: list[Change] | None = None
    """what_changed only: the ranked changes behind the rows."""

    def to_json(self) -> dict[str, Any]:
        """{"columns": [...], "rows": [[...]]} with times as ISO strings."""
        return {
            "columns": list(self.columns),
            "rows": [[jsonable(v) for v in r] for r in self.rows],
        }

    def chart_series(self) -> list[tuple[str, list[datetime], list[float | None]]]:
        """(label, times, values) per line to draw; empty when there is no time column."""
        if self.time_column is None or not self.series_columns:
            return []
        ti = self.columns.index(self.time_column)
        gi = self.columns.index(self.group_column) if self.group_column else None
        out: dict[str, tuple[list[datetime], list[float | None]]] = {}
        for col in self.series_columns:
            ci = self.columns.index(col)
            for row in self.rows:
                label = col if gi is None else f"{row[gi]} {col}"
                xs, ys = out.setdefault(label, ([], []))
                xs.append(row[ti])
                v = row[ci]
                ys.append(None if v is None else float(v))
        return [(label, xs, ys) for label, (xs, ys) in out.items()]


@dataclass(frozen=True)
class Change:
    """One series whose recent window left its baseline."""

    service: str
    metric: str
    labels: str
    """JSON text of the series' other labels, '' when none."""
    direction: str
    """'up' or 'down'."""
    score: float
    """Peak robust z-score of the change (how many baseline spreads away); ranks the list."""
    started: datetime
    """When the change began (naive UTC, start of its first time bucket)."""
    ended: datetime | None
    """When it was back within the baseline; None while it lasts."""
    baseline: float
    """The baseline's median."""
    peak: float
    """The value furthest from the baseline during the change."""
    mean: float
    """The mean value during the change."""
    change_pct: float | None
    """(mean - baseline) / |baseline| in percent; None when the baseline is 0."""

    @property
    def series(self) -> str:
        return f"{self.service}/{self.metric}" + (f" {self.labels}" if self.labels else "")


@dataclass(frozen=True)
class Event:
    """A deploy, rollback, action, incident, freeze ... to mark on a chart."""

    ts: datetime
    kind: str
    service: str | None
    title: str
    detail: dict[str, Any]


@dataclass
class SourceReport:
    source: str
    kind: str
    """'csv', 'parquet' or 'prometheus'."""
    rows: int = 0
    series: int = 0
    skipped: str | None = None
    """Why nothing was ingested from this source (e.g. the same file was ingested before)."""


@dataclass
class IngestReport:
    rows: int
    elapsed_s: float
    sources: list[SourceReport] = field(default_factory=list)
    replaced: int = 0
    """Rows deleted first because the new data covers them (Prometheus re-ingest)."""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "replaced": self.replaced,
            "elapsed_s": round(self.elapsed_s, 3),
            "sources": [s.__dict__ for s in self.sources],
        }


@dataclass(frozen=True)
class NamedQuery:
    """A query the playbooks can name, with its parameters and their defaults."""

    name: str
    title: str
    description: str
    params: dict[str, Any]
    run: Callable[..., QueryResult] = field(repr=False, compare=False)


class HistoryError(FixmapError):
    """A history query, ingest or store operation failed."""


class HistoryBusy(HistoryError):
    """Another process kept the history file locked longer than we were prepared to wait."""


class QueryCancelled(HistoryError):
    """interrupt() stopped the operation; nothing it was writing was kept."""


# ---------------------------------------------------------------- small helpers


def utcnow() -> datetime:
    """Now, as naive UTC (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def jsonable(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return str(v)


def seconds(value: Any, what: str) -> float:
    """'30s', '15m', '24h', '7d', '2w' or a number of seconds -> seconds, or a clear error."""
    from console.core import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise HistoryError(
            f"{what}: {exc}",
            [Problem(None, what, str(exc), hint="use e.g. 30s, 5m, 1h30m, 24h, 7d, 2w")],
        ) from None


def parse_time(value: Any, what: str, now: datetime | None = None) -> datetime:
    """A datetime, an ISO time, 'now', or a duration meaning that long ago -> naive UTC."""
    now = now or utcnow()
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "now":
            return now
        with contextlib.suppress(ValueError):
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
        ago = text.removesuffix(" ago").removeprefix("-")
        with contextlib.suppress(HistoryError):
            return now - timedelta(seconds=seconds(ago, what))
    raise HistoryError(
        f"{what}: '{value}' is not a time",
        [
            Problem(
                None,
                what,
                f"'{value}' is not a time",
                hint="use an ISO time (2024-05-01T10:00:00Z), 'now', or a duration ago (2h)",
            )
        ],
    )


def _fmt_duration(s: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{s:g}s"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(m in text for m in _LOCK_MARKERS)


def _lock_holder(exc: BaseException) -> str:
    m = re.search(r"\(PID (\d+)\)", str(exc))
    return f"process {m.group(1)}" if m else "another process"


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _labels_json(labels: Mapping[str, Any] | None) -> str | None:
    if not labels:
        return None
    return json.dumps({str(k): str(v) for k, v in sorted(labels.items())}, separators=(",", ":"))


# ---------------------------------------------------------------- the store (one per file per process)


class _Store:
    """Connections to one database file, shared by every History on it in this process.

    Inside a process: readers share a read-only connection; a writer waits for them and runs
    alone (DuckDB refuses read-only and read-write connections to one file side by side in one
    process). Across processes: the file lock, retried; a waiting writer touches `intent` so
    that readers in other processes close their idle connection instead of keeping it.
    """

    _registry: dict[str, _Store] = {}
    _registry_lock = threading.Lock()

    @classmethod
    def for_path(cls, path: Path) -> _Store:
        key = str(path.resolve())
        with cls._registry_lock:
            store = cls._registry.get(key)
            if store is None:
                store = cls._registry[key] = _Store(Path(key))
            return store

    def __init__(self, path: Path) -> None:
        self.path = path
        self.intent = path.with_name(f".{path.name}.write-wanted")
        self.cond = threading.Condition()
        self.open_lock = threading.Lock()
        self.readers = 0
        self.writers_waiting = 0
        self.writing = False
        self.ro: Any = None
        self.idle_timer: threading.Timer | None = None
        self.linger = 1.0
        self.memory_limit: str | None = None
        self.last_release = 0.0
        self.schema_ok = False
        self.lock_waits = 0
        """How often opening the file met another process's lock (and was retried)."""

    # -- foreign writers

    def _foreign_writer_waiting(self) -> bool:
        try:
            age = time.time() - self.intent.stat().st_mtime
        except OSError:
            return False
        return age < _INTENT_FRESH_S

    def _announce_write(self) -> None:
        with contextlib.suppress(OSError):
            self.intent.touch()

    def _withdraw_write(self) -> None:
        with contextlib.suppress(OSError):
            self.intent.unlink()

    # -- opening with retry

    def open(self, read_only: bool, deadline: float, cancelled: Callable[[], bool]) -> Any:
        import duckdb

        delay = 0.01
        while True:
            if cancelled():
                raise QueryCancelled("cancelled while waiting for the history file")
            try:
                if read_only:
                    config = {"enable_external_access": False}
                    if self.memory_limit:
                        config["memory_limit"] = self.memory_limit
                    conn = duckdb.connect(str(self.path), read_only=True, config=config)
                else:
                    conn = duckdb.connect(str(self.path))
                conn.execute("SET GLOBAL TimeZone = 'UTC'")  # cursors inherit GLOBAL, not SESSION
                return conn
            except duckdb.Error as exc:
                if not _is_lock_error(exc):
                    raise HistoryError(
                        f"cannot open the history file {self.path}",
                        [
                            Problem(
                                str(self.path),
                                None,
                                _first_line(exc),
                                hint="check the path and its permissions",
                            )
                        ],
                    ) from None
                if time.monotonic() + delay > deadline:
                    raise HistoryBusy(
                        f"the history file {self.path} stayed locked by {_lock_holder(exc)}; "
                        "try again in a moment (an ingest may still be running)",
                    ) from None
                if not read_only:
                    self._announce_write()
                self.lock_waits += 1
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.2)

    # -- readers

    def _close_ro_locked(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        if self.ro is not None:
            with contextlib.suppress(Exception):
                self.ro.close()
            self.ro = None

    def _close_if_idle(self) -> None:
        with self.cond:
            if self.readers == 0:
                self._close_ro_locked()

    def _idle_tick(self) -> None:
        """While the read connection lingers: close it once idle long enough or a writer waits."""
        with self.cond:
            if threading.current_thread() is not self.idle_timer:
                return  # a newer timer took over
            self.idle_timer = None
            if self.readers or self.ro is None:
                return
            if (
                time.monotonic() - self.last_release >= self.linger
                or self._foreign_writer_waiting()
            ):
                self._close_ro_locked()
            else:
                self._arm_idle_locked()

    def _arm_idle_locked(self) -> None:
        self.idle_timer = threading.Timer(min(0.1, self.linger), self._idle_tick)
        self.idle_timer.daemon = True
        self.idle_timer.start()

    @contextlib.contextmanager
    def reading(self, deadline: float, cancelled: Callable[[], bool]) -> Iterator[Any]:
        # give way to a writer in another process: close an idle connection, wait a little
        patience = time.monotonic() + max(0.0, (deadline - time.monotonic()) / 2)
        while self._foreign_writer_waiting() and time.monotonic() < patience:
            with self.cond:
                if self.readers == 0:
                    self._close_ro_locked()
            if cancelled():
                raise QueryCancelled("cancelled while waiting for the history file")
            time.sleep(random.uniform(0.02, 0.06))
        with self.cond:
            while self.writing or self.writers_waiting:
                if cancelled():
                    raise QueryCancelled("cancelled while waiting for the history file")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HistoryBusy(
                        f"the history file {self.path} is busy with a write; try again"
                    )
                self.cond.wait(min(remaining, 0.05))
            self.readers += 1
            if self.idle_timer is not None:
                self.idle_timer.cancel()
                self.idle_timer = None
        try:
            with self.open_lock:
                if self.ro is None:
                    self.ro = self.open(True, deadline, cancelled)
                conn = self.ro
            yield conn
        finally:
            with self.cond:
                self.readers -= 1
                if self.readers == 0:
                    if self.writers_waiting or self._foreign_writer_waiting() or self.linger <= 0:
                        self._close_ro_locked()
                    elif self.ro is not None:
                        self.last_release = time.monotonic()
                        if self.idle_timer is None:
                            self._arm_idle_locked()
                self.cond.notify_all()

    # -- writers

    @contextlib.contextmanager
    def writing_conn(self, deadline: float, cancelled: Callable[[], bool]) -> Iterator[Any]:
        with self.cond:
            self.writers_waiting += 1
            try:
                while self.writing or self.readers:
                    if cancelled():
                        raise QueryCancelled("cancelled while waiting for the history file")
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise HistoryBusy(
                            f"the history file {self.path} is busy with queries; try again"
                        )
                    self.cond.wait(min(remaining, 0.05))
            finally:
                self.writers_waiting -= 1
            self.writing = True
            self._close_ro_locked()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._announce_write()
            conn = self.open(False, deadline, cancelled)
            try:
                yield conn
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
        finally:
            self._withdraw_write()
            with self.cond:
                self.writing = False
                self.cond.notify_all()


def close_all() -> None:
    """Close every idle read connection of this process (tests, shutdown)."""
    with _Store._registry_lock:
        stores = list(_Store._registry.values())
    for store in stores:
        store._close_if_idle()


# ---------------------------------------------------------------- History


class History:
    """Metric samples, probe results and events in one DuckDB file. Sync and thread-safe.

    Call it from thread workers; `interrupt()` from any thread cancels what is running.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        lock_timeout: float = 20.0,
        query_timeout: float | None = None,
        max_rows: int = _MAX_ROWS,
        linger: float = 1.0,
        memory_limit: str | None = "128MB",
    ) -> None:
        self.path = Path(db_path).expanduser()
        self.lock_timeout = lock_timeout
        self.query_timeout = query_timeout
        self.max_rows = max_rows
        self._store = _Store.for_path(self.path)
        self._store.linger = linger
        self._store.memory_limit = memory_limit
        self._active: set[Any] = set()
        self._active_lock = threading.Lock()
        self._generation = 0

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"

    # -- plumbing

    def _cancel_check(self) -> Callable[[], bool]:
        gen = self._generation
        return lambda: self._generation != gen

    def interrupt(self) -> None:
        """Cancel every query or write this History is running or waiting for (any thread)."""
        with self._active_lock:
            self._generation += 1
            active = list(self._active)
        for conn in active:
            with contextlib.suppress(Exception):
                conn.interrupt()

    @contextlib.contextmanager
    def _track(self, conn: Any, cancelled: Callable[[], bool]) -> Iterator[Any]:
        with self._active_lock:
            if cancelled():
                raise QueryCancelled("the query was cancelled")
            self._active.add(conn)
        timer = None
        if self.query_timeout:
            timer = threading.Timer(self.query_timeout, conn.interrupt)
            timer.daemon = True
            timer.start()
        try:
            yield conn
        finally:
            if timer is not None:
                timer.cancel()
            with self._active_lock:
                self._active.discard(conn)

    @contextlib.contextmanager
    def _read(self) -> Iterator[Any]:
        """A cursor on the shared read-only connection, tracked for interrupt()."""
        self.ensure_schema()
        cancelled = self._cancel_check()
        deadline = time.monotonic() + self.lock_timeout
        with self._store.reading(deadline, cancelled) as conn:
            cur = conn.cursor()
            try:
                with self._track(cur, cancelled):
                    yield cur
            finally:
                with contextlib.suppress(Exception):
                    cur.close()

    @contextlib.contextmanager
    def _write(self, *, schema: bool = True) -> Iterator[Any]:
        """One read-write transaction; rolled back (nothing kept) on any error."""
        if schema:
            self.ensure_schema()
        cancelled = self._cancel_check()
        deadline = time.monotonic() + self.lock_timeout
        with self._store.writing_conn(deadline, cancelled) as conn, self._track(conn, cancelled):
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _db_error(self, exc: BaseException, what: str, hint: str | None = None) -> HistoryError:
        import duckdb

        if isinstance(exc, duckdb.InterruptException):
            return QueryCancelled(f"{what} was cancelled")
        problems = [Problem("SQL", None, hint)] if hint else []
        return HistoryError(f"{what} failed: {str(exc).strip()}", problems)

    def ensure_schema(self) -> None:
        """Create the tables on first use (a read-only check when they are there already)."""
        store = self._store
        if store.schema_ok:
            return
        if self.path.exists():
            cancelled = self._cancel_check()
            deadline = time.monotonic() + self.lock_timeout
            with store.reading(deadline, cancelled) as conn:
                have = {
                    r[0]
                    for r in conn.cursor()
                    .execute(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                    )
                    .fetchall()
                }
                version = None
                if "meta" in have:
                    row = (
                        conn.cursor()
                        .execute("SELECT value FROM meta WHERE key = 'schema_version'")
                        .fetchone()
                    )
                    version = row[0] if row else None
            if set(TABLES) <= have and version == SCHEMA_VERSION:
                store.schema_ok = True
                return
        with self._write(schema=False) as conn:
            for stmt in SCHEMA:
                conn.execute(stmt)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
            )
        store.schema_ok = True

    # -- ingest: files

    def ingest_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        service: str | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Bulk-load CSV/Parquet files (DuckDB's own readers) in one transaction.

        Columns are found by name (ts/timestamp/time, service, metric/name, value, labels);
        other columns become labels. `service` names the service for files without a service
        column. A file ingested before (same size and content fingerprint) is skipped unless
        `force`. Any bad file: nothing from any of them is kept.
        """
        t0 = time.perf_counter()
        files = expand_paths(paths)
        fingerprints = {f: _fingerprint(f) for f in files}
        report = IngestReport(rows=0, elapsed_s=0.0)
        with self._write() as conn:
            plans: list[tuple[Path, tuple[str, dict[str, tuple[str, str]]], SourceReport]] = []
            problems: list[Problem] = []
            seen = {
                fp
                for (fp,) in conn.execute(
                    "SELECT fingerprint FROM ingests WHERE fingerprint IS NOT NULL"
                ).fetchall()
            }
            for f in files:
                kind = "parquet" if f.name.lower().endswith((".parquet", ".pq")) else "csv"
                src = SourceReport(str(f), kind)
                report.sources.append(src)
                if not force and fingerprints[f] in seen:
                    src.skipped = (
                        "ingested before (same size and content); use --force to load it again"
                    )
                    continue
                seen.add(fingerprints[f])
                try:
                    plans.append((f, _file_select(conn, f, kind, service), src))
                except HistoryError as exc:
                    problems.extend(exc.problems)
            if problems:
                raise HistoryError("nothing was ingested: fix these files and run again", problems)
            for f, (select, chosen), src in plans:
                try:
                    src.rows = int(conn.execute(f"INSERT INTO samples {select}").fetchone()[0])
                except Exception as exc:
                    raise _insert_error(exc, f, src.kind, chosen) from None
                conn.execute(
                    "INSERT INTO ingests VALUES (?, ?, ?, ?, ?)",
                    [utcnow(), str(f), src.kind, fingerprints[f], src.rows],
                )
                report.rows += src.rows
        report.elapsed_s = time.perf_counter() - t0
        return report

    # -- ingest: Prometheus

    def ingest_prometheus(
        self,
        url: str,
        queries: str | Sequence[str] | Mapping[str, str],
        since: str | float = "24h",
        step: str | float = "30s",
        *,
        until: Any = None,
        metric: str | None = None,
        service: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> IngestReport:
        """query_range each PromQL query and store the series (replacing what the range covers).

        `queries`: one PromQL string, a list, or {metric name: PromQL}. A series is stored under
        the dict key, else `metric`, else its __name__; its service is `service`, else its
        `service` label, else its `job` label. Other labels are kept as labels.
        """
        t0 = time.perf_counter()
        since_s = seconds(since, "since")
        step_s = seconds(step, "step")
        if step_s <= 0:
            raise HistoryError("step must be more than 0s", [Problem(None, "step", "must be > 0")])
        end = parse_time(until, "until") if until is not None else utcnow()
        start = end - timedelta(seconds=since_s)
        if isinstance(queries, str):
            named_qs: list[tuple[str | None, str]] = [(metric, queries)]
        elif isinstance(queries, Mapping):
            named_qs = [(str(k), str(v)) for k, v in queries.items()]
        else:
            qs = [str(q) for q in queries]
            if metric and len(qs) > 1:
                raise HistoryError(
                    "--metric names one query's series; with several queries give each a name",
                    [
                        Problem(
                            None,
                            "metric",
                            "ambiguous with several queries",
                            hint="run one ingest per query, or name them in the site config",
                        )
                    ],
                )
            named_qs = [(metric, q) for q in qs]
        if not named_qs:
            raise HistoryError("no PromQL query given", [Problem(None, "query", "missing")])
        for name, _ in named_qs:
            if name is not None and not _METRIC_NAME.match(name):
                raise HistoryError(
                    f"'{name}' is not a usable metric name",
                    [Problem(None, "metric", "use letters, digits, _ : . -")],
                )

        columns: dict[str, list[Any]] = {
            "ts": [],
            "service": [],
            "metric": [],
            "value": [],
            "labels": [],
        }
        report = IngestReport(rows=0, elapsed_s=0.0)
        for name, promql in named_qs:
            series = fetch_prometheus(
                url, promql, start, end, step_s, headers=headers, timeout=timeout
            )
            src = SourceReport(f"{url} {promql}", "prometheus")
            report.sources.append(src)
            for labels, ts, values in series:
                labels = dict(labels)
                metric_name = name or labels.get("__name__")
                if not metric_name:
                    raise HistoryError(
                        f"the result of '{promql}' has no metric name",
                        [
                            Problem(
                                None,
                                "metric",
                                "the series has no __name__ label",
                                hint="name it with --metric NAME (or a name in the site config)",
                            )
                        ],
                    )
                labels.pop("__name__", None)
                svc = service
                if svc is None:
                    svc = labels.pop("service", None) or labels.pop("job", None)
                if not svc:
                    raise HistoryError(
                        f"a series of '{promql}' has no service or job label",
                        [
                            Problem(
                                None,
                                "service",
                                f"labels: {labels}",
                                hint="name it with --service NAME",
                            )
                        ],
                    )
                n = len(ts)
                columns["ts"].append(ts)
                columns["value"].append(values)
                columns["service"].append([svc] * n)
                columns["metric"].append([metric_name] * n)
                columns["labels"].append([_labels_json(labels)] * n)
                src.rows += n
                src.series += 1
        report.rows = sum(s.rows for s in report.sources)
        if report.rows:
            import numpy as np

            batch = {
                "ts": np.concatenate(columns["ts"]),
                "service": np.array([x for part in columns["service"] for x in part], dtype=object),
                "metric": np.array([x for part in columns["metric"] for x in part], dtype=object),
                "value": np.concatenate(columns["value"]),
                "labels": np.array([x for part in columns["labels"] for x in part], dtype=object),
            }
            report.replaced = self._insert_batch(
                batch,
                replace_range=(start, end),
                log=[(s.source, "prometheus", s.rows) for s in report.sources],
            )
        report.elapsed_s = time.perf_counter() - t0
        return report

    def insert_samples(
        self, batch: Mapping[str, Any], *, replace_range: tuple[datetime, datetime] | None = None
    ) -> int:
        """Bulk-insert columns {ts, service, metric, value[, labels]} (numpy arrays or lists).

        With `replace_range`, rows of the same (service, metric) inside it are deleted first,
        in the same transaction. Returns the number of rows replaced.
        """
        import numpy as np

        n = len(batch["ts"])
        cols = {
            "ts": np.asarray(batch["ts"], dtype="datetime64[us]"),
            "service": np.asarray(batch["service"], dtype=object),
            "metric": np.asarray(batch["metric"], dtype=object),
            "value": np.asarray(batch["value"], dtype=np.float64),
            "labels": np.asarray(batch.get("labels", [None] * n), dtype=object),
        }
        if any(len(v) != n for v in cols.values()):
            raise HistoryError("insert_samples: columns of different lengths")
        return self._insert_batch(cols, replace_range=replace_range)

    def _insert_batch(
        self,
        cols: dict[str, Any],
        *,
        replace_range: tuple[datetime, datetime] | None,
        log: Sequence[tuple[str, str, int]] = (),
    ) -> int:
        replaced = 0
        with self._write() as conn:
            conn.register("fixmap_new_rows", cols)
            try:
                if replace_range is not None:
                    row = conn.execute(
                        "DELETE FROM samples USING (SELECT DISTINCT service, metric FROM fixmap_new_rows) AS n "
                        "WHERE samples.service = n.service AND samples.metric = n.metric "
                        "AND samples.ts >= ? AND samples.ts <= ?",
                        list(replace_range),
                    ).fetchone()
                    replaced = int(row[0]) if row else 0
                conn.execute(
                    "INSERT INTO samples SELECT ts::TIMESTAMP, service, metric, value, labels "
                    "FROM fixmap_new_rows WHERE value IS NOT NULL AND isfinite(value)"
                )
            finally:
                conn.unregister("fixmap_new_rows")
            now = utcnow()
            for source, kind, rows in log:
                conn.execute(
                    "INSERT INTO ingests VALUES (?, ?, ?, NULL, ?)", [now, source, kind, rows]
                )
        return replaced

    # -- probe results and events

    def record_probe_results(self, results: Sequence[Mapping[str, Any]]) -> int:
        """Store probe results (redacted). Keys: name (required), ts, kind, service, status,
        value, threshold, reason, duration_ms, embedder, values; other keys go into values_json."""
        from console.core import redact_obj

        known = {
            "ts",
            "name",
            "kind",
            "service",
            "status",
            "value",
            "threshold",
            "reason",
            "duration_ms",
            "embedder",
            "values",
        }
        rows: list[list[Any]] = []
        now = utcnow()
        for i, raw in enumerate(results):
            r = redact_obj(dict(raw))
            if not r.get("name"):
                raise HistoryError(
                    "a probe result has no name", [Problem(None, f"results[{i}].name", "missing")]
                )
            values = r.get("values")
            extra = {k: v for k, v in r.items() if k not in known}
            if r.get("value") is not None and _num_or_none(r.get("value")) is None:
                extra["value"] = r["value"]  # a text headline ('read-write') is kept here
            if extra:
                values = {**(values if isinstance(values, dict) else {"values": values}), **extra}
            rows.append(
                [
                    parse_time(r["ts"], "ts", now) if r.get("ts") is not None else now,
                    str(r["name"]),
                    _opt_str(r.get("kind")),
                    _opt_str(r.get("service")),
                    _opt_str(r.get("status")),
                    _num_or_none(r.get("value")),
                    _opt_str(r.get("threshold")),
                    _opt_str(r.get("reason")),
                    _opt_float(r.get("duration_ms"), f"results[{i}].duration_ms"),
                    _opt_str(r.get("embedder")),
                    None if values is None else json.dumps(jsonable(values), ensure_ascii=False),
                ]
            )
        self._insert_rows("probe_results", rows, 11)
        return len(rows)

    def record_events(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Store events (redacted). Keys: kind (deploy, rollback, action, incident, freeze, ...),
        ts (default now), service, title, detail (a dict)."""
        from console.core import redact_obj

        rows: list[list[Any]] = []
        now = utcnow()
        for i, raw in enumerate(events):
            e = redact_obj(dict(raw))
            kind = str(e.get("kind") or "")
            if not _EVENT_KIND.match(kind):
                guess = closest(kind, EVENT_KINDS)
                raise HistoryError(
                    f"event kind '{kind}' is not valid",
                    [
                        Problem(
                            None,
                            f"events[{i}].kind",
                            "use a lower-case word like deploy or rollback",
                            hint=f"did you mean '{guess}'?" if guess else None,
                        )
                    ],
                )
            detail = e.get("detail")
            rows.append(
                [
                    parse_time(e["ts"], "ts", now) if e.get("ts") is not None else now,
                    kind,
                    _opt_str(e.get("service")),
                    str(e.get("title") or ""),
                    None if detail is None else json.dumps(jsonable(detail), ensure_ascii=False),
                ]
            )
        self._insert_rows("events", rows, 5)
        return len(rows)

    def _insert_rows(self, table: str, rows: list[list[Any]], width: int) -> None:
        if not rows:
            return
        with self._write() as conn:
            for i in range(0, len(rows), 500):
                chunk = rows[i : i + 500]
                marks = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(chunk))
                conn.execute(f"INSERT INTO {table} VALUES {marks}", [v for r in chunk for v in r])

    def events(
        self,
        since: Any = None,
        until: Any = None,
        *,
        service: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[Event]:
        """Events in [since, until] (datetimes, ISO strings or durations ago), oldest first.

        Events with no service are included whatever `service` is.
        """
        now = utcnow()
        lo = parse_time(since, "since", now) if since is not None else datetime(1970, 1, 1)
        hi = parse_time(until, "until", now) if until is not None else datetime(9999, 1, 1)
        sql = "SELECT ts, kind, service, title, detail FROM events WHERE ts >= ? AND ts <= ?"
        params: list[Any] = [lo, hi]
        if service:
            sql += " AND (service = ? OR service IS NULL)"
            params.append(service)
        if kinds:
            sql += " AND kind IN (SELECT unnest(?))"
            params.append(list(kinds))
        sql += " ORDER BY ts"
        with self._read() as cur:
            try:
                rows = cur.execute(sql, params).fetchall()
            except Exception as exc:
                raise self._db_error(exc, "reading events") from None
        return [Event(r[0], r[1], r[2], r[3] or "", json.loads(r[4]) if r[4] else {}) for r in rows]

    # -- ad-hoc SQL

    def sql(self, text: str, *, max_rows: int | None = None) -> QueryResult:
        """Run SQL on a read-only connection. Writes and errors come back as HistoryError with
        the database's message; nothing changes."""
        if not text or not text.strip():
            raise HistoryError(
                "the SQL is empty",
                [
                    Problem(
                        None,
                        "sql",
                        "empty",
                        hint="e.g. SELECT metric, count(*) FROM samples GROUP BY metric",
                    )
                ],
            )
        limit = self.max_rows if max_rows is None else max_rows
        t0 = time.perf_counter()
        with self._read() as cur:
            try:
                cur.execute(text)
                result = _fetch(cur, limit)
            except Exception as exc:
                hint = None
                low = str(exc).lower()
                if "read-only" in low or "read only" in low:
                    hint = "history queries run read-only; load data with 'fixmap history ingest'"
                elif "does not exist" in low and "table" in low:
                    hint = "tables: " + ", ".join(TABLES)
                elif "file system operations are disabled" in low:
                    hint = "ad-hoc SQL reads the history only; ingest files with 'fixmap history ingest'"
                elif "out of memory" in low:
                    hint = (
                        f"the query needs more than the {self._store.memory_limit} the history may use; "
                        "narrow it (a time range, fewer series) or raise [history] memory_limit"
                    )
                raise self._db_error(exc, "the query", hint) from None
        columns, types, rows, truncated = result
        time_col, series, group = _chart_shape(columns, types)
        return QueryResult(
            columns=columns,
            rows=rows,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            types=types,
            time_column=time_col,
            series_columns=series,
            group_column=group,
            title="SQL",
            sql=text,
            statements=[(text, [])],
            truncated=truncated,
        )

    # -- named queries

    def named(self, name: str, **params: Any) -> QueryResult:
        """Run a named query (latency_percentiles, window_vs_baseline, error_rates,
        quality_trend, cache_hit_ratio, what_changed) with validated parameters."""
        spec = NAMED_QUERIES.get(name)
        if spec is None:
            guess = closest(name, NAMED_QUERIES)
            raise HistoryError(
                f"unknown named query '{name}'",
                [
                    Problem(
                        None,
                        "named",
                        f"'{name}' is not a named query",
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else "known: " + ", ".join(NAMED_QUERIES),
                    )
                ],
            )
        resolved = _resolve_params(spec, params)
        t0 = time.perf_counter()
        result = spec.run(self, resolved)
        result.elapsed_ms = (time.perf_counter() - t0) * 1000
        result.name = spec.name
        result.title = result.title or spec.title
        return result

    def _run(
        self,
        cur: Any,
        statements: list[tuple[str, list[Any]]],
        sql: str,
        params: list[Any],
        limit: int | None = None,
    ) -> tuple[list[str], list[str], list[list[Any]], bool]:
        statements.append((sql, params))
        try:
            cur.execute(sql, params)
            return _fetch(cur, self.max_rows if limit is None else limit)
        except Exception as exc:
            raise self._db_error(exc, "the named query") from None

    def _explain_empty(self, cur: Any, q: _Q, metrics: Sequence[str]) -> str:
        """Why a named query found nothing: a typo (an error) or no samples in the window."""
        have = {r[0] for r in cur.execute("SELECT DISTINCT metric FROM samples").fetchall()}
        for m in metrics:
            if m not in have and len(metrics) == 1:
                guess = closest(m, have | set(KNOWN_METRICS))
                raise HistoryError(
                    f"no samples of metric '{m}' in the history",
                    [
                        Problem(
                            None,
                            "metric",
                            f"'{m}' has never been ingested",
                            hint=f"did you mean '{guess}'?"
                            if guess
                            else (
                                "metrics: " + ", ".join(sorted(have))
                                if have
                                else "the history is empty: run 'fixmap history ingest'"
                            ),
                        )
                    ],
                )
        if q.service:
            services = {
                r[0] for r in cur.execute("SELECT DISTINCT service FROM samples").fetchall()
            }
            if q.service not in services:
                guess = closest(q.service, services)
                raise HistoryError(
                    f"no samples of service '{q.service}' in the history",
                    [
                        Problem(
                            None,
                            "service",
                            f"'{q.service}' has no samples",
                            hint=f"did you mean '{guess}'?"
                            if guess
                            else ("services: " + ", ".join(sorted(services)) if services else None),
                        )
                    ],
                )
        row = cur.execute(
            "SELECT max(ts) FROM samples WHERE metric IN (SELECT unnest(?))"
            + (" AND service = ?" if q.service else ""),
            [list(metrics), *([q.service] if q.service else [])],
        ).fetchone()
        latest = row[0] if row else None
        span = q.span("window")
        if latest is None:
            return f"no samples of {', '.join(metrics)} yet"
        return f"no samples in the last {span} before {q.until:%Y-%m-%d %H:%M} UTC (latest: {latest:%Y-%m-%d %H:%M})"

    # -- what changed

    def what_changed(
        self,
        service: str | None = None,
        window: str | float = "1h",
        baseline: str | float = "24h",
        *,
        until: Any = None,
        bucket: str | float | None = None,
        limit: int = 20,
    ) -> list[Change]:
        """Series whose recent window left its baseline, ranked by how far (robust z-score)."""
        params: dict[str, Any] = {"window": window, "baseline": baseline, "limit": limit}
        if service is not None:
            params["service"] = service
        if until is not None:
            params["until"] = until
        if bucket is not None:
            params["bucket"] = bucket
        q = _Q.from_params(_resolve_params(NAMED_QUERIES["what_changed"], params))
        with self._read() as cur:
            changes, _ = _detect_changes(self, cur, q, [])
        return changes


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


def _num_or_none(v: Any) -> float | None:
    """A probe's headline value as a number, or NULL when it is text ('read-write'); the text
    stays in values_json."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _opt_float(v: Any, what: str) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        raise HistoryError(
            f"{what}: '{v}' is not a number", [Problem(None, what, "not a number")]
        ) from None


def _fetch(cur: Any, limit: int) -> tuple[list[str], list[str], list[list[Any]], bool]:
    desc = cur.description
    if not desc:
        return [], [], [], False
    columns = [d[0] for d in desc]
    types = [str(d[1]) for d in desc]
    if limit and limit > 0:
        raw = cur.fetchmany(limit + 1)
        truncated = len(raw) > limit
        raw = raw[:limit]
    else:
        raw = cur.fetchall()
        truncated = False
    return columns, types, [list(r) for r in raw], truncated


_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
)


def _chart_shape(columns: list[str], types: list[str]) -> tuple[str | None, list[str], str | None]:
    """Guess a chart from column types: the first time column, numeric series, a text grouping."""
    time_col = next(
        (c for c, t in zip(columns, types, strict=True) if t.startswith(("TIMESTAMP", "DATE"))),
        None,
    )
    if time_col is None:
        return None, [], None
    series = [
        c
        for c, t in zip(columns, types, strict=True)
        if t.startswith(_NUMERIC) and not t.endswith("[]")
    ]
    group = next((c for c, t in zip(columns, types, strict=True) if t == "VARCHAR"), None)
    return time_col, series, group


# ---------------------------------------------------------------- file ingest helpers


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files, folders (their CSV/Parquet files) and glob patterns -> files; a clear error for the rest."""
    out: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if any(ch in str(raw) for ch in "*?["):
            matches = sorted(
                q
                for q in Path(p.anchor or ".").glob(
                    str(p.relative_to(p.anchor)) if p.anchor else str(p)
                )
                if q.is_file()
            )
            if not matches:
                problems.append(Problem(str(raw), None, "no file matches this pattern"))
            out.extend(matches)
        elif p.is_dir():
            found = sorted(
                q for q in p.rglob("*") if q.is_file() and q.name.lower().endswith(FILE_SUFFIXES)
            )
            if not found:
                problems.append(Problem(str(p), None, "no CSV or Parquet files in this folder"))
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(str(p), None, "no such file or folder"))
    for p in out:
        if not p.name.lower().endswith(FILE_SUFFIXES):
            problems.append(
                Problem(
                    str(p),
                    None,
                    "not a CSV or Parquet file",
                    hint="name it .csv, .csv.gz, .tsv or .parquet",
                )
            )
    if not out and not problems:
        problems.append(Problem(None, None, "no files given"))
    if problems:
        raise HistoryError("nothing was ingested", problems)
    unique: list[Path] = []
    for p in out:
        if p not in unique:
            unique.append(p)
    return unique


def _fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: cheap, and enough to spot a re-ingest."""
    size = path.stat().st_size
    h = hashlib.sha1(str(size).encode())
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
        if size > 2 << 20:
            fh.seek(-(1 << 20), os.SEEK_END)
            h.update(fh.read(1 << 20))
    return f"{size}:{h.hexdigest()}"


def _reader(path: Path, kind: str, types: dict[str, str] | None = None) -> str:
    if kind == "parquet":
        return f"read_parquet({_sql_str(str(path))})"
    if types:
        # the sniffer only samples the file: a column of integers that turns to 12.5 on line
        # 30,000, or a service named 123, must not fail the load
        struct = ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in types.items())
        return f"read_csv({_sql_str(str(path))}, header = true, types = {{{struct}}})"
    return f"read_csv({_sql_str(str(path))}, header = true)"


def _file_select(
    conn: Any, path: Path, kind: str, service: str | None
) -> tuple[str, dict[str, tuple[str, str]]]:
    """The SELECT mapping a file's columns onto samples, and the columns it chose per role
    (role -> (column, type)); or a HistoryError naming what is wrong."""
    file = str(path)
    try:
        described = conn.execute(f"DESCRIBE SELECT * FROM {_reader(path, kind)}").fetchall()
    except Exception as exc:
        raise HistoryError(
            f"cannot read {file}",
            [
                Problem(
                    file,
                    None,
                    _first_line(exc),
                    hint="is it a valid " + ("Parquet" if kind == "parquet" else "CSV") + " file?",
                )
            ],
        ) from None
    cols = [(str(r[0]), str(r[1])) for r in described]
    by_low: dict[str, tuple[str, str]] = {}
    for name, typ in cols:
        by_low.setdefault(name.strip().lower(), (name, typ))
    chosen: dict[str, tuple[str, str]] = {}
    for role, spellings in COLUMN_SPELLINGS.items():
        for s in spellings:
            if s in by_low and by_low[s][0] not in {c[0] for c in chosen.values()}:
                chosen[role] = by_low[s]
                break
    used = {c[0] for c in chosen.values()}
    unused = [name for name, _ in cols if name not in used]
    problems: list[Problem] = []
    required = ["ts", "metric", "value"] + ([] if service else ["service"])
    for role in required:
        if role in chosen:
            continue
        spellings = COLUMN_SPELLINGS[role]
        guess = None
        for name in unused:
            if closest(name.strip().lower(), spellings):
                guess = name
                break
        accepted = "/".join(spellings[:4])
        if guess:
            reason = f"no '{role}' column; '{guess}' looks like a typo"
            hint = f"rename column '{guess}' to '{closest(guess.strip().lower(), spellings)}'"
        else:
            reason = f"no '{role}' column (accepted names: {accepted})"
            hint = "columns in the file: " + ", ".join(name for name, _ in cols)
            if role == "service":
                hint = "add a service column, or name the service with --service NAME"
        problems.append(Problem(file, role, reason, hint=hint))
    if problems:
        raise HistoryError(f"{file} cannot be ingested", problems)

    ts_name, ts_type = chosen["ts"]
    ts_col = _ident(ts_name)
    if ts_type.startswith("TIMESTAMP") or ts_type == "DATE":
        ts_expr = f"CAST({ts_col} AS TIMESTAMP)"
    elif ts_type.startswith(_NUMERIC):
        # epoch seconds, milliseconds, microseconds or nanoseconds, by magnitude
        ts_expr = (
            f"make_timestamp(CAST(CASE WHEN abs({ts_col}) >= 1e17 THEN {ts_col} / 1000 "
            f"WHEN abs({ts_col}) >= 1e14 THEN {ts_col} WHEN abs({ts_col}) >= 1e11 THEN {ts_col} * 1000 "
            f"ELSE {ts_col} * 1000000 END AS BIGINT))"
        )
    elif ts_type == "VARCHAR":
        ts_expr = f"CAST(CAST({ts_col} AS TIMESTAMPTZ) AS TIMESTAMP)"
    else:
        raise HistoryError(
            f"{file} cannot be ingested",
            [
                Problem(
                    file,
                    ts_name,
                    f"column '{ts_name}' is {ts_type}, not a time",
                    hint="use ISO times (2024-05-01T10:00:00Z) or epoch seconds/milliseconds",
                )
            ],
        )

    if kind == "csv":
        forced = {chosen["value"][0]: "DOUBLE"}
        for role in ("service", "metric", "labels"):
            if role in chosen:
                forced[chosen[role][0]] = "VARCHAR"
        for role, (name, _typ) in list(chosen.items()):
            if name in forced:
                chosen[role] = (name, forced[name])
        cols = [(n, forced.get(n, t)) for n, t in cols]
    else:
        forced = None
    v_name, v_type = chosen["value"]
    if v_type.startswith(_NUMERIC):
        value_expr = f"CAST({_ident(v_name)} AS DOUBLE)"
    elif v_type == "VARCHAR":
        value_expr = f"CAST(NULLIF(trim({_ident(v_name)}), '') AS DOUBLE)"
    else:
        raise HistoryError(
            f"{file} cannot be ingested",
            [Problem(file, v_name, f"column '{v_name}' is {v_type}, not a number")],
        )

    def text(role: str) -> str:
        name, typ = chosen[role]
        return _ident(name) if typ == "VARCHAR" else f"CAST({_ident(name)} AS VARCHAR)"

    service_expr = text("service") if "service" in chosen else _sql_str(service or "")
    metric_expr = text("metric")
    extras = [(name, typ) for name, typ in cols if name not in {c[0] for c in chosen.values()}]
    label_parts: list[str] = []
    if "labels" in chosen:
        lname, ltype = chosen["labels"]
        label_parts.append(_ident(lname) if ltype == "VARCHAR" else f"to_json({_ident(lname)})")
    if extras:
        pairs = ", ".join(f"{_sql_str(n)}, CAST({_ident(n)} AS VARCHAR)" for n, _ in extras)
        label_parts.append(f"json_object({pairs})")
    if not label_parts:
        labels_expr = "CAST(NULL AS VARCHAR)"
    elif len(label_parts) == 1:
        labels_expr = f"NULLIF(CAST({label_parts[0]} AS VARCHAR), '{{}}')"
    else:
        labels_expr = (
            f"NULLIF(CAST(json_merge_patch({label_parts[0]}, {label_parts[1]}) AS VARCHAR), '{{}}')"
        )
    return (
        f"SELECT {ts_expr}, {service_expr}, {metric_expr}, {value_expr}, {labels_expr} "
        f"FROM {_reader(path, kind, forced)}"
    ), chosen


def _insert_error(
    exc: BaseException, path: Path, kind: str, chosen: dict[str, tuple[str, str]]
) -> HistoryError:
    """What went wrong in a file that failed half-way, with the first offending row."""
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return QueryCancelled(f"ingesting {path} was cancelled; nothing was kept")
    text = str(exc).strip()
    low = text.lower()
    role = None
    hint = None
    m = re.search(r"not null constraint failed: samples\.(\w+)", low)
    if m:
        role = m.group(1)
        hint = f"every row needs a {role}"
    elif "double" in low:
        role = "value"
        hint = "the value column must hold numbers"
    elif "timestamp" in low or "date" in low:
        role = "ts"
        hint = "use ISO times (2024-05-01T10:00:00Z) or epoch seconds/milliseconds"
    csv_line = re.search(r"CSV Error on Line: (\d+)", text)
    csv_column = re.search(r'Error when converting column "(.+?)"\. (.+)', text)
    if csv_line and csv_column:
        by_name = {name: r for r, (name, _t) in chosen.items()}
        role = by_name.get(csv_column.group(1), role)
        return HistoryError(
            f"nothing was ingested: {path} has a bad row",
            [
                Problem(
                    str(path),
                    csv_column.group(1),
                    f"line {csv_line.group(1)}: {csv_column.group(2)}",
                    hint=hint if role != "ts" else "use one time format throughout the file",
                )
            ],
        )
    if csv_line:
        return HistoryError(
            f"nothing was ingested: {path} has a bad row",
            [Problem(str(path), None, f"line {csv_line.group(1)}: {text.splitlines()[0]}")],
        )
    column = chosen[role][0] if role in chosen else role
    reason = text.splitlines()[0]
    if role in chosen:
        where = _first_bad_row(path, kind, role, chosen[role])
        if where:
            reason = f"{where}: {reason}"
    return HistoryError(
        f"nothing was ingested: {path} has a bad row",
        [Problem(str(path), column, reason, hint=hint)],
    )


def _first_bad_row(path: Path, kind: str, role: str, column: tuple[str, str]) -> str | None:
    """'line 12 has 'abc'' for the first row whose `role` column cannot be stored (best effort)."""
    import duckdb

    name, typ = column
    col = _ident(name)
    if role == "value":
        bad = f"{col} IS NOT NULL AND TRY_CAST({col} AS DOUBLE) IS NULL AND trim(CAST({col} AS VARCHAR)) <> ''"
    elif role == "ts" and typ == "VARCHAR":
        bad = f"{col} IS NULL OR TRY_CAST({col} AS TIMESTAMPTZ) IS NULL"
    else:
        bad = f"{col} IS NULL"
    con = duckdb.connect()  # in memory: the history file is not touched
    try:
        con.execute("SET TimeZone = 'UTC'")
        row = con.execute(
            f"SELECT n, CAST({col} AS VARCHAR) FROM (SELECT row_number() OVER () AS n, * "
            f"FROM {_reader(path, kind)}) WHERE {bad} LIMIT 1"
        ).fetchone()
    except Exception:
        return None
    finally:
        con.close()
    if row is None:
        return None
    n, raw = row
    where = f"line {n + 1}" if kind == "csv" else f"row {n}"
    return f"{where} has {raw!r}" if raw is not None else f"{where} has no {name}"


# ---------------------------------------------------------------- Prometheus


def fetch_prometheus(
    url: str,
    promql: str,
    start: datetime,
    end: datetime,
    step_s: float,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> list[tuple[dict[str, str], Any, Any]]:
    """query_range over [start, end] in chunks of at most 10,000 steps.

    Returns (labels, timestamps as datetime64[us], values as float64) per series.
    """
    import httpx
    import numpy as np

    base = url.rstrip("/")
    endpoint = base + "/api/v1/query_range"
    chunk = timedelta(seconds=step_s * 10_000)
    parts: dict[str, tuple[dict[str, str], list[Any], list[Any]]] = {}
    lo = start
    try:
        with httpx.Client(timeout=timeout, headers=dict(headers or {})) as client:
            while lo < end:
                hi = min(lo + chunk, end)
                resp = client.post(
                    endpoint,
                    data={
                        "query": promql,
                        "start": f"{lo.replace(tzinfo=UTC).timestamp():.3f}",
                        "end": f"{hi.replace(tzinfo=UTC).timestamp():.3f}",
                        "step": f"{step_s:g}",
                    },
                )
                body = _prom_body(resp, url, promql)
                data = body.get("data") or {}
                if data.get("resultType") != "matrix":
                    raise HistoryError(
                        f"Prometheus answered '{promql}' with a {data.get('resultType')}, not a range",
                        [Problem(url, "query", "query_range must return a matrix")],
                    )
                for item in data.get("result") or []:
                    labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
                    key = json.dumps(labels, sort_keys=True)
                    values = item.get("values") or []
                    if not values:
                        continue
                    arr = np.asarray(values, dtype=object)
                    ts = (
                        (arr[:, 0].astype(np.float64) * 1e6)
                        .astype(np.int64)
                        .astype("datetime64[us]")
                    )
                    vals = arr[:, 1].astype(np.float64)
                    entry = parts.setdefault(key, (labels, [], []))
                    entry[1].append(ts)
                    entry[2].append(vals)
                lo = hi + timedelta(seconds=step_s)
    except httpx.HTTPError as exc:
        raise HistoryError(
            f"cannot reach Prometheus at {url}: {exc}",
            [
                Problem(
                    url, None, type(exc).__name__, hint="check the URL and that the server is up"
                )
            ],
        ) from None
    out = []
    for labels, ts_parts, v_parts in parts.values():
        ts = np.concatenate(ts_parts)
        vals = np.concatenate(v_parts)
        keep = np.isfinite(vals)
        out.append((labels, ts[keep], vals[keep]))
    return out


def _prom_body(resp: Any, url: str, promql: str) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise HistoryError(
            f"{url} did not answer like a Prometheus API (HTTP {resp.status_code})",
            [
                Problem(
                    url,
                    None,
                    resp.text[:200].strip() or "empty body",
                    hint="give the server's base URL, e.g. http://127.0.0.1:9090",
                )
            ],
        )
    if body.get("status") != "success":
        raise HistoryError(
            f"Prometheus rejected '{promql}': {body.get('error') or resp.status_code}",
            [Problem(url, "query", str(body.get("error") or body), hint=body.get("errorType"))],
        )
    return body


def ingest_sources(history: History, site: Any, names: Sequence[str] | None = None) -> IngestReport:
    """Ingest the metric sources of the site config ([history.sources.*]); all when names is None."""
    spec = site.config.history
    sources = dict(spec.sources)
    if not sources:
        raise HistoryError(
            "the site config has no metric sources",
            [
                Problem(
                    str(site.path or "<no config>"),
                    "history.sources",
                    "none defined",
                    hint="add [history.sources.NAME] with kind = 'prometheus' or 'files'",
                )
            ],
        )
    chosen = list(names) if names else list(sources)
    for n in chosen:
        if n not in sources:
            guess = closest(n, sources)
            raise HistoryError(
                f"no metric source '{n}' in the site config",
                [
                    Problem(
                        str(site.path),
                        f"history.sources.{n}",
                        "not defined",
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else "sources: " + ", ".join(sources),
                    )
                ],
            )
    total = IngestReport(rows=0, elapsed_s=0.0)
    t0 = time.perf_counter()
    for n in chosen:
        src = sources[n]
        if src.kind == "prometheus":
            headers = dict(src.headers)
            if src.token_secret:
                from console.core import resolve

                headers["Authorization"] = f"Bearer {resolve(src.token_secret)}"
            rep = history.ingest_prometheus(
                src.url,
                dict(src.queries),
                src.since,
                src.step,
                service=src.service,
                headers=headers,
                timeout=src.timeout,
            )
        else:
            rep = history.ingest_files(
                [str(site.resolve(Path(p))) for p in src.paths], service=src.service
            )
        total.rows += rep.rows
        total.replaced += rep.replaced
        total.sources.extend(rep.sources)
    total.elapsed_s = time.perf_counter() - t0
    return total


# ---------------------------------------------------------------- named queries


@dataclass(frozen=True)
class _Q:
    """Resolved parameters of a named query."""

    service: str | None
    metric: str | None
    window: float
    bucket: float | None
    baseline: float
    until: datetime
    limit: int
    raw: dict[str, Any]

    @classmethod
    def from_params(cls, p: dict[str, Any]) -> _Q:
        return cls(
            p.get("service"),
            p.get("metric"),
            p["window"],
            p.get("bucket"),
            p.get("baseline", 86400.0),
            p["until"],
            int(p.get("limit", 20)),
            p["_raw"],
        )

    def span(self, name: str) -> str:
        """A duration parameter as the engineer wrote it ('24h', not '1d')."""
        raw = self.raw.get(name)
        if isinstance(raw, str) and raw:
            return raw
        value = getattr(self, name)
        return _fmt_duration(value) if value else "1m"

    @property
    def since(self) -> datetime:
        return self.until - timedelta(seconds=self.window)

    @property
    def baseline_since(self) -> datetime:
        return self.since - timedelta(seconds=self.baseline)


def _resolve_params(spec: NamedQuery, given: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[Problem] = []
    for k in given:
        if k not in spec.params:
            guess = closest(k, spec.params)
            problems.append(
                Problem(
                    None,
                    k,
                    f"unknown parameter for {spec.name}",
                    hint=f"did you mean '{guess}'?"
                    if guess
                    else "valid: " + ", ".join(spec.params),
                )
            )
    if problems:
        raise HistoryError(f"bad parameters for the named query {spec.name}", problems)
    values = {**spec.params, **{k: v for k, v in given.items() if v is not None}}
    out: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for k, v in values.items():
        if v is None:
            continue
        if k in ("window", "baseline"):
            s = seconds(v, k)
            if not 60 <= s <= 400 * 86400:
                problems.append(
                    Problem(None, k, f"'{v}' is out of range", hint="between 1m and 400d")
                )
            out[k] = s
            raw[k] = v if isinstance(v, str) else _fmt_duration(s)
        elif k == "bucket":
            if isinstance(v, str) and v.strip().lower() in ("none", "all"):
                if spec.name != "latency_percentiles":
                    problems.append(
                        Problem(
                            None,
                            k,
                            f"'{v}' is not a bucket for {spec.name}",
                            hint="use a duration, e.g. 1m or 5m",
                        )
                    )
                    continue
                out[k] = None
                raw[k] = "none"
                continue
            s = seconds(v, k)
            if s < 1:
                problems.append(
                    Problem(None, k, f"'{v}' is too small", hint="at least 1s, e.g. 1m")
                )
            out[k] = s
            raw[k] = v if isinstance(v, str) else _fmt_duration(s)
        elif k in ("service", "metric"):
            text = str(v).strip()
            if not text or (k == "metric" and not _METRIC_NAME.match(text)):
                problems.append(Problem(None, k, f"'{v}' is not a valid {k} name"))
            out[k] = text
            raw[k] = text
        elif k == "until":
            out[k] = parse_time(v, "until")
            raw[k] = out[k].isoformat(timespec="seconds")
        elif k == "limit":
            try:
                out[k] = int(v)
                if out[k] < 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(Problem(None, k, f"'{v}' is not a positive whole number"))
            raw[k] = v
    if "until" not in out:
        out["until"] = utcnow().replace(microsecond=0)
    if "window" in out and out.get("bucket"):
        n = out["window"] / out["bucket"]
        if n > 100_000:
            problems.append(
                Problem(
                    None,
                    "bucket",
                    f"{n:.0f} buckets is too many",
                    hint="use a bigger bucket for this window",
                )
            )
    if problems:
        raise HistoryError(f"bad parameters for the named query {spec.name}", problems)
    out["_raw"] = raw
    return out


def _svc_clause(q: _Q, params: list[Any]) -> str:
    if q.service:
        params.append(q.service)
        return " AND service = ?"
    return ""


def _bucketed(
    history: History,
    q: _Q,
    metrics: Sequence[str],
    select: str,
    title: str,
    series: list[str],
    unit: str | None,
    name: str,
) -> QueryResult:
    """Shared shape of the per-bucket named queries: one row per bucket (and service)."""
    params: list[Any] = [list(metrics), q.since, q.until]
    svc = _svc_clause(q, params)
    by_service = q.service is None
    group = "service, " if by_service else ""
    sql = (
        f"SELECT time_bucket(INTERVAL {int(q.bucket or 60)} SECOND, ts) AS bucket, {group}{select} "
        f"FROM samples WHERE metric IN (SELECT unnest(?)) AND ts >= ? AND ts < ?{svc} "
        f"GROUP BY ALL ORDER BY bucket{', service' if by_service else ''}"
    )
    statements: list[tuple[str, list[Any]]] = []
    with history._read() as cur:
        columns, types, rows, truncated = history._run(cur, statements, sql, params)
        note = history._explain_empty(cur, q, metrics) if not rows else None
        stats = _stats(history, cur, statements, q, metrics) if rows else {}
    result = QueryResult(
        columns=columns,
        rows=rows,
        elapsed_ms=0.0,
        types=types,
        time_column="bucket",
        series_columns=series,
        group_column="service" if by_service else None,
        title=title,
        params=q.raw,
        sql=sql,
        statements=statements,
        since=q.since,
        until=q.until,
        unit=unit,
        truncated=truncated,
        note=note,
    )
    result.measures = _measures(stats, name, q.metric)
    return result


def _stats(
    history: History,
    cur: Any,
    statements: list[tuple[str, list[Any]]],
    q: _Q,
    metrics: Sequence[str],
) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """Per (service, metric): p50/p95/p99/mean/max/n of the window and of its baseline."""
    params: list[Any] = [q.since, list(metrics), q.baseline_since, q.until]
    svc = _svc_clause(q, params)
    sql = (
        "SELECT service, metric, CASE WHEN ts >= ? THEN 'window' ELSE 'baseline' END AS phase, "
        "quantile_cont(value, [0.5, 0.95, 0.99]) AS q, avg(value) AS mean, max(value) AS max, "
        "count(value) AS n FROM samples "
        f"WHERE metric IN (SELECT unnest(?)) AND ts >= ? AND ts < ?{svc} GROUP BY ALL"
    )
    _, _, rows, _ = history._run(cur, statements, sql, params, limit=0)
    out: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for service, metric, phase, qs, mean, mx, n in rows:
        if not n:
            continue
        out.setdefault((service, metric), {})[phase] = {
            "p50": qs[0],
            "p95": qs[1],
            "p99": qs[2],
            "mean": mean,
            "max": mx,
            "n": n,
        }
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _measures(
    stats: dict[tuple[str, str], dict[str, dict[str, float]]], name: str, metric: str | None
) -> dict[str, float]:
    """Gate measures from window/baseline stats; with several services, the worst one."""
    out: dict[str, float] = {}

    def put(key: str, value: float | None, worst: Callable[[float, float], float] = max) -> None:
        if value is None or not math.isfinite(value):
            return
        out[key] = worst(out[key], value) if key in out else float(value)

    for (_service, m), phases in stats.items():
        w = phases.get("window")
        b = phases.get("baseline")
        if w is None:
            continue
        low_is_bad = m in ("coverage", "cache_hit_ratio")
        worst = min if low_is_bad else max
        put(m, w["mean"], worst)
        put(f"{m}_p50", w["p50"], worst)
        put(f"{m}_p95", w["p95"], worst)
        put(f"{m}_p99", w["p99"], worst)
        put(f"{m}_max", w["max"])
        if m == "latency_ms":
            put("p50_ms", w["p50"])
            put("p95_ms", w["p95"])
            put("p99_ms", w["p99"])
        if b is None:
            continue
        put(f"{m}_baseline", b["mean"])
        put(f"{m}_baseline_p95", b["p95"])
        put(f"{m}_drift", w["mean"] - b["mean"], worst)
        put(f"{m}_p95_drift", w["p95"] - b["p95"], worst)
        r95 = _ratio(w["p95"], b["p95"])
        r99 = _ratio(w["p99"], b["p99"])
        if metric is None or m == metric:
            if m == "latency_ms" or name in ("window_vs_baseline", "latency_percentiles"):
                put("p95_ratio", r95)
                put("p95_uplift", None if r95 is None else r95 - 1)
                put("p99_ratio", r99)
                put("added_p99_ratio", None if r99 is None else r99 - 1)
                put("p95_drift", w["p95"] - b["p95"])
            if m == "delta_s":
                put("ds_p95_drift", w["p95"] - b["p95"])
                put("ds_diff", abs(w["mean"] - b["mean"]))
    return out


def _q_latency_percentiles(history: History, p: dict[str, Any]) -> QueryResult:
    q = _Q.from_params(p)
    metric = q.metric or "latency_ms"
    q = _Q(**{**q.__dict__, "metric": metric})
    if q.bucket is None:
        return _latency_by_service(history, q)
    params: list[Any] = [metric, q.since, q.until]
    svc = _svc_clause(q, params)
    by_service = q.service is None
    group = "service, " if by_service else ""
    sql = (
        f"SELECT bucket, {group}q[1] AS p50, q[2] AS p95, q[3] AS p99, n AS samples FROM ("
        f"SELECT time_bucket(INTERVAL {int(q.bucket)} SECOND, ts) AS bucket, {group}"
        "quantile_cont(value, [0.5, 0.95, 0.99]) AS q, count(value) AS n FROM samples "
        f"WHERE metric = ? AND ts >= ? AND ts < ?{svc} GROUP BY ALL) "
        f"ORDER BY bucket{', service' if by_service else ''}"
    )
    statements: list[tuple[str, list[Any]]] = []
    with history._read() as cur:
        columns, types, rows, truncated = history._run(cur, statements, sql, params)
        note = history._explain_empty(cur, q, [metric]) if not rows else None
        stats = _stats(history, cur, statements, q, [metric]) if rows else {}
    return QueryResult(
        columns=columns,
        rows=rows,
        elapsed_ms=0.0,
        types=types,
        time_column="bucket",
        series_columns=["p50", "p95", "p99"],
        group_column="service" if by_service else None,
        title=f"{metric} p50/p95/p99 per {q.span('bucket')}, last {q.span('window')}",
        params=q.raw,
        sql=sql,
        statements=statements,
        since=q.since,
        until=q.until,
        measures=_measures(stats, "latency_percentiles", metric),
        unit="ms" if metric.endswith("_ms") else None,
        truncated=truncated,
        note=note,
    )


def _latency_by_service(history: History, q: _Q) -> QueryResult:
    metric = q.metric or "latency_ms"
    params: list[Any] = [metric, q.since, q.until]
    svc = _svc_clause(q, params)
    sql = (
        "SELECT service, q[1] AS p50, q[2] AS p95, q[3] AS p99, n AS samples FROM ("
        "SELECT service, quantile_cont(value, [0.5, 0.95, 0.99]) AS q, count(value) AS n "
        f"FROM samples WHERE metric = ? AND ts >= ? AND ts < ?{svc} GROUP BY service) ORDER BY service"
    )
    statements: list[tuple[str, list[Any]]] = []
    with history._read() as cur:
        columns, types, rows, truncated = history._run(cur, statements, sql, params)
        note = history._explain_empty(cur, q, [metric]) if not rows else None
    measures: dict[str, float] = {}
    for _service, p50, p95, p99, _n in rows:
        for key, v in (("p50_ms", p50), ("p95_ms", p95), ("p99_ms", p99)):
            if v is not None:
                measures[key] = max(measures.get(key, v), v)
    return QueryResult(
        columns=columns,
        rows=rows,
        elapsed_ms=0.0,
        types=types,
        time_column=None,
        title=f"{metric} p50/p95/p99 per service, last {q.span('window')}",
        params=q.raw,
        sql=sql,
        statements=statements,
        since=q.since,
        until=q.until,
        measures=measures,
        unit="ms" if metric.endswith("_ms") else None,
        truncated=truncated,
        note=note,
    )


def _q_window_vs_baseline(history: History, p: dict[str, Any]) -> QueryResult:
    q = _Q.from_params(p)
    metric = q.metric or "latency_ms"
    q = _Q(**{**q.__dict__, "metric": metric})
    statements: list[tuple[str, list[Any]]] = []
    with history._read() as cur:
        stats = _stats(history, cur, statements, q, [metric])
        note = None
        if not any("window" in ph for ph in stats.values()):
            note = history._explain_empty(cur, q, [metric])
    by_service = q.service is None
    columns = (["service"] if by_service else []) + ["stat", "window", "baseline", "delta", "ratio"]
    types = (["VARCHAR"] if by_service else []) + [
        "VARCHAR",
        "DOUBLE",
        "DOUBLE",
        "DOUBLE",
        "DOUBLE",
    ]
    rows: list[list[Any]] = []
    for (service, _m), phases in sorted(stats.items()):
        w = phases.get("window")
        b = phases.get("baseline")
        if w is None:
            continue
        for stat in ("p50", "p95", "p99", "mean"):
            wv = w[stat]
            bv = b[stat] if b else None
            row = [stat, wv, bv, None if bv is None else wv - bv, _ratio(wv, bv)]
            rows.append(([service] if by_service else []) + row)
    return QueryResult(
        columns=columns,
        rows=rows,
        elapsed_ms=0.0,
        types=types,
        time_column=None,
        title=f"{metric}: last {q.span('window')} vs the {q.span('baseline')} before",
        params=q.raw,
        sql=statements[0][0],
        statements=statements,
        since=q.baseline_since,
        until=q.until,
        measures=_measures(stats, "window_vs_baseline", metric),
        unit="ms" if metric.endswith("_ms") else None,
        note=note,
    )


def _q_error_rates(history: History, p: dict[str, Any]) -> QueryResult:
    q = _Q.from_params(p)
    metrics = ["error_rate", "rate_5xx", "rate_429"]
    select = ", ".join(f"avg(value) FILTER (WHERE metric = '{m}') AS {m}" for m in metrics)
    return _bucketed(
        history,
        q,
        metrics,
        select,
        f"error, 5xx and 429 rates per {q.span('bucket')}, last {q.span('window')}",
        metrics,
        "ratio",
        "error_rates",
    )


_QUALITY = ("delta_s", "coverage", "lambda_flip_rate")


def _q_quality_trend(history: History, p: dict[str, Any]) -> QueryResult:
    q = _Q.from_params(p)
    metrics = [q.metric] if q.metric else list(_QUALITY)
    parts: list[str] = []
    series: list[str] = []
    for m in metrics:
        parts.append(f"avg(value) FILTER (WHERE metric = {_sql_str(m)}) AS {_ident(m)}")
        series.append(m)
        if m == "delta_s":
            parts.append(
                "quantile_cont(value, 0.95) FILTER (WHERE metric = 'delta_s') AS delta_s_p95"
            )
            series.append("delta_s_p95")
    return _bucketed(
        history,
        q,
        metrics,
        ", ".join(parts),
        f"{', '.join(metrics)} per {q.span('bucket')}, last {q.span('window')}",
        series,
        None,
        "quality_trend",
    )


def _q_cache_hit_ratio(history: History, p: dict[str, Any]) -> QueryResult:
    q = _Q.from_params(p)
    return _bucketed(
        history,
        q,
        ["cache_hit_ratio"],
        "avg(value) AS cache_hit_ratio",
        f"cache hit ratio per {q.span('bucket')}, last {q.span('window')}",
        ["cache_hit_ratio"],
        "ratio",
        "cache_hit_ratio",
    )


def _q_what_changed(history: History, p: dict[str, Any]) -> QueryResult:
    q = _Q.from_params(p)
    statements: list[tuple[str, list[Any]]] = []
    with history._read() as cur:
        changes, step = _detect_changes(history, cur, q, statements)
    columns = [
        "service",
        "metric",
        "direction",
        "score",
        "started",
        "ended",
        "baseline",
        "peak",
        "change_pct",
        "labels",
    ]
    types = [
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "DOUBLE",
        "TIMESTAMP",
        "TIMESTAMP",
        "DOUBLE",
        "DOUBLE",
        "DOUBLE",
        "VARCHAR",
    ]
    rows = [
        [
            c.service,
            c.metric,
            c.direction,
            round(c.score, 2),
            c.started,
            c.ended,
            c.baseline,
            c.peak,
            None if c.change_pct is None else round(c.change_pct, 1),
            c.labels,
        ]
        for c in changes
    ]
    note = (
        None
        if changes
        else (
            f"nothing left its baseline in the last {q.span('window')} "
            f"(compared with the {q.span('baseline')} before)"
        )
    )
    return QueryResult(
        changes=changes,
        columns=columns,
        rows=rows,
        elapsed_ms=0.0,
        types=types,
        time_column=None,
        title=f"what changed: last {q.span('window')} vs the {q.span('baseline')} before"
        f" ({_fmt_duration(step)} buckets)",
        params=q.raw,
        sql=statements[0][0] if statements else "",
        statements=statements,
        since=q.since,
        until=q.until,
        measures={"changes": float(len(changes))},
        note=note,
    )


def _auto_step(window: float) -> float:
    """1-minute buckets up to a day; beyond, about 1,440 buckets per window, in whole minutes."""
    if window <= 86400:
        return 60.0
    return float(math.ceil(window / 1440 / 60) * 60)


def _detect_changes(
    history: History, cur: Any, q: _Q, statements: list[tuple[str, list[Any]]]
) -> tuple[list[Change], float]:
    """Robust z-score of each series' window buckets against its baseline's median and MAD.

    The z-scores are smoothed over ~5 buckets; a series changed when the smoothed score stays
    past 4 for 3 buckets or more. The change starts where the raw score first passed 2 before
    that run, and ends where it fell back under 2.
    """
    import numpy as np

    step = q.bucket or _auto_step(q.window)
    # series as a 64-bit hash and buckets as integers: no strings in the big aggregates
    key = "hash(service, metric, coalesce(labels, ''))"
    bucket = f"epoch_us(ts) // {int(step * 1_000_000)}"
    wparams: list[Any] = [q.since, q.until]
    wsvc = _svc_clause(q, wparams)
    per_bucket = (
        f"SELECT {key} AS k, {bucket} AS b, avg(value) AS v FROM samples "
        f"WHERE ts >= ? AND ts < ?{wsvc} GROUP BY ALL"
    )
    win_sql = per_bucket + " ORDER BY k, b"
    names_sql = (
        f"SELECT {key} AS k, service, metric, coalesce(labels, '') FROM samples "
        f"WHERE ts >= ? AND ts < ?{wsvc} GROUP BY ALL"
    )
    # the baseline's spread from at most ~2,880 of its buckets per series (every n-th one):
    # a week of 1-minute buckets for hundreds of series in one aggregate costs hundreds of MiB
    step_us = int(step * 1_000_000)
    stride = max(1, math.ceil(q.baseline / step / 2880))
    params: list[Any] = [q.baseline_since, q.since, *wparams[2:]]
    base_sql = (
        "SELECT k, median(v) AS med, mad(v) AS mad, stddev_pop(v) AS sd, count(*) AS n FROM ("
        f"SELECT {key} AS k, {bucket} AS b, avg(value) AS v FROM samples WHERE ts >= ? AND ts < ?{wsvc}"
        + (f" AND (epoch_us(ts) // {step_us}) % {stride} = 0" if stride > 1 else "")
        + " GROUP BY ALL) GROUP BY k"
    )
    try:
        statements.append((base_sql, params))
        baseline = {r[0]: r[1:] for r in cur.execute(base_sql, params).fetchall()}
        statements.append((win_sql, wparams))
        win = cur.execute(win_sql, wparams).fetchnumpy()
        statements.append((names_sql, wparams))
        names = {r[0]: (r[1], r[2], r[3]) for r in cur.execute(names_sql, wparams).fetchall()}
    except Exception as exc:
        raise history._db_error(exc, "what changed") from None
    n = len(win["b"])
    if n == 0:
        return [], step
    k_a = np.asarray(win["k"])
    t_a = (np.asarray(win["b"], dtype=np.int64) * int(step * 1_000_000)).astype("datetime64[us]")
    v_a = win["v"]
    v_a = (
        np.ma.filled(v_a, np.nan) if np.ma.isMaskedArray(v_a) else np.asarray(v_a, dtype=np.float64)
    )
    boundary = np.ones(n, dtype=bool)
    boundary[1:] = k_a[1:] != k_a[:-1]
    starts = np.flatnonzero(boundary)
    ends = np.append(starts[1:], n)
    k = max(3, round(300 / step)) if step <= 300 else 3
    half = k // 2
    changes: list[Change] = []
    for s, e in zip(starts, ends, strict=True):
        base = baseline.get(int(k_a[s]))
        series = names.get(int(k_a[s]))
        if base is None or series is None:
            continue
        med, mad, sd, nb = base
        if med is None or nb < 30:
            continue
        vals = v_a[s:e]
        ok = np.isfinite(vals)
        if ok.sum() < 3:
            continue
        vals = vals[ok]
        times = t_a[s:e][ok]
        scale = 1.4826 * (mad or 0.0)
        if not scale > 0:
            scale = sd or 0.0
        if not scale > 0:
            scale = max(abs(med) * 0.01, 1e-9)
        z = (vals - med) / scale
        m = len(z)
        csum = np.concatenate(([0.0], np.cumsum(z)))
        idx = np.arange(m)
        lo = np.maximum(idx - half, 0)
        hi = np.minimum(idx + half + 1, m)
        smooth = (csum[hi] - csum[lo]) / (hi - lo)
        best: tuple[float, int, int, int] | None = None
        for sign in (1.0, -1.0):
            hot = sign * smooth >= 4.0
            if not hot.any():
                continue
            edges = np.diff(np.concatenate(([0], hot.astype(np.int8), [0])))
            run_starts = np.flatnonzero(edges == 1)
            run_ends = np.flatnonzero(edges == -1)
            for rs, re_ in zip(run_starts, run_ends, strict=True):
                if re_ - rs < 3:
                    continue
                peak = float(np.max(sign * smooth[rs:re_]))
                if best is None or peak > best[0]:
                    best = (peak, rs, re_, int(sign))
        if best is None:
            continue
        peak_z, rs, re_, sign = best
        first = rs
        while first > 0 and sign * z[first - 1] >= 2.0:
            first -= 1
        while first < rs and sign * z[first] < 2.0:
            first += 1
        last = re_ - 1
        while last + 1 < m and sign * z[last + 1] >= 2.0:
            last += 1
        seg = vals[first : last + 1]
        peak_value = float(seg[np.argmax(sign * seg)])
        mean = float(seg.mean())
        ended = None if last + 1 >= m else _to_dt(times[last + 1])
        changes.append(
            Change(
                service=str(series[0]),
                metric=str(series[1]),
                labels=str(series[2]),
                direction="up" if sign > 0 else "down",
                score=min(peak_z, 9999.0),
                started=_to_dt(times[first]),
                ended=ended,
                baseline=float(med),
                peak=peak_value,
                mean=mean,
                change_pct=None if med == 0 else (mean - med) / abs(med) * 100,
            )
        )
    changes.sort(key=lambda c: (-c.score, c.started))
    return changes[: q.limit], step


def _to_dt(t: Any) -> datetime:
    import numpy as np

    us = int(np.datetime64(t, "us").astype(np.int64))
    return datetime(1970, 1, 1) + timedelta(microseconds=us)


_COMMON = {"service": None, "window": "1h", "baseline": "24h", "until": None}
NAMED_QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        NamedQuery(
            "latency_percentiles",
            "Latency percentiles",
            "p50/p95/p99 per time bucket over a window (bucket=none: per service)",
            {**_COMMON, "metric": "latency_ms", "bucket": "1m"},
            _q_latency_percentiles,
        ),
        NamedQuery(
            "window_vs_baseline",
            "Window vs baseline",
            "a metric's current window against its baseline window (drift and ratio)",
            {**_COMMON, "metric": "latency_ms", "window": "15m"},
            _q_window_vs_baseline,
        ),
        NamedQuery(
            "error_rates",
            "Error rates",
            "error, 5xx and 429 rates per time bucket",
            {**_COMMON, "bucket": "1m"},
            _q_error_rates,
        ),
        NamedQuery(
            "quality_trend",
            "Quality trend",
            "ΔS, coverage and λ flip-rate trends",
            {**_COMMON, "metric": None, "bucket": "5m"},
            _q_quality_trend,
        ),
        NamedQuery(
            "cache_hit_ratio",
            "Cache hit ratio",
            "cache hit ratio per time bucket",
            {**_COMMON, "bucket": "5m"},
            _q_cache_hit_ratio,
        ),
        NamedQuery(
            "what_changed",
            "What changed",
            "every series whose recent window departs from its baseline, ranked, with when it began",
            {**_COMMON, "bucket": None, "limit": 20},
            _q_what_changed,
        ),
    )
}


def named_queries() -> list[NamedQuery]:
    """The named queries, for a picker: name, title, description, parameters with defaults."""
    return list(NAMED_QUERIES.values())


# ---------------------------------------------------------------- site config


def default_db_path(site: Any = None) -> Path:
    """history.db from the config, else $FIXMAP_HOME, the config's data_dir, the user data dir."""
    from console.core import data_dir

    if site is not None:
        spec = site.config.history
        if spec.db is not None:
            return site.resolve(Path(spec.db))
        if not os.environ.get("FIXMAP_HOME") and site.config.data_dir is not None:
            return site.resolve(Path(site.config.data_dir)) / DB_NAME
    return data_dir() / DB_NAME


def history_for(site: Any = None, **kwargs: Any) -> History:
    """The History a site site config points at (its lock timeout included)."""
    if site is not None:
        kwargs.setdefault("lock_timeout", site.config.history.lock_timeout)
        kwargs.setdefault("memory_limit", site.config.history.memory_limit)
    return History(default_db_path(site), **kwargs)
