"""Two consoles and a CLI ingest share one history file: separate processes, no lock error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from console.history import History, close_all, seed_demo_history
from tests.conftest import FIXMAP

# A console as the TUI drives the engine: a thread worker running queries while another records
# probe results and events, until told to stop.
CONSOLE = r"""
import json, sys, threading, time
from console.history import History

db, stop, name = sys.argv[1], sys.argv[2], sys.argv[3]
h = History(db, lock_timeout=30)
counts = {"reads": 0, "probe_writes": 0, "event_writes": 0}
errors = []

def reader():
    try:
        while True:
            h.named("latency_percentiles", window="24h", bucket="5m", service="demo")
            h.named("error_rates", window="1h")
            h.sql("SELECT count(*) FROM samples")
            counts["reads"] += 3
            if counts["probe_writes"] >= 25 and _stopped():
                return
    except Exception as exc:
        errors.append(repr(exc))

def writer():
    try:
        while True:
            h.record_probe_results([{"name": "latency", "status": "pass", "value": 1.0, "service": name}])
            counts["probe_writes"] += 1
            if counts["probe_writes"] % 10 == 0:
                h.record_events([{"kind": "action", "title": f"{name} ping", "service": name}])
                counts["event_writes"] += 1
            time.sleep(0.02)
            if counts["probe_writes"] >= 25 and _stopped():
                return
    except Exception as exc:
        errors.append(repr(exc))

def _stopped():
    import os
    return os.path.exists(stop)

threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
counts["lock_waits"] = h._store.lock_waits
print(json.dumps({"counts": counts, "errors": errors}))
sys.exit(1 if errors else 0)
"""


def test_two_consoles_and_an_ingest_share_one_file(tmp_path):
    db = tmp_path / "history.duckdb"
    seed_demo_history(db, "demo")
    seeded = History(db).sql("SELECT count(*) FROM samples").rows[0][0]
    close_all()  # this test process holds nothing while the others run
    parquet = tmp_path / "batch.parquet"
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT TIMESTAMP '2024-05-01' + INTERVAL (i) SECOND AS ts, 'svc' || (i % 20) AS service, "
        f"'m' || (i % 10) AS metric, random() AS value FROM range(400000) t(i)) TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    script = tmp_path / "console_worker.py"
    script.write_text(CONSOLE, encoding="utf-8")
    stop = tmp_path / "stop"
    root = Path(__file__).resolve().parent.parent
    consoles = [
        subprocess.Popen(
            [sys.executable, str(script), str(db), str(stop), f"console{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for i in (1, 2)
    ]
    try:
        ingests = []
        t0 = time.monotonic()
        for _ in range(3):
            ingests.append(
                subprocess.run(
                    [
                        FIXMAP,
                        "history",
                        "ingest",
                        str(parquet),
                        "--force",
                        "--json",
                        "--db",
                        str(db),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
            )
        stop.touch()
        results = [p.communicate(timeout=60) for p in consoles]
        elapsed = time.monotonic() - t0
    finally:
        stop.touch()
        for p in consoles:
            if p.poll() is None:
                p.kill()
    for i, proc in enumerate(ingests):
        assert proc.returncode == 0, proc.stderr
        assert "lock" not in proc.stderr.lower()
        report = json.loads(proc.stdout)
        assert report["rows"] == 400_000
        assert report["replaced"] == (400_000 if i else 0)  # --force replaces the file's rows
    reports = []
    for p, (out, err) in zip(consoles, results, strict=True):
        assert p.returncode == 0, (out, err)
        assert "lock" not in err.lower(), err
        reports.append(json.loads(out))
    assert elapsed < 60
    probe_writes = sum(r["counts"]["probe_writes"] for r in reports)
    event_writes = sum(r["counts"]["event_writes"] for r in reports)
    assert all(r["counts"]["reads"] > 0 for r in reports)
    h = History(db)
    assert h.sql("SELECT count(*) FROM samples").rows[0][0] == seeded + 400_000
    # every write a console was told was stored is there: DuckDB reads a file's headers before
    # it locks it, and without the open lock (history/openlock.py) a commit made just before
    # another process's open was now and then overwritten (49 rows for 50 writes)
    assert h.sql("SELECT count(*) FROM probe_results").rows[0][0] == probe_writes
    assert h.sql("SELECT count(*) FROM events WHERE kind = 'action'").rows[0][0] == event_writes
    print("lock waits:", [r["counts"]["lock_waits"] for r in reports], f"elapsed: {elapsed:.1f}s")


WRITER = r"""
import json, sys
from console.history import History

db, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = History(db, lock_timeout=60)
for i in range(n):
    h.record_probe_results([{"name": f"{name}-{i}", "status": "pass", "service": name}])
print(json.dumps(n))
"""


def test_writers_taking_turns_on_one_file_lose_no_commit(tmp_path):
    """Processes that open, commit and close the file in turn: each commit reported stored is
    there afterwards (without the open lock, about one in 400 was silently overwritten)."""
    db = tmp_path / "history.duckdb"
    History(db).sql("SELECT 1")
    close_all()
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(db), f"w{i}", "100"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for i in range(4)
    ]
    results = [p.communicate(timeout=240) for p in writers]
    for p, (_out, err) in zip(writers, results, strict=True):
        assert p.returncode == 0, err
    names = {r[0] for r in History(db).sql("SELECT name FROM probe_results").rows}
    missing = {f"w{i}-{j}" for i in range(4) for j in range(100)} - names
    assert not missing
