"""fixmap's command line: the console, and the same engine headless.

Exit codes everywhere: 0 ok, 1 a check failed, 2 bad usage/config/input, 3 refused by a guard.
--json output goes to stdout, messages to stderr. Everything a command prints goes out through
`echo`, `warn` or `emit_json` (and errors through FixmapGroup): the one way out, redacted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from console.cli.start import failure, run_console, split_config
from console.core import FixmapError, Problem

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def echo(text: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """Print one message or result line (stderr with `err`), with every secret masked."""
    from console.core import redact

    click.echo(redact(text if isinstance(text, str) else str(text)), err=err, nl=nl)


def emit_json(payload: Any) -> None:
    """The --json document on stdout; string values are masked before serialisation."""
    from console.core import redact_json

    click.echo(redact_json(payload, indent=2))


def warn(text: str) -> None:
    echo(text, err=True)


def output_width(cap: int | None = None) -> int | None:
    """How wide a printed table may be: COLUMNS when set; the terminal's width (at most `cap`);
    None when stdout is a pipe or a file, where nothing is cut (`| cat`, `| grep` see it all)."""
    import os

    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 20)
    if not sys.stdout.isatty():
        return None
    import shutil

    width = max(shutil.get_terminal_size((80, 24)).columns, 40)
    return min(width, cap) if cap else width


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
        except BrokenPipeError:
            raise  # click's main() handles a closed pipe (`fixmap ... | head`)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            lines, code = failure(exc)
            for line in lines:
                warn(line)
            ctx.exit(code)


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
        "triage": "console.cli.triage",
        "playbooks": "console.cli.playbooks",
        "demo": "console.cli.demo",
        "step": "console.cli.step",
        "walk": "console.cli.step",
        "doctor": "console.cli.doctor",
        "config": "console.cli.config",
        "watch": "console.cli.watch",
    }

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """`--config PATH` works before or after the subcommand, on every subcommand: it is the
        whole invocation's config, so it is taken wherever it stands."""
        return super().parse_args(ctx, hoist_config(args))


def hoist_config(args: list[str]) -> list[str]:
    """Move every `--config PATH` / `--config=PATH` (before a `--`) to the front."""
    found, rest = split_config(args)
    if len(set(found)) > 1:
        raise click.UsageError(f"--config is given twice with different files: {', '.join(found)}")
    return (["--config", found[0]] if found else []) + rest


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
    from console.site import use_data_dir_of

    problem = use_data_dir_of(config_path)  # every command: the same data dir for one config
    if problem and ctx.invoked_subcommand is not None:
        warn(f"fixmap: {problem}")
    if ctx.invoked_subcommand not in (None, "demo"):  # the console owns its terminal
        from console.cli.signals import hangup_as_interrupt

        hangup_as_interrupt()
    if ctx.invoked_subcommand is None:
        site = load(config_path)
        run_console(site)


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
