"""The built-in gate sets: readiness, canary, hard_stop and recovery, as data.

Each set is a title, a description and its targets; each target names its source (a probe or a
named history query with its window), the measure it judges and the pass (and fail) condition,
with the seed's thresholds (fix-map-facts §1 and §6.5). A site changes a target or adds its own
in `[gates.SET.TARGET]` tables (console/site/gate_spec.py validates them); console/gates builds
the sets the run judges from these dicts and those tables.

Plain data on purpose: no pydantic here, so reading the built-in sets costs nothing at start-up.
"""

from __future__ import annotations

from typing import Any

TARGET_DEFAULTS: dict[str, Any] = {
    "params": {},
    "fail": None,
    "unit": "",
    "samples": "one",
    "count_measure": None,
    "min_samples": 1,
    "on_empty": "inconclusive",
    "failure_limit": 0,
    "inconclusive_limit": 0,
    "error_limit": 0,
    "bands": "fixed",
    "enabled": True,
    "dry_run": False,
    "note": "",
    "what": None,
    "interval": None,
    "count": 1,
    "consecutive_error_limit": 4,
    "max_age": None,
}
"""What a target is when neither the built-in set nor the site says otherwise."""


# the windows of the history queries: the last minutes judged against the day before
_CANARY_WINDOW = {"window": "15m", "baseline": "24h"}
_HARD_WINDOW = {"window": "10m", "baseline": "24h"}
_RECOVERY_WINDOW = {"window": "10m", "baseline": "24h"}

BUILTIN_SETS: dict[str, dict[str, Any]] = {
    "readiness": {
        "title": "Rollout readiness: the seed's acceptance targets, live",
        "description": "Pre-ship go/no-go from live probes: boot, version lock, index hash + "
        "counts, ΔS on 3 paraphrases, coverage, λ on 2 seeds, idempotency on a retry storm, "
        "P95 in budget (seed §4.1, hub acceptance targets).",
        "targets": {
            "boot": {
                "label": "Service ready: boot phase and readiness endpoint",
                "probe": "health",
                "measure": "verdict",
                "pass": "== 1",
                "note": "warm-up invariant boot_order_ok (seed §6.5)",
            },
            "version_lock": {
                "label": "Deployed model / prompt / embedder / index equal the pinned lock",
                "what": "pin mismatches",
                "probe": "pins",
                "measure": "pin_mismatches",
                "pass": "== 0",
                "unit": "count",
                "note": "warm-up invariant version_lock == strict (seed §6.5)",
            },
            "index": {
                "label": "Zero silent index mismatches (hash + counts)",
                "what": "index mismatches",
                "probe": "index",
                "measure": "index_mismatches",
                "pass": "== 0",
                "unit": "count",
                "note": "hub acceptance target; INDEX_HASH mismatch is a hard fail",
            },
            "delta_s": {
                "label": "ΔS(question, retrieved) on the gold question and 3 paraphrases",
                "what": "ΔS",
                "probe": "stability",
                "measure": "delta_s_per_query",
                "samples": "each",
                "min_samples": 3,
                "pass": "<= 0.45",
                "fail": "> 0.60",
                "bands": "embedder",
                "note": "≤ 0.45 on 3 paraphrases; 0.45-0.60 transitional; ≥ 0.60 high risk",
            },
            "coverage": {
                "label": "Coverage of the expected section's anchors, per paraphrase",
                "what": "coverage",
                "probe": "stability",
                "measure": "coverage_per_query",
                "samples": "each",
                "min_samples": 3,
                "pass": ">= 0.70",
                "fail": "< 0.60",
                "unit": "ratio",
                "note": "≥ 0.70 target; < 0.60 hard stop",
            },
            "lambda": {
                "label": "λ convergent: same top-k and order on 2 seeds",
                "what": "λ convergent",
                "probe": "stability",
                "measure": "lambda_convergent",
                "pass": "== 1",
                "unit": "bool",
                "note": "λ remains convergent on 2 seeds",
            },
            "idempotency": {
                "label": "Idempotency on a retry storm: exactly one side effect per key",
                "what": "exactly-once share",
                "probe": "idempotency",
                "measure": "exactly_once_share",
                "count_measure": "keys",
                "pass": ">= 0.999",
                "unit": "%",
                "note": "hub: ≥ 99.9 % on retry storms (the idempotency page: 0 duplicates)",
            },
            "p95": {
                "label": "P95 latency within the service's budget",
                "what": "p95",
                "probe": "latency",
                "measure": "p95_ms",
                "count_measure": "answered",
                "min_samples": 5,
                "pass": "<= $budget_ms",
                "unit": "ms",
                "note": "P95 latency stays in budget",
            },
            "warmup": {
                "label": "Cache warm after the deploy (advisory: feeds the ship checklist)",
                "probe": "warmup",
                "measure": "verdict",
                "pass": "== 1",
                "dry_run": True,
                "note": "ship checklist: warm up safely",
            },
        },
    },
    "canary": {
        "title": "Canary graduation: the window against its baseline",
        "description": "Graduate only when the last 15 min hold against the 24 h before: ΔS "
        "median drift ≤ 0.03 and p95 drift ≤ 0.10, coverage ≥ 0.70, λ flip rate ≤ 0.20, "
        "p95 ≤ baseline + 15 %, error rate ≤ 0.5 % (seed §4.2 canary audit, §6.5).",
        "targets": {
            "ds_median_drift": {
                "label": "ΔS median drift against the baseline window",
                "what": "ΔS median drift",
                "query": "window_vs_baseline",
                "params": {"metric": "delta_s", **_CANARY_WINDOW},
                "measure": "p50_delta",
                "min_samples": 10,
                "pass": "<= 0.03",
            },
            "ds_p95_drift": {
                "label": "ΔS p95 drift against the baseline window",
                "what": "ΔS p95 drift",
                "query": "window_vs_baseline",
                "params": {"metric": "delta_s", **_CANARY_WINDOW},
                "measure": "p95_delta",
                "min_samples": 10,
                "pass": "<= 0.10",
            },
            "coverage": {
                "label": "Coverage (window mean)",
                "what": "coverage",
                "query": "quality_trend",
                "params": {"metric": "coverage", **_CANARY_WINDOW},
                "measure": "coverage",
                "min_samples": 10,
                "pass": ">= 0.70",
                "unit": "ratio",
            },
            "lambda_flip_rate": {
                "label": "λ flip rate (window mean)",
                "what": "λ flip rate",
                "query": "quality_trend",
                "params": {"metric": "lambda_flip_rate", **_CANARY_WINDOW},
                "measure": "lambda_flip_rate",
                "min_samples": 10,
                "pass": "<= 0.20",
                "unit": "ratio",
            },
            "p95_uplift": {
                "label": "P95 latency against the baseline (uplift)",
                "what": "p95 uplift",
                "query": "window_vs_baseline",
                "params": {"metric": "latency_ms", **_CANARY_WINDOW},
                "measure": "p95_uplift",
                "min_samples": 10,
                "pass": "<= 0.15",
                "unit": "%",
            },
            "error_rate": {
                "label": "Error rate (window mean)",
                "what": "error rate",
                "query": "error_rates",
                "params": dict(_CANARY_WINDOW),
                "measure": "error_rate",
                "min_samples": 10,
                "pass": "<= 0.005",
                "unit": "%",
            },
        },
    },
    "hard_stop": {
        "title": "Hard stop: roll back now if any of these fires",
        "description": "Abort rules over the last 10 min: ΔS p95 drift > 0.15, coverage < 0.60, "
        "λ flip rate > 0.20, 5xx > 1 %, error rate > 1 %, 429 > 2 %, p99 > 2× baseline "
        "(seed §4.2, §4.11, §6.5). go = nothing fired.",
        "targets": {
            "ds_p95_drift": {
                "label": "ΔS p95 drift against the baseline window",
                "what": "ΔS p95 drift",
                "query": "window_vs_baseline",
                "params": {"metric": "delta_s", **_HARD_WINDOW},
                "measure": "p95_delta",
                "min_samples": 5,
                "pass": "<= 0.15",
            },
            "coverage": {
                "label": "Coverage (window mean)",
                "what": "coverage",
                "query": "quality_trend",
                "params": {"metric": "coverage", **_HARD_WINDOW},
                "measure": "coverage",
                "min_samples": 5,
                "pass": ">= 0.60",
                "unit": "ratio",
            },
            "lambda_flip_rate": {
                "label": "λ flip rate (window mean)",
                "what": "λ flip rate",
                "query": "quality_trend",
                "params": {"metric": "lambda_flip_rate", **_HARD_WINDOW},
                "measure": "lambda_flip_rate",
                "min_samples": 5,
                "pass": "<= 0.20",
                "unit": "ratio",
            },
            "rate_5xx": {
                "label": "5xx rate (window mean)",
                "what": "5xx rate",
                "query": "error_rates",
                "params": dict(_HARD_WINDOW),
                "measure": "rate_5xx",
                "min_samples": 5,
                "pass": "<= 0.01",
                "unit": "%",
            },
            "error_rate": {
                "label": "Error rate (window mean)",
                "what": "error rate",
                "query": "error_rates",
                "params": dict(_HARD_WINDOW),
                "measure": "error_rate",
                "min_samples": 5,
                "pass": "<= 0.01",
                "unit": "%",
            },
            "rate_429": {
                "label": "429 rate (window mean)",
                "what": "429 rate",
                "query": "error_rates",
                "params": dict(_HARD_WINDOW),
                "measure": "rate_429",
                "min_samples": 5,
                "pass": "<= 0.02",
                "unit": "%",
            },
            "p99_ratio": {
                "label": "P99 latency against the baseline (ratio)",
                "what": "p99 ratio",
                "query": "window_vs_baseline",
                "params": {"metric": "latency_ms", **_HARD_WINDOW},
                "measure": "p99_ratio",
                "min_samples": 5,
                "pass": "<= 2.0",
                "unit": "x",
            },
        },
    },
    "recovery": {
        "title": "Recovery exit: is it safe to unfreeze after the rollback?",
        "description": "Error rate < 0.5 % over 10 min, p95 ≤ baseline + 15 % (history) and in "
        "budget (live), zero duplicate side effects, ΔS and coverage back at the baseline, the "
        "index and pins back at the manifest (seed §4.11 exit targets, post-rollback audit). "
        "History windows count from the last change fixmap made: clean since it but for less "
        "than the window is not yet a pass.",
        "after_change": True,
        "targets": {
            "error_rate": {
                "label": "User-visible error rate over the last 10 min",
                "what": "error rate",
                "query": "error_rates",
                "params": dict(_RECOVERY_WINDOW),
                "measure": "error_rate",
                "min_samples": 5,
                "pass": "< 0.005",
                "unit": "%",
            },
            "p95_uplift": {
                "label": "P95 latency against the baseline (uplift)",
                "what": "p95 uplift",
                "query": "window_vs_baseline",
                "params": {"metric": "latency_ms", **_RECOVERY_WINDOW},
                "measure": "p95_uplift",
                "min_samples": 5,
                "pass": "<= 0.15",
                "unit": "%",
            },
            "p95_live": {
                "label": "P95 latency measured now, within the budget",
                "what": "p95",
                "probe": "latency",
                "measure": "p95_ms",
                "count_measure": "answered",
                "min_samples": 5,
                "pass": "<= $budget_ms",
                "unit": "ms",
            },
            "duplicates": {
                "label": "Duplicate side effects on replayed writes",
                "what": "duplicate side effects",
                "probe": "idempotency",
                "measure": "duplicate_effects",
                "pass": "== 0",
                "unit": "count",
            },
            "ds_drift": {
                "label": "ΔS back at the baseline (window mean − baseline mean)",
                "what": "ΔS drift",
                "query": "window_vs_baseline",
                "params": {"metric": "delta_s", **_RECOVERY_WINDOW},
                "measure": "mean_delta",
                "min_samples": 5,
                "pass": "<= 0.03",
            },
            "coverage_drift": {
                "label": "Coverage back at the baseline (window mean − baseline mean)",
                "what": "coverage drift",
                "query": "window_vs_baseline",
                "params": {"metric": "coverage", **_RECOVERY_WINDOW},
                "measure": "mean_delta",
                "min_samples": 5,
                "pass": ">= -0.05",
            },
            "index": {
                "label": "Live index back at the manifest (hash + counts)",
                "what": "index mismatches",
                "probe": "index",
                "measure": "index_mismatches",
                "pass": "== 0",
                "unit": "count",
            },
            "version_lock": {
                "label": "Pins back at the lock",
                "what": "pin mismatches",
                "probe": "pins",
                "measure": "pin_mismatches",
                "pass": "== 0",
                "unit": "count",
            },
        },
    },
}
"""The seed's gate sets. Thresholds from fix-map-facts §1 and §6.5; sites override per target."""


def builtin_target(set_name: str, target: str) -> dict[str, Any] | None:
    """A built-in target as shipped (None: no such set or target)."""
    s = BUILTIN_SETS.get(set_name)
    return None if s is None else s["targets"].get(target)
