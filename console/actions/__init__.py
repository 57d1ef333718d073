"""Actions that change production: plan (the dry-run), guards, confirmation, one run per
idempotency key, the journal written before and after, the live freeze/read-only state.
"""

from console.actions import journal
from console.actions.execute import (
    ActionError,
    ActionSummary,
    Guard,
    Outcome,
    Plan,
    action_summaries,
    plan_action,
    run_action,
)
from console.actions.journal import Entry, describe, read_journal
from console.actions.state import SiteState, site_state

__all__ = [
    "ActionError",
    "ActionSummary",
    "Entry",
    "Guard",
    "Outcome",
    "Plan",
    "SiteState",
    "action_summaries",
    "describe",
    "journal",
    "plan_action",
    "read_journal",
    "run_action",
    "site_state",
]
