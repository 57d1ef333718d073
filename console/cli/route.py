"""`fixmap route`: the fix routes for what you see, ranked, with why."""

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
from console.core import FixmapError


@main.command(context_settings=CONTEXT)
@click.argument("query")
@click.option(
    "--top", default=5, show_default=True, type=click.IntRange(1, 50), help="How many routes."
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def route(
    ctx: click.Context, query: str, top: int, as_json: bool, config_path: Path | None
) -> None:
    """Rank the fix routes for what you see, with why."""
    from console.routing import route_query

    if not query.strip():
        raise FixmapError(
            'the query is empty: say what you see, e.g. fixmap route "p95 doubled after deploy"'
        )
    site = load(_config_from(ctx, config_path))
    results = route_query(site, query, top)
    if as_json:
        emit_json({"query": query, "results": [r.__dict__ for r in results]})
        return
    if not results:
        warn("no route matches; try other words, or 'fixmap playbooks list'")
        return
    for i, r in enumerate(results, 1):
        echo(f"{i}. {r.id}  ({r.score:.2f})  {r.title}")
        echo(f"     why: {r.why}")
