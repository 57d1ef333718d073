"""Rows into the tables: probe results and events (checked and redacted), sample columns in bulk.

Whatever a probe run, an action or an incident reports is redacted before it is stored, and a
record that could not be read back (no probe name, an event kind that is not a word, a duration
that is not a number) is refused with the index of the record at fault. Samples come in as
columns (numpy arrays) and go into `samples` in one statement; points with no value or a NaN
are left out, since no query could use them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from console.core import Problem, closest, redact_obj
from console.history.results import HistoryError, jsonable
from console.history.schema import EVENT_KIND, EVENT_KINDS
from console.history.times import time_or_now, utcnow

_PROBE_KEYS = {
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
PROBE_WIDTH = 11
EVENT_WIDTH = 5


def probe_rows(results: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """probe_results rows from probe results (redacted); unknown keys go into values_json."""
    rows: list[list[Any]] = []
    now = utcnow()
    for i, raw in enumerate(results):
        r = redact_obj(dict(raw))
        if not r.get("name"):
            raise HistoryError(
                "a probe result has no name", [Problem(None, f"results[{i}].name", "missing")]
            )
        values = r.get("values")
        extra = {k: v for k, v in r.items() if k not in _PROBE_KEYS}
        if r.get("value") is not None and _num_or_none(r.get("value")) is None:
            extra["value"] = r["value"]  # a text headline ('read-write') is kept here
        if extra:
            values = {**(values if isinstance(values, dict) else {"values": values}), **extra}
        rows.append(
            [
                time_or_now(r.get("ts"), "ts", now),
                str(r["name"]),
                _opt_str(r.get("kind")),
                _opt_str(r.get("service")),
                _opt_str(r.get("status")),
                _num_or_none(r.get("value")),
                _opt_str(r.get("threshold")),
                _opt_str(r.get("reason")),
                _opt_float(r.get("duration_ms"), f"results[{i}].duration_ms"),
                _opt_str(r.get("embedder")),
                _json_or_none(values),
            ]
        )
    return rows


def event_rows(events: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """events rows (redacted); a kind that is not a lower-case word is refused."""
    rows: list[list[Any]] = []
    now = utcnow()
    for i, raw in enumerate(events):
        e = redact_obj(dict(raw))
        kind = str(e.get("kind") or "")
        if not EVENT_KIND.match(kind):
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
        rows.append(
            [
                time_or_now(e.get("ts"), "ts", now),
                kind,
                _opt_str(e.get("service")),
                str(e.get("title") or ""),
                _json_or_none(e.get("detail")),
            ]
        )
    return rows


def insert_rows(conn: Any, table: str, rows: list[list[Any]], width: int) -> None:
    """Insert rows of `width` values into `table`: one list parameter per column, unnested in
    one statement (a VALUES list binds every value alone: 500 probe results took ~150 ms to
    bind, the lists ~12 ms)."""
    if not rows:
        return
    types = [
        r[0]
        for r in conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]
    if len(types) != width or any(len(r) != width for r in rows):
        raise HistoryError(f"insert into {table}: rows of {width} values for {len(types)} columns")
    columns = ", ".join(f"unnest(?::{t}[])" for t in types)
    conn.execute(
        f"INSERT INTO {table} SELECT {columns}", [list(c) for c in zip(*rows, strict=True)]
    )


def sample_columns(batch: Mapping[str, Any]) -> dict[str, Any]:
    """Columns {ts, service, metric, value[, labels]} (arrays or lists) as typed numpy arrays."""
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
    return cols


def insert_columns(
    conn: Any,
    cols: Mapping[str, Any],
    *,
    replace_range: tuple[datetime, datetime] | None = None,
    order_by: str | None = None,
) -> int:
    """Insert sample columns; with `replace_range`, first delete the rows of the same
    (service, metric) inside it. Returns the number of rows deleted."""
    replaced = 0
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
            + (f" ORDER BY {order_by}" if order_by else "")
        )
    finally:
        conn.unregister("fixmap_new_rows")
    return replaced


def insert_ingests(conn: Any, sources: Sequence[tuple[str, str, int]]) -> None:
    """Note in `ingests` what each (source, kind, rows) brought (no fingerprint: not a file)."""
    now = utcnow()
    for source, kind, rows in sources:
        conn.execute("INSERT INTO ingests VALUES (?, ?, ?, NULL, ?)", [now, source, kind, rows])


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(jsonable(value), ensure_ascii=False)


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
