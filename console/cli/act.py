"""`fixmap act` and `fixmap journal`: the actions engine headless.

Exit codes: 0 done or already done under this key (or a dry-run), 1 the action failed (or its
verify probe did), 2 bad input (unknown action, bad parameter, missing secret), 3 refused by a
guard or not confirmed. With --json, one JSON object on stdout; everything else on stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
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
)
from console.core import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, FixmapError, Problem


def _redact(text: str) -> str:
    from console.core import redact

    return redact(text)


def _out(text: str, *, err: bool = False) -> None:
    echo(text, err=err)


def _emit_json(payload: Any) -> None:
    emit_json(payload)


def _fail(ctx: click.Context, exc: FixmapError, as_json: bool, action: str | None) -> None:
    text = _redact(exc.render())
    echo(f"fixmap: {text}", err=True)
    if as_json:
        _emit_json(
            {
                "action": action,
                "key": None,
                "status": "invalid" if exc.exit_code == EXIT_BAD_INPUT else "refused",
                "plan": None,
                "exit_code": None,
                "reason": text,
            }
        )
    ctx.exit(exc.exit_code)


def _ask(plan) -> tuple[bool, str]:
    """Prompt on the terminal (stderr); never called without one."""
    try:
        if plan.confirm == "type_target":
            typed = click.prompt(plan.confirm_prompt, default="", show_default=False, err=True)
            if plan.confirmation_matches(typed):
                return True, ""
            return (
                False,
                f"not confirmed: typed {typed!r}, expected {plan.target!r}; nothing was run",
            )
        if click.confirm(plan.confirm_prompt, default=False, err=True):
            return True, ""
        return False, "not confirmed: nothing was run"
    except (click.Abort, EOFError):
        return False, "not confirmed (no answer): nothing was run"


def _list_actions(site, as_json: bool) -> None:
    from console.actions import action_summaries, site_state

    state = site_state(site)
    rows = action_summaries(site)
    if as_json:
        _emit_json({"site": state.to_json(), "actions": [r.to_json() for r in rows]})
        return
    _out(f"site: {state.text()}")
    if not rows:
        _out("no actions configured: add [actions.NAME] tables to the site config", err=True)
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        flags = ", ".join(
            f for f, on in (("destructive", r.destructive), ("ships change", r.ships_change)) if on
        )
        last = f"  last: {r.last.status} {r.last.started_at}" if r.last else ""
        _out(f"{r.name:<{width}}  {r.kind:<12} {flags or '-':<26} {r.description}{last}")


@main.command("act", context_settings=CONTEXT)
@click.argument("action", required=False)
@click.option(
    "--param",
    "-p",
    "param_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter of the action (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show the plan and the guards; change nothing.")
@click.option(
    "--yes", "-y", is_flag=True, help="Confirm without a prompt (needed without a terminal)."
)
@click.option(
    "--key", default=None, help="Idempotency key (default: derived; see 'fixmap journal')."
)
@click.option(
    "--break-glass",
    "break_glass",
    default=None,
    metavar="REASON",
    help="Run a change-shipping action during a freeze; the reason is recorded.",
)
@click.option(
    "--retry",
    is_flag=True,
    help="Run again after an interrupted, failed or timed-out run under this key "
    "(check the target first). A key that succeeded never runs again.",
)
@click.option(
    "--new-key",
    "new_key",
    default=None,
    metavar="REASON",
    help="Run again under a new idempotency key (after 'already done'); the reason is recorded.",
)
@click.option(
    "--incident", default=None, envvar="FIXMAP_INCIDENT", help="Incident id (part of the key)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@config_option
@click.pass_context
def act(
    ctx: click.Context,
    action: str | None,
    param_pairs: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    key: str | None,
    break_glass: str | None,
    retry: bool,
    new_key: str | None,
    incident: str | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Run a site action (rollback, freeze, read_only, ...) once, journaled; no ACTION: list them."""
    try:
        code = _act(
            ctx,
            action,
            param_pairs,
            dry_run,
            yes,
            key,
            break_glass,
            retry,
            new_key,
            incident,
            as_json,
            config_path,
        )
    except FixmapError as exc:
        _fail(ctx, exc, as_json, action)
        return
    except click.exceptions.Exit:
        raise
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGHUP/SIGTERM (console/cli/signals.py)
        why = f" ({exc.args[0]})" if exc.args else ""
        _out(
            f"fixmap: interrupted{why}; what was recorded is in 'fixmap journal'",
            err=True,
        )
        ctx.exit(EXIT_CHECK_FAILED)
        return
    except BrokenPipeError:  # `fixmap act ... | head -1`: the reader left; what ran is journaled
        raise
    except Exception as exc:  # never a traceback that could carry a secret
        echo(_redact(f"fixmap: internal error in act: {type(exc).__name__}: {exc}"), err=True)
        if os.environ.get("FIXMAP_DEBUG"):
            echo(_redact(traceback.format_exc()), err=True)
        ctx.exit(EXIT_CHECK_FAILED)
        return
    finally:
        _close_history()
    ctx.exit(code)


def _close_history() -> None:
    """Close the history connection the journal mirror opened, before the interpreter exits."""
    history = sys.modules.get("console.history.store")
    if history is not None:
        with contextlib.suppress(Exception):
            history.close_all()


def _act(
    ctx,
    action,
    param_pairs,
    dry_run,
    yes,
    key,
    break_glass,
    retry,
    new_key,
    incident,
    as_json,
    config_path,
) -> int:
    from console.actions import plan_action, run_action

    site = load(_config_from(ctx, config_path))
    if action is None:
        _list_actions(site, as_json)
        return EXIT_OK
    params = parse_params(param_pairs)
    from console.incident import current_id

    incident = incident or current_id()  # actions belong to the open incident (and key on it)
    if key is not None and new_key is not None:
        raise FixmapError(
            "--key and --new-key cannot go together",
            [Problem(None, "--new-key", "a new key is derived for you", None, "drop --key")],
        )
    plan = plan_action(site, action, params, key=key, incident=incident)
    if new_key is not None:
        plan.rekey(new_key)
    show = (lambda t: _out(t, err=True)) if as_json else _out
    show(plan.text())

    # what running it would come to, were it confirmed: the engine's one decision
    decision = plan.decide(confirmed=True, break_glass=break_glass is not None, retry=retry)
    if dry_run:
        verdict = decision.would
        show(f"dry-run: nothing was changed; {verdict}")
        if as_json:
            _emit_json(
                {
                    "action": plan.action,
                    "key": plan.key,
                    "status": "dry_run",
                    "plan": plan.to_json(),
                    "exit_code": None,
                    "reason": verdict,
                }
            )
        return EXIT_OK

    if decision.refused and decision.guard is not None and decision.guard.name == "secrets":
        from console.core import resolve

        for name in plan.missing_secrets:
            resolve(name)  # raises SecretError (exit 2), naming both places to put it
    confirmed = yes
    refusal = ""
    # ask only when something would run: an already-done key or a refusal needs no answer
    if not yes and decision.runs:
        if sys.stdin is None or not sys.stdin.isatty():
            refusal = (
                "not confirmed: no terminal to ask on; pass --yes to confirm (nothing was run)"
            )
        else:
            confirmed, refusal = _ask(plan)

    def stream(line: str) -> None:
        echo(f"  │ {line}", err=as_json)

    outcome = run_action(
        site, plan, confirmed, break_glass_reason=break_glass, on_output=stream, retry=retry
    )
    if outcome.status == "refused" and outcome.guard == "confirm" and refusal:
        outcome.reason = refusal
    _report(outcome, as_json)
    return outcome.cli_exit


def _report(outcome, as_json: bool) -> None:
    show = (lambda t: _out(t, err=True)) if as_json else _out
    o = outcome
    if o.kept_because:
        code = f"exited {o.exit_code}" if o.exit_code is not None else f"HTTP {o.http_status}"
        _out(
            f"WARNING: {o.action} RAN and {code} ({o.status}), but the journal could not take "
            f"its outcome ({o.kept_because}); the outcome is kept in the run's reserved file "
            "in the data dir, which 'fixmap journal' reads and the next journal write folds in",
            err=True,
        )
    if o.status == "done":
        bits = [f"done: {o.action}"]
        if o.exit_code is not None:
            bits.append(f"exit {o.exit_code}")
        if o.http_status is not None:
            bits.append(f"HTTP {o.http_status}")
        if o.duration_s is not None:
            bits.append(f"in {o.duration_s:.1f}s")
        bits.append(f"key {o.key}")
        show(", ".join(bits))
        if o.break_glass:
            show(f"break-glass recorded: {o.break_glass}")
        if o.verify:
            show(o.verify.line())
        if o.reason:
            show(o.reason)
    elif o.status == "already_done":
        show(f"already done: {o.reason}")
        if o.verify:
            show(f"  then: {o.verify.line()}")
        _out(
            f'to run it again under a new key: fixmap act {o.action} ... --new-key "why it must '
            'run again"',
            err=True,
        )
    elif o.status == "running":
        _out(f"left running: {o.reason}", err=True)
    elif o.status == "failed":
        show(f"failed: {o.action}: {o.reason} (key {o.key})")
    else:
        _out(f"refused: {o.reason}", err=True)
        if o.guard == "freeze":
            _out(
                f'to break glass: fixmap act {o.action} ... --break-glass "why this cannot wait"',
                err=True,
            )
    if as_json:
        _emit_json(o.to_json())


@main.command("journal", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option(
    "--limit", type=click.IntRange(1, 100000), default=None, help="Only the newest N entries."
)
@click.option("--key", default=None, help="Only the entries of one idempotency key.")
def journal_cmd(as_json: bool, limit: int | None, key: str | None) -> None:
    """What was done, newest first; interrupted runs are marked."""
    from console.actions import journal

    entries = journal.read_journal()
    if key is not None:
        entries = [e for e in entries if e.key == key]
    if limit:
        entries = entries[:limit]
    _, torn = journal.records()
    if as_json:
        _emit_json(
            {
                "journal": str(journal.journal_path()),
                "unreadable_lines": torn,
                "entries": [e.to_json() for e in entries],
            }
        )
        return
    if torn:
        _out(
            f"warning: {torn} unreadable line(s) in {journal.journal_path()} (a write cut off by a crash)",
            err=True,
        )
    if not entries:
        _out(f"the journal is empty ({journal.journal_path()})", err=True)
        return
    interrupted = sum(1 for e in entries if e.interrupted)
    if interrupted:
        _out(f"{interrupted} interrupted run(s): {journal.INTERRUPTED_NOTE}", err=True)
    for e in entries:
        _out(journal.describe(e))
