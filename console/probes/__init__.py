"""Live probes: each site probe (a kind from the site config) measured against the service
now, with a verdict — pass, fail, inconclusive, or error when it could not measure.

All probes of a run share one HTTP client and a cap on requests in flight. httpx and numpy
load when a run starts, never at import.
"""

from console.probes.embed import BUILTIN_BANDS, SEED_BANDS, HashEmbedder, delta_s, zone
from console.probes.records import read_runs
from console.probes.result import STATUSES, ProbeResult, UnknownProbe
from console.probes.run import check_probes, run_probes, run_probes_sync, select

__all__ = [
    "BUILTIN_BANDS",
    "SEED_BANDS",
    "STATUSES",
    "HashEmbedder",
    "ProbeResult",
    "UnknownProbe",
    "check_probes",
    "delta_s",
    "read_runs",
    "run_probes",
    "run_probes_sync",
    "select",
    "zone",
]
