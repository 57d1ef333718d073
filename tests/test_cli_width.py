"""Piped CLI output is never cut: `fixmap history query … | cat` shows the whole row; COLUMNS,
when set, is the width. Real processes, stdout a pipe."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import FIXMAP

LONG = "select 'svc-' || repeat('x', 300) || '-end' as service, 42 as n"


def _query(columns: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    proc = subprocess.run(
        [FIXMAP, "history", "query", LONG],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_piped_query_with_a_long_row_is_not_cut():
    out = _query(None)
    row = out.splitlines()[-1]
    assert ("x" * 300) + "-end" in row and row.rstrip().endswith("42")
    assert "…" not in out


def test_columns_when_set_is_the_width_of_the_table():
    out = _query("60")
    lines = out.splitlines()
    assert all(len(line) <= 60 for line in lines), lines
    assert "…" in lines[-1] and lines[-1].rstrip().endswith("42")


def test_probe_lines_are_not_cut_when_piped():
    from console.cli.probe import format_results
    from console.probes import ProbeResult

    reason = "the answer cited " + "an old snippet " * 20
    result = ProbeResult(
        "a_probe_with_a_long_name_here", "http", "fail", None, None, reason, 1.0, "2026-01-01"
    )
    line = format_results([result], None)[0]
    assert "a_probe_with_a_long_name_here" in line and line.endswith(reason)
    assert len(format_results([result], 80)[0]) <= 80
