"""The demo service's /metrics, in the Prometheus text format: requests by path and status,
latency histograms, cache lookups, the simulated online evaluator's quality gauges, side
effects, read-only mode, the faults in force and what the levers did."""

from __future__ import annotations

from typing import Any

from console.demo.faults import FAULTS

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def metrics_text(st: Any, faults: set[str], evaluator: dict[str, float]) -> str:
    """The exposition of the service's state `st` (read under the service's lock)."""
    lines = [
        "# HELP demo_requests_total Requests answered, by path and status.",
        "# TYPE demo_requests_total counter",
    ]
    for (path, status), n in sorted(st.requests.items()):
        lines.append(f'demo_requests_total{{path="{path}",status="{status}"}} {n}')
    lines += [
        "# HELP demo_request_duration_seconds Request latency, by path.",
        "# TYPE demo_request_duration_seconds histogram",
    ]
    for path in sorted(st.latency_count):
        p = f'path="{path}"'
        for b in LATENCY_BUCKETS:
            n = st.buckets[(path, b)]
            lines.append(f'demo_request_duration_seconds_bucket{{{p},le="{b}"}} {n}')
        n = st.latency_count[path]
        lines.append(f'demo_request_duration_seconds_bucket{{{p},le="+Inf"}} {n}')
        lines.append(f"demo_request_duration_seconds_sum{{{p}}} {st.latency_sum[path]:.6f}")
        lines.append(f"demo_request_duration_seconds_count{{{p}}} {n}")
    lines += [
        "# HELP demo_cache_lookups_total Retrieve calls by cache result.",
        "# TYPE demo_cache_lookups_total counter",
        f'demo_cache_lookups_total{{result="hit"}} {st.cache_hits}',
        f'demo_cache_lookups_total{{result="miss"}} {st.cache_misses}',
        "# HELP demo_quality_delta_s ΔS of recent answers (the simulated online evaluator).",
        "# TYPE demo_quality_delta_s gauge",
        f"demo_quality_delta_s {evaluator['delta_s']}",
        "# HELP demo_quality_coverage Anchor coverage of recent answers (simulated evaluator).",
        "# TYPE demo_quality_coverage gauge",
        f"demo_quality_coverage {evaluator['coverage']}",
        "# HELP demo_quality_lambda_flip_rate Share of recent queries whose top-k changed "
        "with the seed (simulated evaluator).",
        "# TYPE demo_quality_lambda_flip_rate gauge",
        f"demo_quality_lambda_flip_rate {evaluator['lambda_flip_rate']}",
    ]
    lines += [
        "# HELP demo_cache_hits_total Retrieve calls answered from the cache.",
        "# TYPE demo_cache_hits_total counter",
        f"demo_cache_hits_total {st.cache_hits}",
        "# HELP demo_cache_misses_total Retrieve calls that missed the cache.",
        "# TYPE demo_cache_misses_total counter",
        f"demo_cache_misses_total {st.cache_misses}",
        "# HELP demo_side_effects_total Side effects caused by writes.",
        "# TYPE demo_side_effects_total counter",
        f"demo_side_effects_total {st.side_effects}",
        "# HELP demo_read_only 1 while writes are refused.",
        "# TYPE demo_read_only gauge",
        f"demo_read_only {int(st.read_only)}",
        "# HELP demo_fault_active 1 while a fault is switched on.",
        "# TYPE demo_fault_active gauge",
    ]
    lines += [f'demo_fault_active{{fault="{f}"}} {int(f in faults)}' for f in FAULTS]
    lines += [
        "# HELP demo_backpressure_queued_total Calls the admission queue held for a "
        "token instead of refusing them.",
        "# TYPE demo_backpressure_queued_total counter",
        f"demo_backpressure_queued_total {st.queued}",
        "# HELP demo_shadow_requests_total Retrieve calls mirrored to the shadow arm.",
        "# TYPE demo_shadow_requests_total counter",
        f"demo_shadow_requests_total {st.shadowed}",
    ]
    return "\n".join(lines) + "\n"
