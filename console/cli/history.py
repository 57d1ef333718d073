"""`fixmap history ...`: ingest metrics, query them, ask what changed. Exit 0 ok, 2 bad input/SQL."""

from __future__ import annotations

from pathlib import Path

import click

from console.cli.base import (
    CONTEXT,
    FixmapGroup,
    _config_from,
    config_option,
    echo,
    emit_json,
    load,
    main,
    output_width,
    warn,
)
from console.cli.tables import format_table, print_result
from console.core import FixmapError, Problem
from console.history import QUERY_TIMEOUT_S

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="History file (default: [history].db of the site config, else history.duckdb in the data dir).",
)


timeout_option = click.option(
    "--timeout",
    "timeout",
    default=f"{QUERY_TIMEOUT_S:g}s",
    show_default=True,
    metavar="DURATION",
    help="Stop the query when it runs longer than this (as the console does; 0: never).",
)


def _timeout(text: str) -> float | None:
    from console.core import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise FixmapError("bad --timeout", [Problem(None, "--timeout", str(exc))]) from None
    return seconds or None


def _open_history(
    ctx: click.Context,
    config_path: Path | None,
    db_path: Path | None,
    query_timeout: float | None = None,
):
    """The History to use, and the site config (for its default service and sources)."""
    from console.history import History, history_for

    site = load(_config_from(ctx, config_path))
    # the site's memory limit holds here too: a what-changed over a month may not take a GiB
    if db_path is not None:
        if site.path is None:  # no config file: the defaults, without validating nothing
            return History(db_path, query_timeout=query_timeout), site
        spec = site.config.history
        return History(
            db_path,
            lock_timeout=spec.lock_timeout,
            memory_limit=spec.memory_limit,
            query_timeout=query_timeout,
        ), site
    return history_for(site, query_timeout=query_timeout), site


# ---------------------------------------------------------------- table output


@main.group("history", cls=FixmapGroup, context_settings=CONTEXT)
def history_group() -> None:
    """Metric history in a local DuckDB file: ingest, query, what changed."""


@history_group.command("ingest", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--prometheus", "prom_url", metavar="URL", help="A Prometheus-compatible API to query_range."
)
@click.option(
    "--query", "queries", multiple=True, metavar="PROMQL", help="PromQL to ingest (repeatable)."
)
@click.option("--since", default="24h", show_default=True, help="How far back to query.")
@click.option("--step", default="30s", show_default=True, help="Resolution of the range query.")
@click.option("--until", default=None, help="End of the range (ISO time; default now).")
@click.option("--metric", default=None, help="Store the series under this metric name.")
@click.option(
    "--service",
    default=None,
    help="Service of the series (Prometheus: instead of the service/job label; files: when "
    "they have no service column).",
)
@click.option(
    "--token-secret",
    default=None,
    metavar="NAME",
    help="Name of the secret holding a bearer token for the Prometheus API.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Ingest this metric source of the site config (repeatable; default: all of them).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Ingest files again even if they were ingested before, replacing the rows they cover "
    "(their series, within each one's time range in the file).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@db_option
@click.pass_context
def history_ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    prom_url: str | None,
    queries: tuple[str, ...],
    since: str,
    step: str,
    until: str | None,
    metric: str | None,
    service: str | None,
    token_secret: str | None,
    sources: tuple[str, ...],
    force: bool,
    as_json: bool,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """Load CSV/Parquet files, a Prometheus range query, or the site config's metric sources.

    \b
      fixmap history ingest metrics.parquet exports/
      fixmap history ingest --prometheus http://127.0.0.1:9090 --query 'up' --since 24h --step 30s
      fixmap history ingest            # the [history.sources] of the site config
    """
    from console.history import ingest_sources

    history, site = _open_history(ctx, config_path, db_path)
    if prom_url:
        if paths or sources:
            raise FixmapError("give files, --prometheus or --source, one at a time")
        if not queries:
            raise FixmapError(
                "--prometheus needs at least one --query PROMQL",
                [
                    Problem(
                        None,
                        "query",
                        "missing",
                        hint="e.g. --query 'rate(http_requests_total[1m])'",
                    )
                ],
            )
        report = history.ingest_prometheus(
            prom_url,
            list(queries),
            since,
            step,
            until=until,
            metric=metric,
            service=service,
            token_secret=token_secret,
        )
    elif paths:
        if queries or sources:
            raise FixmapError("--query needs --prometheus URL; --source cannot be mixed with files")
        report = history.ingest_files(
            paths, service=service or site.config.default_service(), force=force
        )
    elif queries:
        raise FixmapError("--query needs --prometheus URL")
    elif sources or site.config.history.sources:
        report = ingest_sources(history, site, list(sources) or None)
    else:
        raise FixmapError(
            "nothing to ingest",
            [
                Problem(
                    None,
                    None,
                    "no files, no --prometheus URL, and no [history.sources] in the site config",
                    hint="e.g. fixmap history ingest metrics.csv",
                )
            ],
        )
    if as_json:
        emit_json({"db": str(history.path), **report.to_json()})
        return
    for src in report.sources:
        if src.skipped:
            warn(f"skipped {src.source}: {src.skipped}")
        else:
            extra = f", {src.series} series" if src.series else ""
            echo(f"  {src.rows:>10,} rows{extra}  {src.source}")
    replaced = f" (replacing {report.replaced:,} overlapping rows)" if report.replaced else ""
    echo(
        f"ingested {report.rows:,} rows in {report.elapsed_s:.2f} s "
        f"({report.rows_per_s:,.0f} rows/s){replaced} into {history.path}"
    )


def _parse_params(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    problems = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(None, "--param", f"'{item}' is not k=v", hint="e.g. --param window=15m")
            )
            continue
        out[key.strip()] = value.strip()
    if problems:
        raise FixmapError("bad --param", problems)
    return out


@history_group.command("query", context_settings=CONTEXT)
@click.argument("sql", required=False)
@click.option(
    "--named",
    "named_name",
    default=None,
    metavar="NAME",
    help="Run a named query (latency_percentiles, window_vs_baseline, error_rates, "
    "quality_trend, cache_hit_ratio, what_changed).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="K=V",
    help="A named query's parameter (repeatable).",
)
@click.option(
    "--limit",
    default=10_000,
    show_default=True,
    type=click.IntRange(0),
    help="At most this many rows (0: all).",
)
@click.option(
    "--json", "as_json", is_flag=True, help='JSON on stdout: {"columns": [...], "rows": [[...]]}.'
)
@timeout_option
@config_option
@db_option
@click.pass_context
def history_query(
    ctx: click.Context,
    sql: str | None,
    named_name: str | None,
    params: tuple[str, ...],
    limit: int,
    as_json: bool,
    timeout: str,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """Run read-only SQL over the history, or a named query.

    \b
      fixmap history query "SELECT metric, count(*) FROM samples GROUP BY ALL"
      fixmap history query --named window_vs_baseline --param metric=latency_ms --param window=15m
    Tables: samples(ts, service, metric, value, labels), events, probe_results, ingests.
    """
    if bool(sql) == bool(named_name):
        raise FixmapError(
            "give either SQL or --named NAME",
            [
                Problem(
                    None,
                    None,
                    "both given" if sql else "neither given",
                    hint='e.g. fixmap history query "SELECT * FROM events"',
                )
            ],
        )
    if params and not named_name:
        raise FixmapError("--param goes with --named NAME")
    history, _ = _open_history(ctx, config_path, db_path, _timeout(timeout))
    history.max_rows = limit
    if named_name:
        result = history.named(named_name, **_parse_params(params))
    else:
        result = history.sql(sql or "", max_rows=limit)
    from console.incident import recorder

    recorder.query(result)
    if as_json:
        payload = result.to_json()
        if result.name:
            payload.update(
                {"name": result.name, "params": result.params, "measures": result.measures}
            )
            if result.note:
                payload["note"] = result.note
        emit_json(payload)
        return
    print_result(result)


@history_group.command("changed", context_settings=CONTEXT)
@click.option("--service", default=None, help="Only this service (default: all).")
@click.option("--window", default="1h", show_default=True, help="The recent window to look at.")
@click.option(
    "--baseline", default="24h", show_default=True, help="The baseline before the window."
)
@click.option(
    "--until", default=None, help="End of the window (ISO time or a duration ago; default now)."
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1),
    help="At most this many series.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@timeout_option
@config_option
@db_option
@click.pass_context
def history_changed(
    ctx: click.Context,
    service: str | None,
    window: str,
    baseline: str,
    until: str | None,
    limit: int,
    as_json: bool,
    timeout: str,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """What changed: series whose recent window left their baseline, ranked, with when it began."""
    history, _ = _open_history(ctx, config_path, db_path, _timeout(timeout))
    changes = history.what_changed(service, window, baseline, until=until, limit=limit)
    if as_json:
        from console.history import jsonable

        emit_json(
            {
                "window": window,
                "baseline": baseline,
                "changes": [{**jsonable(c.__dict__), "series": c.series} for c in changes],
            }
        )
        return
    if not changes:
        echo(
            f"nothing left its baseline in the last {window} (compared with the {baseline} before)"
        )
        return
    echo(f"last {window} vs the {baseline} before (times UTC):")
    rows = [
        [
            i,
            c.series,
            c.direction,
            round(c.score, 1),
            c.started.strftime("%m-%d %H:%M"),
            c.ended.strftime("%m-%d %H:%M") if c.ended else "ongoing",
            "" if c.change_pct is None else f"{c.change_pct:+.0f}%",
            f"{c.baseline:.3g} → {c.peak:.3g}",
        ]
        for i, c in enumerate(changes, 1)
    ]
    echo(
        format_table(
            ["#", "series", "dir", "score", "started", "ended", "change", "baseline → peak"],
            rows,
            output_width(),
        )
    )


@history_group.command("events", context_settings=CONTEXT)
@click.option("--since", default="7d", show_default=True, help="ISO time or a duration ago.")
@click.option("--until", default=None, help="ISO time or a duration ago (default now).")
@click.option("--service", default=None, help="Only this service (and events of no service).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@db_option
@click.pass_context
def history_events(
    ctx: click.Context,
    since: str,
    until: str | None,
    service: str | None,
    as_json: bool,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """Deploys, rollbacks, actions and incidents recorded in the history."""
    from console.history import jsonable

    history, _ = _open_history(ctx, config_path, db_path)
    events = history.events(since, until, service=service)
    if as_json:
        emit_json([jsonable(e.__dict__) for e in events])
        return
    rows = [[e.ts, e.kind, e.service or "", e.title] for e in events]
    echo(format_table(["ts", "kind", "service", "title"], rows, output_width()))
