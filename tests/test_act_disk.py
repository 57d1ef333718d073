"""`fixmap act` and `fixmap journal` on a data dir that cannot take a write: read-only, full
before the run, full between the intent and the outcome. Real filesystems: a small tmpfs per
test, remounted read-only or filled up (needs root and mount; skipped elsewhere)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXMAP

PY = sys.executable


def fixmap(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FIXMAP_HOME": str(home)},
    )


class Tmpfs:
    def __init__(self, path: Path, size: str) -> None:
        path.mkdir()
        self.path = path
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def fill(self) -> Path:
        """Write a file until the filesystem is full."""
        filler = self.path / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, bytes(4096))
        finally:
            os.close(fd)
        return filler

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    made: list[Tmpfs] = []

    def make(size: str) -> Tmpfs:
        fs = Tmpfs(tmp_path / f"data{len(made)}", size)
        made.append(fs)
        return fs

    yield make
    for fs in made:
        fs.close()


def config(tmp_path: Path, marker: Path, extra: str = "") -> Path:
    code = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10)); print('marked')"
    path = tmp_path / "fixmap.toml"
    path.write_text(
        f"""
[actions.mark]
kind = "custom"
destructive = false
argv = [{json.dumps(PY)}, "-c", {json.dumps(code)}, {json.dumps(str(marker))}, "mark"]

[actions.other]
kind = "custom"
destructive = false
argv = [{json.dumps(PY)}, "-c", {json.dumps(code)}, {json.dumps(str(marker))}, "other"]
{extra}
"""
    )
    return path


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_read_only_data_dir_reads_and_refuses_with_a_sentence(tmp_path, tmpfs):
    fs = tmpfs("1m")
    marker = tmp_path / "marker"
    cfg = str(config(tmp_path, marker))
    assert fixmap(fs.path, "act", "mark", "--config", cfg, "--yes").returncode == 0
    fs.remount("ro")

    listing = fixmap(fs.path, "journal")
    assert listing.returncode == 0, listing.stderr
    assert "mark" in listing.stdout and "done" in listing.stdout
    as_json = fixmap(fs.path, "journal", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["entries"][0]["status"] == "done"
    dry = fixmap(fs.path, "act", "other", "--config", cfg, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry-run: nothing was changed; would run" in dry.stdout
    listed = fixmap(fs.path, "act", "--config", cfg)
    assert listed.returncode == 0, listed.stderr

    refused = fixmap(fs.path, "act", "other", "--config", cfg, "--yes")
    assert refused.returncode == 3, refused.stderr
    assert "Read-only file system" in refused.stderr and "nothing was run" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    again = fixmap(fs.path, "act", "mark", "--config", cfg, "--yes")
    assert again.returncode == 0 and "already done" in again.stdout  # reading is enough
    for proc in (listing, as_json, dry, listed, refused, again):
        assert "Traceback" not in proc.stderr
    assert lines(marker) == ["mark"]


def test_a_full_data_dir_refuses_before_running_and_leaves_no_partial_line(tmp_path, tmpfs):
    fs = tmpfs("256k")
    marker = tmp_path / "marker"
    cfg = str(config(tmp_path, marker))
    assert fixmap(fs.path, "act", "mark", "--config", cfg, "--yes").returncode == 0
    journal = fs.path / "journal.jsonl"
    before = journal.read_bytes()
    fs.fill()

    refused = fixmap(fs.path, "act", "other", "--config", cfg, "--yes")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "No space left on device" in refused.stderr and "nothing was run" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert lines(marker) == ["mark"]  # the command never started
    assert journal.read_bytes() == before  # not even part of an intent line
    assert fixmap(fs.path, "journal").returncode == 0


# prints its (long) output first, then fills the data dir it is given: the journal can then
# take no outcome line, and nothing of the command's own output is lost
FILL_AFTER_PRINTING = (
    "import os, sys\n"
    "for n in range(40): print(f'progress {n:02d} ' + 'x' * 400, flush=True)\n"
    "open(sys.argv[2], 'a').write('ran' + chr(10))\n"
    "fd = os.open(os.path.join(sys.argv[1], 'filler'), os.O_WRONLY | os.O_CREAT)\n"
    "try:\n"
    "    while True: os.write(fd, bytes(4096))\n"
    "except OSError: pass\n"
)


def test_a_disk_filling_up_mid_run_keeps_the_outcome_and_says_so(tmp_path, tmpfs):
    fs = tmpfs("512k")
    marker = tmp_path / "marker"
    fill = FILL_AFTER_PRINTING.replace("{", "{{").replace("}", "}}")
    cfg = str(
        config(
            tmp_path,
            marker,
            f"""
[actions.fill]
kind = "custom"
destructive = false
argv = [{json.dumps(PY)}, "-c", {json.dumps(fill)}, {json.dumps(str(fs.path))}, {json.dumps(str(marker))}]
""",
        )
    )
    ran = fixmap(fs.path, "act", "fill", "--config", cfg, "--yes", "--json")
    assert ran.returncode == 0, ran.stderr
    assert "WARNING: fill RAN and exited 0" in ran.stderr
    assert "No space left on device" in ran.stderr and "'fixmap journal' reads" in ran.stderr
    payload = json.loads(ran.stdout)
    assert payload["status"] == "done" and payload["exit_code"] == 0
    assert lines(marker) == ["ran"]

    entry = json.loads(fixmap(fs.path, "journal", "--json").stdout)["entries"][0]
    assert entry["status"] == "done" and entry["exit_code"] == 0, entry
    assert "No space left" in entry["kept_because"]
    assert entry["output_tail"][-1].startswith("progress 39 ")
    journal = fs.path / "journal.jsonl"
    assert [json.loads(x)["type"] for x in journal.read_text().splitlines() if x.strip()] == [
        "intent",
        "started",
    ]

    (fs.path / "filler").unlink()  # space again: the next write folds the kept outcome in
    assert fixmap(fs.path, "act", "mark", "--config", cfg, "--yes").returncode == 0
    types = [json.loads(x)["type"] for x in journal.read_text().splitlines() if x.strip()]
    assert types[:3] == ["intent", "started", "outcome"], types
    statuses = [
        e["status"] for e in json.loads(fixmap(fs.path, "journal", "--json").stdout)["entries"]
    ]
    assert statuses == ["done", "done"]
    assert not [p for p in (fs.path / "runs").glob("*.outcome") if p.read_bytes().strip()]
