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

import contextlib
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from console.actions import journal, runs
from console.actions.guards import Decision, check_break_glass, decide
from console.actions.journal import Entry
from console.actions.keys import previous_run
from console.actions.locks import KeyLockTimeout, key_lock
from console.actions.outcome import Outcome
from console.actions.plan import Plan
from console.actions.render import Command, Request, render
from console.actions.result import RunResult
from console.actions.runner import OutputCallback, Supervised, emitter, run_argv, run_http, started
from console.actions.state import SiteState, site_state
from console.actions.supervisor import KILL_GRACE
from console.actions.verify import recheck, verdict_reason
from console.core import data_dir, redact

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
            why_not = _record_intent(plan, run_id, previous, break_glass, state)
            if why_not:
                return _on_timeline(Outcome.refusal(plan, "record", why_not))
            emit(f"running {plan.action} (key {plan.key})")
            ran = _run(plan, filled, run_id, emit, cancel, lock_fd, list(secret_values.values()))
    except KeyLockTimeout:
        if cancel is not None and cancel.is_set():
            why = "cancelled while waiting for the run in progress"
        else:
            why = (
                f"another run under key {plan.key} is still going; "
                "check 'fixmap journal' and the target"
            )
        return _on_timeline(Outcome.refusal(plan, "single_flight", why))
    except OSError as exc:  # the key's lock file cannot be made: nothing has run
        return _on_timeline(Outcome.refusal(plan, "record", _unrecordable(exc, "lock")))
    from console.incident import recorder

    if ran.result is None:
        unfinished = Outcome.unfinished(plan, run_id, ran, break_glass)
        for note in recorder.action(site, unfinished):
            emit(note)
        return unfinished
    result = ran.result
    outcome = Outcome.ran(plan, run_id, result, break_glass)
    outcome.kept_because = ran.kept_because
    outcome.supervisor = ran.supervisor
    outcome.log = str(ran.log) if ran.log else None
    if outcome.status == "done":
        outcome.verify = recheck(site, plan.verify, plan.symptoms, emit)
        if outcome.verify is not None:
            with contextlib.suppress(OSError):  # the outcome is recorded; this is its epilogue
                journal.write_verify(plan, outcome.run, outcome.verify)
            outcome.reason = verdict_reason(plan.verify, outcome.verify)
    for note in recorder.action(site, outcome):
        emit(note)
    return outcome


def _record_intent(
    plan: Plan, run_id: str, previous: Entry | None, break_glass: str | None, state: SiteState
) -> str | None:
    """Reserve the outcome's space and write the intent, fsynced; why not, if the data dir
    cannot keep the record (then nothing runs: a change must never go unrecorded)."""
    try:
        runs.reserve(run_id)
    except OSError as exc:
        return _unrecordable(exc, "runs")
    try:
        journal.write_intent(
            plan,
            run=run_id,
            base=plan.base,
            break_glass=break_glass,
            retry_of=previous.run if previous else None,
            frozen=state.frozen,
            read_only=state.read_only,
        )
    except OSError as exc:
        runs.discard_run(run_id)
        return _unrecordable(exc, "journal")
    return None


def _unrecordable(exc: OSError, what: str) -> str:
    where = {
        "lock": "take the key's lock in",
        "runs": "reserve the run's record in",
        "journal": "write the intent to the journal in",
    }[what]
    return redact(
        f"cannot {where} {data_dir()} ({exc.strerror or exc}): the change would go unrecorded, "
        "so nothing was run; free space or make the data dir writable (or point FIXMAP_HOME "
        "at one that is), then run it again"
    )


def _run(
    plan: Plan,
    filled: Command | Request,
    run_id: str,
    emit: OutputCallback,
    cancel: threading.Event | None,
    lock_fd: int,
    secrets: list[str],
) -> Supervised:
    """Run the filled command (under its supervisor) or request; the outcome is journaled."""
    spec = plan.spec
    if isinstance(filled, Command):
        try:
            ran = run_argv(
                filled,
                spec.timeout,
                emit,
                cancel,
                lock_fd,
                run=run_id,
                key=plan.key,
                action=plan.action,
                secrets=secrets,
            )
        except Exception as exc:  # recorded, never silent: the intent gets its outcome
            ran = Supervised(_crashed(exc))
            _write_outcome(plan, run_id, ran)
            return ran
        if ran.result is None and not ran.detached and not started(run_id):
            # the supervisor went before starting the command: say so, and that it may not have
            ran.result = RunResult(
                False,
                reason="the supervisor ended without starting the command or saying why; "
                "check the target before retrying",
            )
            _write_outcome(plan, run_id, ran)
        return ran
    expect = spec.http.expect_status if spec.http else None
    try:
        result = run_http(filled, expect, spec.timeout, emit, cancel)
    except Exception as exc:  # recorded, never silent: the intent gets its outcome
        result = _crashed(exc)
    ran = Supervised(result)
    _write_outcome(plan, run_id, ran)
    return ran


def _crashed(exc: Exception) -> RunResult:
    return RunResult(
        False,
        duration_s=0.0,
        reason=redact(f"fixmap failed while running: {type(exc).__name__}: {exc}"),
    )


def _write_outcome(plan: Plan, run_id: str, ran: Supervised) -> None:
    """Journal fixmap's own outcome line; if the journal cannot take it, keep it in the run's
    reservation (and say so on `ran`)."""
    assert ran.result is not None
    try:
        journal.write_outcome(plan, run_id, ran.result)
    except OSError as exc:
        ran.kept_because = f"{type(exc).__name__}: {exc}"
        rec = journal.outcome_record(plan.key, plan.action, run_id, ran.result)
        with contextlib.suppress(OSError):
            runs.write_fallback(
                runs.fallback_path(run_id), {**rec, "kept_because": ran.kept_because}
            )
        return
    runs.discard(runs.fallback_path(run_id))


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
