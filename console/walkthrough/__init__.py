"""The walkthrough, headless: a playbook's steps, their saved status and last result, which
step can run on this site, and running one (probe, query, action, gate) to its verdict.

The console's walkthrough screen and `fixmap walk` / `fixmap step` are two faces of it.
"""

from console.walkthrough import steps
from console.walkthrough.progress import STATUSES, Progress, ProgressStore
from console.walkthrough.steps import RUNNABLE, Missing, StepResult, missing, not_runnable
from console.walkthrough.walk import Next, StepView, Walkthrough

__all__ = [
    "RUNNABLE",
    "STATUSES",
    "Missing",
    "Next",
    "Progress",
    "ProgressStore",
    "StepResult",
    "StepView",
    "Walkthrough",
    "missing",
    "not_runnable",
    "steps",
]
