"""`fixmap doctor [--json]`: the site config against the live site and the playbooks; exit 0
healthy, 1 findings (each with what to add, as TOML to paste), 2 a config that does not load."""

from __future__ import annotations

import sys
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
)
from console.core import EXIT_CHECK_FAILED, ConfigError, Problem


@main.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option(
    "--offline", is_flag=True, help="Check the config against the playbooks only: no requests."
)
@config_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, offline: bool, config_path: Path | None) -> None:
    """Check the site config: services reachable, every probe measures what its gates read,
    every action's program or endpoint there, every playbook step configured here.

    Prints what to add as TOML you can paste. Exit 0 healthy, 1 findings.
    """
    from console.doctor import diagnose

    site = load(_config_from(ctx, config_path))
    if site.path is None:
        from console.site import NO_CONFIG_HINT

        raise ConfigError("no site config to check", [Problem(None, None, NO_CONFIG_HINT)])
    report = diagnose(site, live=not offline)
    if as_json:
        emit_json(report.to_json())
    else:
        for line in report_lines(report):
            echo(line)
    if not report.healthy:
        sys.exit(EXIT_CHECK_FAILED)


def report_lines(report) -> list[str]:
    """What doctor saw, as lines: what held, notes, findings, then the TOML to add."""
    lines = [f"fixmap doctor: {report.config}"]
    lines += [f"  ok    {area} {subject}: {seen}" for area, subject, seen in report.checked]
    lines += [f"  note  {area} {subject}: {text}" for area, subject, text in report.notes]
    lines += [f"  FIX   {f.area} {f.subject}: {f.problem}" for f in report.findings]
    if report.healthy:
        lines.append(f"healthy: {len(report.checked)} checks held")
        return lines
    lines.append(f"{len(report.findings)} findings")
    toml = report.toml()
    if toml:
        lines += ["", "# Add to the site config (then change every CHANGE-ME):", "", toml]
    return lines
