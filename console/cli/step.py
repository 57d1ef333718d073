"""`fixmap walk` and `fixmap step`: a playbook's walkthrough, headless.

`fixmap step PLAYBOOK STEP` runs one step exactly as the console runs it (the same engine,
console.walkthrough): the same verdict, the same saved result, the same record on the open
incident. Actions go through the same plan and guards: `--yes` confirms a plain action,
`--confirm TARGET` a destructive one (typing the target, as in the console).

Exit codes: 0 pass / done, 1 fail, 2 bad input or could not judge, 3 refused or not confirmed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from console.cli.base import (
    CONTEXT,
    _config_from,
    config_option,
    echo,
    emit_json,
    load,
    main,
    parse_params,
    warn,
)
from console.core import EXIT_BAD_INPUT, EXIT_OK, EXIT_REFUSED, FixmapError, redact

_GLYPH = {"pending": "○", "done": "✓", "skipped": "»", "failed": "✗"}


def _walkthrough(ctx: click.Context, playbook_id: str, config_path: Path | None):
    from console.playbooks import load_catalog
    from console.walkthrough import Walkthrough

    site = load(_config_from(ctx, config_path))
    catalog = load_catalog(site.playbook_dirs)
    w = Walkthrough(site, catalog.require(playbook_id))
    w.catalog = catalog
    return w


def _next_line(w) -> str | None:
    """'next: step 4 — Roll back (fixmap step ID roll-back)' after the last verdict."""
    nxt = w.next()
    if nxt is None:
        return None
    if nxt.playbook:
        return f"{nxt.text()}  (fixmap walk {nxt.playbook})"
    return f"{nxt.text()}  ({nxt.why}: fixmap step {w.playbook.id} {nxt.step})"


def _say(text: str, as_json: bool) -> None:
    echo(redact(text), err=as_json)


# ---------------------------------------------------------------- walk


@main.command(context_settings=CONTEXT)
@click.argument("playbook_id")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@config_option
@click.pass_context
def walk(ctx: click.Context, playbook_id: str, as_json: bool, config_path: Path | None) -> None:
    """A playbook's steps with their saved status and last result."""
    w = _walkthrough(ctx, playbook_id, config_path)
    views = w.views()
    counts = w.counts()
    nxt = w.next()
    if as_json:
        emit_json(
            {
                "playbook": w.playbook.id,
                "title": w.playbook.title,
                "counts": counts,
                "cursor": w.progress.cursor,
                "steps": [v.to_json() for v in views],
                "next": nxt.to_json() if nxt else None,
            }
        )
        return
    head = f"{counts['done']}/{len(views)} done"
    if counts["failed"]:
        head += f" · {counts['failed']} FAILED"
    if counts["skipped"]:
        head += f" · {counts['skipped']} skipped"
    echo(f"{w.playbook.title} [{w.playbook.id}]  {head}")
    for v in views:
        mark = "FAILED " if v.status == "failed" else ""
        echo(f"{v.index:>3} {_GLYPH[v.status]} {v.kind:<6} {v.id}: {mark}{v.title}")
        if v.last:
            echo(f"          last: {redact(v.last[0])}")
        if v.blocked:
            echo(f"          {v.blocked.replace('`', '')}")
    line = _next_line(w)
    if line:
        echo(line)


# ---------------------------------------------------------------- step


@main.command(context_settings=CONTEXT)
@click.argument("playbook_id")
@click.argument("step_id")
@click.option("--param", "param_pairs", multiple=True, help="NAME=VALUE for an action step.")
@click.option("--dry-run", is_flag=True, help="Action steps: show the plan, change nothing.")
@click.option("--yes", is_flag=True, help="Confirm a plain action or a check step.")
@click.option(
    "--confirm", "typed_target", default=None, help="Confirm a destructive action: its target."
)
@click.option("--break-glass", default=None, help="Run through a change freeze: a written reason.")
@click.option("--retry", is_flag=True, help="Run again after an interrupted or failed run.")
@click.option("--json", "as_json", is_flag=True, help="The step's result as JSON on stdout.")
@config_option
@click.pass_context
def step(
    ctx: click.Context,
    playbook_id: str,
    step_id: str,
    param_pairs: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    typed_target: str | None,
    break_glass: str | None,
    retry: bool,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Run one walkthrough step exactly as the console would (STEP: its id or number)."""
    w = _walkthrough(ctx, playbook_id, config_path)
    s = w.step(step_id)
    code = _run(
        w, s, parse_params(param_pairs), dry_run, yes, typed_target, break_glass, retry, as_json
    )
    ctx.exit(code)


def _run(w, s, params, dry_run, yes, typed_target, break_glass, retry, as_json) -> int:
    if params and s.kind != "action":
        raise FixmapError(f"--param is for action steps; '{s.id}' is a {s.kind} step")
    if s.kind == "read":
        _say(s.body.strip(), as_json)
        w.mark(s.id, "done")
        return _done(w, s, "done", ["read"], as_json)
    if s.kind == "route":
        _say(f"next: open {s.to}" + (f" — {s.when}" if s.when else ""), as_json)
        if as_json:
            emit_json({"playbook": w.playbook.id, "step": s.id, "kind": "route", "to": s.to})
        return EXIT_OK
    if s.kind == "check":
        _say(s.title + ("\n" + s.body.strip() if s.body.strip() else ""), as_json)
        if not yes:
            _say("not confirmed: check it by hand, then run again with --yes", as_json)
            return EXIT_REFUSED
        w.mark(s.id, "done")
        return _done(w, s, "done", ["checked by hand"], as_json)
    need = w.need(s)
    if need is not None:
        from console.doctor import action_uses, missing_toml

        toml = missing_toml(w.site, need, action_uses(w.catalog))
        text = need.text.replace("`", "")
        if toml:
            text += "\nAdd to the site config (then change every CHANGE-ME):\n\n" + toml
        raise FixmapError(text, exit_code=EXIT_BAD_INPUT)
    if s.kind == "action":
        return _action(w, s, params, dry_run, yes, typed_target, break_glass, retry, as_json)
    result = w.run(s.id)
    return _report(result, as_json, w)


def _done(w, s, status: str, lines: list[str], as_json: bool) -> int:
    if as_json:
        emit_json(
            {
                "playbook": w.playbook.id,
                "step": s.id,
                "kind": s.kind,
                "mark": status,
                "lines": lines,
            }
        )
    return EXIT_OK


def _report(result: Any, as_json: bool, w: Any = None) -> int:
    for line in result.lines:
        _say(line, as_json)
    _say(
        f"step {result.playbook}/{result.step}: {result.status}"
        + (f" (marked {result.mark})" if result.mark else ""),
        as_json,
    )
    nxt = w.next() if w is not None and result.ran else None
    if nxt is not None:
        _say(_next_line(w) or "", as_json)
    if as_json:
        emit_json({**result.to_json(), "next": nxt.to_json() if nxt else None})
    return result.exit_code


def _action(w, s, params, dry_run, yes, typed_target, break_glass, retry, as_json) -> int:
    from console.actions import plan_action, run_action
    from console.incident import current_id
    from console.walkthrough import steps

    plan = plan_action(
        w.site, s.action or "", steps.action_params(s, params), incident=current_id()
    )
    _say(plan.text(), as_json)
    if dry_run:
        decision = plan.decide(confirmed=True, break_glass=break_glass is not None, retry=retry)
        _say(f"dry-run: nothing was changed; {decision.would}", as_json)
        if as_json:
            emit_json(
                {
                    "playbook": w.playbook.id,
                    "step": s.id,
                    "status": "dry_run",
                    "plan": plan.to_json(),
                }
            )
        return EXIT_OK
    confirmed, why = _confirmed(plan, yes, typed_target)

    def stream(line: str) -> None:
        echo(f"  │ {line}", err=as_json)

    outcome = run_action(w.site, plan, confirmed, break_glass, stream, retry=retry)
    if outcome.status == "refused" and outcome.guard == "confirm" and why:
        outcome.reason = why
    result = steps.action_result(w.playbook, s, outcome)
    w.file(result)
    return _report(result, as_json, w)


def _confirmed(plan: Any, yes: bool, typed_target: str | None) -> tuple[bool, str]:
    """--confirm TARGET for a destructive action, --yes for a plain one; else ask on a terminal."""
    if plan.confirm == "type_target":
        if typed_target is not None:
            if plan.confirmation_matches(typed_target):
                return True, ""
            return (
                False,
                f"not confirmed: --confirm {typed_target!r} is not the target {plan.target!r}",
            )
        if not sys.stdin or not sys.stdin.isatty():
            return (
                False,
                f"not confirmed: {plan.action} is destructive; pass --confirm {plan.target}",
            )
        typed = click.prompt(plan.confirm_prompt, default="", show_default=False, err=True)
        if plan.confirmation_matches(typed):
            return True, ""
        warn(f"typed {typed!r}, expected {plan.target!r}")
        return False, "not confirmed: nothing was run"
    if yes:
        return True, ""
    if not sys.stdin or not sys.stdin.isatty():
        return False, "not confirmed: no terminal to ask on; pass --yes (nothing was run)"
    if click.confirm(plan.confirm_prompt, default=False, err=True):
        return True, ""
    return False, "not confirmed: nothing was run"
