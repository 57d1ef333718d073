"""Site-config models for gates: the `[gates.SET.TARGET]` tables.

Pydantic only: no httpx, duckdb or numpy here (console/site/models.py imports this module). The
built-in sets these tables override are data in console/site/gate_sets.py.

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
from console.site.fields import Duration
from console.site.gate_sets import BUILTIN_SETS
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
    promql: str | None = None
    """Source: PromQL asked of a Prometheus-compatible API at decision time (an instant query);
    each series of the answer is a sample, its measure is 'value'."""
    prometheus: str | None = None
    """The [history.sources.NAME] (kind prometheus) a promql target asks; default: the only one."""
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
    """Failed samples tolerated before the target fails (default 0; -1: no limit). A sample is
    one measurement's value, or each item of it with samples = 'each'; over a watched run
    (`fixmap gate --watch`, count > 1) they add up, as Argo Rollouts' failureLimit."""
    inconclusive_limit: int | None = Field(default=None, ge=-1)
    """Inconclusive or NaN samples tolerated before the target is inconclusive (default 0)."""
    interval: Duration | None = None
    """Watched runs: time between two measurements (default: the sampling interval, else 30s)."""
    count: int | None = Field(default=None, ge=1)
    """Watched runs: measurements to take (default 1); a gate never measures endlessly."""
    consecutive_error_limit: int | None = Field(default=None, ge=0)
    """Watched runs: measurements in a row whose source broke tolerated before the target is an
    error (default 4, as Argo Rollouts); errors are retried at the interval."""
    max_age: Duration | None = None
    """How old the newest data point may be; older is inconclusive, never a pass (default:
    [history] max_age, else 3 sampling intervals, else 5 minutes). History and promql targets."""
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
        given = [k for k in ("probe", "query", "sql", "promql") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"a target has one source: give one of probe, query, sql or promql, not {given}"
            )
        if self.params and (self.probe or self.promql):
            raise ValueError("'params' go with a named query")
        if self.prometheus and not self.promql:
            raise ValueError("'prometheus' names the source a promql target asks: give promql")
        if self.promql is not None and not self.promql.strip():
            raise ValueError("promql is empty")
        if self.sql is not None and not self.sql.strip():
            raise ValueError("sql is empty")
        return self

    def given(self) -> dict[str, Any]:
        """The fields this table sets (by their config names)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


def _check_gates(gates: dict[str, dict[str, GateTarget]]) -> dict[str, dict[str, GateTarget]]:
    """Overrides must name a built-in target; a new target must be complete.

    Each problem is reported at its own table (gates.SET or gates.SET.TARGET), so the loader
    can name the line: pydantic-core takes a ValidationError raised here as these errors, under
    the location of the whole `gates` field.
    """
    from console.core import closest

    problems: list[tuple[tuple[str, ...], str]] = []
    for set_name, targets in gates.items():
        if not re.match(NAME, set_name):
            problems.append(((set_name,), "a set name is lower-case letters, digits and _"))
            continue
        builtin = BUILTIN_SETS.get(set_name, {}).get("targets", {})
        if not targets:
            problems.append(((set_name,), "the set has no targets"))
        for name, target in targets.items():
            where = (set_name, name)
            if not re.match(NAME, name):
                problems.append((where, "a target name is lower-case letters, digits and _"))
                continue
            if name in builtin:
                continue
            missing = [
                field
                for field, present in (
                    (
                        "a source (probe, query, sql or promql)",
                        target.probe or target.query or target.sql or target.promql,
                    ),
                    ("measure", target.measure or target.promql),
                    ("pass", target.pass_),
                )
                if not present
            ]
            if missing:
                guess = closest(name, builtin) if builtin else None
                if guess:
                    problems.append(
                        (
                            where,
                            f"'{name}' is not a target of the built-in set {set_name} "
                            f"(did you mean '{guess}'?)",
                        )
                    )
                else:
                    problems.append((where, f"a new target needs {', '.join(missing)}"))
    if problems:
        from pydantic import ValidationError
        from pydantic_core import InitErrorDetails, PydanticCustomError

        raise ValidationError.from_exception_data(
            "gates",
            [
                InitErrorDetails(
                    type=PydanticCustomError("gate_table", "{reason}", {"reason": reason}),
                    loc=loc,
                    input=gates[loc[0]] if len(loc) == 1 else gates[loc[0]][loc[1]],
                )
                for loc, reason in problems
            ],
        )
    return gates


GatesSpec = Annotated[dict[str, dict[str, GateTarget]], AfterValidator(_check_gates)]
"""[gates.SET.TARGET] tables: SET is a built-in set (readiness, canary, hard_stop, recovery) or a
new one; TARGET a built-in target to override or a new one."""
