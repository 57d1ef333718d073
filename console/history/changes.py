"""What changed: every series whose recent window left its baseline, ranked, with when it began.

Each series (service, metric, labels) is cut into time buckets; its window buckets are scored
against the median and spread (MAD) of its baseline buckets, a robust z-score that a few wild
points in the baseline do not move. A change is a run of smoothed scores past 4 lasting three
buckets or more; it began where the raw score first passed 2 and ended where it fell back.
Buckets are a minute up to a one-day window, then sized to keep about 1,440 per window, so a
week costs what a day does. The heavy aggregates run in DuckDB on hashed series keys and
integer buckets; the scoring runs in numpy, one series at a time.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from console.core.durations import compact
from console.history.params import QueryParams, Reads
from console.history.results import Change, QueryResult
from console.history.rows import db_error


def what_changed_query(history: Reads, p: dict[str, Any]) -> QueryResult:
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
    import numpy as np

    step = q.bucket or auto_step(q.window)
    # series as a 64-bit hash and buckets as integers: no strings in the big aggregates
    key = "hash(service, metric, coalesce(labels, ''))"
    bucket = f"epoch_us(ts) // {int(step * 1_000_000)}"
    wparams: list[Any] = [q.since, q.until]
    wsvc = q.service_clause(wparams)
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
        raise db_error(exc, "what changed") from None
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
