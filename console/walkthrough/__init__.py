"""The walkthrough, headless: a playbook's steps, their saved status and last result, which
step can run here, and running one (probe, query, action, gate, check) with its verdict.
"""

from console.walkthrough.progress import STATUSES, Progress, ProgressStore

__all__ = ["STATUSES", "Progress", "ProgressStore"]
