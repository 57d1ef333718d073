"""`fixmap demo`: the embedded demo service, its history and config, and the console on it."""

from __future__ import annotations

from pathlib import Path

import click

from console.cli.base import (
    CONTEXT,
    main,
    run_console,
)


@main.command(context_settings=CONTEXT)
@click.option("--fault", "faults", multiple=True, help="Fault to switch on at start (repeatable).")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's site config and data.",
)
@click.option("--serve", is_flag=True, help="Serve the demo service only; no console.")
@click.option(
    "--traffic",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Simulated users' requests per second (0: none).",
)
@click.option(
    "--no-sampling",
    is_flag=True,
    help="With --serve: do not run the live sampler in this process (run 'fixmap watch').",
)
def demo(
    faults: tuple[str, ...], folder: Path | None, serve: bool, traffic: float, no_sampling: bool
) -> None:
    """Try fixmap on the embedded demo."""
    from console.demo import run_demo

    run_demo(
        faults=list(faults),
        folder=folder,
        serve=serve,
        open_console=lambda site: run_console(site, demo=True),
        traffic=traffic,
        sampling=not no_sampling,
    )
