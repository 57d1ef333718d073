"""The history in a worker process (the console's), and what a query costs: real DuckDB files,
a real child process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from console.history import (
    History,
    HistoryError,
    QueryCancelled,
    WorkerHistory,
    close_all,
    seed_demo_history,
    stop_worker,
    worker_pid,
)
from console.history import worker as worker_module
from tests.test_history import write_csv


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("worker") / "history.duckdb"
    incident = seed_demo_history(db, "demo")
    close_all()
    yield db, incident
    stop_worker()
    close_all()


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return "State:\tZ" not in fh.read()
    except OSError:
        return False


def test_worker_answers_as_the_history_does_and_the_console_never_loads_duckdb(demo_db):
    db, incident = demo_db
    script = f"""
import sys
from console.history import WorkerHistory, stop_worker
h = WorkerHistory({str(db)!r})
changes = h.what_changed(window="2h", baseline="24h", until={incident.rollback_at.isoformat()!r})
rows = h.named("latency_percentiles", window="1h", bucket="none").rows
h.max_rows = 3
capped = h.sql("SELECT * FROM samples")
print(len(changes), len(rows), len(capped.rows), capped.truncated, "duckdb" in sys.modules)
stop_worker()
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    here = History(db)
    changes = here.what_changed(window="2h", baseline="24h", until=incident.rollback_at)
    rows = here.named("latency_percentiles", window="1h", bucket="none").rows
    close_all()
    assert changes and rows
    assert out.stdout.split() == [str(len(changes)), str(len(rows)), "3", "True", "False"]


def test_worker_errors_keep_their_sentence_and_hint(demo_db):
    h = WorkerHistory(demo_db[0])
    with pytest.raises(HistoryError) as err:
        h.named("latency_percentile")
    assert "did you mean 'latency_percentiles'?" in err.value.render()
    with pytest.raises(HistoryError) as err:
        h.sql("DELETE FROM samples")
    assert "read-only" in err.value.render()
    assert h.sql("SELECT count(*) FROM samples").rows[0][0] > 0  # nothing changed, still there


def test_interrupt_cancels_a_query_running_in_the_worker(demo_db):
    h = WorkerHistory(demo_db[0])
    h.sql("SELECT 1")  # the worker is up
    outcome: list[BaseException] = []

    def slow() -> None:
        try:
            h.sql("SELECT count(*) FROM range(100000000000) a")
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + 10
    while t.is_alive() and time.monotonic() < deadline:
        h.interrupt()
        t.join(0.2)
    assert not t.is_alive(), "the query was not cancelled"
    assert outcome and isinstance(outcome[0], QueryCancelled)
    assert h.sql("SELECT 42").rows == [[42]]  # the worker lives on


def test_an_idle_worker_ends_and_the_next_call_starts_another(demo_db, monkeypatch):
    stop_worker()
    monkeypatch.setattr(worker_module, "IDLE_S", 0.3)
    h = WorkerHistory(demo_db[0])
    assert h.sql("SELECT 1").rows == [[1]]
    first = worker_pid()
    assert first is not None
    deadline = time.monotonic() + 10
    while worker_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker_pid() is None
    deadline = time.monotonic() + 10
    while _pid_alive(first) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(first), "the idle worker process is still there"
    assert h.sql("SELECT 2").rows == [[2]]
    assert worker_pid() not in (None, first)


def test_gate_measures_cost_a_statement_only_when_asked(demo_db):
    h = History(demo_db[0])
    plain = h.named("latency_percentiles", window="1h", bucket="1m", service="demo", measures=False)
    judged = h.named("latency_percentiles", window="1h", bucket="1m", service="demo")
    close_all()
    assert plain.rows == judged.rows and plain.rows
    assert len(plain.statements) == 1 and not plain.measures
    assert len(judged.statements) == 2 and "p95_uplift" in judged.measures


def test_a_file_without_labels_stores_none_and_keeps_its_times_in_utc(tmp_path):
    h = History(tmp_path / "h.duckdb")
    f = write_csv(
        tmp_path / "a.csv",
        "ts,service,metric,value\n"
        "2024-05-01T10:00:00Z,api,latency_ms,12.5\n"
        "2024-05-01T10:01:00+02:00,api,latency_ms,13\n",
    )
    h.ingest_files([f])
    rows = h.sql("SELECT ts, labels FROM samples ORDER BY ts").rows
    close_all()
    assert [(r[0].isoformat(), r[1]) for r in rows] == [
        ("2024-05-01T08:01:00", None),
        ("2024-05-01T10:00:00", None),
    ]
