"""History: the one object the rest of fixmap holds to read and write the metric history.

A History is a handle on one DuckDB file (console.history.store shares the file between
threads and processes). It is synchronous and thread-safe, meant for thread workers: reads
take a cursor on the shared read-only connection, each write is one short transaction that
keeps nothing when anything in it fails, and `interrupt()` from any thread cancels what it is
running or waiting for. What the history knows lives next door (ingest, prometheus, records,
queries, changes); the methods here open the file, run those, and hand back results.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from console.core import Problem, closest
from console.history import ingest, prometheus, records
from console.history.changes import detect_changes
from console.history.params import QueryParams, resolve_params
from console.history.queries import NAMED_QUERIES
from console.history.results import (
    Change,
    Event,
    HistoryError,
    IngestReport,
    QueryCancelled,
    QueryResult,
    QueryTimedOut,
    storage_error,
)
from console.history.rows import Fetched, chart_shape, db_error, fetch, run, sql_hint
from console.history.schema import SCHEMA, SCHEMA_VERSION, TABLES
from console.history.store import store_for
from console.history.times import parse_time, utcnow

MAX_ROWS = 10_000
QUERY_TIMEOUT_S = 30.0
"""How long a query may run before it is stopped, in the console and on the command line."""


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
        max_rows: int = MAX_ROWS,
        linger: float = 1.0,
        memory_limit: str | None = "128MB",
        threads: int | None = None,
    ) -> None:
        self.path = Path(db_path).expanduser()
        self.lock_timeout = lock_timeout
        self.query_timeout = query_timeout
        self.max_rows = max_rows
        self._store = store_for(self.path)
        self._store.linger = linger
        self._store.memory_limit = memory_limit
        self._store.threads = threads
        self._active: set[Any] = set()
        self._active_lock = threading.Lock()
        self._generation = 0

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"

    # -- reading, writing, cancelling

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
        fired = threading.Event()
        if self.query_timeout:

            def stop() -> None:
                fired.set()
                conn.interrupt()

            timer = threading.Timer(self.query_timeout, stop)
            timer.daemon = True
            timer.start()
        try:
            yield conn
        except QueryCancelled:
            if fired.is_set():
                raise QueryTimedOut(
                    f"the query ran past its {self.query_timeout:g} s timeout and was stopped",
                    [
                        Problem(
                            None,
                            "timeout",
                            f"{self.query_timeout:g} s",
                            hint="narrow it (a shorter time range, fewer series), or give "
                            "--timeout a longer duration",
                        )
                    ],
                ) from None
            raise
        finally:
            if timer is not None:
                timer.cancel()
            with self._active_lock:
                self._active.discard(conn)

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
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
    def write(self, *, schema: bool = True) -> Iterator[Any]:
        """One read-write transaction; rolled back (nothing kept) on any error."""
        if schema:
            self.ensure_schema()
        cancelled = self._cancel_check()
        deadline = time.monotonic() + self.lock_timeout
        with self._store.writing_conn(deadline, cancelled) as conn, self._track(conn, cancelled):
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                refused = storage_error(exc, self.path)
                if refused is not None:
                    raise refused from None
                raise

    def run(
        self,
        cur: Any,
        statements: list[tuple[str, list[Any]]],
        sql: str,
        params: list[Any],
        limit: int | None = None,
    ) -> Fetched:
        """Run one statement of a named query on `cur`, note it in `statements`, fetch its rows
        (at most `limit`, else max_rows; 0: all)."""
        return run(cur, statements, sql, params, self.max_rows if limit is None else limit)

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
        with self.write(schema=False) as conn:
            for stmt in SCHEMA:
                conn.execute(stmt)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
            )
        store.schema_ok = True

    # -- ingest

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
        column. A file ingested before (same content) is skipped unless `force`; one loaded
        again (`force`, or new content at the same path) replaces the rows it covers. Any bad
        file: nothing from any of them is kept.
        """
        t0 = time.perf_counter()
        files = ingest.expand_paths(paths)
        fingerprints = {f: ingest.fingerprint(f) for f in files}
        with self.write() as conn:
            report = ingest.load_files(conn, fingerprints, service=service, force=force)
        report.elapsed_s = time.perf_counter() - t0
        return report

    def ingest_prometheus(
        self,
        url: str,
        queries: prometheus.Queries,
        since: str | float = "24h",
        step: str | float = "30s",
        *,
        until: Any = None,
        metric: str | None = None,
        service: str | None = None,
        headers: Mapping[str, str] | None = None,
        token_secret: str | None = None,
        timeout: float = 30.0,
        verify: Any = True,
    ) -> IngestReport:
        """query_range each PromQL query and store the series (replacing what the range covers).

        `queries`: one PromQL string, a list, or {metric name: PromQL}. A series is stored under
        the dict key, else `metric`, else its __name__; its service is `service`, else its
        `service` label, else its `job` label. Other labels are kept as labels. `token_secret`
        names the secret holding a bearer token for the API.
        """
        t0 = time.perf_counter()
        headers = prometheus.auth_headers(headers, token_secret)
        start, end, step_s = prometheus.time_range(since, step, until)
        named_qs = prometheus.promql_queries(queries, metric)
        report, batch = prometheus.fetch_samples(
            url,
            named_qs,
            start,
            end,
            step_s,
            service=service,
            headers=headers,
            timeout=timeout,
            verify=verify,
        )
        if batch is not None:
            with self.write() as conn:
                report.replaced = records.insert_columns(conn, batch, replace_range=(start, end))
                records.insert_ingests(conn, [(s.source, s.kind, s.rows) for s in report.sources])
        report.elapsed_s = time.perf_counter() - t0
        return report

    def insert_samples(
        self, batch: Mapping[str, Any], *, replace_range: tuple[datetime, datetime] | None = None
    ) -> int:
        """Bulk-insert columns {ts, service, metric, value[, labels]} (numpy arrays or lists).

        With `replace_range`, rows of the same (service, metric) inside it are deleted first,
        in the same transaction. Returns the number of rows replaced.
        """
        cols = records.sample_columns(batch)
        with self.write() as conn:
            return records.insert_columns(conn, cols, replace_range=replace_range)

    # -- probe results and events

    def record_probe_results(self, results: Sequence[Mapping[str, Any]]) -> int:
        """Store probe results (redacted). Keys: name (required), ts, kind, service, status,
        value, threshold, reason, duration_ms, embedder, values; other keys go into values_json."""
        rows = records.probe_rows(results)
        self._insert_rows("probe_results", rows, records.PROBE_WIDTH)
        return len(rows)

    def record_events(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Store events (redacted). Keys: kind (deploy, rollback, action, incident, freeze, ...),
        ts (default now), service, title, detail (a dict)."""
        rows = records.event_rows(events)
        self._insert_rows("events", rows, records.EVENT_WIDTH)
        return len(rows)

    def _insert_rows(self, table: str, rows: list[list[Any]], width: int) -> None:
        if rows:
            with self.write() as conn:
                records.insert_rows(conn, table, rows, width)

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
        with self.read() as cur:
            try:
                rows = cur.execute(sql, params).fetchall()
            except Exception as exc:
                raise db_error(exc, "reading events") from None
        return [Event(r[0], r[1], r[2], r[3] or "", json.loads(r[4]) if r[4] else {}) for r in rows]

    def newest_sample(self) -> datetime | None:
        """When the newest sample was taken (naive UTC), or None with no samples."""
        with self.read() as cur:
            try:
                row = cur.execute("SELECT max(ts) FROM samples").fetchone()
            except Exception as exc:
                raise db_error(exc, "reading the newest sample") from None
        return row[0] if row and row[0] is not None else None

    # -- questions

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
        with self.read() as cur:
            try:
                cur.execute(text)
                columns, types, rows, truncated = fetch(cur, limit)
            except Exception as exc:
                hint = sql_hint(exc, self._store.memory_limit)
                raise db_error(exc, "the query", hint) from None
        time_col, series, group = chart_shape(columns, types)
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

    def named(self, name: str, *, measures: bool = True, **params: Any) -> QueryResult:
        """Run a named query (latency_percentiles, window_vs_baseline, error_rates,
        quality_trend, cache_hit_ratio, what_changed) with validated parameters.

        `measures`: also work out the gate measures (p95_uplift, error_rate, ...: a second
        statement over the window and its baseline); without them a query costs what its SQL
        does. window_vs_baseline and what_changed have theirs either way.
        """
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
        resolved = resolve_params(spec, params)
        t0 = time.perf_counter()
        result = spec.run(self, resolved, measures)
        result.elapsed_ms = (time.perf_counter() - t0) * 1000
        result.name = spec.name
        result.title = result.title or spec.title
        return result

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
        given = {"service": service, "window": window, "baseline": baseline, "until": until}
        given |= {"bucket": bucket, "limit": limit}
        spec = NAMED_QUERIES["what_changed"]
        q = QueryParams.from_params(resolve_params(spec, given))
        with self.read() as cur:
            changes, _ = detect_changes(cur, q, [])
        return changes
