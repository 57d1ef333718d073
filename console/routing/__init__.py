"""Routing: the engineer's words (or an alert, or a pasted error) -> ranked playbooks, each
with why it matched, or the honest answer that none did. The router is built from the catalogue
and cached in the data dir.
"""

from console.routing.cache import (
    build_router,
    cached_router,
    get_router,
    route_query,
    save_router,
    warm,
)
from console.routing.examples import example_files, load_examples
from console.routing.ranking import MATCH_FLOOR, Ranking, is_match, rank_text, suggestions
from console.routing.router import Router, RouteResult

__all__ = [
    "MATCH_FLOOR",
    "Ranking",
    "RouteResult",
    "Router",
    "build_router",
    "cached_router",
    "example_files",
    "get_router",
    "is_match",
    "load_examples",
    "rank_text",
    "route_query",
    "save_router",
    "suggestions",
    "warm",
]
