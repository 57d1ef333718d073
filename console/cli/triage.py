"""`fixmap triage [TEXT]`: the live evidence (probe sweep, what changed) and the text, as one
ranking of the fix routes with the reasons for each. Exit 0 something matched, 1 nothing did."""

from __future__ import annotations

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
    warn,
)
from console.core import EXIT_CHECK_FAILED


@main.command(context_settings=CONTEXT)
@click.argument("text", required=False, default="")
@click.option("--alert", "alert_file", metavar="FILE|-", help="Add an alert payload's text.")
@click.option(
    "--top", default=5, show_default=True, type=click.IntRange(1, 50), help="How many routes."
)
@click.option(
    "--timeout",
    default=8.0,
    show_default=True,
    type=click.FloatRange(0.5, 120),
    help="Seconds for the sweep.",
)
@click.option("--window", default="6h", show_default=True, help="What changed: the recent window.")
@click.option("--no-evidence", is_flag=True, help="Rank the text only; probe nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def triage(
    ctx: click.Context,
    text: str,
    alert_file: str | None,
    top: int,
    timeout: float,
    window: str,
    no_evidence: bool,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """What is wrong: probe the site, ask what changed, rank the routes (with TEXT too)."""
    from console.history import seconds
    from console.playbooks import load_catalog
    from console.routing import get_router
    from console.triage import gather_evidence
    from console.triage import triage as rank

    seconds(window, "--window")  # a bad window is bad usage, before anything runs
    site = load(_config_from(ctx, config_path))
    if alert_file:
        from console.incident import read_alert

        text = " ".join(p for p in (read_alert(alert_file).route_text(), text) if p)
    evidence = None if no_evidence else gather_evidence(site, timeout=timeout, window=window)
    catalog = load_catalog(site.playbook_dirs)
    result = rank(get_router(site), catalog, text, evidence, top=top)
    _close_history()
    if as_json:
        emit_json(result.to_json())
    else:
        _print(result)
    if not result.matched:
        ctx.exit(EXIT_CHECK_FAILED)


def _print(result) -> None:
    ev = result.evidence
    if ev is not None:
        looked = "; ".join(ev.checked) or "nothing to look at"
        echo(f"Evidence ({looked}, {ev.duration_s:.1f} s)")
        shown = ev.findings
        for f in shown:
            to = result.pointers.get(f.text)
            echo(f"  {f.text}" + (f" \u2192 {to[0]}" if to else ""))
        if not shown:
            echo("  nothing failing, nothing changed")
        for p in ev.problems:
            warn(f"fixmap: {p}")
    if not result.matched:
        warn(result.nothing_text())
        return
    echo("Routes")
    for i, r in enumerate(result.routes, 1):
        echo(f"{i}. {r.id}  ({r.score:.2f})  {r.title}")
        for reason in r.reasons[:3]:
            echo(f"     why: {reason}")


def _close_history() -> None:
    import contextlib
    import sys

    store = sys.modules.get("console.history.store")
    if store is not None:
        with contextlib.suppress(Exception):
            store.close_all()


def open_alert_incident(
    site, source: str, title: str, severity: str | None, service: str | None, as_json: bool
) -> None:
    """`fixmap incident open --from-alert FILE|-`: the alert read, the incident opened, the
    routes ranked from the alert and the evidence."""
    from console.core import redact, redact_json
    from console.exports import next_update_due
    from console.incident import read_alert
    from console.triage import open_from_alert

    alert = read_alert(source)
    inc, ranked = open_from_alert(alert, site, title=title, severity=severity, service=service)
    _close_history()
    if as_json:
        echo(
            redact_json(
                {
                    "incident": inc.summary_json(),
                    "alert": alert.to_json(),
                    "triage": ranked.to_json(),
                },
                indent=2,
            )
        )
        return
    line = f"{inc.id}  {inc.severity}  {inc.title}"
    echo(redact(f"opened {line}"))
    echo(
        redact(
            f"  from {alert.source}: {alert.status}, {len(alert.labels)} labels, {len(alert.links)} links on the timeline"
        )
    )
    echo(f"  {next_update_due(inc).text()}")
    if ranked.matched:
        echo("Routes")
        for i, r in enumerate(ranked.routes[:5], 1):
            echo(redact(f"{i}. {r.id}  ({r.score:.2f})  {r.title}"))
            for reason in r.reasons[:2]:
                echo(redact(f"     why: {reason}"))
    else:
        warn(ranked.nothing_text())
