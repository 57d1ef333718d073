"""Live probes: each site probe (a kind from the site config) measured against the service
now, with a verdict — pass, fail, inconclusive, or error when it could not measure.

All probes of a run share one HTTP client and a cap on requests in flight. httpx and numpy
load when a run starts, never at import.
"""

from console.core.http import ssl_context
from console.core.lazy import lazy_names
from console.probes.embed import BUILTIN_BANDS, SEED_BANDS, HashEmbedder, delta_s, zone
from console.probes.records import read_runs
from console.probes.result import STATUSES, ProbeResult, UnknownProbe

# the kinds registry loads the probe models (pydantic): only when asked for
__getattr__ = lazy_names(
    __name__, {"KINDS": "kinds", "Kind": "kinds", "kind_of": "kinds", "measures": "kinds"}
)

from console.probes.run import check_probes, run_probes, run_probes_sync, select, timeouts

__all__ = [
    "BUILTIN_BANDS",
    "KINDS",
    "SEED_BANDS",
    "STATUSES",
    "HashEmbedder",
    "Kind",
    "ProbeResult",
    "UnknownProbe",
    "check_probes",
    "delta_s",
    "kind_of",
    "measures",
    "read_runs",
    "run_probes",
    "run_probes_sync",
    "select",
    "ssl_context",
    "timeouts",
    "zone",
]
