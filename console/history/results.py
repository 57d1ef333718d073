"""What the history hands back: query results, changes, events, ingest reports, and its errors.

Plain dataclasses with no database behind them, so the CLI, the console, gates and the incident
timeline can hold, print and store them without loading DuckDB. Times are naive UTC datetimes
(how the history stores them); `jsonable` is the one way they and the rest become JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.core import FixmapError, Problem


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


class QueryTimedOut(QueryCancelled):
    """The query ran past the History's query_timeout and was stopped."""


_STORAGE = {
    "no space left on device": "the disk is full",
    "disk quota exceeded": "the disk quota is used up",
    "read-only file system": "it is on a read-only file system",
    "permission denied": "permission denied",
}


def storage_error(exc: BaseException, path: Any) -> HistoryError | None:
    """The history file could not be written or opened because of where it is (a full disk, a
    read-only folder): a refusal (exit 3) saying so, or None for any other error."""
    from console.core import EXIT_REFUSED

    low = str(exc).lower()
    for marker, why in _STORAGE.items():
        if marker in low:
            return HistoryError(
                f"the history file {path} cannot be written: {why}; nothing was changed",
                [
                    Problem(
                        str(path),
                        None,
                        first_line(exc),
                        hint="free some space, or point [history] db or FIXMAP_HOME at a "
                        "writable folder",
                    )
                ],
                exit_code=EXIT_REFUSED,
            )
    return None


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (DuckDB's messages run on), or its type's name."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def jsonable(v: Any) -> Any:
    """A value as JSON can hold it: times as ISO strings, NaN and infinities as null."""
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
