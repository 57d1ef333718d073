"""`fixmap gate [SET] [--json] [--watch [--timeout 10m]]`: go / no-go for a deploy pipeline.

--watch repeats measurements as Argo Rollouts' analysis does (each target's interval, count
and limits: console/gates/watch.py) until every target has a verdict or the deadline, printing
a line per measurement on stderr.

Exit 0 go, 1 no-go, 2 could not evaluate (inconclusive, a bad config, no site config, an unknown
set). With --json, one object on stdout: {"set", "verdict", "targets": [{"name", "status",
"value", "threshold", "reason", ...}], ...}; everything else goes to stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

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
)

_STATUS_TEXT = {"pass": "PASS", "fail": "FAIL", "inconclusive": "UNSURE", "error": "ERROR"}
_STATUS_COLOUR = {"pass": "green", "fail": "red", "inconclusive": "yellow", "error": "magenta"}
_VERDICT_TEXT = {"go": "GO", "no-go": "NO-GO", "inconclusive": "INCONCLUSIVE"}
_VERDICT_COLOUR = {"go": "green", "no-go": "red", "inconclusive": "yellow"}
_CHECK_TEXT = {"ticked": "[x]", "open": "[ ]", "unknown": "[?]"}


def _colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: max(width - 1, 0)] + "…"


def _emit_json(payload: Any) -> None:
    emit_json(payload)


def _echo(text: str, *, err: bool = False) -> None:
    echo(text, err=err)


def format_run(run, width: int | None = 80, colour: bool = False) -> list[str]:
    """The verdict line, then one aligned line per target (name, status, value, reason)."""
    verdict = _VERDICT_TEXT.get(run.verdict, run.verdict.upper())
    head = (
        f"{verdict}  {run.set}: {run.summary().split(': ', 1)[-1]} ({run.duration_ms / 1000:.1f}s)"
    )
    head = _cut(head, width)
    if colour:
        head = head.replace(
            verdict, click.style(verdict, fg=_VERDICT_COLOUR.get(run.verdict), bold=True), 1
        )
    lines = [head]
    if not run.targets:
        return lines
    name_w = max(len(t.name) for t in run.targets)
    if width is not None:
        name_w = min(name_w, 16)
    values = [_cut(t.value_text(), 10 if width else None) for t in run.targets]
    value_w = max(len(v) for v in values)
    for t, value in zip(run.targets, values, strict=True):
        status = _STATUS_TEXT.get(t.status, t.status.upper())
        if t.dry_run:
            status = status.lower()
        row = f"  {_cut(t.name, name_w):<{name_w}}  {status:<6}  {value:>{value_w}}  "
        reason = ("advisory: " if t.dry_run else "") + t.reason
        text = row + _cut(reason, max(width - len(row), 20) if width else None)
        if colour:
            text = text.replace(
                status, click.style(status, fg=_STATUS_COLOUR.get(t.status), bold=True), 1
            )
        lines.append(text)
    return lines


def _list_sets(site, as_json: bool) -> None:
    from console.gates import gate_sets

    sets = gate_sets(site)
    if as_json:
        _emit_json({"sets": [s.to_json() for s in sets.values()]})
        return
    for s in sets.values():
        echo(f"{s.name}: {s.title}")
        for t in s.targets:
            flags = []
            if not t.enabled:
                flags.append("off")
            if t.dry_run:
                flags.append("advisory")
            if t.overridden:
                flags.append("site: " + ", ".join(t.overridden))
            extra = f"  [{'; '.join(flags)}]" if flags else ""
            _echo(f"  {t.name:<18} {t.threshold:<22} {t.source}{extra}")


@main.command(context_settings=CONTEXT)
@click.argument("set_name", metavar="[SET]", required=False, default="readiness")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option("--list", "list_sets", is_flag=True, help="List the gate sets and their targets.")
@click.option(
    "--checklist", is_flag=True, help="Also show the seed's ship checklist ticked from the result."
)
@click.option(
    "--no-record",
    is_flag=True,
    help="Do not store the results in the history or on the current incident.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Repeat measurements (each target's interval and count) until a verdict or --timeout.",
)
@click.option(
    "--timeout",
    "timeout",
    metavar="DURATION",
    default="10m",
    show_default=True,
    help="With --watch: the deadline; targets still measuring then are inconclusive.",
)
@config_option
@click.pass_context
def gate(
    ctx: click.Context,
    set_name: str,
    as_json: bool,
    list_sets: bool,
    checklist: bool,
    no_record: bool,
    watch: bool,
    timeout: str,
    config_path: Path | None,
) -> None:
    """Run a gate set (readiness by default; canary, hard_stop, recovery) and say go or no-go.

    Exit 0 go, 1 no-go, 2 could not evaluate (inconclusive, bad config, no site config).
    """
    from console.core import parse_duration

    try:
        deadline = parse_duration(timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    from console.gates import get_set, require_site, run_gate_set

    site = load(_config_from(ctx, config_path))
    if list_sets:
        _list_sets(site, as_json)
        return
    require_site(site)
    get_set(site, set_name)  # an unknown set is exit 2 before anything runs
    import httpx  # noqa: F401 - start-up cost, kept out of the run's wall time

    if watch:
        run = _watch(site, set_name, deadline, not no_record)
    else:
        run = run_gate_set(site, set_name, record=not no_record)
    items = None
    if checklist:
        from console.exports import checklist_status

        items = checklist_status(site, run)
    if as_json:
        payload = run.to_json()
        if items is not None:
            payload["checklist"] = [
                {"item": i, "detail": d, "status": s, "why": w} for i, d, s, w in items
            ]
        _emit_json(payload)
    else:
        width = output_width(cap=160)
        for line in format_run(run, width, _colour()):
            _echo(line)
        if items is not None:
            echo("")
            echo("Ship checklist:")
            for item, _detail, status, why in items:
                _echo(_cut(f"  {_CHECK_TEXT[status]} {item}: {why}", width))
    for note in run.notes:
        _echo(f"fixmap: {note}", err=True)
    _close_history()
    ctx.exit(run.exit_code)


def _watch(site, set_name: str, deadline: float, record: bool):
    """A watched run, a line on stderr per measurement; SIGINT/SIGTERM end it (inconclusive)."""
    import signal
    import threading
    import time

    from console.gates import watch_gate_set

    stop = threading.Event()

    def on_measurement(name: str, m: dict, so_far) -> None:
        status = _STATUS_TEXT.get(m["status"], m["status"].upper())
        age = f" [{so_far.age_text()}]" if so_far.age_s is not None else ""
        line = f"{time.strftime('%H:%M:%S')} {name} #{m['n']} {status}: {m['reason']}{age}"
        _echo(_cut(line, 200), err=True)

    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return watch_gate_set(
            site,
            set_name,
            timeout=deadline,
            record=record,
            on_measurement=on_measurement,
            stop=stop,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def _close_history() -> None:
    import contextlib

    history = sys.modules.get("console.history.store")
    if history is not None:
        with contextlib.suppress(Exception):
            history.close_all()
