"""The walkthrough, headless: a playbook's steps, their saved status and last result, which
step can run on this site, and running one (probe, query, action, gate) to its verdict.

The console's walkthrough screen and `fixmap walk` / `fixmap step` are two faces of it.

Its names load with their module on first use: the console's first frame needs only the
progress store, not the steps that run (and what they import).
"""

from console.core.lazy import lazy_names

__getattr__ = lazy_names(
    __name__,
    {
        "steps": "steps",
        "STATUSES": "progress",
        "Progress": "progress",
        "ProgressStore": "progress",
        "RUNNABLE": "steps",
        "Missing": "steps",
        "StepResult": "steps",
        "missing": "steps",
        "not_runnable": "steps",
        "Next": "walk",
        "StepView": "walk",
        "Walkthrough": "walk",
    },
    submodules=("steps",),
)

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
