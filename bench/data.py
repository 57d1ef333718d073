"""The benches' metric history: N samples over the week up to now, with a change in the window.

20 services x 10 metrics (200 series), one week ending when the data was built, scraped in time
order; in the last two hours svc03's and svc11's latency is 2.5x and their error rate jumps, so
'what changed' over 24 h has something to find and every query window holds rows.

The data is built once per size into a cache folder under /tmp (a Parquet file and a history
file ingested from it) and reused while it is younger than MAX_AGE_H, so the 30 M-row benches
do not rebuild it each run; each use first tops the history up to now (a few thousand rows),
since gates judge the last minutes. Benches only read the cached history; ingest benches copy nothing,
they ingest the Parquet file into their own fresh files.

    .venv/bin/python bench/data.py 1000000 10000000 30000000   # build (or reuse) and describe
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE = Path(os.environ.get("FIXMAP_BENCH_CACHE", "/tmp/fixmap-bench-cache"))
MAX_AGE_H = 12.0
"""Older data is rebuilt: the console's queries end at now, and the change must stay in 24 h."""
SERVICES = 20
METRICS = (
    "latency_ms",
    "requests",
    "error_rate",
    "rate_5xx",
    "rate_429",
    "delta_s",
    "coverage",
    "lambda_flip_rate",
    "cache_hit_ratio",
    "queue_depth",
)
CHANGED = ("svc03", "svc11")
"""Services whose latency and error rate change in the last CHANGE_H hours."""
CHANGE_H = 2
WEEK_S = 7 * 86400
VERSION = "1"


@dataclass(frozen=True)
class BenchData:
    rows: int
    parquet: Path
    db: Path
    end: datetime
    """The last sample's time (naive UTC)."""
    folder: Path

    def config(self, extra: str = "") -> Path:
        """A site config pointing at this history (written next to it), plus `extra` TOML."""
        cfg = self.folder / f"fixmap-{abs(hash(extra)) % 10**8}.toml"
        cfg.write_text(
            f'[site]\nname = "bench"\n[history]\ndb = "{self.db}"\n{extra}', encoding="utf-8"
        )
        return cfg


def write_parquet(path: Path, rows: int, end: datetime) -> int:
    """The sample file, written by DuckDB in scrape order (time-major). Returns its row count."""
    import duckdb

    series = SERVICES * len(METRICS)
    points = rows // series
    step_us = _step_us(rows)
    start = end - timedelta(microseconds=step_us * (points - 1))
    metric_list = "[" + ", ".join(f"'{m}'" for m in METRICS) + "]"
    changed = ", ".join(f"'{s}'" for s in CHANGED)
    change_from = end - timedelta(hours=CHANGE_H)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        COPY (
            SELECT ts, service, metric,
                   CASE
                     WHEN service IN ({changed}) AND ts >= TIMESTAMP '{change_from}' AND metric = 'latency_ms'
                       THEN 2.5 * base
                     WHEN service IN ({changed}) AND ts >= TIMESTAMP '{change_from}' AND metric = 'error_rate'
                       THEN base + 1.0
                     ELSE base
                   END AS value
            FROM (
                SELECT TIMESTAMP '{start}' + to_microseconds((i // {series}) * {step_us}) AS ts,
                       'svc' || lpad(((i % {series}) // {len(METRICS)})::VARCHAR, 2, '0') AS service,
                       {metric_list}[(i % {len(METRICS)}) + 1] AS metric,
                       CASE WHEN i % {len(METRICS)} = 0 THEN 80 + 60 * random() * random()
                            ELSE random() END AS base
                FROM range({points * series}) t(i)
            )
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
    """)
    n = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
    con.close()
    return int(n)


def _step_us(rows: int) -> int:
    return WEEK_S * 1_000_000 // (rows // (SERVICES * len(METRICS)))


def top_up(db: Path, rows: int, end: datetime) -> tuple[datetime, int]:
    """Samples from `end` up to now, at the same rate, the change still on: gates judge the
    last minutes, and a history that stopped half an hour ago has none. Returns (new end,
    rows added)."""
    import duckdb

    step_us = _step_us(rows)
    missing = int((datetime.utcnow() - end).total_seconds() * 1_000_000 // step_us)
    if missing < 1:
        return end, 0
    series = SERVICES * len(METRICS)
    metric_list = "[" + ", ".join(f"'{m}'" for m in METRICS) + "]"
    changed = ", ".join(f"'{s}'" for s in CHANGED)
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        INSERT INTO samples (ts, service, metric, value)
        SELECT ts, service, metric,
               CASE WHEN service IN ({changed}) AND metric = 'latency_ms' THEN 2.5 * base
                    WHEN service IN ({changed}) AND metric = 'error_rate' THEN base + 1.0
                    ELSE base END
        FROM (
            SELECT TIMESTAMP '{end}' + to_microseconds((i // {series} + 1) * {step_us}) AS ts,
                   'svc' || lpad(((i % {series}) // {len(METRICS)})::VARCHAR, 2, '0') AS service,
                   {metric_list}[(i % {len(METRICS)}) + 1] AS metric,
                   CASE WHEN i % {len(METRICS)} = 0 THEN 80 + 60 * random() * random()
                        ELSE random() END AS base
            FROM range({missing * series}) t(i)
        )
    """)
    con.close()
    return end + timedelta(microseconds=missing * step_us), missing * series


def bench_data(rows: int, *, log=print) -> BenchData:
    """The cached history of `rows` samples, built when missing or older than MAX_AGE_H."""
    folder = CACHE / f"rows-{rows}"
    manifest = folder / "manifest.json"
    parquet, db = folder / "samples.parquet", folder / "history.duckdb"
    if manifest.is_file() and parquet.is_file() and db.is_file():
        meta = json.loads(manifest.read_text())
        end = datetime.fromisoformat(meta["end"])
        age_h = (datetime.utcnow() - end).total_seconds() / 3600
        if meta.get("version") == VERSION and age_h < MAX_AGE_H:
            end, added = top_up(db, meta["rows"], end)
            if added:
                meta["end"], meta["added"] = end.isoformat(), meta.get("added", 0) + added
                manifest.write_text(json.dumps(meta))
            return BenchData(meta["rows"], parquet, db, end, folder)
    folder.mkdir(parents=True, exist_ok=True)
    for p in folder.iterdir():
        p.unlink()
    end = datetime.utcnow().replace(second=0, microsecond=0)
    t0 = time.perf_counter()
    n = write_parquet(parquet, rows, end)
    t1 = time.perf_counter()
    from console.history import History, close_all

    History(db).ingest_files([parquet])
    close_all()
    log(
        f"built {n:,} samples in {folder} (parquet {t1 - t0:.1f} s, "
        f"ingest {time.perf_counter() - t1:.1f} s); reused for {MAX_AGE_H:.0f} h"
    )
    manifest.write_text(json.dumps({"version": VERSION, "rows": n, "end": end.isoformat()}))
    return BenchData(n, parquet, db, end, folder)


def spread(values: list[float], scale: float = 1.0, fmt: str = "{:.0f}") -> str:
    """'min–median–max' of values times scale."""
    import statistics

    v = sorted(x * scale for x in values)
    return "–".join(fmt.format(x) for x in (v[0], statistics.median(v), v[-1]))


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["10000000"]:
        d = bench_data(int(arg))
        print(f"{d.rows:,} samples up to {d.end:%Y-%m-%d %H:%M} UTC: {d.db}")
