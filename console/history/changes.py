"""What changed: every series whose recent window left its baseline, ranked, with when it began.

Each series (service, metric, labels) is cut into time buckets; its window buckets are scored
against the median and spread (MAD) of its baseline buckets, a robust z-score that a few wild
points in the baseline do not move. A change is a run of smoothed scores past 4 lasting three
buckets or more; it began where the raw score first passed 2 and ended where it fell back.
Buckets are a minute up to a one-day window, then sized to keep about 1,440 per window, so a
week costs what a day does. The aggregates run in DuckDB on hashed series keys and integer
buckets, one small GROUP BY per slice of time (memory stays bounded however many series); the
baseline is described by at most 720 buckets per series, in slices spread over it, so a week
of baseline reads what half a day does. The scoring runs in numpy, one series at a time.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from console.core.durations import compact
from console.history.params import QueryParams, Reads
from console.history.results import Change, QueryResult
from console.history.rows import db_error


def what_changed_query(history: Reads, p: dict[str, Any], measures: bool = True) -> QueryResult:
    q = QueryParams.from_params(p)
    statements: list[tuple[str, list[Any]]] = []
    with history.read() as cur:
        changes, step = detect_changes(cur, q, statements)
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
        f" ({compact(step)} buckets)",
        params=q.raw,
        sql=statements[0][0] if statements else "",
        statements=statements,
        since=q.since,
        until=q.until,
        measures={"changes": float(len(changes))},
        note=note,
    )


def auto_step(window: float) -> float:
    """1-minute buckets up to a day; beyond, about 1,440 buckets per window, in whole minutes."""
    if window <= 86400:
        return 60.0
    return float(math.ceil(window / 1440 / 60) * 60)


def detect_changes(
    cur: Any, q: QueryParams, statements: list[tuple[str, list[Any]]]
) -> tuple[list[Change], float]:
    """Robust z-score of each series' window buckets against its baseline's median and MAD.

    The z-scores are smoothed over ~5 buckets; a series changed when the smoothed score stays
    past 4 for 3 buckets or more. The change starts where the raw score first passed 2 before
    that run, and ends where it fell back under 2.
    """
    numpy_ready = _import_meanwhile("numpy")
    step = q.bucket or auto_step(q.window)
    step_us = int(step * 1_000_000)
    wsvc_params: list[Any] = []
    wsvc = q.service_clause(wsvc_params)
    window = _slices(q.since, q.until, step_us, WINDOW_SLICE_BUCKETS)
    baseline = _baseline_slices(q.baseline_since, q.since, step_us)
    base_sql, base_params = _union(baseline, step_us, wsvc, wsvc_params)
    base_sql = (
        "SELECT k, median(v) AS med, mad(v) AS mad, stddev_pop(v) AS sd, count(*) AS n "
        f"FROM ({base_sql}) GROUP BY k"
    )
    win_sql, win_params = _union(window, step_us, wsvc, wsvc_params)
    win_sql += " ORDER BY k, b"
    try:
        statements.append((base_sql, base_params))
        base_rows = cur.execute(*statements[-1]).fetchall() if baseline else []
        numpy_ready()
        statements.append((win_sql, win_params))
        win = cur.execute(*statements[-1]).fetchnumpy()
    except Exception as exc:
        raise db_error(exc, "what changed") from None
    import numpy as np

    baseline_stats = {r[0]: r[1:] for r in base_rows}
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
    found: list[tuple[Any, ...]] = []
    for s, e in zip(starts, ends, strict=True):
        base = baseline_stats.get(int(k_a[s]))
        if base is None:
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
        found.append((int(k_a[s]), peak_z, sign, times, first, last, m, med, peak_value, mean))
    names = _series_names(cur, q, wsvc, wsvc_params, found, step_us, statements)
    changes: list[Change] = []
    for key, peak_z, sign, times, first, last, m, med, peak_value, mean in found:
        series = names.get(key)
        if series is None:
            continue
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


def _import_meanwhile(name: str) -> Callable[[], None]:
    """Import a module in a thread while DuckDB (which lets go of the interpreter) aggregates
    the baseline: a fresh process's ~0.1 s numpy import then costs no wall time. Call the
    returned function before using the module: it waits for the import."""
    import importlib
    import sys

    if name in sys.modules:
        return lambda: None
    thread = threading.Thread(target=importlib.import_module, args=(name,), daemon=True)
    thread.start()
    return thread.join


WINDOW_SLICE_BUCKETS = 120
"""Buckets of one series per aggregate: each slice of the window is its own small GROUP BY (a
day of 1-minute buckets over hundreds of series in one hash table costs ~100 MiB)."""
BASELINE_BUCKETS = 720
"""At most this many buckets per series describe the baseline (median, MAD): beyond, slices
spread evenly over it, each read alone (the file is in time order, so a slice reads only its
own row groups)."""
BASELINE_SLICES = 12


def _slices(lo: datetime, hi: datetime, step_us: int, per_slice: int) -> list[tuple[Any, Any]]:
    """[lo, hi) cut at bucket boundaries into slices of at most `per_slice` buckets."""
    a, b = _epoch_us(lo), _epoch_us(hi)
    out = []
    start = a
    while start < b:
        end = min(b, (start // step_us + per_slice) * step_us)
        out.append((_from_us(start), _from_us(end)))
        start = end
    return out


def _baseline_slices(lo: datetime, hi: datetime, step_us: int) -> list[tuple[Any, Any]]:
    """The whole baseline when it is short; else BASELINE_SLICES slices spread evenly over it,
    BASELINE_BUCKETS buckets in all (at 1-minute buckets: a 1-hour slice every ~13 h of a week)."""
    a, b = _epoch_us(lo), _epoch_us(hi)
    buckets = (b - a) // step_us
    if buckets <= BASELINE_BUCKETS:
        return _slices(lo, hi, step_us, WINDOW_SLICE_BUCKETS)
    length = BASELINE_BUCKETS // BASELINE_SLICES
    gap = (buckets - length) / (BASELINE_SLICES - 1)
    out = []
    for i in range(BASELINE_SLICES):
        start = (a // step_us + round(i * gap)) * step_us
        out.append((_from_us(max(start, a)), _from_us(min(start + length * step_us, b))))
    return out


def _union(
    slices: list[tuple[Any, Any]], step_us: int, svc: str, svc_params: list[Any]
) -> tuple[str, list[Any]]:
    """One grouped SELECT of (series key, bucket, mean) per slice, as a UNION ALL."""
    # series as a 64-bit hash and buckets as integers: no strings in the aggregates
    part = (
        f"SELECT {_KEY} AS k, epoch_us(ts) // {step_us} AS b, avg(value) AS v FROM samples "
        f"WHERE ts >= ? AND ts < ?{svc} GROUP BY ALL"
    )
    params: list[Any] = []
    for lo, hi in slices:
        params += [lo, hi, *svc_params]
    sql = " UNION ALL ".join(f"({part})" for _ in slices) or (
        "SELECT NULL::UBIGINT AS k, NULL::BIGINT AS b, NULL::DOUBLE AS v WHERE false"
    )
    return sql, params


_KEY = "hash(service, metric, coalesce(labels, ''))"


def _series_names(
    cur: Any,
    q: QueryParams,
    svc: str,
    svc_params: list[Any],
    found: list[tuple[Any, ...]],
    step_us: int,
    statements: list[tuple[str, list[Any]]],
) -> dict[int, tuple[str, str, str]]:
    """(service, metric, labels) of the series that changed (none changed: no query).

    Every change's first bucket has a sample of its series, so the names are read from the
    span of those buckets, not the whole window."""
    if not found:
        return {}
    firsts = [_to_dt(times[first]) for _k, _z, _s, times, first, *_ in found]
    lo, hi = min(firsts), max(firsts) + timedelta(microseconds=step_us)
    sql = (
        f"SELECT DISTINCT {_KEY} AS k, service, metric, coalesce(labels, '') FROM samples "
        f"WHERE ts >= ? AND ts < ?{svc} AND {_KEY} IN (SELECT unnest(?::UBIGINT[]))"
    )
    params = [lo, hi, *svc_params, [f[0] for f in found]]
    statements.append((sql, params))
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in cur.execute(sql, params).fetchall()}
    except Exception as exc:
        raise db_error(exc, "what changed") from None


def _epoch_us(t: datetime) -> int:
    return (t - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _from_us(us: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=us)


def _to_dt(t: Any) -> datetime:
    import numpy as np

    us = int(np.datetime64(t, "us").astype(np.int64))
    return datetime(1970, 1, 1) + timedelta(microseconds=us)
