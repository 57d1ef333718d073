"""The plan: what an action would run, exactly, and what stands in its way. The dry-run.

`plan_action()` checks the input (inputs.py), renders the command or request with secrets masked
(render.py), records what the action is for (the probes and gate targets failing now,
symptoms.py), derives the idempotency key (keys.py: a new one after the key's run expired or
what it was for failed again), reads the freeze/read-only state and the run before it under its
key, and lists the guards (guards.py). It changes nothing anywhere (where it has to know whether
a completed run still holds, it may run that action's verify probe: a read). The plan then
travels: the confirm dialog and `fixmap act` show it and ask `plan.decide()` what to ask for
(`plan.rekey(reason)`: run again under a new key); run_action runs it. Secrets appear in a plan
only as {secret:NAME}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.actions import journal
from console.actions.guards import Decision, Guard, check_reason, decide
from console.actions.inputs import checked_inputs, find_spec
from console.actions.journal import Entry
from console.actions.keys import change_base, check_key, derive_key, fresh_key, previous_run
from console.actions.render import Command, Request, render
from console.actions.state import SiteState, site_state
from console.actions.symptoms import Symptom, Symptoms, clock, failing_for
from console.core import redact, redact_json
from console.core.identity import now_iso
from console.core.templates import as_text, names_in, render_text

if TYPE_CHECKING:
    from console.site import ActionSpec, Site


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
    """Secrets that resolve nowhere (refreshed by run_action)."""
    state: SiteState | None
    """The freeze/read-only state (refreshed by run_action); None: not checked."""
    guards: list[Guard]
    """Every guard as planned (guards.decide)."""
    warnings: list[str]
    previous: Entry | None
    """The run under this key that decides what it may do, if any (keys.previous_run)."""
    planned_at: str
    symptoms: list[Symptom]
    """What it is for: the probes and gate targets failing when it was planned."""
    key_reason: str | None
    """Why the key is a new one (its run expired, what it was for failed again, the operator)."""
    spec: ActionSpec = field(repr=False, compare=False)
    typed: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    base_dir: Path = field(repr=False, compare=False, default=Path("."))
    base: str = field(repr=False, compare=False, default="")
    """What makes this run this change (keys.change_base), journaled with its intent."""
    freeze_policy: str = field(repr=False, compare=False, default="allow")
    """site.freeze_unknown of the site it was planned for."""
    _site: Any = field(repr=False, compare=False, default=None)

    def decide(
        self, *, confirmed: bool, break_glass: bool = False, retry: bool = False
    ) -> Decision:
        """What would happen if it ran now with these answers (guards.decide, on the plan's facts)."""
        return decide(
            self,
            self.state,
            self.previous,
            confirmed=confirmed,
            break_glass=break_glass,
            retry=retry,
            freeze_policy=self.freeze_policy,
        )

    def rekey(self, reason: str) -> None:
        """Run again under a new key, for the written reason (recorded with the intent).

        In place: the faces hold the plan they showed. ActionError (exit 2) if the reason will
        not do (a sentence someone can read in the postmortem)."""
        why = check_reason(reason, "new-key")
        done = self.previous.run if self.previous and self.previous.status == "done" else None
        self.key = fresh_key(self.action, self.base, self.key_basis.get("after_run"), done)
        self.key_derived = True
        kept = {k: v for k, v in self.key_basis.items() if k != "given"}
        self.key_basis = {**kept, "new_key_reason": why}
        self.key_reason = f"run again on purpose: {why}"
        self.previous = previous_run(self.key)
        program = self.argv[0] if self.argv else None
        _fill_rendering(
            self, render(self._site, self.spec, self.typed, program=program, key=self.key)
        )
        self.guards = self.decide(confirmed=False).guards

    @property
    def already_done(self) -> bool:
        """Running it would report the earlier outcome under its key."""
        return self.decide(confirmed=True).already_done

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
            "previous": self.previous.to_json(brief=True) if self.previous else None,
            "planned_at": self.planned_at,
            "symptoms": [x.to_json() for x in self.symptoms],
            "key_reason": self.key_reason,
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
        lines.append(f"  key:      {self.key} ({self.key_reason or how})")
        if self.symptoms:
            lines.append(
                "  for:      "
                + "; ".join(
                    f"{x.label} failing ({clock(x.seen_at)}: {x.reason})".replace(": )", ")")
                    for x in self.symptoms
                )
            )
        checks = [*([self.verify] if self.verify else []), *(x.label for x in self.symptoms)]
        after = (
            f", then re-check {', '.join(dict.fromkeys(checks))}" if checks else ", no verify probe"
        )
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


def _fill_rendering(plan: Plan, rendered: Command | Request) -> None:
    """The plan's view of its command or request (secrets masked)."""
    command = rendered if isinstance(rendered, Command) else None
    request = rendered if isinstance(rendered, Request) else None
    plan.argv = command.argv if command else None
    plan.env = command.env if command else {}
    plan.cwd = command.cwd if command else None
    plan.http = request.to_json() if request else None


def relapse(site: Site, spec: ActionSpec, done: Entry, found: Symptoms) -> str | None:
    """What failed again after the completed run `done` was re-checked (None: nothing did).

    A probe or gate target failing now, measured after that re-check, and not one the re-check
    already found failing (those it never cleared: running it again is the operator's call).
    Else its verify probe is asked now: 'already done' is said only of a change that holds."""
    verify = done.verify or {}
    checked = verify.get("checked_at") or done.finished_at or done.started_at
    never_cleared = set(verify.get("failing") or [])
    passed = {c.get("name") for c in verify.get("checks") or [] if c.get("status") == "pass"}
    again = [x for x in found.newer_than(checked) if x.label not in never_cleared]
    if again:
        newest = again[-1]
        how = "failed again" if newest.label in passed else "failing since"
        return f"{newest.label} {how} at {clock(newest.seen_at)}"
    probe = spec.verify
    if probe is None or probe in never_cleared:
        return None
    from console.probes import run_probes_sync

    try:
        (result,) = run_probes_sync(site, [probe])
    except Exception:
        return None  # could not measure: no relapse claimed on no evidence
    if result.status != "fail":
        return None
    found.failing.append(
        Symptom("probe", probe, result.started_at, result.reason or "", source=f"probe {probe}")
    )
    return f"{probe} failed again at {clock(result.started_at)} (checked now)"


def missing_secrets(spec: ActionSpec) -> list[str]:
    """The secrets an action needs that resolve nowhere right now (values unseen)."""
    from console.core import secrets

    return [n for n in spec.secret_names() if secrets.source(n) is None]


def plan_action(
    site: Site,
    name: str,
    params: dict[str, Any] | None = None,
    key: str | None = None,
    incident: str | None = None,
    *,
    check_site: bool = True,
) -> Plan:
    """The exact plan for running `name` with `params`; changes nothing (this is the dry-run).

    Bad input raises ActionError (exit 2). `check_site=False` skips reading the freeze state.
    """
    spec = find_spec(site, name)
    typed, program = checked_inputs(site, name, spec, dict(params or {}), incident)
    identity = render(site, spec, typed, program=program).identity()
    warnings: list[str] = []
    if spec.argv and names_in(spec.argv, "secret"):
        warnings.append(
            "a secret goes into argv, where other users of this host can see it (ps); "
            "prefer passing it through 'env'"
        )
    base = change_base(name, typed, incident, identity)
    ttl = float(site.config.site.key_ttl)
    found = failing_for(spec.kind, site, ttl)
    warnings += found.notes
    key_reason = None
    if key is not None:
        key = check_key(key)
        basis: dict[str, Any] = {"given": key}
    else:
        key, basis, key_reason = derive_key(
            name,
            typed,
            incident,
            base,
            journal.entries(),
            ttl=ttl,
            relapse=lambda done: relapse(site, spec, done, found),
        )
    rendered = render(site, spec, typed, program=program, key=key)
    missing = missing_secrets(spec)
    state = site_state(site) if check_site else None
    if state is not None:
        warnings += [f"could not read the live site state: {e}" for e in state.errors]
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
        runner="argv" if isinstance(rendered, Command) else "http",
        argv=None,
        env={},
        cwd=None,
        http=None,
        destructive=spec.destructive,
        ships_change=spec.effective_ships_change,
        confirm="type_target" if spec.destructive else "yes_no",
        target=target,
        timeout=spec.timeout,
        verify=spec.verify,
        secrets=spec.secret_names(),
        missing_secrets=missing,
        state=state,
        guards=[],
        warnings=warnings,
        previous=previous_run(key),
        planned_at=now_iso(),
        symptoms=found.failing,
        key_reason=key_reason,
        spec=spec,
        typed=typed,
        base_dir=site.base_dir,
        base=base,
        freeze_policy=site.config.site.freeze_unknown,
        _site=site,
    )
    _fill_rendering(plan, rendered)
    plan.guards = plan.decide(confirmed=False).guards
    return plan
