"""The history's limits: a query timeout on the command line, one deadline for a Prometheus
ingest, ad-hoc SQL that cannot change settings, CSV errors that blame the right thing."""

from __future__ import annotations

import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.history import History, HistoryError, QueryTimedOut
from tests.conftest import FIXMAP


def fixmap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
    )


def test_a_runaway_query_on_the_command_line_stops_at_its_timeout(tmp_path):
    db = tmp_path / "h.duckdb"
    History(db).sql("SELECT 1")
    proc = fixmap(
        "history", "query", "SELECT count(*) FROM range(100000000000)", "--db", str(db),
        "--timeout", "1s",
    )  # fmt: skip
    assert proc.returncode == 2
    assert "ran past its 1 s timeout" in proc.stderr and "--timeout" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = fixmap("history", "query", "SELECT 1", "--db", str(db), "--timeout", "soon")
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def test_the_timeout_stops_a_query_in_process_too(tmp_path):
    h = History(tmp_path / "h.duckdb", query_timeout=0.5)
    with pytest.raises(QueryTimedOut) as err:
        h.sql("SELECT count(*) FROM range(100000000000)")
    assert "timeout" in err.value.render()
    assert h.sql("SELECT 42").rows == [[42]]  # the History is still usable


@pytest.mark.parametrize(
    "statement",
    [
        "SET memory_limit = '20GB'",
        "SET GLOBAL threads = 1",
        "PRAGMA memory_limit = '20GB'",
        "SET lock_configuration = false",
        "RESET memory_limit",
        "SET enable_external_access = true",
    ],
)
def test_ad_hoc_sql_cannot_change_the_shared_connections_settings(tmp_path, statement):
    h = History(tmp_path / "h.duckdb", memory_limit="128MB")
    before = h.sql("SELECT current_setting('memory_limit'), current_setting('threads')").rows
    with pytest.raises(HistoryError) as err:
        h.sql(statement)
    assert "cannot change the history's settings" in err.value.render()
    after = h.sql("SELECT current_setting('memory_limit'), current_setting('threads')").rows
    assert after == before


class Trickle:
    """A 'Prometheus' that sends its headers, then a byte of body every 0.2 s (at most 60)."""

    def __init__(self) -> None:
        self.sent = 0
        self.done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "60")
                self.end_headers()
                try:
                    for _ in range(60):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        outer.sent += 1
                        time.sleep(0.2)  # the trickle itself, not a wait for a worker
                except OSError:
                    pass  # the client gave up
                finally:
                    outer.done.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_trickling_prometheus_costs_the_ingest_its_timeout_and_no_more(tmp_path):
    server = Trickle()
    try:
        h = History(tmp_path / "h.duckdb")
        with pytest.raises(HistoryError) as err:
            h.ingest_prometheus(server.url, "up", since="1h", step="60s", timeout=1.0)
        assert "did not answer 'up' within 1 s" in err.value.render()
        assert server.done.wait(30)
        assert server.sent < 60  # abandoned mid-body: the deadline, not the server, ended it
        assert h.sql("SELECT count(*) FROM ingests").rows == [[0]]
    finally:
        server.close()


def _csv(path, bad_line: int, text: str, rows: int = 50):
    lines = ["ts,service,metric,value"] + [
        f"2026-01-01 00:{m % 60:02d}:00,demo,m,{m}" for m in range(rows)
    ]
    lines[bad_line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("rows", [50, 60_000])
@pytest.mark.parametrize(
    ("text", "fields"),
    [("garbage", 1), ("2026-01-01 00:10:00,demo,m", 3), ("2026-01-01 00:10:00,demo,m,1,x", 5)],
)
def test_a_line_with_the_wrong_number_of_fields_is_blamed_not_a_column(
    tmp_path, rows, text, fields
):
    bad_line = 31 if rows == 50 else 50_001
    f = _csv(tmp_path / "g.csv", bad_line, text, rows)
    h = History(tmp_path / "h.duckdb")
    with pytest.raises(HistoryError) as err:
        h.ingest_files([f])
    rendered = err.value.render()
    assert f"line {bad_line}: {fields} field" in rendered and "the header has 4" in rendered
    assert "no 'ts' column" not in rendered and "looks like a typo" not in rendered
    assert h.sql("SELECT count(*) FROM samples").rows == [[0]]


def test_a_garbage_value_still_names_its_column(tmp_path):
    f = _csv(tmp_path / "g.csv", 31, "2026-01-01 00:10:00,demo,m,abc")
    with pytest.raises(HistoryError) as err:
        History(tmp_path / "h.duckdb").ingest_files([f])
    problem = err.value.problems[0]
    assert problem.field == "value" and "line 31" in problem.reason


def test_a_prometheus_that_accepts_and_never_answers_is_slow_not_unreachable(tmp_path):
    """A server that is up but silent: the ingest says it did not answer in time, not 'check the
    URL' (which would send the engineer after the wrong problem)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        h = History(tmp_path / "h.duckdb")
        with pytest.raises(HistoryError) as err:
            h.ingest_prometheus(url, "up", since="1h", step="60s", timeout=1.0)
        assert "did not answer 'up' within 1 s" in err.value.render()
        assert "check the URL" not in err.value.render()
        assert h.sql("SELECT count(*) FROM ingests").rows == [[0]]
    finally:
        listener.close()


def test_an_instant_query_to_a_silent_prometheus_says_so_and_shows_no_password():
    import socket

    from console.history import query_instant

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://ops:s3cr3t-pw@127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(HistoryError) as err:
            query_instant(url, "up", timeout=1.0)
        said = err.value.render()
        assert "did not answer 'up' within 1 s" in said
        assert "s3cr3t-pw" not in said
    finally:
        listener.close()
