"""Walkthrough progress survives leaving, restarts and a corrupt file."""

from __future__ import annotations

from console.playbooks import load_catalog
from console.walkthrough import Progress, ProgressStore


def test_progress_round_trips_and_ignores_unknown_steps(fixmap_home):
    pb = load_catalog()["rollback_and_fast_recovery"]
    store = ProgressStore()
    p = store.load(pb)
    assert p.statuses == {} and p.cursor is None
    p.statuses.update({"decide": "done", "capture": "skipped", "gone": "done"})
    p.cursor = "freeze-writes"
    store.save(p)
    again = ProgressStore().load(pb)
    assert again.statuses == {"decide": "done", "capture": "skipped"}
    assert again.cursor == "freeze-writes"
    assert again.next_open(pb) == "freeze-writes"
    assert again.counts(pb)["done"] == 1
    assert (fixmap_home / "progress" / "rollback_and_fast_recovery.json").is_file()


def test_corrupt_progress_file_starts_fresh(fixmap_home):
    pb = load_catalog()["retry_backoff"]
    path = fixmap_home / "progress" / "retry_backoff.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    assert ProgressStore().load(pb).statuses == {}


def test_next_open_wraps_and_ends_when_all_settled():
    pb = load_catalog()["retry_backoff"]
    ids = [s.id for s in pb.steps]
    p = Progress(pb.id, {sid: "done" for sid in ids[:-1]})
    assert p.next_open(pb, after=ids[-1]) == ids[-1]
    p.statuses[ids[-1]] = "skipped"
    assert p.next_open(pb) is None
