"""Metric history at scale: 10 M samples (20 services x 10 metrics, one week, every 12 s).

Figures are ratios measured in the same run (these machines are noisy):

- ingest from Parquet: fixmap's ingest_files vs DuckDB's own `CREATE TABLE AS SELECT * FROM
  read_parquet(...)` on the same file, each into a fresh database file, connect to close
  (target: fixmap >= 0.8 x DuckDB's rate);
- p95 per minute for one series over 24 h, and p50/p95/p99 per service over 24 h: fixmap's named
  query (connection reuse, parameter checks, result conversion, gate measures) vs the very
  statements it ran, executed directly on an open DuckDB connection (target: <= 1.5 x);
- peak RSS of a fresh process that opens the history and runs those two queries (target: <= 150 MiB).

    .venv/bin/python bench/history.py [--rows 10000000] [--runs 15]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
WEEK_S = 7 * 86400


def make_parquet(path: Path, rows: int) -> str:
    """The sample file, written by DuckDB in scrape order (time-major). Returns its last time."""
    import duckdb

    series = SERVICES * len(METRICS)
    points = rows // series
    step_us = WEEK_S * 1_000_000 // points
    metric_list = "[" + ", ".join(f"'{m}'" for m in METRICS) + "]"
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            SELECT TIMESTAMP '2024-05-01 00:00:00' + to_microseconds((i // {series}) * {step_us}) AS ts,
                   'svc' || lpad(((i % {series}) // {len(METRICS)})::VARCHAR, 2, '0') AS service,
                   {metric_list}[(i % {len(METRICS)}) + 1] AS metric,
                   CASE WHEN i % {len(METRICS)} = 0 THEN 80 + 60 * random() * random() ELSE random() END AS value
            FROM range({points * series}) t(i)
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
    """)
    last = con.execute(f"SELECT max(ts) FROM read_parquet('{path}')").fetchone()[0]
    con.close()
    return last.isoformat()


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
    h.ingest_files([parquet])
    return time.perf_counter() - t0


def query_ratio(db: Path, name: str, params: dict, runs: int) -> dict:
    """Median wall time of the named query vs its statements run directly, interleaved."""
    import duckdb

    from console.history import History, close_all

    h = History(db, linger=5.0)
    first = time.perf_counter()
    result = h.named(name, **params)
    cold = time.perf_counter() - first
    statements = result.statements
    close_all()
    direct_con = duckdb.connect(str(db), read_only=True)
    direct_con.execute("SET TimeZone = 'UTC'")

    def direct(all_statements: bool) -> float:
        t0 = time.perf_counter()
        for sql, p in statements if all_statements else statements[:1]:
            direct_con.execute(sql, p).fetchall()
        return time.perf_counter() - t0

    fix_times, direct_times, main_times = [], [], []
    for _ in range(runs):
        direct_times.append(direct(True))
        main_times.append(direct(False))
    direct_con.close()  # one process must not mix read-only connections of two configurations
    for _ in range(runs):
        t0 = time.perf_counter()
        h.named(name, **params)
        fix_times.append(time.perf_counter() - t0)
    close_all()
    fx, dr, mn = (statistics.median(x) * 1000 for x in (fix_times, direct_times, main_times))
    return {
        "rows": len(result.rows),
        "statements": len(statements),
        "fixmap_ms": fx,
        "direct_ms": dr,
        "direct_main_only_ms": mn,
        "fixmap_cold_ms": cold * 1000,
        "ratio": fx / dr,
    }


# VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the forking parent's high-water mark across exec
RSS_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[3])

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

from console.history import History
h = History(sys.argv[1])  # the console's defaults (memory_limit 128MB)
until = sys.argv[2]
a = h.named("latency_percentiles", service="svc03", metric="latency_ms", window="24h", bucket="1m", until=until)
b = h.named("latency_percentiles", metric="latency_ms", window="24h", bucket="none", until=until)
queries = peak_kib()
c = h.what_changed(window="24h", baseline="6d", until=until)
print(json.dumps({"queries_kib": queries, "with_what_changed_kib": peak_kib(),
                  "rows": [len(a.rows), len(b.rows), len(c)]}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=15, help="query repetitions per side")
    ap.add_argument("--ingest-runs", type=int, default=5, help="ingest repetitions per side")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="fixmap-bench-") as tmp:
        tmpdir = Path(tmp)
        parquet = tmpdir / "samples.parquet"
        t0 = time.perf_counter()
        until = make_parquet(parquet, args.rows)
        import duckdb

        rows = (
            duckdb.connect()
            .execute(f"SELECT count(*) FROM read_parquet('{parquet}')")
            .fetchone()[0]
        )
        print(
            f"data: {rows:,} samples, {SERVICES} services x {len(METRICS)} metrics, one week; "
            f"parquet {parquet.stat().st_size / 2**20:.0f} MiB, written in {time.perf_counter() - t0:.1f} s"
        )

        duck, fix = [], []
        for i in range(args.ingest_runs):
            duck.append(ingest_duckdb(parquet, tmpdir / f"duck{i}.duckdb"))
            fix.append(ingest_fixmap(parquet, tmpdir / f"fix{i}.duckdb"))
        for i in range(args.ingest_runs - 1):  # keep one fixmap file for the queries
            for p in tmpdir.glob(f"duck{i}.duckdb*"):
                p.unlink()
            for p in tmpdir.glob(f"fix{i}.duckdb*"):
                p.unlink()
        d, f = statistics.median(duck), statistics.median(fix)
        ingest_ratio = d / f
        print(f"\ningest (median of {args.ingest_runs}, alternating, connect to close)")
        print(
            f"  duckdb read_parquet CTAS  {d:6.2f} s  {rows / d / 1e6:5.2f} M rows/s   (best {min(duck):.2f} s)"
        )
        print(
            f"  fixmap ingest_files       {f:6.2f} s  {rows / f / 1e6:5.2f} M rows/s   (best {min(fix):.2f} s)"
        )
        print(
            f"  ratio fixmap/duckdb rate  {ingest_ratio:.2f}   (target >= 0.8)  "
            f"{'ok' if ingest_ratio >= 0.8 else 'MISSED'}   (best vs best: {min(duck) / min(fix):.2f})"
        )

        db = tmpdir / f"fix{args.ingest_runs - 1}.duckdb"
        checks = {
            "p95 per minute, one series, 24 h": (
                "latency_percentiles",
                {
                    "service": "svc03",
                    "metric": "latency_ms",
                    "window": "24h",
                    "bucket": "1m",
                    "until": until,
                },
            ),
            "p50/p95/p99 per service, 24 h": (
                "latency_percentiles",
                {"metric": "latency_ms", "window": "24h", "bucket": "none", "until": until},
            ),
        }
        print(
            f"\nqueries (median of {args.runs}; direct = the same statements on an open connection)"
        )
        query_ratios = []
        for label, (name, params) in checks.items():
            r = query_ratio(db, name, params, args.runs)
            query_ratios.append(r["ratio"])
            print(f"  {label}: {r['rows']} rows, {r['statements']} statements")
            print(
                f"    fixmap named  {r['fixmap_ms']:7.1f} ms   (first call, opening the file: "
                f"{r['fixmap_cold_ms']:.1f} ms)"
            )
            print(
                f"    direct        {r['direct_ms']:7.1f} ms   (rows statement only: {r['direct_main_only_ms']:.1f} ms)"
            )
            print(
                f"    ratio         {r['ratio']:7.2f}      (target <= 1.5)  {'ok' if r['ratio'] <= 1.5 else 'MISSED'}"
            )

        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        proc = subprocess.run(
            [sys.executable, "-c", RSS_CHILD, str(db), until, str(ROOT)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        rss = json.loads(proc.stdout)
        peak = rss["queries_kib"] / 1024
        print("\npeak RSS of a fresh process: open the history, run both queries")
        print(f"  {peak:6.1f} MiB   (target <= 150 MiB)  {'ok' if peak <= 150 else 'MISSED'}")
        print(
            f"  {rss['with_what_changed_kib'] / 1024:6.1f} MiB   after also running what_changed "
            "(24 h vs 6 d, all 200 series)"
        )
        ok = ingest_ratio >= 0.8 and all(r <= 1.5 for r in query_ratios) and peak <= 150
        print("\nall targets met" if ok else "\nsome targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
