"""`fixmap watch [--for DURATION] [--json]`: the live sampler, headless (a bastion tmux pane).

Samples the sources of the site's [history.sampling] into its history every interval and prints
a line a round: what was sampled, how many samples, errors. When another fixmap already samples
the same history, this one says so and takes over if that one stops. Ends on SIGINT/SIGTERM/SIGHUP
or after --for. Exit 0 when it ran, 2 when the config has nothing to sample.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from console.cli.base import (
    CONTEXT,
    _config_from,
    config_option,
    echo,
    load,
    main,
)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    from console.core import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command(context_settings=CONTEXT)
@click.option(
    "--for",
    "duration",
    metavar="DURATION",
    callback=_duration,
    help="Stop after this long (e.g. 10m); default: until SIGINT/SIGTERM.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per round on stdout.")
@click.option(
    "--with-parent",
    is_flag=True,
    hidden=True,
    help="Stop when stdin closes (the console that started this sampler has gone).",
)
@config_option
@click.pass_context
def watch(
    ctx: click.Context,
    duration: float | None,
    as_json: bool,
    with_parent: bool,
    config_path: Path | None,
) -> None:
    """Sample the site's /metrics and Prometheus queries into the history, every interval."""
    from console.core import ConfigError, Problem, redact, redact_json
    from console.gates import require_site
    from console.history import Sampler, sampling_sources

    site = load(_config_from(ctx, config_path))
    require_site(site)
    if not sampling_sources(site):
        raise ConfigError(
            "the site config names nothing to sample",
            [
                Problem(
                    str(site.path),
                    "history.sampling.sources",
                    "empty",
                    hint="add [history.sampling] sources = [...] naming scrape or prometheus "
                    "sources of [history.sources]",
                )
            ],
        )
    stop = threading.Event()

    def on_round(rnd) -> None:
        if as_json:
            echo(redact_json(rnd.to_json()))
        else:
            echo(redact(rnd.line()))

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, on_signal) for sig in signals}
    if with_parent:
        import sys

        def parent_gone() -> None:
            sys.stdin.buffer.read()  # returns at EOF: the console closed its end, or died
            stop.set()

        threading.Thread(target=parent_gone, name="parent-watch", daemon=True).start()
    sampler = Sampler(site, on_round=on_round)
    spec = site.config.history.sampling
    echo(
        f"fixmap watch: sampling {', '.join(spec.sources)} every {spec.interval:g}s into "
        f"{sampler.history.path}",
        err=True,
    )
    sampler.start()
    try:
        stop.wait(duration)
    finally:
        sampler.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    echo(f"fixmap watch: stopped after {sampler.rounds} rounds", err=True)
