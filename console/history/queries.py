"""The named queries: the questions playbooks, gates and the console ask the history by name.

latency_percentiles, window_vs_baseline, error_rates, quality_trend, cache_hit_ratio and
what_changed (console.history.changes). Each is a few statements over `samples` that answers
with rows to show, a chart shape and, when asked (a gate reads them), `measures`: the summary
numbers a gate judges (p95_uplift, error_rate, ds_p95_drift, ...), always comparing the window
with the baseline before it and, over several services, taking the worst. An empty answer says why: a misspelt metric or service is an
error with a suggestion; a quiet window is a note saying when the latest sample was.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from console.core import Problem, closest
from console.history.changes import what_changed_query
from console.history.params import QueryParams, Reads
from console.history.results import HistoryError, NamedQuery, QueryResult
from console.history.rows import ident, sql_str
from console.history.schema import KNOWN_METRICS

Stats = dict[tuple[str, str], dict[str, dict[str, float]]]
"""(service, metric) -> 'window' / 'baseline' -> p50, p95, p99, mean, max, n."""


def explain_empty(cur: Any, q: QueryParams, metrics: Sequence[str]) -> str:
    """Why a named query found nothing: a typo (an error) or no samples in the window."""
    have = {r[0] for r in cur.execute("SELECT DISTINCT metric FROM samples").fetchall()}
    for m in metrics:
        if m not in have and len(metrics) == 1:
            raise _never_stored(
                "metric",
                m,
                f"'{m}' has never been ingested",
                have,
                closest(m, have | set(KNOWN_METRICS)),
                "the history is empty: run 'fixmap history ingest'",
            )
    if q.service:
        services = {r[0] for r in cur.execute("SELECT DISTINCT service FROM samples").fetchall()}
        if q.service not in services:
            raise _never_stored(
                "service",
                q.service,
                f"'{q.service}' has no samples",
                services,
                closest(q.service, services),
                None,
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


def _never_stored(
    field: str, name: str, reason: str, have: set[str], guess: str | None, if_none: str | None
) -> HistoryError:
    listing = f"{field}s: " + ", ".join(sorted(have)) if have else if_none
    return HistoryError(
        f"no samples of {field} '{name}' in the history",
        [Problem(None, field, reason, hint=f"did you mean '{guess}'?" if guess else listing)],
    )


def _select(
    history: Reads,
    q: QueryParams,
    metrics: Sequence[str],
    sql: str,
    params: list[Any],
    *,
    with_stats: bool = True,
    **shape: Any,
) -> tuple[QueryResult, Stats]:
    """Run a named query's rows statement (then, when it found rows, the window and baseline
    stats): the result, shaped by `shape` (title, chart columns, unit), and the stats."""
    statements: list[tuple[str, list[Any]]] = []
    with history.read() as cur:
        columns, types, rows, truncated = history.run(cur, statements, sql, params)
        note = explain_empty(cur, q, metrics) if not rows else None
        stats = _stats(history, cur, statements, q, metrics) if rows and with_stats else {}
    result = QueryResult(
        columns=columns,
        rows=rows,
        elapsed_ms=0.0,
        types=types,
        params=q.raw,
        sql=sql,
        statements=statements,
        since=q.since,
        until=q.until,
        truncated=truncated,
        note=note,
        **shape,
    )
    return result, stats


def _stats(
    history: Reads,
    cur: Any,
    statements: list[tuple[str, list[Any]]],
    q: QueryParams,
    metrics: Sequence[str],
) -> Stats:
    """Per (service, metric): p50/p95/p99/mean/max/n of the window and of its baseline."""
    params: list[Any] = [q.since, list(metrics), q.baseline_since, q.until]
    svc = q.service_clause(params)
    sql = (
        "SELECT service, metric, CASE WHEN ts >= ? THEN 'window' ELSE 'baseline' END AS phase, "
        "quantile_cont(value, [0.5, 0.95, 0.99]) AS q, avg(value) AS mean, max(value) AS max, "
        "count(value) AS n FROM samples "
        f"WHERE metric IN (SELECT unnest(?)) AND ts >= ? AND ts < ?{svc} GROUP BY ALL"
    )
    _, _, rows, _ = history.run(cur, statements, sql, params, limit=0)
    out: Stats = {}
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


def _measures(stats: Stats, name: str, metric: str | None) -> dict[str, float]:
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


def _one_metric(p: dict[str, Any]) -> tuple[QueryParams, str]:
    """The parameters of a query about one metric (latency_ms unless another is named)."""
    q = QueryParams.from_params(p)
    metric = q.metric or "latency_ms"
    return dataclasses.replace(q, metric=metric), metric


def _unit(metric: str) -> str | None:
    return "ms" if metric.endswith("_ms") else None


def _bucketed(
    history: Reads,
    q: QueryParams,
    metrics: Sequence[str],
    select: str,
    title: str,
    series: list[str],
    unit: str | None,
    name: str,
    measures: bool,
) -> QueryResult:
    """Shared shape of the per-bucket named queries: one row per bucket (and service)."""
    params: list[Any] = [list(metrics), q.since, q.until]
    svc = q.service_clause(params)
    by_service = q.service is None
    group = "service, " if by_service else ""
    sql = (
        f"SELECT time_bucket(INTERVAL {int(q.bucket or 60)} SECOND, ts) AS bucket, {group}{select} "
        f"FROM samples WHERE metric IN (SELECT unnest(?)) AND ts >= ? AND ts < ?{svc} "
        f"GROUP BY ALL ORDER BY bucket{', service' if by_service else ''}"
    )
    result, stats = _select(
        history,
        q,
        metrics,
        sql,
        params,
        with_stats=measures,
        time_column="bucket",
        series_columns=series,
        group_column="service" if by_service else None,
        title=title,
        unit=unit,
    )
    result.measures = _measures(stats, name, q.metric)
    return result


def _q_latency_percentiles(history: Reads, p: dict[str, Any], measures: bool) -> QueryResult:
    q, metric = _one_metric(p)
    if q.bucket is None:
        return _latency_by_service(history, q, metric)
    params: list[Any] = [metric, q.since, q.until]
    svc = q.service_clause(params)
    by_service = q.service is None
    group = "service, " if by_service else ""
    sql = (
        f"SELECT bucket, {group}q[1] AS p50, q[2] AS p95, q[3] AS p99, n AS samples FROM ("
        f"SELECT time_bucket(INTERVAL {int(q.bucket)} SECOND, ts) AS bucket, {group}"
        "quantile_cont(value, [0.5, 0.95, 0.99]) AS q, count(value) AS n FROM samples "
        f"WHERE metric = ? AND ts >= ? AND ts < ?{svc} GROUP BY ALL) "
        f"ORDER BY bucket{', service' if by_service else ''}"
    )
    result, stats = _select(
        history,
        q,
        [metric],
        sql,
        params,
        with_stats=measures,
        time_column="bucket",
        series_columns=["p50", "p95", "p99"],
        group_column="service" if by_service else None,
        title=f"{metric} p50/p95/p99 per {q.span('bucket')}, last {q.span('window')}",
        unit=_unit(metric),
    )
    result.measures = _measures(stats, "latency_percentiles", metric)
    return result


def _latency_by_service(history: Reads, q: QueryParams, metric: str) -> QueryResult:
    params: list[Any] = [metric, q.since, q.until]
    svc = q.service_clause(params)
    sql = (
        "SELECT service, q[1] AS p50, q[2] AS p95, q[3] AS p99, n AS samples FROM ("
        "SELECT service, quantile_cont(value, [0.5, 0.95, 0.99]) AS q, count(value) AS n "
        f"FROM samples WHERE metric = ? AND ts >= ? AND ts < ?{svc} GROUP BY service) ORDER BY service"
    )
    result, _ = _select(
        history,
        q,
        [metric],
        sql,
        params,
        with_stats=False,
        time_column=None,
        title=f"{metric} p50/p95/p99 per service, last {q.span('window')}",
        unit=_unit(metric),
    )
    for _service, p50, p95, p99, _n in result.rows:
        for key, v in (("p50_ms", p50), ("p95_ms", p95), ("p99_ms", p99)):
            if v is not None:
                result.measures[key] = max(result.measures.get(key, v), v)
    return result


def _q_window_vs_baseline(history: Reads, p: dict[str, Any], measures: bool) -> QueryResult:
    q, metric = _one_metric(p)
    statements: list[tuple[str, list[Any]]] = []
    with history.read() as cur:
        stats = _stats(history, cur, statements, q, [metric])
        note = None
        if not any("window" in ph for ph in stats.values()):
            note = explain_empty(cur, q, [metric])
    by_service = q.service is None
    columns = (["service"] if by_service else []) + ["stat", "window", "baseline", "delta", "ratio"]
    types = (["VARCHAR"] if by_service else []) + ["VARCHAR"] + ["DOUBLE"] * 4
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
        unit=_unit(metric),
        note=note,
    )


def _q_error_rates(history: Reads, p: dict[str, Any], measures: bool) -> QueryResult:
    q = QueryParams.from_params(p)
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
        measures,
    )


_QUALITY = ("delta_s", "coverage", "lambda_flip_rate")


def _q_quality_trend(history: Reads, p: dict[str, Any], measures: bool) -> QueryResult:
    q = QueryParams.from_params(p)
    metrics = [q.metric] if q.metric else list(_QUALITY)
    parts: list[str] = []
    series: list[str] = []
    for m in metrics:
        parts.append(f"avg(value) FILTER (WHERE metric = {sql_str(m)}) AS {ident(m)}")
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
        measures,
    )


def _q_cache_hit_ratio(history: Reads, p: dict[str, Any], measures: bool) -> QueryResult:
    q = QueryParams.from_params(p)
    return _bucketed(
        history,
        q,
        ["cache_hit_ratio"],
        "avg(value) AS cache_hit_ratio",
        f"cache hit ratio per {q.span('bucket')}, last {q.span('window')}",
        ["cache_hit_ratio"],
        "ratio",
        "cache_hit_ratio",
        measures,
    )


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
            what_changed_query,
        ),
    )
}


def named_queries() -> list[NamedQuery]:
    """The named queries, for a picker: name, title, description, parameters with defaults."""
    return list(NAMED_QUERIES.values())
