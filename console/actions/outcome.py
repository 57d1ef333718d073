"""The outcome: what happened when an action was asked to run, for the faces and the timeline.

One of: done, failed (a run happened; its RunResult is the journal's outcome line), already_done
(the key completed before; the earlier run's result and verify, not run again), refused (by a
guard, by single flight, or because the record could not be kept; nothing ran) or running
(fixmap stopped following — Ctrl-C, a hang-up — and the command goes on under its supervisor,
which records the outcome). `cli_exit` is the exit code `fixmap act` ends with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console.actions.journal import Entry
from console.actions.plan import Plan
from console.actions.result import ResultFields, RunResult, Verify
from console.core import EXIT_CHECK_FAILED, EXIT_OK, EXIT_REFUSED, redact, redact_json


@dataclass
class Outcome(ResultFields):
    """What happened when an action was asked to run."""

    action: str
    key: str
    status: str
    """done | already_done | failed | refused"""
    plan: Plan
    reason: str = ""
    run: str | None = None
    result: RunResult | None = None
    """How the run ended (done, failed), or the earlier run's (already_done); None if refused."""
    verify: Verify | None = None
    break_glass: str | None = None
    guard: str | None = None
    """The guard that refused the run (status refused)."""
    previous: Entry | None = None
    """For already_done: the first run's entry."""
    kept_because: str | None = None
    """The command ran but the journal could not take its outcome (why); it is kept in the
    run's reserved file, which the journal reads."""
    supervisor: int | None = None
    """The pid of the supervisor that owns the command (argv actions)."""
    log: str | None = None
    """The run's output file."""

    @classmethod
    def ran(cls, plan: Plan, run: str, result: RunResult, break_glass: str | None) -> Outcome:
        return cls(
            plan.action,
            plan.key,
            result.status,
            plan,
            reason=result.reason,
            run=run,
            result=result,
            break_glass=break_glass,
        )

    @classmethod
    def unfinished(cls, plan: Plan, run: str, ran: Any, break_glass: str | None) -> Outcome:
        """fixmap stopped following the run, or its supervisor ended with no outcome recorded."""
        where = f"; output: {ran.log}" if ran.log else ""
        if ran.detached:
            reason = (
                f"fixmap stopped following; {plan.action} goes on under its supervisor "
                f"(pid {ran.supervisor}), which records the outcome: see 'fixmap journal'{where}"
                f" (to cancel it: kill -TERM {ran.supervisor})"
            )
            status = "running"
        else:
            reason = (
                f"interrupted: the supervisor (pid {ran.supervisor}) ended without recording "
                f"an outcome; check the target before retrying{where}"
            )
            status = "failed"
        return cls(
            plan.action,
            plan.key,
            status,
            plan,
            reason=reason,
            run=run,
            break_glass=break_glass,
            supervisor=ran.supervisor,
            log=str(ran.log) if ran.log else None,
        )

    @classmethod
    def refusal(cls, plan: Plan, guard: str, reason: str) -> Outcome:
        return cls(plan.action, plan.key, "refused", plan, reason=redact(reason), guard=guard)

    @classmethod
    def earlier(cls, plan: Plan, prev: Entry) -> Outcome:
        when = f"{prev.finished_at or prev.started_at} by {prev.who}"
        return cls(
            plan.action,
            plan.key,
            "already_done",
            plan,
            reason=f"already done under key {plan.key} ({when}); not run again",
            run=prev.run,
            result=prev.result,
            verify=prev.verify,
            previous=prev,
        )

    @property
    def verify_ok(self) -> bool | None:
        return self.verify.ok if self.verify else None

    @property
    def cli_exit(self) -> int:
        """0 done or already done, 1 failed (or its re-check failed, or not followed to its
        end), 3 refused."""
        if self.status == "refused":
            return EXIT_REFUSED
        if self.status in ("failed", "running"):
            return EXIT_CHECK_FAILED
        if self.status in ("done", "already_done") and self.verify_ok is False:
            return EXIT_CHECK_FAILED  # done, but what it was for is not fixed (or not known)
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
            "previous": self.previous.to_json() if self.previous else None,
            "kept_because": self.kept_because,
            "supervisor": self.supervisor,
            "log": self.log,
        }
        return json.loads(redact_json(data))
