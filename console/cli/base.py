"""fixmap's command line: the console, and the same engine headless.

Exit codes everywhere: 0 ok, 1 a check failed, 2 bad usage/config/input, 3 refused by a guard.
--json output goes to stdout, messages to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from console.core import FixmapError, Problem

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def warn(text: str) -> None:
    click.echo(text, err=True)


class FixmapGroup(click.Group):
    """Turns FixmapError into its message on stderr and its exit code, never a traceback."""

    lazy: dict[str, str] = {}
    """Command name -> module that defines it; imported only when that command runs, so the
    console's start-up does not pay for every other command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            __import__(self.lazy[cmd_name])
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            # click suggests from the commands site so far; the lazy ones count too
            from console.core import closest

            if args and not args[0].startswith("-") and closest(args[0], self.commands) is None:
                guess = closest(args[0], self.list_commands(ctx))
                if guess:
                    exc.message += f" Did you mean '{guess}'?"
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FixmapError as exc:
            warn(f"fixmap: {exc.render()}")
            ctx.exit(exc.exit_code)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Site config file (default: $FIXMAP_CONFIG, ./fixmap.toml, then the user config dir).",
)


def load(config_path: Path | None):
    from console.site import load_config

    return load_config(config_path)


class MainGroup(FixmapGroup):
    lazy = {
        "probe": "console.cli.probe",
        "history": "console.cli.history",
        "act": "console.cli.act",
        "journal": "console.cli.act",
        "gate": "console.cli.gate",
        "incident": "console.cli.incident",
        "route": "console.cli.route",
        "playbooks": "console.cli.playbooks",
        "demo": "console.cli.demo",
        "step": "console.cli.step",
        "walk": "console.cli.step",
    }


@click.group(cls=MainGroup, invoke_without_command=True, context_settings=CONTEXT)
@config_option
@click.version_option(package_name="fixmap", prog_name="fixmap")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """fixmap: route a symptom to its fix, walk it, probe, query and act.

    With no command, opens the console.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    if ctx.invoked_subcommand not in (None, "demo"):  # the console owns its terminal
        from console.cli.signals import hangup_as_interrupt

        hangup_as_interrupt()
    if ctx.invoked_subcommand is None:
        site = load(config_path)
        run_console(site)


def run_console(site, **kwargs: Any) -> None:
    from screens.app import run

    code = run(site, **kwargs)
    if code:
        sys.exit(code)


def _config_from(ctx: click.Context, config_path: Path | None) -> Path | None:
    return config_path or (ctx.obj or {}).get("config_path")


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """--param NAME=VALUE pairs -> a dict; a pair without '=' or a name given twice is an error."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise FixmapError(
                "--param expects NAME=VALUE",
                [
                    Problem(
                        None, "--param", f"'{pair}' has no '='", None, "e.g. --param release=v41"
                    )
                ],
            )
        if name in params:
            raise FixmapError(
                f"--param {name} is given twice",
                [Problem(None, "--param", "give each parameter once")],
            )
        params[name] = value
    return params
