"""Routing: the engineer's words (or an alert, or a pasted error) -> ranked playbooks, each
with why it matched, or the honest answer that none did. The router is built from the catalogue
and cached in the data dir.

Its names load with their module on first use: the console's first frame reads only the cached
titles (console.routing.cache), not the router.
"""

from console.core.lazy import lazy_names

__getattr__ = lazy_names(
    __name__,
    {
        "build_router": "cache",
        "cached_router": "cache",
        "cached_titles": "cache",
        "get_router": "cache",
        "route_query": "cache",
        "save_router": "cache",
        "warm": "cache",
        "example_files": "examples",
        "load_examples": "examples",
        "MATCH_FLOOR": "ranking",
        "Ranking": "ranking",
        "is_match": "ranking",
        "rank_text": "ranking",
        "suggestions": "ranking",
        "Router": "router",
        "RouteResult": "router",
    },
)

__all__ = [
    "MATCH_FLOOR",
    "Ranking",
    "RouteResult",
    "Router",
    "build_router",
    "cached_router",
    "cached_titles",
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
