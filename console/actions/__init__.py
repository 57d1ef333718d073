"""Actions that change production: plan (the dry-run), guards, confirmation, one run per
idempotency key, the journal written before and after, the live freeze/read-only state.

The public API (sync and thread-safe; the console calls it from a thread worker):

- `plan_action(site, name, params, key=None, incident=None) -> Plan`: validates the parameters,
  renders the exact argv or HTTP request (secrets masked), derives the idempotency key and lists
  the guards. Changes nothing anywhere: this is the dry-run. Bad input raises ActionError
  (exit 2) naming what is wrong and the closest valid name. `plan.decide(confirmed=...,
  break_glass=..., retry=...)` says what running it would come to, and what it still needs.
- `run_action(site, plan, confirmed, break_glass_reason=None, on_output=None, *, retry=False,
  cancel=None) -> Outcome`: decides again, takes the key's single-flight lock, reserves the
  outcome's space and writes the intent (fsynced) before the command starts (or refuses: the
  record must be keepable), runs it with its timeout (argv: under a detached supervisor that
  journals the outcome itself), then re-checks what it was for. Statuses: done, already_done,
  failed, refused, running (fixmap stopped following). A missing secret raises SecretError
  (exit 2) before anything is written.
- `site_state(site) -> SiteState`: frozen / read-only (unpacks as `frozen, read_only = ...`).
- `read_journal(limit=None) -> list[Entry]`: newest first, interrupted runs marked.
- `action_summaries(site) -> list[ActionSummary]`: every configured action with its last run.

Inside: inputs (what an action is handed), render (the one rendering of its command or request),
keys (idempotency keys: epochs after expiry and relapse), guards (the one decision), symptoms
(what an action is for), plan, runner (argv under its supervisor, HTTP, bounded), supervisor
(the detached process that owns an argv action's command and journals its outcome), runs (a
run's output file and reserved outcome), output (one output line, cleaned), result (the one
run-result shape), journal (the one record format) and locks (single flight), execute
(run_action), outcome, verify (the re-check), state, summaries.

A key that completed never runs again: a later run reports that first outcome (already_done). A
key whose last run was interrupted, failed or timed out is refused until the operator has
checked the target and passes `retry=True` (CLI: `--retry`). Freeze and read-only state: the live
answer of the `state` URL of a freeze/read_only action when one is configured and answers;
otherwise the last such action that completed in this machine's journal ("last known");
otherwise not frozen / read-write ("unknown"); which one was used is always shown.
"""

# Light on purpose: the supervisor (a process of its own per run) starts through this package
# and needs only the journal; the rest (guards, plans, the site's pydantic models) loads on use.
from console.actions import journal
from console.core.lazy import lazy_names

__getattr__ = lazy_names(
    __name__,
    {
        "ActionError": "errors",
        "run_action": "execute",
        "MIN_BREAK_GLASS": "guards",
        "Decision": "guards",
        "Guard": "guards",
        "break_glass_problem": "guards",
        "Entry": "journal",
        "describe": "journal",
        "read_journal": "journal",
        "Outcome": "outcome",
        "Plan": "plan",
        "plan_action": "plan",
        "RunResult": "result",
        "Verify": "result",
        "SiteState": "state",
        "site_state": "state",
        "ActionSummary": "summaries",
        "action_summaries": "summaries",
    },
)

__all__ = [
    "MIN_BREAK_GLASS",
    "ActionError",
    "ActionSummary",
    "Decision",
    "Entry",
    "Guard",
    "Outcome",
    "Plan",
    "RunResult",
    "SiteState",
    "Verify",
    "action_summaries",
    "break_glass_problem",
    "describe",
    "journal",
    "plan_action",
    "read_journal",
    "run_action",
    "site_state",
]
