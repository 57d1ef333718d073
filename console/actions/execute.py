"""Actions that change production: spec → plan → guards → confirm → key → journal → run → verify.

The public API (sync and thread-safe; the console calls it from a thread worker):

- `plan_action(site, name, params, key=None, incident=None) -> Plan`: validates the parameters,
  resolves the exact argv or HTTP request (secrets masked), derives the idempotency key and says
  which guards apply. Changes nothing anywhere: this is the dry-run. Bad input raises ActionError
  (exit 2) naming what is wrong and the closest valid name.
- `run_action(site, plan, confirmed, break_glass_reason=None, on_output=None, *, retry=False,
  cancel=None) -> Outcome`: re-checks the guards, takes the key's single-flight lock, writes the
  intent (fsynced) before the command starts, runs it with its timeout, writes the outcome, then
  runs the verify probe. Statuses: done, already_done, failed, refused. A missing secret raises
  SecretError (exit 2) before anything is written.
- `site_state(site) -> SiteState`: frozen / read-only (unpacks as `frozen, read_only = ...`).
- `read_journal(limit=None) -> list[Entry]`: newest first, interrupted runs marked.
- `action_summaries(site) -> list[ActionSummary]`: every configured action with its last run.

Idempotency key: unless given, `<action>-<hash>` of the action, its typed parameters, the incident
and the last *other* action that completed in the journal. So pressing confirm twice, or two
consoles running the same thing, collapse into one run, while freeze → unfreeze → freeze runs
each step (the unfreeze in between changes the key of the second freeze). A key that completed
never runs again: a later run reports that first outcome (already_done). A key whose last run was
interrupted, failed or timed out is refused until the operator has checked the target and passes
`retry=True` (CLI: `--retry`).

Freeze and read-only state: the live answer of the `state` URL of a freeze/read_only action when
one is configured and answers; otherwise the last such action that completed in this machine's
journal ("last known"); otherwise not frozen / read-write ("unknown"). Which one was used is
always shown (`SiteState.frozen_source`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.actions import journal
from console.actions.journal import Entry, read_journal
from console.actions.state import SiteState, service_base_url, service_name, site_state
from console.core import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    FixmapError,
    Problem,
    closest,
    redact,
    redact_json,
)
from console.core.http import RequestAbandoned, bounded_http
from console.core.identity import host, now_iso, who
from console.core.templates import (
    Placeholder,
    as_text,
    bad_characters,
    parse_template,
    render_json,
    render_text,
    url_quote,
)
from console.site import NEVER_BLOCKED_BY_FREEZE, ActionSpec

__all__ = [
    "ActionError",
    "ActionSummary",
    "Guard",
    "Outcome",
    "Plan",
    "SiteState",
    "action_summaries",
    "plan_action",
    "read_journal",
    "run_action",
    "site_state",
]

MIN_BREAK_GLASS = 10
"""A break-glass reason is a sentence someone can read in the postmortem, not 'x'."""
TAIL_LINES = 40
LINE_MAX = 500
BODY_MAX = 64 * 1024
KILL_GRACE = 2.0
LOCK_GRACE = 30.0
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}$")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

OutputCallback = Callable[[str], None]


class ActionError(FixmapError):
    """Bad action input: unknown action, bad parameter, bad key, missing program (exit 2)."""

    exit_code = EXIT_BAD_INPUT


# ---------------------------------------------------------------- results


@dataclass
class Guard:
    """One check between the operator and the command, and whether it stops the run."""

    name: str
    """freeze | read_only | confirm | idempotency | secrets | fast_lane"""
    blocking: bool
    reason: str
    override: str | None = None
    """How an operator may pass a blocking guard on purpose ('break_glass', 'retry'), if at all."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "blocking": self.blocking,
            "reason": redact(self.reason),
            "override": self.override,
        }


@dataclass
class _Request:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    verify_tls: bool


@dataclass
class Plan:
    """What would run, exactly, and what stands in its way. Secrets appear only as {secret:NAME}."""

    action: str
    kind: str
    description: str
    key: str
    key_derived: bool
    key_basis: dict[str, Any]
    incident: str | None
    params: dict[str, Any]
    runner: str
    """'argv' or 'http'"""
    argv: list[str] | None
    env: dict[str, str]
    cwd: str | None
    http: dict[str, Any] | None
    destructive: bool
    ships_change: bool
    confirm: str
    """'type_target' (destructive) or 'yes_no'"""
    target: str
    timeout: float
    verify: str | None
    secrets: list[str]
    missing_secrets: list[str]
    state: SiteState | None
    guards: list[Guard]
    warnings: list[str]
    previous: dict[str, Any] | None
    """The last run under this key, if any (status, run, ts, who)."""
    planned_at: str
    spec: ActionSpec = field(repr=False, compare=False)
    typed: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    base_dir: Path = field(repr=False, compare=False, default=Path("."))

    def blocking(self, *, break_glass: bool = False, retry: bool = False) -> Guard | None:
        """The first guard that would refuse this run, given the overrides the operator offers."""
        for g in self.guards:
            if not g.blocking:
                continue
            if g.override == "break_glass" and break_glass:
                continue
            if g.override == "retry" and retry:
                continue
            return g
        return None

    @property
    def already_done(self) -> bool:
        return bool(self.previous and self.previous.get("status") == "done")

    def confirmation_matches(self, typed: str) -> bool:
        """For destructive actions: did the operator type the target's name (exactly, trimmed)?"""
        return typed.strip() == self.target

    @property
    def confirm_prompt(self) -> str:
        if self.confirm == "type_target":
            return f"{self.action} is destructive. Type '{self.target}' to run it"
        return f"Run {self.action}?"

    def to_json(self) -> dict[str, Any]:
        data = {
            "action": self.action,
            "kind": self.kind,
            "description": self.description,
            "key": self.key,
            "key_derived": self.key_derived,
            "key_basis": self.key_basis,
            "incident": self.incident,
            "params": self.params,
            "runner": self.runner,
            "argv": self.argv,
            "env": self.env or None,
            "cwd": self.cwd,
            "http": self.http,
            "destructive": self.destructive,
            "ships_change": self.ships_change,
            "confirm": self.confirm,
            "target": self.target,
            "timeout_s": self.timeout,
            "verify": self.verify,
            "secrets": self.secrets,
            "missing_secrets": self.missing_secrets,
            "site": self.state.to_json() if self.state else None,
            "guards": [g.to_json() for g in self.guards],
            "warnings": self.warnings,
            "previous": self.previous,
            "planned_at": self.planned_at,
        }
        return json.loads(redact_json(data))

    def text(self) -> str:
        """The plan as an on-call engineer reads it before confirming."""
        lines = [
            f"plan: {self.action} ({self.kind})"
            + (f" — {self.description}" if self.description else "")
        ]
        if self.argv is not None:
            lines.append(f"  run:      {json.dumps(self.argv, ensure_ascii=False)}")
            for k, v in self.env.items():
                lines.append(f"  env:      {k}={v}")
            if self.cwd:
                lines.append(f"  in:       {self.cwd}")
        elif self.http is not None:
            lines.append(f"  request:  {self.http['method']} {self.http['url']}")
            for k, v in self.http["headers"].items():
                lines.append(f"            {k}: {v}")
            if self.http.get("json") is not None:
                lines.append(
                    f"            body {json.dumps(self.http['json'], ensure_ascii=False)}"
                )
        if self.params:
            lines.append(
                "  params:   " + ", ".join(f"{k}={as_text(v)}" for k, v in self.params.items())
            )
        how = (
            "derived from action, params, incident, last other change"
            if self.key_derived
            else "given"
        )
        lines.append(f"  key:      {self.key} ({how})")
        after = f", then verify probe '{self.verify}'" if self.verify else ", no verify probe"
        lines.append(f"  timeout:  {self.timeout:g}s{after}")
        if self.confirm == "type_target":
            lines.append(f"  confirm:  type '{self.target}' (destructive)")
        else:
            lines.append("  confirm:  yes/no")
        if self.state is not None:
            lines.append(f"  site:     {self.state.text()}")
        for g in self.guards:
            mark = "✗" if g.blocking else "·"
            lines.append(f"  guard {mark} {g.name}: {g.reason}")
        for w in self.warnings:
            lines.append(f"  warning:  {w}")
        return redact("\n".join(lines))


@dataclass
class Outcome:
    """What happened when an action was asked to run."""

    action: str
    key: str
    status: str
    """done | already_done | failed | refused"""
    plan: Plan
    reason: str = ""
    run: str | None = None
    exit_code: int | None = None
    """The command's exit code (argv actions); None for HTTP or when it never ran."""
    http_status: int | None = None
    duration_s: float | None = None
    timed_out: bool = False
    cancelled: bool = False
    output_tail: list[str] = field(default_factory=list)
    verify: dict[str, Any] | None = None
    break_glass: str | None = None
    guard: str | None = None
    """The guard that refused the run (status refused)."""
    previous: dict[str, Any] | None = None
    """For already_done: the first run's entry."""

    @property
    def verify_ok(self) -> bool | None:
        if not self.verify or self.verify.get("status") in (None, "skipped"):
            return None
        return str(self.verify.get("status")).lower() in ("pass", "passed", "ok", "go")

    @property
    def cli_exit(self) -> int:
        """0 done or already done, 1 failed (or verify failed), 3 refused."""
        if self.status == "refused":
            return EXIT_REFUSED
        if self.status == "failed":
            return EXIT_CHECK_FAILED
        if self.status == "done" and self.verify_ok is False:
            return EXIT_CHECK_FAILED
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        data = {
            "action": self.action,
            "key": self.key,
            "status": self.status,
            "plan": self.plan.to_json(),
            "exit_code": self.exit_code,
            "http_status": self.http_status,
            "reason": self.reason,
            "run": self.run,
            "duration_s": self.duration_s,
            "timed_out": self.timed_out,
            "cancelled": self.cancelled,
            "output_tail": self.output_tail,
            "verify": self.verify,
            "break_glass": self.break_glass,
            "guard": self.guard,
            "previous": self.previous,
        }
        return json.loads(redact_json(data))


@dataclass
class ActionSummary:
    """One configured action for the actions screen: what it is and how it last went."""

    name: str
    kind: str
    description: str
    destructive: bool
    ships_change: bool
    params: dict[str, dict[str, Any]]
    last: Entry | None


# ---------------------------------------------------------------- lookup and validation


def _spec(site, name: str) -> ActionSpec:
    actions: dict[str, ActionSpec] = site.config.actions
    if name in actions:
        return actions[name]
    where = str(site.path) if site.path else None
    if not actions:
        hint = (
            "point fixmap at a site config with --config PATH"
            if site.path is None
            else "add [actions.NAME] tables to the site config"
        )
        raise ActionError(
            f"unknown action '{name}': no actions are configured",
            [Problem(where, "actions", "no actions defined", None, hint)],
        )
    guess = closest(name, actions)
    hint = f"did you mean '{guess}'?" if guess else "configured: " + ", ".join(actions)
    raise ActionError(
        f"unknown action '{name}'",
        [Problem(where, f"actions.{name}", "not configured", None, hint)],
    )


def _check_references(site, name: str, spec: ActionSpec) -> list[Problem]:
    where = str(site.path) if site.path else None
    problems: list[Problem] = []
    services = site.config.services
    if spec.service is not None and spec.service not in services:
        guess = closest(spec.service, services)
        problems.append(
            Problem(
                where,
                f"actions.{name}.service",
                f"service '{spec.service}' is not in [services]",
                None,
                f"did you mean '{guess}'?" if guess else None,
            )
        )
    needs_base = (spec.http is not None and spec.http.url.startswith("/")) or (
        spec.state is not None and spec.state.url.startswith("/")
    )
    if needs_base and service_name(site, spec) is None:
        problems.append(
            Problem(
                where,
                f"actions.{name}",
                "a relative url needs a service",
                None,
                "set 'service' on the action, or define [services]",
            )
        )
    if spec.verify is not None and spec.verify not in site.config.probes:
        guess = closest(spec.verify, site.config.probes)
        problems.append(
            Problem(
                where,
                f"actions.{name}.verify",
                f"probe '{spec.verify}' is not in [probes]",
                None,
                f"did you mean '{guess}'?" if guess else None,
            )
        )
    return problems


def _validate_params(
    name: str, spec: ActionSpec, given: dict[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    typed: dict[str, Any] = {}
    problems: list[Problem] = []
    for pname in given:
        if pname not in spec.params:
            guess = closest(pname, spec.params)
            hint = (
                f"did you mean '{guess}'?"
                if guess
                else (
                    "this action takes no parameters"
                    if not spec.params
                    else "parameters: " + ", ".join(spec.params)
                )
            )
            problems.append(
                Problem(None, f"param {pname}", f"{name} has no parameter '{pname}'", None, hint)
            )
    for pname, pspec in spec.params.items():
        raw = given.get(pname)
        if raw is None:
            if pspec.default is None:
                desc = f" ({pspec.description})" if pspec.description else ""
                problems.append(
                    Problem(
                        None,
                        f"param {pname}",
                        "required" + desc,
                        None,
                        f"pass --param {pname}=VALUE",
                    )
                )
                continue
            raw = pspec.default
        try:
            typed[pname] = pspec.convert(raw)
        except ValueError as exc:
            problems.append(Problem(None, f"param {pname}", redact(str(exc))))
    return typed, problems


def _placement_problems(spec: ActionSpec, typed: dict[str, Any]) -> list[Problem]:
    """Values that are valid but dangerous where they land: an option, a path step."""
    problems: list[Problem] = []
    if spec.http is not None:
        for ph in parse_template(spec.http.url):
            if (
                isinstance(ph, Placeholder)
                and ph.kind == "param"
                and as_text(typed[ph.name]) in (".", "..")
            ):
                problems.append(
                    Problem(
                        None,
                        f"param {ph.name}",
                        "'.' and '..' cannot go into a URL (they would move up the path)",
                    )
                )
    for i, word in enumerate((spec.argv or [])[1:], start=1):
        parts = parse_template(word)
        if parts and isinstance(parts[0], Placeholder) and parts[0].kind == "param":
            pname = parts[0].name
            value = as_text(typed.get(pname, ""))
            if (
                value.startswith("-")
                and spec.params[pname].type == "str"
                and not spec.params[pname].constrained
            ):
                problems.append(
                    Problem(
                        None,
                        f"param {pname}",
                        f"'{value}' starts with '-' and would be read as an option (argv[{i}])",
                        None,
                        "values may not start with '-' unless the action's enum or regex allows it",
                    )
                )
    return problems


# ---------------------------------------------------------------- rendering


def _render_request(
    site, spec: ActionSpec, typed: dict[str, Any], secret_values: dict[str, str] | None
) -> _Request:
    http = spec.http
    assert http is not None
    url = render_text(http.url, typed, secret_values, encode=url_quote)
    if url.startswith("/"):
        url = service_base_url(site, spec) + url
    headers = {k: render_text(v, typed, secret_values) for k, v in http.headers.items()}
    for k, v in headers.items():
        if "\r" in v or "\n" in v:
            raise ActionError(f"header {k}: a value (secret?) contains a line break")
    body = render_json(http.json_body, typed, secret_values) if http.json_body is not None else None
    return _Request(http.method, url, headers, body, http.verify_tls)


def _program_path(argv0: str, base_dir: Path) -> str | None:
    if "/" in argv0:
        p = Path(argv0).expanduser()
        p = p if p.is_absolute() else base_dir / p
        return str(p) if p.is_file() and os.access(p, os.X_OK) else None
    return shutil.which(argv0)


def _render_argv(
    spec: ActionSpec, typed: dict[str, Any], secret_values: dict[str, str] | None, program: str
) -> tuple[list[str], dict[str, str]]:
    argv = [program] + [render_text(w, typed, secret_values) for w in (spec.argv or [])[1:]]
    env = {k: render_text(v, typed, secret_values) for k, v in spec.env.items()}
    return argv, env


# ---------------------------------------------------------------- keys


def _base(name: str, typed: dict[str, Any], incident: str | None, resolved: Any) -> str:
    """What makes two runs 'the same': the action, its typed params, the incident, and the
    resolved command or request (secrets as placeholders), so one site's key never matches
    another target's run."""
    blob = json.dumps(
        {"action": name, "params": typed, "incident": incident, "resolved": resolved},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _resolved(argv: list[str] | None, http: dict[str, Any] | None) -> Any:
    if argv is not None:
        return argv
    if http is not None:
        return {"method": http["method"], "url": http["url"], "json": http.get("json")}
    return None


def _derive_key(
    name: str, typed: dict[str, Any], incident: str | None, resolved: Any, history: list[Entry]
) -> tuple[str, dict[str, Any]]:
    base = _base(name, typed, incident, resolved)
    after = next(
        (e for e in reversed(history) if e.status == "done" and e.run and e.base != base), None
    )
    digest = hashlib.sha256(f"{base}|{after.run if after else ''}".encode()).hexdigest()[:12]
    basis = {
        "action": name,
        "params": typed,
        "incident": incident,
        "after_run": after.run if after else None,
        "after_action": after.action if after else None,
    }
    return f"{name}-{digest}", basis


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ActionError(
            f"'{key}' is not a usable idempotency key",
            [
                Problem(
                    None,
                    "key",
                    "1-200 characters: letters, digits and . _ : / @ + = -",
                    None,
                    "start with a letter or digit",
                )
            ],
        )
    return key


def _previous(key: str, *, holding_lock: bool = False) -> Entry | None:
    """The run that decides what this key may do: a completed one if any, else the newest."""
    runs = journal.key_history(key, holding_lock=holding_lock)
    done = next((e for e in runs if e.status == "done"), None)
    return done or (runs[-1] if runs else None)


def _key_mismatch(plan: Plan, prev: Entry | None) -> str | None:
    """A key already used for another action, other parameters or another target."""
    if prev is None or not prev.base:
        return None
    base = _base(plan.action, plan.typed, plan.incident, _resolved(plan.argv, plan.http))
    if prev.base == base:
        return None
    return (
        f"key {plan.key} was used for {prev.action} with other parameters or another target "
        f"({prev.status} {prev.started_at}); one key names one change: use a new --key"
    )


def _previous_json(e: Entry | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "status": e.status,
        "run": e.run,
        "started_at": e.started_at,
        "finished_at": e.finished_at,
        "who": e.who,
        "exit_code": e.exit_code,
        "http_status": e.http_status,
        "reason": e.reason,
    }


# ---------------------------------------------------------------- planning


def plan_action(
    site,
    name: str,
    params: dict[str, Any] | None = None,
    key: str | None = None,
    incident: str | None = None,
    *,
    check_site: bool = True,
) -> Plan:
    """The exact plan for running `name` with `params`; changes nothing (this is the dry-run)."""
    from console.core import secrets

    spec = _spec(site, name)
    problems = _check_references(site, name, spec)
    typed, param_problems = _validate_params(name, spec, dict(params or {}))
    problems += param_problems
    if not param_problems:
        problems += _placement_problems(spec, typed)
    if incident is not None and (bad_characters(incident) or len(incident) > 200):
        problems.append(
            Problem(None, "incident", "an incident id is one line of at most 200 characters")
        )
    warnings: list[str] = []
    argv = env = None
    http = None
    program = None
    if not problems and spec.argv:
        program = _program_path(spec.argv[0], site.base_dir)
        if program is None:
            where = f"in {site.base_dir}" if "/" in spec.argv[0] else "on PATH"
            problems.append(
                Problem(
                    str(site.path) if site.path else None,
                    f"actions.{name}.argv[0]",
                    f"program '{spec.argv[0]}' not found {where}",
                    None,
                    "install it, or give its full path",
                )
            )
    if problems:
        raise ActionError(redact(f"cannot plan action '{name}'"), problems)
    if spec.argv:
        assert program is not None
        argv, env = _render_argv(spec, typed, None, program)
        if any(
            p.kind == "secret"
            for w in spec.argv
            for p in parse_template(w)
            if isinstance(p, Placeholder)
        ):
            warnings.append(
                "a secret goes into argv, where other users of this host can see it (ps); "
                "prefer passing it through 'env'"
            )
    else:
        req = _render_request(site, spec, typed, None)
        http = {"method": req.method, "url": req.url, "headers": req.headers, "json": req.body}
    if key is not None:
        key = _check_key(key)
        basis: dict[str, Any] = {"given": key}
    else:
        key, basis = _derive_key(name, typed, incident, _resolved(argv, http), journal.entries())
    secret_names = spec.secret_names()
    missing = [n for n in secret_names if secrets.source(n) is None]
    state = site_state(site) if check_site else None
    if state is not None:
        warnings += [f"could not read the live site state: {e}" for e in state.errors]
    prev = _previous(key)
    cwd = str(site.resolve(spec.cwd)) if spec.cwd else None
    target = (
        render_text(spec.target, typed, None)
        if spec.target
        else (spec.service or (site.config.default_service() if spec.http else None) or name)
    )
    plan = Plan(
        action=name,
        kind=spec.kind,
        description=spec.description,
        key=key,
        key_derived="given" not in basis,
        key_basis=basis,
        incident=incident,
        params=typed,
        runner="argv" if spec.argv else "http",
        argv=argv,
        env=env or {},
        cwd=cwd,
        http=http,
        destructive=spec.destructive,
        ships_change=spec.effective_ships_change,
        confirm="type_target" if spec.destructive else "yes_no",
        target=target,
        timeout=spec.timeout,
        verify=spec.verify,
        secrets=secret_names,
        missing_secrets=missing,
        state=state,
        guards=[],
        warnings=warnings,
        previous=_previous_json(prev),
        planned_at=now_iso(),
        spec=spec,
        typed=typed,
        base_dir=site.base_dir,
    )
    plan.guards = _guards(plan, state, prev, site.config.site.freeze_unknown)
    return plan


def _frozen_for(state: SiteState | None, policy: str) -> str | None:
    """Why change-shipping actions count as frozen now (None: they do not)."""
    if state is None:
        return None
    if state.frozen:
        return f"change freeze in effect ({state.frozen_source})"
    if policy == "refuse" and state.frozen_source.startswith("unknown"):
        return (
            f"the freeze state is unknown ({state.frozen_source}) and this site treats an "
            "unknown freeze as a freeze (site.freeze_unknown = 'refuse')"
        )
    return None


def _guards(
    plan: Plan, state: SiteState | None, prev: Entry | None, policy: str = "allow"
) -> list[Guard]:
    guards: list[Guard] = []
    frozen = _frozen_for(state, policy)
    if plan.kind in NEVER_BLOCKED_BY_FREEZE:
        guards.append(Guard("freeze", False, f"a {plan.kind} is never blocked by a change freeze"))
    elif not plan.ships_change:
        guards.append(Guard("freeze", False, "does not ship change: allowed during a freeze"))
    elif frozen:
        guards.append(
            Guard(
                "freeze",
                True,
                f"{frozen}; this action ships change: "
                "refused unless you break glass with a written reason",
                override="break_glass",
            )
        )
    else:
        src = f" ({state.frozen_source})" if state else ""
        guards.append(Guard("freeze", False, f"ships change; no change freeze{src}"))
    if state is not None and state.read_only:
        guards.append(
            Guard(
                "read_only", False, f"the service is in read-only mode ({state.read_only_source})"
            )
        )
    if plan.kind == "rollback":
        after = f"; verify probe '{plan.verify}' runs afterwards" if plan.verify else ""
        guards.append(Guard("fast_lane", False, "rollback skips gates on purpose" + after))
    if prev is not None:
        when = f"{prev.finished_at or prev.started_at} by {prev.who}"
        if prev.status == "done":
            guards.append(
                Guard(
                    "idempotency",
                    False,
                    f"already done under this key ({when}): running again reports that outcome",
                )
            )
        elif prev.status == "running":
            guards.append(
                Guard(
                    "idempotency",
                    False,
                    f"running now under this key ({when}): a run waits for it and reports its outcome",
                )
            )
        else:
            what = (
                "was interrupted"
                if prev.status == "interrupted"
                else ("timed out" if prev.timed_out else "failed")
            )
            guards.append(
                Guard(
                    "idempotency",
                    True,
                    f"the last run under this key {what} ({when}): check the target before "
                    "retrying",
                    override="retry",
                )
            )
    if plan.missing_secrets:
        from console.core import env_var

        guards.append(
            Guard(
                "secrets",
                True,
                "missing secret(s): "
                + ", ".join(
                    f"{n} (keyring 'fixmap'/{n} or ${env_var(n)})" for n in plan.missing_secrets
                ),
            )
        )
    if plan.confirm == "type_target":
        guards.append(Guard("confirm", False, f"destructive: type '{plan.target}' to confirm"))
    else:
        guards.append(Guard("confirm", False, "yes/no"))
    return guards


# ---------------------------------------------------------------- running


LINE_BUFFER_MAX = 1 << 20
"""Longest output line kept whole for redaction (bytes); longer ones are split there."""


def _clean(text: str) -> str:
    text = _ANSI.sub("", text).replace("\r", "")
    text = _CTRL.sub("", text)
    text = redact(text)  # before cutting: a secret across the cut would leak half of itself
    if len(text) > LINE_MAX:
        text = text[:LINE_MAX] + "…"
    return text


def _emitter(on_output: OutputCallback | None) -> OutputCallback:
    def emit(line: str) -> None:
        if on_output is None:
            return
        # a broken callback (a closed pane) must not break the run or lose its outcome
        with contextlib.suppress(Exception):
            on_output(line)

    return emit


@dataclass
class _Result:
    ok: bool
    exit_code: int | None = None
    http_status: int | None = None
    duration_s: float = 0.0
    timed_out: bool = False
    cancelled: bool = False
    tail: list[str] = field(default_factory=list)
    reason: str = ""


def _stopped(
    timed_out: bool, cancelled: bool, timeout: float, how: str, **fields: Any
) -> _Result | None:
    """The result of a run that did not finish by itself (timeout or the operator), if so."""
    if timed_out:
        return _Result(
            False, timed_out=True, reason=f"timed out after {timeout:g}s: {how}", **fields
        )
    if cancelled:
        return _Result(False, cancelled=True, reason=f"cancelled by the operator: {how}", **fields)
    return None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, KILL_GRACE)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            # the leader is gone; make sure nothing it started lives on in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue


def _run_argv(
    argv: list[str],
    env: dict[str, str],
    cwd: str | None,
    timeout: float,
    emit: OutputCallback,
    cancel: threading.Event | None,
    lock_fd: int | None = None,
) -> _Result:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FIXMAP_SECRET_")}
    child_env.update(env)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=child_env,
            start_new_session=True,
            close_fds=True,
            # the child holds the key's lock too: if fixmap dies mid-run, the key stays
            # 'running' while the command lives, and a --retry cannot start a second copy
            pass_fds=(lock_fd,) if lock_fd is not None else (),
        )
    except OSError as exc:
        return _Result(
            False,
            reason=redact(f"could not start {argv[0]}: {exc.strerror or exc}"),
            duration_s=time.monotonic() - start,
        )

    followed = threading.Event()
    followed.set()

    def pump() -> None:
        stream = proc.stdout
        assert stream is not None
        try:
            pending = b""
            for raw in iter(lambda: stream.readline(65536), b""):
                if not followed.is_set():
                    continue  # the run is over; drain so the writer never blocks
                # whole lines are redacted: a secret split across two reads would slip through
                pending += raw
                if not pending.endswith(b"\n") and len(pending) < LINE_BUFFER_MAX:
                    continue
                line = _clean(pending.decode("utf-8", errors="replace").rstrip("\n"))
                pending = b""
                tail.append(line)
                emit(line)
            if pending and followed.is_set():
                line = _clean(pending.decode("utf-8", errors="replace"))
                tail.append(line)
                emit(line)
        finally:
            # closed here, by the only reader: closing it from another thread would wait on
            # this thread's read, forever if a process the command left behind holds the pipe
            with contextlib.suppress(Exception):
                stream.close()

    reader = threading.Thread(target=pump, name=f"fixmap-output-{proc.pid}", daemon=True)
    reader.start()
    deadline = start + timeout
    timed_out = cancelled = False
    try:
        while True:
            try:
                proc.wait(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                cancelled = True
            elif time.monotonic() >= deadline:
                timed_out = True
            if timed_out or cancelled:
                _kill_group(proc)
                break
    except KeyboardInterrupt:
        cancelled = True
        _kill_group(proc)
    reader.join(timeout=KILL_GRACE)
    if reader.is_alive():
        followed.clear()
        tail.append(
            "(output no longer followed: a process the command started still holds it open)"
        )
    duration = time.monotonic() - start
    rc = proc.poll()
    stopped = _stopped(
        timed_out,
        cancelled,
        timeout,
        "the process group was killed",
        exit_code=rc,
        duration_s=duration,
        tail=list(tail),
    )
    if stopped is not None:
        return stopped
    ok = rc == 0
    return _Result(
        ok,
        exit_code=rc,
        duration_s=duration,
        tail=list(tail),
        reason="" if ok else f"exited with status {rc}",
    )


def _run_http(
    req: _Request,
    expect: list[int] | None,
    timeout: float,
    emit: OutputCallback,
    cancel: threading.Event | None,
) -> _Result:
    """One HTTP request under ONE overall deadline (see state.bounded_http): a server that
    trickles its answer is abandoned at `timeout`, its socket shut, and recorded as timed out."""
    import httpx

    start = time.monotonic()
    deadline = start + timeout
    lock = threading.Lock()
    got: dict[str, Any] = {"status": None, "phrase": ""}
    received = bytearray()
    timed_out = cancelled = False
    reason = ""

    def work(client: httpx.Client) -> str:
        kwargs: dict[str, Any] = {"headers": req.headers}
        if req.body is not None:
            kwargs["json"] = req.body
        with client.stream(req.method, req.url, **kwargs) as resp:
            with lock:
                got["status"], got["phrase"] = resp.status_code, resp.reason_phrase
            for chunk in resp.iter_bytes():
                with lock:
                    if len(received) < BODY_MAX:
                        received.extend(chunk[: BODY_MAX - len(received)])
                if time.monotonic() > deadline:
                    return "timed_out"
                if cancel is not None and cancel.is_set():
                    return "cancelled"
        return ""

    try:
        end = bounded_http(work, timeout=timeout, verify=req.verify_tls, cancel=cancel)
        timed_out, cancelled = end == "timed_out", end == "cancelled"
    except RequestAbandoned as exc:
        timed_out, cancelled = not exc.cancelled, exc.cancelled
    except httpx.TimeoutException:
        timed_out = True
    except httpx.HTTPError as exc:
        reason = redact(f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        cancelled = True
    with lock:  # an abandoned worker may still be writing
        status, phrase = got["status"], got["phrase"]
        body = bytes(received)
    if status is not None:
        emit(_clean(f"HTTP {status} {phrase}"))
    duration = time.monotonic() - start
    text = body.decode("utf-8", errors="replace")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    for line in text.splitlines():
        line = _clean(line)
        tail.append(line)
        emit(line)
    stopped = _stopped(
        timed_out,
        cancelled,
        timeout,
        "the request was abandoned",
        http_status=status,
        duration_s=duration,
        tail=list(tail),
    )
    if stopped is not None:
        return stopped
    if status is None:
        return _Result(False, duration_s=duration, tail=list(tail), reason=reason or "no answer")
    ok = status in expect if expect else 200 <= status < 300
    return _Result(
        ok,
        http_status=status,
        duration_s=duration,
        tail=list(tail),
        reason="" if ok else f"HTTP {status}",
    )


def _verify(site, probe: str) -> dict[str, Any]:
    try:
        from console.probes import run_probes_sync  # type: ignore[attr-defined]
    except ModuleNotFoundError as exc:
        if exc.name not in ("console.probes.run",):
            raise
        return {
            "probe": probe,
            "status": "skipped",
            "reason": "the probes engine is not in this build",
        }
    except ImportError:
        return {
            "probe": probe,
            "status": "skipped",
            "reason": "the probes engine has no run_probes_sync",
        }
    try:
        results = run_probes_sync(site, [probe])
    except Exception as exc:
        return {"probe": probe, "status": "error", "reason": redact(f"{type(exc).__name__}: {exc}")}
    if isinstance(results, dict):
        result = results.get(probe) or next(iter(results.values()), None)
    elif isinstance(results, list | tuple):
        result = results[0] if results else None
    else:
        result = results
    if result is None:
        return {"probe": probe, "status": "error", "reason": "the probe returned no result"}
    status = getattr(result, "status", None)
    status = getattr(status, "value", status)
    return {
        "probe": probe,
        "status": str(status),
        "reason": redact(str(getattr(result, "reason", "") or "")),
    }


def _check_break_glass(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = " ".join(reason.split())
    why = bad_characters(reason.replace("\n", " "))
    if len(text) < MIN_BREAK_GLASS or why:
        raise ActionError(
            "a break-glass reason is a sentence for the postmortem",
            [
                Problem(
                    None,
                    "break-glass",
                    f"give at least {MIN_BREAK_GLASS} characters saying why the freeze must "
                    "be broken"
                    if not why
                    else f"the reason {why}",
                    None,
                    'e.g. --break-glass "kill switch for the 5xx storm, approved by the IC"',
                )
            ],
        )
    return redact(text)


def _refuse(
    plan: Plan, guard: str, reason: str, *, record: bool, break_glass: str | None = None
) -> Outcome:
    if record:
        journal.append(
            {
                "type": "refused",
                "key": plan.key,
                "action": plan.action,
                "kind": plan.kind,
                "ts": now_iso(),
                "who": who(),
                "host": host(),
                "guard": guard,
                "reason": reason,
                "params": plan.params,
                "incident": plan.incident,
            }
        )
    return _on_timeline(
        Outcome(
            plan.action,
            plan.key,
            "refused",
            plan,
            reason=redact(reason),
            guard=guard,
            break_glass=break_glass,
        )
    )


def _already(plan: Plan, prev: Entry) -> Outcome:
    when = f"{prev.finished_at or prev.started_at} by {prev.who}"
    return _on_timeline(
        Outcome(
            plan.action,
            plan.key,
            "already_done",
            plan,
            run=prev.run,
            reason=f"already done under key {plan.key} ({when}); not run again",
            exit_code=prev.exit_code,
            http_status=prev.http_status,
            duration_s=prev.duration_s,
            output_tail=prev.output_tail,
            verify=prev.verify,
            previous=prev.to_json(),
        )
    )


def _on_timeline(outcome: Outcome) -> Outcome:
    """A refusal or an 'already done' lands on the incident's timeline (nothing ran)."""
    from console.incident import recorder

    recorder.action(None, outcome, ran=False)
    return outcome


def _not_again(plan: Plan, prev: Entry) -> str:
    what = (
        "was interrupted"
        if prev.status == "interrupted"
        else ("timed out" if prev.timed_out else "failed")
    )
    return (
        f"the last run under key {plan.key} {what} ({prev.started_at} by {prev.who}): "
        "check the target before retrying, then run again with --retry (or a new --key)"
    )


def run_action(
    site,
    plan: Plan,
    confirmed: bool,
    break_glass_reason: str | None = None,
    on_output: OutputCallback | None = None,
    *,
    retry: bool = False,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Run a planned action once per key, journaled before and after; see the module docstring.

    `on_output` receives each output line (redacted) from a worker thread. `cancel` stops the
    run (the process group is killed) and records it as cancelled.
    """
    from console.core import resolve

    emit = _emitter(on_output)
    spec = plan.spec
    break_glass = _check_break_glass(break_glass_reason)

    prev = _previous(plan.key)
    mismatch = _key_mismatch(plan, prev)
    if mismatch:
        return _refuse(plan, "idempotency", mismatch, record=False)
    if prev is not None and prev.status == "done":
        return _already(plan, prev)
    state = site_state(site)
    plan.state = state
    frozen = _frozen_for(state, site.config.site.freeze_unknown)
    if spec.effective_ships_change and frozen and break_glass is None:
        return _refuse(
            plan,
            "freeze",
            f"{frozen} and {plan.action} ships change; to override, break glass with a written reason",
            record=True,
        )
    if prev is not None and prev.status in ("interrupted", "failed") and not retry:
        return _refuse(plan, "idempotency", _not_again(plan, prev), record=False)
    if not confirmed:
        return _refuse(plan, "confirm", "not confirmed: nothing was run", record=False)

    secret_values = {
        n: resolve(n) for n in spec.secret_names()
    }  # raises SecretError: nothing written yet
    if spec.argv:
        argv, env = _render_argv(spec, plan.typed, secret_values, (plan.argv or [spec.argv[0]])[0])
        req = None
    else:
        argv, env = [], {}
        req = _render_request(site, spec, plan.typed, secret_values)

    holder: dict[str, Any] = {}

    def waiting() -> None:
        e = _previous(plan.key)
        by = (
            f" by {e.who}, pid {e.pid} on {e.host}"
            if e is not None and e.status == "running"
            else ""
        )
        emit(f"waiting for the run already in progress under key {plan.key}{by}")

    try:
        with journal.key_lock(
            plan.key,
            wait=spec.timeout + 2 * KILL_GRACE + LOCK_GRACE,
            on_wait=waiting,
            cancel=cancel,
        ) as lock_fd:
            # authoritative now that no one else can run this key: an open intent left under it
            # is a run that died (it cannot be running: the lock is ours)
            prev = _previous(plan.key, holding_lock=True)
            mismatch = _key_mismatch(plan, prev)
            if mismatch:
                return _refuse(plan, "idempotency", mismatch, record=False)
            if prev is not None and prev.status == "done":
                return _already(plan, prev)
            if prev is not None and prev.status in ("interrupted", "failed") and not retry:
                return _refuse(plan, "idempotency", _not_again(plan, prev), record=False)
            run_id = uuid.uuid4().hex
            holder["run"] = run_id
            journal.append(
                {
                    "type": "intent",
                    "run": run_id,
                    "key": plan.key,
                    "base": _base(
                        plan.action, plan.typed, plan.incident, _resolved(plan.argv, plan.http)
                    ),
                    "action": plan.action,
                    "kind": plan.kind,
                    "ts": now_iso(),
                    "who": who(),
                    "host": host(),
                    "pid": os.getpid(),
                    "incident": plan.incident,
                    "params": plan.params,
                    "plan": plan.to_json(),
                    "break_glass": break_glass,
                    "retry_of": prev.run if prev else None,
                    "site": {"frozen": state.frozen, "read_only": state.read_only},
                }
            )
            emit(f"running {plan.action} (key {plan.key})")
            try:
                if req is not None:
                    result = _run_http(
                        req,
                        spec.http.expect_status if spec.http else None,
                        spec.timeout,
                        emit,
                        cancel,
                    )
                else:
                    result = _run_argv(argv, env, plan.cwd, spec.timeout, emit, cancel, lock_fd)
            except Exception as exc:  # recorded, never silent: the intent gets its outcome
                result = _Result(
                    False,
                    reason=redact(f"fixmap failed while running: {type(exc).__name__}: {exc}"),
                )
            status = "done" if result.ok else "failed"
            journal.append(
                {
                    "type": "outcome",
                    "run": run_id,
                    "key": plan.key,
                    "action": plan.action,
                    "ts": now_iso(),
                    "status": status,
                    "exit_code": result.exit_code,
                    "http_status": result.http_status,
                    "duration_s": round(result.duration_s, 3),
                    "timed_out": result.timed_out,
                    "cancelled": result.cancelled,
                    "output_tail": result.tail,
                    "reason": result.reason,
                }
            )
    except journal.KeyLockTimeout:
        if cancel is not None and cancel.is_set():
            return _refuse(
                plan,
                "single_flight",
                "cancelled while waiting for the run in progress",
                record=False,
            )
        return _refuse(
            plan,
            "single_flight",
            f"another run under key {plan.key} is still going; "
            "check 'fixmap journal' and the target",
            record=False,
        )

    outcome = Outcome(
        plan.action,
        plan.key,
        status,
        plan,
        reason=result.reason,
        run=holder.get("run"),
        exit_code=result.exit_code,
        http_status=result.http_status,
        duration_s=round(result.duration_s, 3),
        timed_out=result.timed_out,
        cancelled=result.cancelled,
        output_tail=result.tail,
        break_glass=break_glass,
    )
    if status == "done" and plan.verify:
        emit(f"verifying with probe '{plan.verify}'")
        outcome.verify = _verify(site, plan.verify)
        journal.append(
            {
                "type": "verify",
                "run": outcome.run,
                "key": plan.key,
                "action": plan.action,
                "ts": now_iso(),
                **outcome.verify,
            }
        )
        if outcome.verify_ok is False:
            outcome.reason = (
                f"done, but verify probe '{plan.verify}' says {outcome.verify['status']}: "
                f"{outcome.verify.get('reason', '')}".rstrip(": ")
            )
    from console.incident import recorder

    for note in recorder.action(site, outcome):
        emit(note)
    return outcome


# ---------------------------------------------------------------- listing


def action_summaries(site) -> list[ActionSummary]:
    """Every configured action with its last journaled run or refusal (for the actions screen)."""
    last: dict[str, Entry] = {}
    for e in journal.entries():
        last[e.action] = e
    out: list[ActionSummary] = []
    for name, spec in site.config.actions.items():
        out.append(
            ActionSummary(
                name=name,
                kind=spec.kind,
                description=spec.description,
                destructive=spec.destructive,
                ships_change=spec.effective_ships_change,
                params={k: p.model_dump(exclude_none=True) for k, p in spec.params.items()},
                last=last.get(name),
            )
        )
    return out
