"""Metric history at scale, every figure a ratio against a baseline run alternately in the same
run (these machines are noisy); min–median–max throughout. Data: bench/data.py (200 series,
one week up to now, a change in the last two hours), built once per size and cached.

1. ingest: fixmap's ingest_files vs DuckDB's own `CREATE TABLE AS SELECT * FROM read_parquet`
   of the same file, each into a fresh file, connect to close (target <= 1.1x), per size;
2. named `latency_percentiles` in-process (p95 per minute of one series, and p50/p95/p99 per
   service, over 24 h) vs the SQL a user would type for it, run on an open DuckDB connection
   (target <= 1.3x); also with the gate measures a gate asks for, against both statements;
3. `fixmap history changed --window 24h --baseline 6d`, the whole process: wall time and peak
   RSS (targets <= 0.5 s and <= 200 MiB at 30 M samples), beside a process that only imports
   DuckDB and counts the window's samples (the floor of any question over that window).

    .venv/bin/python bench/history.py [--rows 10000000,30000000] [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.data import BenchData, bench_data, spread  # noqa: E402

FIXMAP = str(Path(sys.executable).with_name("fixmap"))

# ru_maxrss of a child forked from a big parent starts at the parent's mark: measure through
# a small launcher instead
LAUNCH = r"""
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
"""

FLOOR = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True, config={"memory_limit": "128MB"})
con.execute("SET TimeZone = 'UTC'")
print(con.execute("SELECT count(*) FROM samples WHERE ts >= ?::TIMESTAMP - INTERVAL 24 HOUR",
                  [sys.argv[2]]).fetchone()[0])
"""


def process(argv: list[str]) -> tuple[float, float]:
    """(wall s, peak RSS MiB) of a whole process."""
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH, *argv], capture_output=True, text=True, timeout=300
    )
    wall, rss, code = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {out.stderr[-2000:]}")
    return float(wall), float(rss)


# ------------------------------------------------------------------ ingest


def ingest_duckdb(parquet: Path, db: Path) -> float:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE samples AS SELECT * FROM read_parquet('{parquet}')")
    con.close()
    return time.perf_counter() - t0


def ingest_fixmap(parquet: Path, db: Path) -> float:
    from console.history import History, close_all

    h = History(db)
    h.ensure_schema()  # an existing history file: the schema is there already
    close_all()
    t0 = time.perf_counter()
    report = h.ingest_files([parquet])
    elapsed = time.perf_counter() - t0
    close_all()
    if not report.rows:
        raise SystemExit(f"fixmap ingested no rows from {parquet}")
    return elapsed


def bench_ingest(data: BenchData, runs: int, tmp: Path) -> float:
    duck, fix = [], []
    for i in range(runs):
        for side, fn, times in (("d", ingest_duckdb, duck), ("f", ingest_fixmap, fix)):
            db = tmp / f"{side}{data.rows}-{i}.duckdb"
            times.append(fn(data.parquet, db))
            for p in tmp.glob(f"{side}{data.rows}-{i}.duckdb*"):
                p.unlink()
    ratio = statistics.median(fix) / statistics.median(duck)
    rate = data.rows / statistics.median(fix) / 1e6
    print(f"\ningest {data.rows:,} samples from Parquet ({runs} runs alternating, s)")
    print(f"  duckdb CREATE TABLE AS read_parquet  {spread(duck, fmt='{:.2f}'):>16}")
    print(
        f"  fixmap ingest_files                  {spread(fix, fmt='{:.2f}'):>16}   {rate:.1f} M rows/s"
    )
    print(
        f"  ratio fixmap / duckdb                {ratio:16.2f}   (target <= 1.10) {_ok(ratio <= 1.1)}"
    )
    return ratio


# ------------------------------------------------------------------ named queries


def bench_named(data: BenchData, runs: int) -> list[float]:
    from console.history import History, close_all

    until = data.end.isoformat()
    since = (data.end - timedelta(hours=24)).isoformat()
    cases = {
        "p95 per minute, one series, 24 h": (
            {"service": "svc03", "window": "24h", "bucket": "1m", "until": until},
            "SELECT time_bucket(INTERVAL 1 MINUTE, ts) AS bucket, "
            "quantile_cont(value, [0.5, 0.95, 0.99]) AS q, count(*) AS n FROM samples "
            f"WHERE metric = 'latency_ms' AND service = 'svc03' AND ts >= '{since}' "
            f"AND ts < '{until}' GROUP BY 1 ORDER BY 1",
        ),
        "p50/p95/p99 per service, 24 h": (
            {"window": "24h", "bucket": "none", "until": until},
            "SELECT service, quantile_cont(value, [0.5, 0.95, 0.99]) AS q, count(*) AS n "
            f"FROM samples WHERE metric = 'latency_ms' AND ts >= '{since}' AND ts < '{until}' "
            "GROUP BY 1 ORDER BY 1",
        ),
    }
    ratios = []
    print(f"\nnamed latency_percentiles on {data.rows:,} samples ({runs} runs alternating, ms)")
    for label, (params, typed) in cases.items():
        h = History(data.db, linger=60.0)
        gated = h.named("latency_percentiles", **params)
        plain = h.named("latency_percentiles", measures=False, **params)
        if not plain.rows:
            raise SystemExit(f"{label}: the named query found no rows ({plain.note})")
        # one process must not mix read-only connections of two configurations: fixmap's own
        # connection serves both sides (a cursor each, as a user's SQL would get)
        with h.read() as cur:
            if len(cur.execute(typed).fetchall()) != len(plain.rows):
                raise SystemExit(f"{label}: the typed SQL and the named query disagree")
            stats_sql, stats_params = gated.statements[-1]
            fix, sql, fix_gated, sql_both = [], [], [], []
            for _ in range(runs):
                t0 = time.perf_counter()
                cur.execute(typed).fetchall()
                sql.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                h.named("latency_percentiles", measures=False, **params)
                fix.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                cur.execute(typed).fetchall()
                cur.execute(stats_sql, stats_params).fetchall()
                sql_both.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                h.named("latency_percentiles", **params)
                fix_gated.append(time.perf_counter() - t0)
        close_all()
        ratio = statistics.median(fix) / statistics.median(sql)
        ratios.append(ratio)
        gated_ratio = statistics.median(fix_gated) / statistics.median(sql_both)
        print(f"  {label}: {len(plain.rows)} rows")
        print(f"    the SQL a user would type        {spread(sql, 1000, '{:.1f}'):>20}")
        print(
            f"    named, in-process                {spread(fix, 1000, '{:.1f}'):>20}   "
            f"{ratio:.2f}x (target <= 1.30) {_ok(ratio <= 1.3)}"
        )
        if len(gated.statements) > 1:  # per service, the measures come from the rows
            print(
                f"    named with gate measures         {spread(fix_gated, 1000, '{:.1f}'):>20}   "
                f"{gated_ratio:.2f}x the same two statements typed"
            )
    return ratios


# ------------------------------------------------------------------ history changed


def bench_changed(data: BenchData, runs: int) -> tuple[float, float]:
    cmd = [FIXMAP, "history", "changed", "--window", "24h", "--baseline", "6d"]
    cmd += ["--until", data.end.isoformat(), "--json", "--db", str(data.db)]
    floor = [sys.executable, "-c", FLOOR, str(data.db), data.end.isoformat()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    found = json.loads(out.stdout)["changes"]
    if not found:
        raise SystemExit("history changed found nothing: the bench would time the empty path")
    process(cmd)
    fw, fr, cw, cr = [], [], [], []
    for _ in range(runs):
        w, r = process(floor)
        fw.append(w)
        fr.append(r)
        w, r = process(cmd)
        cw.append(w)
        cr.append(r)
    wall, rss = statistics.median(cw), statistics.median(cr)
    print(
        f"\nfixmap history changed, 24 h vs 6 d on {data.rows:,} samples: {len(found)} changes "
        f"({runs} runs alternating; whole process)"
    )
    print(
        f"  floor: import duckdb, count the window {spread(fw, 1000):>15} ms {spread(fr):>13} MiB"
    )
    print(
        f"  fixmap history changed                 {spread(cw, 1000):>15} ms {spread(cr):>13} MiB"
    )
    print(
        f"  {wall / statistics.median(fw):.2f}x the floor's time, {rss / statistics.median(fr):.2f}x "
        f"its memory   (targets <= 0.5 s {_ok(wall <= 0.5)}, <= 200 MiB {_ok(rss <= 200)})"
    )
    return wall, rss


def _ok(good: bool) -> str:
    return "ok" if good else "MISSED"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="10000000,30000000")
    ap.add_argument("--runs", type=int, default=9, help="query and process repetitions")
    ap.add_argument("--ingest-runs", type=int, default=5)
    ap.add_argument("--only", choices=("ingest", "named", "changed"), default=None)
    args = ap.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    with tempfile.TemporaryDirectory(prefix="fixmap-bench-") as tmp:
        for n in sizes:
            data = bench_data(n)
            if args.only in (None, "ingest"):
                bench_ingest(data, args.ingest_runs, Path(tmp))
            if args.only in (None, "named"):
                bench_named(data, args.runs)
            if args.only in (None, "changed"):
                bench_changed(data, args.runs)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("FIXMAP_NO_KEYRING", "1")
    sys.exit(main())
