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

from console.core import EXIT_CHECK_FAILED, FixmapError

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


# ---------------------------------------------------------------- route


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
        click.echo(f"{i}. {r.id}  ({r.score:.2f})  {r.title}")
        click.echo(f"     why: {r.why}")


# ---------------------------------------------------------------- playbooks


@main.group(cls=FixmapGroup, context_settings=CONTEXT)
def playbooks() -> None:
    """The catalogue of fix routes."""


def _catalog(ctx: click.Context, config_path: Path | None = None):
    from console.playbooks import load_catalog

    site = load(_config_from(ctx, config_path))
    catalog = load_catalog(site.playbook_dirs)
    for p in catalog.problems:
        warn(f"fixmap: playbook problem: {p.render()}")
    return catalog


@playbooks.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def playbooks_list(ctx: click.Context, as_json: bool, config_path: Path | None) -> None:
    """Every playbook: id, title, summary."""
    catalog = _catalog(ctx, config_path)
    rows = [{"id": pb.id, "title": pb.title, "summary": pb.summary} for pb in catalog]
    if as_json:
        emit_json(rows)
        return
    width = max((len(r["id"]) for r in rows), default=0)
    for r in rows:
        click.echo(f"{r['id']:<{width}}  {r['title']}")


@playbooks.command("show", context_settings=CONTEXT)
@click.argument("playbook_id")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def playbooks_show(
    ctx: click.Context, playbook_id: str, as_json: bool, config_path: Path | None
) -> None:
    """One playbook in full."""
    from console.playbooks import playbook_text

    catalog = _catalog(ctx, config_path)
    pb = catalog.require(playbook_id)
    if as_json:
        emit_json(pb.model_dump(by_alias=True))
        return
    click.echo(playbook_text(pb))


@playbooks.command("validate", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_option
@click.pass_context
def playbooks_validate(
    ctx: click.Context, paths: tuple[Path, ...], config_path: Path | None
) -> None:
    """Validate playbook files or folders (default: bundled + the config's folders)."""
    from console.core.paths import bundled_dir
    from console.playbooks import validate_paths

    if not paths:
        site = load(_config_from(ctx, config_path))
        paths = (bundled_dir(), *site.playbook_dirs)
    files, problems = validate_paths(paths)
    for p in problems:
        warn(p.render())
    bad = {p.file for p in problems}
    click.echo(
        f"{len(files) - len(bad & {str(f) for f in files})} of {len(files)} playbook files valid"
    )
    if problems:
        sys.exit(EXIT_CHECK_FAILED)


# ---------------------------------------------------------------- demo


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
def demo(faults: tuple[str, ...], folder: Path | None, serve: bool) -> None:
    """Try fixmap on the embedded demo."""
    from console.demo import run_demo

    run_demo(
        faults=list(faults),
        folder=folder,
        serve=serve,
        open_console=lambda site: run_console(site, demo=True),
    )
