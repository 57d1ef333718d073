"""The actions screen's list: every configured action with how it last went on this machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.actions import journal
from console.actions.journal import Entry


@dataclass
class ActionSummary:
    """One configured action for the actions screen: what it is and how it last went."""

    name: str
    kind: str
    description: str
    destructive: bool
    ships_change: bool
    params: dict[str, dict[str, Any]]
    last: Entry | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "destructive": self.destructive,
            "ships_change": self.ships_change,
            "params": self.params,
            "last": self.last.to_json() if self.last else None,
        }


def action_summaries(site: Any) -> list[ActionSummary]:
    """Every configured action with its last journaled run or refusal (for the actions screen)."""
    last: dict[str, Entry] = {}
    for e in journal.entries():
        last[e.action] = e
    out: list[ActionSummary] = []
    for name, spec in site.config.actions.items():
        out.append(
            ActionSummary(
                name=name,
                kind=spec.kind,
                description=spec.description,
                destructive=spec.destructive,
                ships_change=spec.effective_ships_change,
                params={k: p.model_dump(exclude_none=True) for k, p in spec.params.items()},
                last=last.get(name),
            )
        )
    return out
