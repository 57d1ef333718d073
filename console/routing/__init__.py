"""Routing: the engineer's words (or an alert, or a pasted error) -> ranked playbooks, each
with why it matched. The router is built from the catalogue and cached in the data dir.
"""

from console.routing.cache import cached_router, get_router, route_query, save_router, warm
from console.routing.router import Router, RouteResult

__all__ = [
    "RouteResult",
    "Router",
    "cached_router",
    "get_router",
    "route_query",
    "save_router",
    "warm",
]
