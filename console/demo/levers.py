"""The demo's levers: what an engineer can pull to mitigate a fault, and what each one changes.

Every lever is an admin endpoint the demo's site config names as an action, and each one really
changes what the service does (console/demo/service.py applies them):

  index alias  `docs_live` points at one of two builds: `docs_vA` (the build the release's
               manifest declares) or `docs_vB` (a rebuild from a stale snapshot). The stale-index
               fault is `docs_live -> docs_vB`; `POST /admin/alias {"alias": "docs_live",
               "to": "docs_vA"}` points it back, and the answers come from docs_vA again.
  flags        by name and value (`POST /admin/flag {"name": ..., "value": ...}`):
               backpressure  on: a call the upstream would refuse (the rate-limit fault's 429)
                             waits in the admission queue for a token (BACKPRESSURE_WAIT_S)
                             and is answered, instead of bouncing back as a 429
               answer_cache  off: every retrieve skips the cache (a miss)
               rerank        off: answers skip the reranker stage (RERANK_S faster, unreranked)
               canary        the share of traffic on the canary arm (0..1; recorded, shown)
               shadow_mirror on: every retrieve is mirrored to the shadow arm (counted)
  cache warm   `POST /admin/cache/warm` fills the cache with the popular queries and the gold
               set and warms the slow path: it ends the cold-cache fault's slow first calls
  cache rotate `POST /admin/cache/rotate` starts a new namespace: nothing stale is served, and
               the new namespace is cold (the cold-cache fault) until it is warmed

Plain values and decisions, no state: the service holds the state behind its lock.
"""

from __future__ import annotations

from typing import Any

from console.demo import corpus
from console.demo.faults import DemoError

LIVE_ALIAS = "docs_live"
GOOD_BUILD = "docs_vA"
STALE_BUILD = "docs_vB"
BUILDS: dict[str, dict[str, Any]] = {
    GOOD_BUILD: {"build_id": "build-2024-11-02", "snippets": corpus.CURRENT, "stale": False},
    STALE_BUILD: {"build_id": "build-2024-11-09", "snippets": corpus.PREVIOUS, "stale": True},
}
"""The two builds an alias can point at: docs_vB was rebuilt from the 2024-10-19 snapshot, so
its hash and counts disagree with the manifest and it cites old wording."""

FLAGS: dict[str, Any] = {
    "rerank": True,
    "answer_cache": True,
    "backpressure": False,
    "canary": 0.0,
    "shadow_mirror": False,
}
"""The demo's flags and their values at start."""

BACKPRESSURE_WAIT_S = 0.05
"""How long a call waits in the admission queue for a token under backpressure."""
RERANK_S = 0.002
"""What the reranker stage costs a retrieve."""


def check_alias(alias: Any, build: Any) -> tuple[str, str]:
    """(alias, build) when both exist; else a DemoError naming what does."""
    if alias != LIVE_ALIAS:
        raise DemoError(f"no index alias {alias!r}; aliases: {LIVE_ALIAS}")
    if build not in BUILDS:
        raise DemoError(f"no build {build!r}; builds: {', '.join(BUILDS)}")
    return alias, build


def flag_value(name: Any, raw: Any) -> Any:
    """The typed value of one flag ('on'/'off' for a switch, a share 0..1 for canary), or a
    DemoError saying what the flag takes."""
    if name not in FLAGS:
        raise DemoError(f"no flag {name!r}; flags: {', '.join(FLAGS)}")
    text = str(raw).strip().lower() if not isinstance(raw, bool) else ""
    if isinstance(FLAGS[name], bool):
        if isinstance(raw, bool):
            return raw
        if text in ("1", "true", "on", "yes"):
            return True
        if text in ("0", "false", "off", "no"):
            return False
        raise DemoError(f"flag {name} is on or off, not {raw!r}")
    if text in ("off", "false"):
        return 0.0
    if text in ("on", "true"):
        return 1.0
    try:
        share = float(raw)
    except (TypeError, ValueError):
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise DemoError(f"flag {name} is a share between 0 and 1, not {raw!r}")
    return share
