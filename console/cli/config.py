"""`fixmap config reference` (Markdown) and `fixmap config schema` (JSON Schema, for editors):
the site-config reference, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

import click

from console.cli.base import (
    CONTEXT,
    FixmapGroup,
    _config_from,
    config_option,
    echo,
    load,
    main,
)


@main.group(cls=FixmapGroup, context_settings=CONTEXT)
def config() -> None:
    """The site config's reference: every field, probe kind, measure and gate metric."""


@config.command(context_settings=CONTEXT)
@config_option
@click.pass_context
def reference(ctx: click.Context, config_path: Path | None) -> None:
    """Every table and field with its type, default and meaning; each probe kind's measures; what
    the built-in gate sets read; the parameters the playbooks pass to each action (Markdown)."""
    from console.doctor import reference_markdown

    site = load(_config_from(ctx, config_path))
    echo(reference_markdown(site if site.path else None), nl=False)


@config.command(context_settings=CONTEXT)
def schema() -> None:
    """A JSON Schema of fixmap.toml, for editors (e.g. taplo / Even Better TOML)."""
    from console.doctor import config_schema

    echo(json.dumps(config_schema(), indent=2, ensure_ascii=False))
