"""`fixmap probe [NAME...] [--all] [--json]`: live probe verdicts; exit 0 all pass, 1 otherwise, 2 bad config."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from console.cli.base import (
    CONTEXT,
    _config_from,
    config_option,
    echo,
    emit_json,
    load,
    main,
    output_width,
    warn,
)
from console.core import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, ConfigError, FixmapError

_JSON_KEYS = ("name", "kind", "status", "value", "threshold", "reason", "duration_ms")
_STATUS_TEXT = {"pass": "PASS", "fail": "FAIL", "inconclusive": "UNSURE", "error": "ERROR"}
_STATUS_COLOUR = {"pass": "green", "fail": "red", "inconclusive": "yellow", "error": "magenta"}


def _colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def format_results(results, width: int | None = 80, colour: bool = False) -> list[str]:
    """One aligned line per probe: name, verdict, value, time, reason (cut to the width)."""
    if not results:
        return []
    name_w = max(len(r.name) for r in results)
    if width is not None:
        name_w = min(name_w, 16)
    values = [_cut(r.value_text(), 10 if width else None) for r in results]
    value_w = max(len(v) for v in values)
    lines = []
    for r, value in zip(results, values, strict=True):
        status = _STATUS_TEXT.get(r.status, r.status.upper())
        head = f"{_cut(r.name, name_w):<{name_w}}  {status:<6}  {value:>{value_w}}  "
        reason = _cut(r.reason, max(width - len(head), 20) if width else None)
        if colour:
            head = head.replace(
                status, click.style(status, fg=_STATUS_COLOUR.get(r.status), bold=True), 1
            )
        lines.append(head + reason)
    return lines


@main.command(context_settings=CONTEXT)
@click.argument("names", nargs=-1)
@click.option(
    "--all",
    "run_all",
    is_flag=True,
    help="Run every probe in the site config (the default with no NAME).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def probe(
    ctx: click.Context,
    names: tuple[str, ...],
    run_all: bool,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Run live probes against the site's services and print their verdicts.

    Exit 0 when every probe passes, 1 when any fails, is inconclusive or errors, 2 on a bad
    config or an unknown probe name.
    """
    from console.probes import check_probes, run_probes_sync, select

    if names and run_all:
        raise FixmapError("give probe names or --all, not both", exit_code=EXIT_BAD_INPUT)
    site = load(_config_from(ctx, config_path))
    wanted = list(names) or None
    select(site, wanted)
    problems = check_probes(site, wanted)
    if problems:
        raise ConfigError(f"{site.path} has probes that cannot run", problems)
    import httpx  # noqa: F401 - start-up cost, kept out of the run's wall time

    started = time.perf_counter()
    results = run_probes_sync(site, wanted)
    wall_ms = round((time.perf_counter() - started) * 1000, 1)
    failed = [r for r in results if r.status != "pass"]
    if as_json:
        rows = []
        for r in results:
            row = {k: getattr(r, k) for k in _JSON_KEYS}
            row.update(
                {
                    "values": r.values,
                    "embedder": r.embedder,
                    "unit": r.unit,
                    "started_at": r.started_at,
                }
            )
            rows.append(row)
        emit_json(
            {
                "results": rows,
                "wall_ms": wall_ms,
                "passed": len(results) - len(failed),
                "total": len(results),
            }
        )
    else:
        width = output_width(cap=160)
        for line in format_results(results, width, _colour()):
            echo(line)
        verdict = "all pass" if not failed else f"{len(failed)} not passing"
        echo(f"{len(results)} probes in {wall_ms / 1000:.2f}s: {verdict}", err=True)
    from console.incident import recorder

    for problem in recorder.probes(site, results, context="fixmap probe"):
        warn(f"fixmap: {problem}")
    if failed:
        sys.exit(EXIT_CHECK_FAILED)
