"""The guards between an operator and a command, and the one decision they add up to.

`decide()` is the only place that says whether a planned action may run. plan_action lists its
guards (the plan and the dry-run show them); the confirm dialog asks for what the decision needs
(a written break-glass reason, a deliberate retry) and shows up front a refusal nothing passes;
run_action decides again before it runs, with the site state fresh, and once more under the
key's lock, where the journal for the key is final.

The guards, in the order a decision weighs them (the first that stands refuses):

1. idempotency, reuse: one key names one change; a key used for another action, other
   parameters or another target is refused (no override: use a new key).
2. idempotency, done: a key that completed never runs again; the run reports that outcome.
3. freeze: during a change freeze (or, with site.freeze_unknown = 'refuse', while the freeze
   state is unknown) an action that ships change is refused unless the operator breaks glass
   with a written reason. Rollback, freeze and read-only kinds are never blocked by a freeze.
4. idempotency, retry: a key whose last run was interrupted, failed or timed out waits until the
   operator has checked the target and retries on purpose.
5. confirm: nothing runs unconfirmed.
6. secrets: a secret the action needs is missing (no override; to the CLI it is bad input).

Read-only mode and rollback's fast lane are listed for the operator; they refuse nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from console.actions.errors import ActionError
from console.core import Problem, redact
from console.core.templates import bad_characters
from console.site import NEVER_BLOCKED_BY_FREEZE

if TYPE_CHECKING:
    from console.actions.journal import Entry
    from console.actions.state import SiteState

Override = Literal["break_glass", "retry"]
Verdict = Literal["run", "refused", "already_done"]

MIN_BREAK_GLASS = 10
"""A break-glass reason is a sentence someone can read in the postmortem, not 'x'."""
NOT_CONFIRMED = "not confirmed: nothing was run"


@dataclass
class Guard:
    """One check between the operator and the command, and whether it stops the run."""

    name: str
    """freeze | read_only | confirm | idempotency | secrets | fast_lane"""
    blocking: bool
    reason: str
    """The line the plan shows."""
    override: Override | None = None
    """How an operator may pass a blocking guard on purpose ('break_glass', 'retry'), if at all."""
    refusal: str | None = field(default=None, repr=False, compare=False)
    """What a run refused by this guard says, when it says more than `reason` (how to pass)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "blocking": self.blocking,
            "reason": redact(self.reason),
            "override": self.override,
        }


@dataclass(frozen=True)
class Decision:
    """Whether a planned action runs, given what the operator offered; and every guard weighed."""

    verdict: Verdict
    guards: list[Guard]
    guard: Guard | None = None
    """The guard that refused (verdict 'refused')."""
    reason: str = ""
    """What the refusal says."""
    standing: tuple[Guard, ...] = ()
    """Every blocking guard the operator's overrides did not pass (verdict 'refused')."""
    previous: Entry | None = None
    """The run whose outcome stands for this one (verdict 'already_done')."""

    @property
    def runs(self) -> bool:
        return self.verdict == "run"

    @property
    def refused(self) -> bool:
        return self.verdict == "refused"

    @property
    def already_done(self) -> bool:
        return self.verdict == "already_done"

    @property
    def final(self) -> Guard | None:
        """A standing guard no override passes (a reused key, a missing secret), if any."""
        return next((g for g in self.standing if g.override is None), None)

    @property
    def needs(self) -> tuple[Override, ...]:
        """The overrides the operator has yet to offer for this to run, in the order to ask."""
        return tuple(dict.fromkeys(g.override for g in self.standing if g.override))

    @property
    def would(self) -> str:
        """What a dry-run says this decision comes to."""
        if self.already_done:
            return "would report the earlier outcome (already done under this key)"
        if self.refused and self.guard is not None:
            return f"would be refused: {self.guard.reason}"
        return "would run"

    @property
    def journaled(self) -> bool:
        """A refusal that gets its own journal line: someone tried to ship during a freeze."""
        return self.refused and self.guard is not None and self.guard.name == "freeze"


class Planned(Protocol):
    """What the guards read of a plan (console.actions.plan.Plan)."""

    action: str
    kind: str
    key: str
    base: str
    ships_change: bool
    verify: str | None
    missing_secrets: list[str]
    confirm: str
    target: str


def decide(
    plan: Planned,
    state: SiteState | None,
    previous: Entry | None,
    *,
    confirmed: bool,
    break_glass: bool = False,
    retry: bool = False,
    freeze_policy: str = "allow",
) -> Decision:
    """The one decision: run, refused by a guard (and why), or already done under this key.

    `state`: the freeze/read-only state (None: not checked); `previous`: the run under this key
    that decides what it may do (keys.previous_run); `break_glass`/`retry`: the overrides the
    operator offers; `freeze_policy`: site.freeze_unknown. A refusal by `secrets` means a secret
    was missing when the plan looked; run_action resolves it then, which raises the SecretError
    that names where to put it (exit 2).
    """
    reused = _reused(plan, previous)
    guards = _guards(plan, state, previous, freeze_policy, reused)
    offered = {"break_glass": break_glass, "retry": retry}
    standing = tuple(g for g in guards if g.blocking and not (g.override and offered[g.override]))

    def refuse(g: Guard, reason: str | None = None) -> Decision:
        return Decision("refused", guards, g, reason or g.refusal or g.reason, standing)

    def first(name: str, override: Override | None) -> Guard | None:
        return next((g for g in standing if g.name == name and g.override == override), None)

    if reused is not None:
        return refuse(reused)
    if previous is not None and previous.status == "done":
        return Decision("already_done", guards, previous=previous)
    for g in (first("freeze", "break_glass"), first("idempotency", "retry")):
        if g is not None:
            return refuse(g)
    if not confirmed:
        return refuse(next(g for g in guards if g.name == "confirm"), NOT_CONFIRMED)
    missing = first("secrets", None)
    if missing is not None:
        return refuse(missing)
    return Decision("run", guards)


def frozen_for(state: SiteState | None, policy: str) -> str | None:
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


def _reused(plan: Planned, prev: Entry | None) -> Guard | None:
    """A key already used for another action, other parameters or another target."""
    if prev is None or not prev.base or prev.base == plan.base:
        return None
    text = (
        f"key {plan.key} was used for {prev.action} with other parameters or another target "
        f"({prev.status} {prev.started_at}); one key names one change: use a new --key"
    )
    return Guard("idempotency", True, text)


def _guards(
    plan: Planned,
    state: SiteState | None,
    prev: Entry | None,
    policy: str,
    reused: Guard | None,
) -> list[Guard]:
    """Every guard, in the order the plan lists them."""
    guards: list[Guard] = []
    frozen = frozen_for(state, policy)
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
                refusal=f"{frozen} and {plan.action} ships change; "
                "to override, break glass with a written reason",
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
    if reused is not None:
        guards.append(reused)
    elif prev is not None:
        guards.append(_idempotency(plan, prev))
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


def _idempotency(plan: Planned, prev: Entry) -> Guard:
    when = f"{prev.finished_at or prev.started_at} by {prev.who}"
    if prev.status == "done":
        return Guard(
            "idempotency",
            False,
            f"already done under this key ({when}): running again reports that outcome",
        )
    if prev.status == "running":
        return Guard(
            "idempotency",
            False,
            f"running now under this key ({when}): a run waits for it and reports its outcome",
        )
    what = (
        "was interrupted"
        if prev.status == "interrupted"
        else ("timed out" if prev.timed_out else "failed")
    )
    return Guard(
        "idempotency",
        True,
        f"the last run under this key {what} ({when}): check the target before retrying",
        override="retry",
        refusal=f"the last run under key {plan.key} {what} ({prev.started_at} by {prev.who}): "
        "check the target before retrying, then run again with --retry (or a new --key)",
    )


# ---------------------------------------------------------------- break glass


def break_glass_problem(reason: str) -> str | None:
    """Why a break-glass reason will not do (None: it will)."""
    return reason_problem(reason, "why the freeze must be broken")


def reason_problem(reason: str, saying: str) -> str | None:
    """Why a written reason (break glass, a new key) will not do (None: it will)."""
    why = bad_characters(reason.replace("\n", " "))
    if why:
        return f"the reason {why}"
    if len(" ".join(reason.split())) < MIN_BREAK_GLASS:
        return f"give at least {MIN_BREAK_GLASS} characters saying {saying}"
    return None


_REASONS = {
    "break-glass": (
        "why the freeze must be broken",
        'e.g. --break-glass "kill switch for the 5xx storm, approved by the IC"',
    ),
    "new-key": (
        "why it must run again",
        'e.g. --new-key "index went stale again after the 09:20 rebuild"',
    ),
}


def check_reason(reason: str, what: str) -> str:
    """The reason as it is recorded (one line, redacted); ActionError (exit 2) if it will not do."""
    saying, example = _REASONS[what]
    problem = reason_problem(reason, saying)
    if problem:
        raise ActionError(
            f"a {what} reason is a sentence for the postmortem",
            [Problem(None, what, problem, None, example)],
        )
    return redact(" ".join(reason.split()))


def check_break_glass(reason: str | None) -> str | None:
    """The reason as it is recorded (one line, redacted); ActionError (exit 2) if it will not do."""
    return None if reason is None else check_reason(reason, "break-glass")
