"""Routes for a text, or the honest answer that none matched.

Below `MATCH_FLOOR` the router's best is noise (gibberish scores ~0.02, a real symptom 0.2 and
up: measured on every eval set in tests/data/router_*.yaml), so nothing is ranked: the answer
says "no route matches" and offers the closest symptoms to try instead, or the seed's quick
routes when nothing at all is near.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MATCH_FLOOR = 0.12
"""A route scoring below this (or matching only by spelling) did not match."""
_NOT_A_MATCH = ("nothing matched", "similar spelling only")


@dataclass(frozen=True)
class Ranking:
    """What the text matched: the ranked routes (empty when none did) and, then, what to try."""

    query: str
    results: list[Any] = field(default_factory=list)
    """RouteResult, best first; only routes at or above the floor."""
    suggestions: list[str] = field(default_factory=list)
    """When nothing matched: symptoms to try."""

    @property
    def matched(self) -> bool:
        return bool(self.results)

    def nothing_text(self) -> str:
        """'no route matches — try "…", "…"' (one line)."""
        tries = ", ".join(f'"{s}"' for s in self.suggestions[:3])
        return "no route matches" + (f" \u2014 try {tries}" if tries else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "matched": self.matched,
            "results": [r.__dict__ for r in self.results],
            "suggestions": self.suggestions,
        }


def is_match(result: Any) -> bool:
    return result.score >= MATCH_FLOOR and result.why not in _NOT_A_MATCH


def rank_text(router: Any, query: str, top: int = 5) -> Ranking:
    """The routes for `query` at or above the floor; none, with suggestions, when none is."""
    if not query or not query.strip():
        return Ranking(query or "")
    results = [r for r in router.route(query, top) if is_match(r)]
    if results:
        return Ranking(query, results)
    return Ranking(query, [], suggestions(router, query))


def suggestions(router: Any, query: str = "", n: int = 3) -> list[str]:
    """The closest symptoms to the query, else a symptom of each of the seed's first quick routes."""
    near = router.closest_symptoms(query, n) if query.strip() else []
    if near:
        return near
    from console.playbooks import QUICK_ROUTES

    out: list[str] = []
    for _, pid in QUICK_ROUTES:
        first = router.first_symptom(pid)
        if first and len(out) < n:
            out.append(first)
    return out
