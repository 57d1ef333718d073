"""The journal: append-only, one fsynced redacted line per event, torn lines tolerated,
interrupted runs told apart from running ones by the key lock."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading

import pytest

from console.actions import journal
from console.core.identity import now_iso
from console.core.redact import forget_all_for_tests, register_secret


@pytest.fixture(autouse=True)
def clean_redactor():
    forget_all_for_tests()
    yield
    forget_all_for_tests()


def _intent(run: str, key: str, action: str = "rollback", **extra) -> dict:
    return {
        "type": "intent",
        "run": run,
        "key": key,
        "action": action,
        "kind": action,
        "ts": now_iso(),
        "who": "alice",
        "host": "bastion",
        "pid": 1,
        **extra,
    }


def _outcome(run: str, key: str, status: str = "done", **extra) -> dict:
    return {
        "type": "outcome",
        "run": run,
        "key": key,
        "action": "rollback",
        "ts": now_iso(),
        "status": status,
        "exit_code": 0 if status == "done" else 1,
        **extra,
    }


def test_append_writes_one_private_json_line_per_record(fixmap_home):
    journal.append(_intent("r1", "k1"))
    journal.append(_outcome("r1", "k1"))
    path = journal.journal_path()
    assert path.parent == fixmap_home
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    assert [json.loads(x)["type"] for x in lines[:2]] == ["intent", "outcome"]
    assert all(json.loads(x)["v"] == 1 for x in lines[:2])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_entries_merge_newest_first_and_mark_interrupted():
    journal.append(_intent("r1", "k1"))
    journal.append(_outcome("r1", "k1"))
    journal.append(_intent("r2", "k2", action="freeze"))  # never finished, nobody holds k2
    entries = journal.read_journal()
    assert [e.run for e in entries] == ["r2", "r1"]
    assert entries[0].status == "interrupted" and entries[0].interrupted
    assert "check the target before retrying" in entries[0].note
    assert entries[1].status == "done" and entries[1].exit_code == 0
    assert entries[0].to_json()["interrupted"] is True


def test_a_held_key_lock_means_running_not_interrupted():
    journal.append(_intent("r1", "k1"))
    with journal.key_lock("k1", wait=1):
        assert journal.read_journal()[0].status == "running"
        assert journal.is_running("k1")
    assert journal.read_journal()[0].status == "interrupted"
    assert not journal.is_running("k1")


def test_only_the_newest_open_intent_of_a_key_can_be_running():
    journal.append(_intent("old", "k1"))
    journal.append(_intent("new", "k1"))
    with journal.key_lock("k1", wait=1):
        by_run = {e.run: e.status for e in journal.read_journal()}
    assert by_run == {"old": "interrupted", "new": "running"}


def test_key_lock_is_exclusive_across_threads_and_times_out():
    entered = threading.Event()
    release = threading.Event()

    def holder():
        with journal.key_lock("k", wait=1):
            entered.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    assert entered.wait(10)
    told = []
    with (
        pytest.raises(journal.KeyLockTimeout),
        journal.key_lock("k", wait=0.2, on_wait=lambda: told.append(1)),
    ):
        pass
    assert told == [1]
    release.set()
    t.join(10)
    with journal.key_lock("k", wait=1):
        pass


def test_torn_line_is_skipped_and_the_next_record_starts_clean():
    journal.append(_intent("r1", "k1"))
    with open(journal.journal_path(), "ab") as fh:
        fh.write(b'{"v":1,"type":"outcome","run":"r1","ke')  # a writer killed mid-line
    journal.append(_intent("r2", "k2"))
    recs, bad = journal.records()
    assert bad == 1
    assert [r["run"] for r in recs] == ["r1", "r2"]
    assert journal.read_journal()[1].status == "interrupted"


def test_every_line_is_redacted_before_it_reaches_the_disk():
    register_secret("canary-journal-secret")
    journal.append(
        _intent(
            "r1",
            "k1",
            plan={"headers": {"X": "canary-journal-secret"}},
            params={"note": "Bearer abcdefghijklmnopq"},
        )
    )
    raw = journal.journal_path().read_bytes()
    assert b"canary-journal-secret" not in raw
    assert b"abcdefghijklmnopq" not in raw


def test_concurrent_appends_from_threads_and_processes_stay_whole_lines():
    code = (
        "import sys\n"
        "from console.actions import journal\n"
        "from console.core.identity import now_iso\n"
        "for i in range(50):\n"
        "    journal.append({'type': 'refused', 'key': 'p%s-%d' % (sys.argv[1], i), 'action': 'x',"
        " 'kind': 'custom', 'ts': now_iso(), 'reason': 'r' * 300})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(n)]) for n in range(3)]

    def writer(n: int) -> None:
        for i in range(50):
            journal.append(
                {
                    "type": "refused",
                    "key": f"t{n}-{i}",
                    "action": "x",
                    "kind": "custom",
                    "ts": now_iso(),
                    "reason": "r" * 300,
                }
            )

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for p in procs:
        assert p.wait(60) == 0
    recs, bad = journal.records()
    assert bad == 0
    assert len(recs) == 300
    assert len({r["key"] for r in recs}) == 300


def test_empty_journal_reads_as_empty():
    assert journal.read_journal() == []
    assert journal.records() == ([], 0)
    assert not os.path.exists(journal.journal_path())


def test_an_outcome_line_reads_back_as_the_result_that_was_written():
    from console.actions import RunResult, Verify

    class Plan:
        action, kind, key, incident, params = "rollback", "rollback", "k1", None, {"to": "v1"}

        def to_json(self):
            return {"action": self.action}

    plan = Plan()
    result = RunResult(True, exit_code=0, duration_s=1.23456, output_tail=["ok"])
    journal.write_intent(
        plan, run="r1", base="b1", break_glass=None, retry_of=None, frozen=False, read_only=True
    )
    written = journal.write_outcome(plan, "r1", result)
    journal.write_verify(plan, "r1", Verify.of("health", "pass", "200 in 3 ms"))
    assert list(written) == [
        "v", "type", "run", "key", "action", "ts", "status", "exit_code", "http_status",
        "duration_s", "timed_out", "cancelled", "output_tail", "reason",
    ]  # fmt: skip
    (entry,) = journal.read_journal()
    assert entry.result == result and entry.result.duration_s == 1.235
    assert entry.status == "done" and entry.base == "b1" and entry.params == {"to": "v1"}
    assert entry.verify.ok and entry.verify == {
        "probe": "health",
        "status": "pass",
        "reason": "200 in 3 ms",
    }
    assert "verify health: pass 200 in 3 ms" in journal.describe(entry)
    assert entry.to_json(brief=True) == {
        "status": "done",
        "run": "r1",
        "started_at": entry.started_at,
        "finished_at": entry.finished_at,
        "who": entry.who,
        "exit_code": 0,
        "http_status": None,
        "reason": "",
    }


def test_an_old_outcome_line_with_fields_missing_still_reads():
    journal.append(_intent("r1", "k1"))
    journal.append({"type": "outcome", "run": "r1", "status": "failed"})
    (entry,) = journal.read_journal()
    assert entry.status == "failed" and entry.exit_code is None and entry.duration_s is None
    assert entry.output_tail == [] and not entry.timed_out
    data = entry.to_json()
    assert data["duration_s"] is None and data["verify"] is None and data["note"] == ""
