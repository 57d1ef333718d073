"""The probe kinds: for each spec class of console/site/probe_spec.py, the function that runs it
and the measures (names in `ProbeResult.values`) it reports.

A gate target or a history query reads a probe's values by these names (`p95_ms`,
`index_mismatches`, `exactly_once_share`...), so they are declared here, in one table, and a
test holds every kind's code to its declaration. Each kind lives in its own module; a kind
function takes the run, its spec and its timeout in seconds and returns an Outcome (or raises
a Verdict).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_args

from console.probes.client import Run
from console.probes.kinds.command import probe_command
from console.probes.kinds.http import probe_http
from console.probes.kinds.idempotency import probe_idempotency
from console.probes.kinds.index import probe_index
from console.probes.kinds.latency import probe_latency
from console.probes.kinds.pins import probe_pins
from console.probes.kinds.rate_limit import probe_rate_limit
from console.probes.kinds.read_only import probe_read_only
from console.probes.kinds.stability import probe_stability
from console.probes.kinds.warmup import probe_warmup
from console.probes.result import Outcome
from console.site import (
    CommandProbe,
    HttpProbe,
    IdempotencyProbe,
    IndexProbe,
    LatencyProbe,
    PinsProbe,
    RateLimitProbe,
    ReadOnlyProbe,
    StabilityProbe,
    WarmupProbe,
)

ProbeFunction = Callable[[Run, Any, float], Awaitable[Outcome]]


@dataclass(frozen=True)
class Kind:
    """One probe kind: its spec class, the function that runs it, what it reports."""

    spec: type
    run: ProbeFunction
    measures: tuple[str, ...]
    """Every name the kind may put into `values`."""
    json_paths: bool = False
    """Also reports the value found at each JSON path (or metric) its spec checks, under it."""
    no_answer_fails: bool = False
    """Getting no answer (timed out, refused, reset) is the property this kind measures, so it
    is a fail; for every other kind it is an error: could not measure."""

    @property
    def name(self) -> str:
        return get_args(self.spec.model_fields["kind"].annotation)[0]


KINDS: dict[type, Kind] = {
    k.spec: k
    for k in (
        Kind(
            HttpProbe,
            probe_http,
            ("status_code", "latency_ms"),
            json_paths=True,
            no_answer_fails=True,
        ),
        Kind(
            LatencyProbe,
            probe_latency,
            (
                "requests",
                "answered",
                "statuses",
                "budget_ms",
                "error_rate",
                "p50_ms",
                "p95_ms",
                "p99_ms",
            ),
            no_answer_fails=True,
        ),
        Kind(
            RateLimitProbe,
            probe_rate_limit,
            (
                "requests",
                "answered",
                "unanswered",
                "count_429",
                "missing_retry_after",
                "error_rate_5xx",
                "share_429",
                "retry_after",
            ),
            no_answer_fails=True,
        ),
        Kind(
            WarmupProbe,
            probe_warmup,
            (
                "queries",
                "answered",
                "first_call_p95_ms",
                "first_call_max_ms",
                "budget_ms",
                "miss_share",
                "cache_hit_ratio",
                "repeat_p95_ms",
            ),
        ),
        Kind(
            IndexProbe,
            probe_index,
            (
                "manifest_hash",
                "manifest_docs",
                "manifest_chunks",
                "live_hash",
                "live_docs",
                "live_chunks",
                "served_hash",
                "served_expected",
                "served_checked",
                "served_mismatches",
                "index_mismatches",
            ),
        ),
        Kind(
            StabilityProbe,
            probe_stability,
            (
                "delta_s",
                "delta_s_per_query",
                "delta_s_zones",
                "delta_s_bands",
                "coverage",
                "coverage_per_query",
                "lambda_convergent",
                "lambda_flip_rate",
                "lambda_flips",
                "seeds",
                "embedder",
                "embedder_lexical",
                "lexical_fallback",
            ),
        ),
        Kind(
            IdempotencyProbe,
            probe_idempotency,
            (
                "keys",
                "replays",
                "statuses",
                "counter_delta",
                "duplicate_effects",
                "lost_effects",
                "exactly_once_share",
            ),
        ),
        Kind(PinsProbe, probe_pins, ("pin_mismatches", "deployed", "served", "lock")),
        Kind(ReadOnlyProbe, probe_read_only, ("mode", "read_only", "write_status", "retry_after")),
        Kind(CommandProbe, probe_command, ("exit_code", "output")),
    )
}


def kind_of(spec: Any) -> Kind:
    """The kind that runs this spec."""
    return KINDS[type(spec)]


def measures(kind: str) -> tuple[str, ...]:
    """The measures a probe kind (by its config name) reports; () for an unknown kind."""
    for k in KINDS.values():
        if k.name == kind:
            return k.measures
    return ()
