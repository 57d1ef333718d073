"""A read-only or full data dir, and export paths that cannot be written: each command works or
refuses with exit 3 and a sentence, never a traceback, and creates no folders on its way.

Read-only and full file systems are real: a small tmpfs (mounting needs root; skipped without).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import FIXMAP


def fixmap(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**os.environ, "FIXMAP_HOME": str(home), "FIXMAP_NO_KEYRING": "1"},
    )


def _mount(path: Path, *options: str) -> None:
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MiB tmpfs at tmp_path/fs, unmounted afterwards (remount it ro or fill it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    _mount(path, "size=4m")
    yield path
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _populate(fs: Path) -> tuple[Path, list[str]]:
    """A data dir and a history file with an incident, samples and the ingests they came from."""
    home = fs / "home"
    csv = fs / "m.csv"
    csv.write_text("ts,service,metric,value\n2026-01-01 00:00:00,demo,m,1\n", encoding="utf-8")
    db = ["--db", str(fs / "history.duckdb")]
    assert fixmap("incident", "open", "drill", home=home).returncode == 0
    assert fixmap("history", "ingest", str(csv), *db, home=home).returncode == 0
    return home, db


def _check(proc: subprocess.CompletedProcess[str], *codes: int) -> None:
    assert proc.returncode in codes, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("how", ["read-only", "full"])
def test_history_and_exports_on_a_read_only_or_full_data_dir(small_fs, how):
    home, db = _populate(small_fs)
    csv = small_fs / "m.csv"
    if how == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    else:
        with open(small_fs / "ballast", "wb") as fh:  # fill the disk to the last block
            try:
                while True:
                    fh.write(b"\0" * 65536)
            except OSError:
                pass
    why = "read-only file system" if how == "read-only" else "the disk is full"
    # reading works
    query = fixmap("history", "query", "SELECT count(*) FROM samples", *db, home=home)
    _check(query, 0)
    assert "1" in query.stdout
    _check(fixmap("history", "events", *db, home=home), 0)
    _check(fixmap("history", "changed", *db, home=home), 0)
    shown = fixmap("incident", "export", home=home)
    _check(shown, 0)
    assert "drill" in shown.stdout
    # writing refuses, saying why
    ingest = fixmap("history", "ingest", str(csv), "--force", *db, home=home)
    _check(ingest, 3)
    assert why in ingest.stderr and "nothing was changed" in ingest.stderr
    export = fixmap("incident", "export", "-o", str(small_fs / "pm.md"), home=home)
    _check(export, 3)
    assert "cannot write the export" in export.stderr
    assert not (small_fs / "pm.md").exists()
    # the rows are still all there
    again = fixmap("history", "query", "SELECT count(*) FROM samples", *db, home=home)
    assert again.returncode == 0 and again.stdout.split()[-1] == "1"


def test_export_output_checks_its_folder_and_creates_none(tmp_path):
    home = tmp_path / "home"
    assert fixmap("incident", "open", "drill", home=home).returncode == 0
    missing = tmp_path / "no" / "such" / "pm.md"
    proc = fixmap("incident", "export", "-o", str(missing), home=home)
    _check(proc, 2)
    assert "does not exist" in proc.stderr and "mkdir -p" in proc.stderr
    assert not (tmp_path / "no").exists()
    target = tmp_path / "pm.md"
    ok = fixmap("incident", "export", "-o", str(target), home=home)
    _check(ok, 0)
    assert "drill" in target.read_text(encoding="utf-8")


def test_routing_works_on_a_read_only_data_dir_with_no_cache(small_fs):
    home = small_fs / "home"  # never created: the file system is read-only before it exists
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    routed = fixmap("route", "p95 doubled after deploy", "--top", "1", home=home)
    _check(routed, 0)
    assert "rollback_and_fast_recovery" in routed.stdout
    _check(fixmap("playbooks", "list", home=home), 0)
    _check(fixmap("walk", "rollback_and_fast_recovery", home=home), 0)
