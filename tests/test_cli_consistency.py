"""The CLI behaves the same on every subcommand: --config in either position, one data dir
per config, no console without a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FIXMAP

CONFIG = """
data_dir = "data"
[site]
name = "consistency"
[actions.mark]
kind = "custom"
destructive = false
argv = ["/bin/true"]
"""


@pytest.fixture
def site_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("FIXMAP_HOME", raising=False)  # the config's data_dir decides
    (tmp_path / "fixmap.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def fixmap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FIXMAP, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=os.environ,
    )


def test_config_before_or_after_the_subcommand_reads_the_same_data_dir(site_dir):
    cfg = str(site_dir / "fixmap.toml")
    assert fixmap("--config", cfg, "act", "mark", "--yes").returncode == 0
    for args in (["--config", cfg, "journal", "--json"], ["journal", "--json", "--config", cfg]):
        done = fixmap(*args)
        assert done.returncode == 0, done.stderr
        assert [e["action"] for e in json.loads(done.stdout)["entries"]] == ["mark"], args
    assert (site_dir / "data" / "journal.jsonl").is_file()

    assert fixmap("incident", "open", "consistency check", "--config", cfg).returncode == 0
    assert fixmap("incident", "note", "typed after the subcommand", "--config", cfg).returncode == 0
    assert fixmap("--config", cfg, "incident", "note", "typed before it").returncode == 0
    for args in (
        ["incident", "show", "--json", "--config", cfg],
        ["--config", cfg, "incident", "show", "--json"],
    ):
        shown = json.loads(fixmap(*args).stdout)
        notes = [e["title"] for e in shown["events"] if e["kind"] == "note"]
        assert notes == ["typed after the subcommand", "typed before it"], args
    listed = json.loads(fixmap("incident", "list", "--json", "--config", cfg).stdout)
    assert len(listed["incidents"]) == 1


def test_two_different_configs_are_refused(site_dir):
    done = fixmap("journal", "--config", "a.toml", "--config", "b.toml")
    assert done.returncode == 2 and "--config is given twice" in done.stderr


def test_the_console_without_a_terminal_says_to_use_a_subcommand(site_dir):
    done = fixmap("--config", str(site_dir / "fixmap.toml"))
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr and "use a subcommand" in done.stderr


def test_compound_durations_work_on_the_command_line(site_dir):
    cfg = str(site_dir / "fixmap.toml")
    for window in ("1h30m", "1w"):
        done = fixmap("--config", cfg, "history", "changed", "--window", window)
        assert done.returncode == 0, (window, done.stderr)
        assert "not a duration" not in done.stderr


def _console_start(*args: str) -> tuple[int, str, bool]:
    """`fixmap ARGS` through the entry point in this interpreter: its exit code, its stderr and
    whether click was loaded (the console's own start leaves it out)."""
    code = (
        "import sys\n"
        "from console.cli import main\n"
        f"sys.argv = ['fixmap', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, 'click' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    exit_code, clicked = done.stdout.split()
    return int(exit_code), done.stderr, clicked == "True"


def test_the_console_starts_without_click_and_fails_the_same_way(site_dir):
    cfg = str(site_dir / "fixmap.toml")
    for args in ([f"--config={cfg}"], ["--config", cfg, "--config", cfg]):
        code, err, clicked = _console_start(*args)
        assert (code, clicked) == (2, False), (args, err)
        assert "needs a terminal" in err, err
    broken = site_dir / "broken.toml"
    broken.write_text('[site]\nname = "x\n', encoding="utf-8")
    code, err, clicked = _console_start("--config", str(broken))
    assert (code, clicked) == (2, False)
    assert str(broken) in err and "line 2" in err, err
    code, err, _ = _console_start("--config", str(site_dir / "missing.toml"))
    assert code == 2 and "config file not found" in err, err
    # anything more than the console is the click CLI's, with its own errors
    code, err, clicked = _console_start("--config", cfg, "--config", "other.toml")
    assert (code, clicked) == (2, True) and "--config is given twice" in err
    code, err, clicked = _console_start("--config")
    assert (code, clicked) == (2, True) and "requires an argument" in err, err
