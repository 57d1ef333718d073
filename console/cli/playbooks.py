"""`fixmap playbooks list|show|validate`: the catalogue of fix routes."""

from __future__ import annotations

import sys
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
    warn,
)
from console.core import EXIT_CHECK_FAILED


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
        echo(f"{r['id']:<{width}}  {r['title']}")


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
    echo(playbook_text(pb))


@playbooks.command("validate", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--site",
    "site_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also check every probe, query, action (and its parameters) and gate set the steps "
    "name against this site config.",
)
@config_option
@click.pass_context
def playbooks_validate(
    ctx: click.Context, paths: tuple[Path, ...], site_path: Path | None, config_path: Path | None
) -> None:
    """Validate playbook files or folders (default: bundled + the config's folders): the
    schema, the links (related, route targets, on_fail), and with --site what each step needs
    of that site (with the TOML to add)."""
    from console.core.paths import bundled_dir
    from console.playbooks import load_catalog, validate_paths

    site = load(site_path if site_path is not None else _config_from(ctx, config_path))
    if not paths:
        paths = (bundled_dir(), *site.playbook_dirs)
    known = load_catalog(site.playbook_dirs).playbooks
    files, problems, loaded = validate_paths(paths, known)
    for p in problems:
        warn(p.render())
    bad = {p.file for p in problems}
    echo(f"{len(files) - len(bad & {str(f) for f in files})} of {len(files)} playbook files valid")
    bank_problems = _bank_problems([p for p in paths if p.is_dir()], ids_known(known, loaded))
    findings = _site_findings(site, loaded) if site_path is not None else []
    if problems or findings or bank_problems:
        sys.exit(EXIT_CHECK_FAILED)


def ids_known(known, loaded) -> set[str]:
    return set(known) | {pb.id for pb, _f in loaded}


def _bank_problems(folders: list[Path], ids: set[str]) -> list[str]:
    """The folders' example banks (examples/<id>.yaml): unreadable files, items that are not
    texts, and files named for no playbook; one summary line when there is a bank."""
    from console.core import closest
    from console.routing import example_files, load_examples

    bank, problems = load_examples(folders)
    found = [p.text() for p in problems]
    for folder in folders:
        for f in example_files(folder):
            if f.stem not in ids:
                guess = closest(f.stem, sorted(ids))
                hint = f"rename it to {guess}.yaml" if guess else "name it <playbook id>.yaml"
                found.append(f"{f}: no playbook '{f.stem}' to teach; {hint}")
    for line in found:
        warn(line)
    if bank:
        texts = sum(len(v) for v in bank.values())
        echo(f"example bank: {texts} texts for {len(bank)} playbooks")
    return found


def _site_findings(site, loaded) -> list:
    """Every step of the loaded playbooks against the site; printed with the TOML to add."""
    from console.doctor import playbook_findings

    findings = playbook_findings(site, loaded)
    for f in findings:
        warn(f"{site.path}: {f.problem}")
    blocks = list(dict.fromkeys(f.toml for f in findings if f.toml))
    if blocks:
        warn("\n# Add to the site config (then change every CHANGE-ME):\n")
        warn("\n\n".join(blocks))
    steps = sum(len(pb.steps) for pb, _f in loaded)
    verdict = f"{len(findings)} findings" if findings else "no finding"
    echo(f"{site.path}: {steps} steps of {len(loaded)} playbooks checked, {verdict}")
    return findings
