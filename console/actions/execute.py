"""Running a planned action: decide, lock the key, journal the intent, run, journal the outcome,
verify, and put it on the incident's timeline.

`run_action(site, plan, confirmed, ...)` decides with fresh facts (guards.decide, with the site
state read again and the journal read for the key), renders the command or request with the
secrets' values (render.py), takes the key's single-flight lock (locks.py; it waits for a run in
progress, then reports that run), decides again under the lock where the journal for the key is
final, writes the intent (fsynced) before the command starts, runs it with its timeout
(runner.py), writes the outcome, then runs the verify probe. A missing secret raises SecretError
and a bad break-glass reason ActionError (both exit 2) before anything is written.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from console.actions import journal
from console.actions.guards import Decision, check_break_glass, decide
from console.actions.journal import Entry
from console.actions.keys import previous_run
from console.actions.locks import KeyLockTimeout, key_lock
from console.actions.outcome import Outcome
from console.actions.plan import Plan
from console.actions.render import Request, render
from console.actions.result import RunResult
from console.actions.runner import KILL_GRACE, OutputCallback, emitter, run_argv, run_http
from console.actions.state import SiteState, site_state
from console.actions.verify import run_verify
from console.core import redact

LOCK_GRACE = 30.0
"""Seconds beyond a run's own timeout (and its kill) that a second run waits for the first."""
STATE_FRESH_S = 5.0
"""A freeze state read this recently (by the plan) is not read again for the run."""


def run_action(
    site: Any,
    plan: Plan,
    confirmed: bool,
    break_glass_reason: str | None = None,
    on_output: OutputCallback | None = None,
    *,
    retry: bool = False,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Run a planned action once per key, journaled before and after; see the module docstring.

    Statuses: done, already_done, failed, refused. `on_output` receives each output line
    (redacted) from a worker thread. `cancel` stops the run (the process group is killed) and
    records it as cancelled. `retry`: run again after an interrupted or failed run (the
    operator has checked the target).
    """
    from console.core import resolve

    emit = emitter(on_output)
    spec = plan.spec
    break_glass = check_break_glass(break_glass_reason)
    state = _state_for_run(site, plan)
    plan.state = state  # the plan as run shows the state it ran under

    def decision(previous: Entry | None) -> Decision:
        return decide(
            plan,
            state,
            previous,
            confirmed=confirmed,
            break_glass=break_glass is not None,
            retry=retry,
            freeze_policy=site.config.site.freeze_unknown,
        )

    first = decision(previous_run(plan.key))
    if not _goes_on(first):
        return _settle(plan, first)
    # raises SecretError naming both places to put a secret: nothing is written yet
    secret_values = {n: resolve(n) for n in spec.secret_names()}
    program = plan.argv[0] if plan.argv else None  # as resolved when planned
    filled = render(site, spec, plan.typed, secret_values, program=program, key=plan.key)

    def waiting() -> None:
        e = previous_run(plan.key)
        by = (
            f" by {e.who}, pid {e.pid} on {e.host}"
            if e is not None and e.status == "running"
            else ""
        )
        emit(f"waiting for the run already in progress under key {plan.key}{by}")

    try:
        with key_lock(
            plan.key,
            wait=spec.timeout + 2 * KILL_GRACE + LOCK_GRACE,
            on_wait=waiting,
            cancel=cancel,
        ) as lock_fd:
            # final now that no one else can run this key: an open intent left under it is a
            # run that died (it cannot be running: the lock is ours)
            previous = previous_run(plan.key, holding_lock=True)
            final = decision(previous)
            if not _goes_on(final):
                return _settle(plan, final)
            run_id = uuid.uuid4().hex
            journal.write_intent(
                plan,
                run=run_id,
                base=plan.base,
                break_glass=break_glass,
                retry_of=previous.run if previous else None,
                frozen=state.frozen,
                read_only=state.read_only,
            )
            emit(f"running {plan.action} (key {plan.key})")
            try:
                if isinstance(filled, Request):
                    expect = spec.http.expect_status if spec.http else None
                    result = run_http(filled, expect, spec.timeout, emit, cancel)
                else:
                    result = run_argv(filled, spec.timeout, emit, cancel, lock_fd)
            except Exception as exc:  # recorded, never silent: the intent gets its outcome
                result = RunResult(
                    False,
                    duration_s=0.0,
                    reason=redact(f"fixmap failed while running: {type(exc).__name__}: {exc}"),
                )
            journal.write_outcome(plan, run_id, result)
    except KeyLockTimeout:
        if cancel is not None and cancel.is_set():
            why = "cancelled while waiting for the run in progress"
        else:
            why = (
                f"another run under key {plan.key} is still going; "
                "check 'fixmap journal' and the target"
            )
        return _on_timeline(Outcome.refusal(plan, "single_flight", why))

    outcome = Outcome.ran(plan, run_id, result, break_glass)
    if outcome.status == "done" and plan.verify:
        emit(f"verifying with probe '{plan.verify}'")
        outcome.verify = run_verify(site, plan.verify)
        journal.write_verify(plan, outcome.run, outcome.verify)
        if outcome.verify.ok is False:
            outcome.reason = (
                f"done, but verify probe '{plan.verify}' says {outcome.verify.status}: "
                f"{outcome.verify.reason}".rstrip(": ")
            )
    from console.incident import recorder

    for note in recorder.action(site, outcome):
        emit(note)
    return outcome


def _state_for_run(site: Any, plan: Plan) -> SiteState:
    """The site state a run decides with. The freeze can refuse only an action that ships
    change: that one reads it again unless the plan read it moments ago; the others run under
    the plan's reading (the live checks cost their timeouts when the service is on fire)."""
    from console.core import parse_ts

    st = plan.state
    if st is not None and not plan.ships_change:
        return st
    if st is not None and st.checked_at:
        age = (datetime.now(UTC) - parse_ts(st.checked_at)).total_seconds()
        if 0 <= age < STATE_FRESH_S:
            return st
    return site_state(site, live=plan.ships_change)


def _goes_on(decision: Decision) -> bool:
    """Whether the run goes on to resolve its secrets: it may run, or all that stands is a
    secret that was missing when looked up, which resolving now raises as bad input (exit 2)."""
    guard = decision.guard
    return decision.runs or (decision.refused and guard is not None and guard.name == "secrets")


def _settle(plan: Plan, decision: Decision) -> Outcome:
    """The outcome of a decision not to run: the earlier run's, or a refusal."""
    if decision.already_done:
        assert decision.previous is not None
        return _on_timeline(Outcome.earlier(plan, decision.previous))
    assert decision.guard is not None
    if decision.journaled:
        journal.write_refused(plan, decision.guard.name, decision.reason)
    return _on_timeline(Outcome.refusal(plan, decision.guard.name, decision.reason))


def _on_timeline(outcome: Outcome) -> Outcome:
    """A refusal or an 'already done' lands on the incident's timeline (nothing ran)."""
    from console.incident import recorder

    recorder.action(None, outcome, ran=False)
    return outcome
