"""`fixmap route`: the fix routes for what you see (or for an alert payload), ranked, with why.
Exit 0 something matched, 1 nothing did (with symptoms to try), 2 bad input."""

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
from console.core import EXIT_CHECK_FAILED, FixmapError


@main.command(context_settings=CONTEXT)
@click.argument("query", required=False, default="")
@click.option(
    "--top", default=5, show_default=True, type=click.IntRange(1, 50), help="How many routes."
)
@click.option(
    "--alert",
    "alert_file",
    metavar="FILE|-",
    help="Route an Alertmanager webhook or PagerDuty v3 event (file, or - for stdin).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def route(
    ctx: click.Context,
    query: str,
    top: int,
    alert_file: str | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Rank the fix routes for what you see, with why."""
    from console.routing import get_router, rank_text

    alert = None
    if alert_file:
        from console.incident import read_alert

        alert = read_alert(alert_file)
        query = " ".join(p for p in (alert.route_text(), query) if p)
    if not query.strip():
        raise FixmapError(
            'the query is empty: say what you see, e.g. fixmap route "p95 doubled after deploy"'
        )
    site = load(_config_from(ctx, config_path))
    ranking = rank_text(get_router(site), query, top)
    if as_json:
        payload = ranking.to_json()
        if alert is not None:
            payload["alert"] = alert.to_json()
        emit_json(payload)
    elif not ranking.matched:
        warn(ranking.nothing_text())
    else:
        if alert is not None:
            echo(f"alert: {alert.title} ({alert.source}, {alert.severity}, {alert.status})")
        for i, r in enumerate(ranking.results, 1):
            echo(f"{i}. {r.id}  ({r.score:.2f})  {r.title}")
            echo(f"     why: {r.why}")
    if not ranking.matched:
        ctx.exit(EXIT_CHECK_FAILED)
