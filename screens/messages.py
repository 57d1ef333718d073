"""Typed messages between the workers and the screens that share them.

Workers never touch widgets: they post one of these, and the app (or a screen) handles it.
A screen's own messages (a probe finished, a query done) live with that screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from console.walkthrough import StepResult


class RouterReady(Message):
    """The router is read from its warm cache (None: the cache was cold; posted from a thread
    worker, before the playbooks are parsed)."""

    def __init__(self, router: Any) -> None:
        super().__init__()
        self.router = router


class CatalogReady(Message):
    """Playbooks and the router finished loading (posted from a thread worker)."""

    def __init__(self, catalog: Any, router: Any) -> None:
        super().__init__()
        self.catalog = catalog
        self.router = router


class SiteStateChanged(Message):
    """Freeze / read-only state, interrupted journal entries and the open incident, as last polled."""

    def __init__(self, state: Any, interrupted: int, incident: Any) -> None:
        super().__init__()
        self.state = state
        self.interrupted = interrupted
        self.incident = incident


class StepOutcome(Message):
    """A step finished running (or was not run): the engine's StepResult."""

    def __init__(self, result: StepResult) -> None:
        super().__init__()
        self.result = result
        self.playbook_id = result.playbook
        self.step_id = result.step


class StepProgress(Message):
    """Output so far of a step that is still running (an action's last lines)."""

    def __init__(self, step_id: str, lines: list[str], playbook_id: str = "") -> None:
        super().__init__()
        self.playbook_id = playbook_id
        self.step_id = step_id
        self.lines = lines
