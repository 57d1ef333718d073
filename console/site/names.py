"""The conventional probe, query and action names playbooks refer to.

A site config defines probes and actions under these names (the demo's does); the walkthrough
uses the descriptions to say what a step will do before the site has configured it.
"""

from __future__ import annotations

PROBES: dict[str, str] = {
    "health": "GET the readiness endpoint; passes when the service is ready and its boot phase is 'ready'",
    "latency": "N requests to the retrieve endpoint; p50/p95/p99 against the site's latency budget",
    "rate_limit": "a burst of requests; the share answered 429 (with Retry-After) against 0.5 %",
    "warmup": "the first calls after a deploy; cold-start latency against the budget",
    "index": "live index hash and doc/chunk counts against the index manifest",
    "stability": "a gold question and 3 paraphrases: ΔS ≤ 0.45, coverage ≥ 0.70, λ convergent on 2 seeds",
    "idempotency": "replay one write N times with the same key; share with exactly one side effect ≥ 99.9 %",
    "pins": "deployed model / prompt / embedder / index versions against the pinned lock",
    "read_only": "in read-only mode, writes are refused with 423/503 and a Retry-After",
}

QUERIES: dict[str, str] = {
    "latency_percentiles": "p50/p95/p99 per time bucket over a window",
    "window_vs_baseline": "a metric's current window against its baseline window (drift and ratio)",
    "error_rates": "error, 5xx and 429 rates per time bucket",
    "quality_trend": "ΔS, coverage and λ flip-rate trends",
    "cache_hit_ratio": "cache hit ratio per time bucket",
    "what_changed": "every series whose recent window departs from its baseline, ranked, with when it began",
}

ACTIONS: dict[str, str] = {
    "rollback": "point the service back at the last known-good release",
    "freeze": "start a change freeze: only rollback, freeze and read-only may run",
    "unfreeze": "end the change freeze",
    "read_only": "put the service in read-only mode (writes refused with 423 + Retry-After)",
    "read_write": "end read-only mode",
    "flag": "set a feature flag or kill switch",
    "index_alias": "point the live index alias at another build",
    "cache_rotate": "bump the cache namespace so no stale entry is served",
    "cache_warm": "warm the cache with the popular queries and the gold set",
    "backpressure": "turn on admission control and load shedding: queue or shed instead of 429",
}

PROBE_KIND: dict[str, str] = {
    "health": "http",
    "latency": "latency",
    "rate_limit": "rate_limit",
    "warmup": "warmup",
    "index": "index",
    "stability": "stability",
    "idempotency": "idempotency",
    "pins": "pins",
    "read_only": "read_only",
}
"""Conventional probe name -> its kind: a site whose probe has another name is found by kind."""
