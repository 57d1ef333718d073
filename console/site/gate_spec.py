"""Site-config models for gates (the `[gates.SET.TARGET]` tables) and the built-in gate sets.

Pydantic only: no httpx, duckdb or numpy here (console/config_models.py imports this module).

A gate set is a list of targets; a target judges one measure from one source:

    [gates.readiness.p95]            # change one threshold of a built-in target
    pass = "<= 900"                  # a number, or $name: another value the same source reports

    [gates.readiness.idempotency]
    enabled = false                  # this site has no write path to replay

    [gates.canary.error_rate]
    params = { window = "30m" }      # named-query parameters are merged with the built-in ones

    [gates.readiness.citations]      # a new target: source, measure and pass are required
    label = "answers whose citations fail the schema"
    sql = "SELECT count(*) AS bad FROM events WHERE kind = 'citation_violation' AND ts > now() - INTERVAL 1 HOUR"
    measure = "bad"
    pass = "== 0"

    [gates.nightly.p95]              # a new set: every target in it is new
    query = "latency_percentiles"
    params = { window = "6h", bucket = "none" }
    measure = "p95_ms"
    pass = "<= 1500"

Between the pass and the fail condition a target is inconclusive; with no fail condition, anything
that does not pass fails. An empty or NaN result is `on_empty` (inconclusive unless a site says
otherwise): never a silent pass.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from console.core import conditions
from console.site.names import QUERIES

OnEmpty = Literal["inconclusive", "pass", "fail"]
Samples = Literal["one", "each"]
Bands = Literal["fixed", "embedder"]
Unit = Literal["", "ms", "%", "ratio", "x", "count", "bool"]

NAME = r"^[a-z][a-z0-9_]*$"


class GateTarget(BaseModel):
    """One target of a gate set. In a site config every field is optional when it overrides a
    built-in target; a new target needs a source (probe, query or sql), a measure and pass."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    label: str | None = None
    """What is judged, as an engineer says it: 'P95 latency within the service's budget'."""
    what: str | None = None
    """The short noun used in reasons ('p95', 'ΔS', 'error rate'); default: the target name."""
    probe: str | None = None
    """Source: a probe of the site config (by name); the gate run runs each probe once."""
    query: str | None = None
    """Source: a named history query (window_vs_baseline, error_rates, quality_trend, ...)."""
    sql: str | None = None
    """Source: read-only SQL over the metric history; each row is a sample."""
    params: dict[str, str | int | float | bool] | None = None
    """Parameters of the named query (window, baseline, metric, bucket, service...)."""
    measure: str | None = Field(default=None, pattern=NAME)
    """The value judged: a measure the probe or query reports (p95_ms, index_mismatches,
    p95_uplift...), a column for SQL or per-row judging, or 'verdict' (the probe's own verdict)."""
    pass_: str | None = Field(default=None, alias="pass")
    """Condition that passes, e.g. '<= 0.45' or '<= $budget_ms'."""
    fail: str | None = None
    """Condition that fails outright; between pass and fail is inconclusive. None: not pass = fail."""
    unit: Unit | None = None
    """How values are shown: ms, % (a share 0-1 shown as percent), ratio, x, count, bool."""
    samples: Samples | None = None
    """one: the measure is one value; each: judge every item (per query, per row, per bucket)."""
    count_measure: str | None = Field(default=None, pattern=NAME)
    """A value of the source that says how many samples the measure stands on (e.g. 'answered')."""
    min_samples: int | None = Field(default=None, ge=0)
    """Fewer samples than this is 'empty': judged by on_empty."""
    on_empty: OnEmpty | None = None
    """What no data (or NaN) means: inconclusive (default), pass or fail."""
    failure_limit: int | None = Field(default=None, ge=-1)
    """Failed samples tolerated before the target fails (default 0; -1: no limit)."""
    inconclusive_limit: int | None = Field(default=None, ge=-1)
    """Inconclusive or NaN samples tolerated before the target is inconclusive (default 0)."""
    error_limit: int | None = Field(default=None, ge=-1)
    """Samples that are not numbers tolerated before the target is an error (default 0)."""
    bands: Bands | None = None
    """ΔS only: 'embedder' judges ΔS from the built-in lexical embedder in that embedder's own
    bands (the seed's 0.45 is set for sentence embedders); 'fixed' always uses pass/fail."""
    enabled: bool | None = None
    """False: the target is not run."""
    dry_run: bool | None = None
    """True: measured and shown, never decides the verdict (trial a new target safely)."""
    note: str | None = None
    """Where the number comes from."""

    @field_validator("pass_", "fail")
    @classmethod
    def _condition(cls, v: str | None) -> str | None:
        if v is not None:
            conditions.parse(v)
        return v

    @field_validator("query")
    @classmethod
    def _known_query(cls, v: str | None) -> str | None:
        if v is not None and v not in QUERIES:
            from console.core import closest

            guess = closest(v, QUERIES)
            hint = f"did you mean '{guess}'?" if guess else "known: " + ", ".join(QUERIES)
            raise ValueError(f"'{v}' is not a named query ({hint})")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> GateTarget:
        given = [k for k in ("probe", "query", "sql") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"a target has one source: give one of probe, query or sql, not {given}"
            )
        if self.params and self.probe:
            raise ValueError("'params' go with a named query, not a probe")
        if self.sql is not None and not self.sql.strip():
            raise ValueError("sql is empty")
        return self

    def given(self) -> dict[str, Any]:
        """The fields this table sets (by their config names)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


def _check_gates(gates: dict[str, dict[str, GateTarget]]) -> dict[str, dict[str, GateTarget]]:
    """Overrides must name a built-in target; a new target must be complete."""
    from console.core import closest

    problems: list[str] = []
    for set_name, targets in gates.items():
        if not re.match(NAME, set_name):
            problems.append(f"gates.{set_name}: a set name is lower-case letters, digits and _")
            continue
        builtin = BUILTIN_SETS.get(set_name, {}).get("targets", {})
        if not targets:
            problems.append(f"gates.{set_name}: the set has no targets")
        for name, target in targets.items():
            where = f"gates.{set_name}.{name}"
            if not re.match(NAME, name):
                problems.append(f"{where}: a target name is lower-case letters, digits and _")
                continue
            if name in builtin:
                continue
            missing = [
                field
                for field, present in (
                    ("a source (probe, query or sql)", target.probe or target.query or target.sql),
                    ("measure", target.measure),
                    ("pass", target.pass_),
                )
                if not present
            ]
            if missing:
                guess = closest(name, builtin) if builtin else None
                if guess:
                    problems.append(
                        f"{where}: '{name}' is not a target of the built-in set {set_name} "
                        f"(did you mean '{guess}'?)"
                    )
                else:
                    problems.append(f"{where}: a new target needs {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems))
    return gates


GatesSpec = Annotated[dict[str, dict[str, GateTarget]], AfterValidator(_check_gates)]
"""[gates.SET.TARGET] tables: SET is a built-in set (readiness, canary, hard_stop, recovery) or a
new one; TARGET a built-in target to override or a new one."""


# ------------------------------------------------------------------ the built-in sets

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
}


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
        "index and pins back at the manifest (seed §4.11 exit targets, post-rollback audit).",
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
    s = BUILTIN_SETS.get(set_name)
    return None if s is None else s["targets"].get(target)
