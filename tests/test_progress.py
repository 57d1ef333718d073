"""Walkthrough progress survives leaving, restarts and a corrupt file."""

from __future__ import annotations

import json

from console.core import now_iso
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
    assert again.next_open(pb) == "confirm"  # the first pending step
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


def test_two_consoles_marking_different_steps_keep_both_marks(fixmap_home):
    pb = load_catalog()["rollback_and_fast_recovery"]
    one, other = ProgressStore().load(pb), ProgressStore().load(pb)
    one.set_status("decide", "done")
    ProgressStore().save(one)
    other.set_status("capture", "failed")  # never saw 'decide' done
    assert ProgressStore().save(other)  # the merge brought the other console's mark in
    assert other.status("decide") == "done"
    on_disk = ProgressStore().load(pb)
    assert (on_disk.status("decide"), on_disk.status("capture")) == ("done", "failed")
    assert ProgressStore().refresh(one) and one.status("capture") == "failed"


def test_on_one_step_the_later_change_wins_and_a_reset_travels(fixmap_home):
    pb = load_catalog()["rollback_and_fast_recovery"]
    one, other = ProgressStore().load(pb), ProgressStore().load(pb)
    one.set_status("decide", "done", at="2026-12-01T10:00:00.000Z")
    other.set_status("decide", "skipped", at="2026-12-01T10:00:05.000Z")
    ProgressStore().save(other)
    ProgressStore().save(one)  # older: does not undo the newer skip
    assert ProgressStore().load(pb).status("decide") == "skipped"
    one.set_result("capture", ["probe: pass"], at="2026-12-01T10:00:06.000Z")
    ProgressStore().save(one)
    ProgressStore().reset(pb)
    assert ProgressStore().refresh(one)
    assert not one.started() and ProgressStore().load(pb).results == {}


def test_a_file_of_the_older_shape_still_reads(fixmap_home):
    pb = load_catalog()["retry_backoff"]
    first = pb.steps[0].id
    path = fixmap_home / "progress" / "retry_backoff.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    old = {
        "playbook": "retry_backoff",
        "statuses": {first: "done"},
        "cursor": None,
        "updated": "2026-11-30T10:00:00+00:00",
        "results": {first: ["ok"]},
    }
    path.write_text(json.dumps(old), encoding="utf-8")
    p = ProgressStore().load(pb)
    assert p.status(first) == "done" and p.results[first] == ["ok"]


def test_in_progress_lists_begun_unfinished_walkthroughs_latest_first(fixmap_home):
    catalog = load_catalog()
    store = ProgressStore()
    assert store.in_progress(list(catalog)) == []  # no progress folder yet: nothing, no error
    older, newer, finished = (
        catalog["retry_backoff"],
        catalog["rollback_and_fast_recovery"],
        catalog["idempotency_dedupe"],
    )
    for pb in (older, newer):
        p = store.load(pb)
        p.set_status(pb.steps[0].id, "done")
        store.save(p)
        while now_iso() == p.updated:  # the next save a millisecond later (times order them)
            pass
    done = store.load(finished)
    for step in finished.steps:
        done.set_status(step.id, "done")
    store.save(done)
    assert [p.playbook_id for p in store.in_progress(list(catalog))] == [newer.id, older.id]
    store.reset(newer)
    assert [p.playbook_id for p in store.in_progress(list(catalog))] == [older.id]
