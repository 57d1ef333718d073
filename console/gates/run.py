"""Gates: go / no-go from the seed's acceptance targets, on live probes and metric history.

A gate set (readiness, canary, hard_stop, recovery, or a site's own) is a list of targets. Each
target judges one measure from one source:

- a probe of the site config (all the probes a set needs run once, together, per gate run);
- a named history query (window_vs_baseline, error_rates, quality_trend, ...);
- read-only SQL over the history (each row a sample).

A target's verdict is one of:

- `pass`: the measure meets the pass condition (for every sample, within the limits);
- `fail`: the value is bad (the fail condition holds, or with no fail condition, pass does not);
- `inconclusive`: between pass and fail, or no data: an empty or NaN result, or fewer samples
  than `min_samples` is judged by `on_empty`, inconclusive unless the site says otherwise;
- `error`: the source broke (a probe that could not run, a bad query, a locked history file).
  Errors stay apart from failures: a broken probe says nothing about the service.

The set's verdict: any fail -> no-go; else any error or inconclusive -> inconclusive; else go.
Dry-run targets are measured and shown but never decide.

The value comparisons are console.core.conditions' (as for playbook gates); this module adds the
sources, samples, limits, the empty-data policy and the reasons.

Public API (sync; the console calls it from a thread worker):

- `gate_sets(site) -> dict[str, GateSetSpec]`: the built-in sets with the site's overrides, plus
  the site's own sets.
- `run_gate_set(site, name="readiness", *, record=True, on_probe=None) -> GateRun`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from console.core import ConfigError, FixmapError, Problem, closest, conditions
from console.core.conditions import NEGATION as _NEGATION
from console.core.conditions import SYMBOL as _SYMBOL
from console.core.conditions import is_number as _is_number
from console.core.conditions import plain as _plain
from console.site import (
    BUILTIN_SETS,
    TARGET_DEFAULTS,
    GateTarget,
    names,
)

STATUSES = ("pass", "fail", "inconclusive", "error")
VERDICTS = ("go", "no-go", "inconclusive")
DEFAULT_SET = "readiness"
"""How long a gate run waits for a busy history file to record its results (best effort)."""

_QUERY_METRICS = {
    "error_rates": ("error_rate", "rate_5xx", "rate_429"),
    "quality_trend": ("delta_s", "coverage", "lambda_flip_rate"),
    "cache_hit_ratio": ("cache_hit_ratio",),
}
_BASELINE_QUERIES = ("window_vs_baseline",)


class GateError(FixmapError):
    """A gate set that does not exist, or a site with nothing to gate."""


# ------------------------------------------------------------------ specs


@dataclass(frozen=True)
class TargetSpec:
    """One target of a gate set, with the site's overrides applied."""

    name: str
    label: str
    what: str
    """The short noun used in reasons ('p95', 'ΔS', 'error rate')."""
    measure: str
    pass_: str
    fail: str | None
    probe: str | None = None
    query: str | None = None
    sql: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    samples: str = "one"
    count_measure: str | None = None
    min_samples: int = 1
    on_empty: str = "inconclusive"
    failure_limit: int = 0
    inconclusive_limit: int = 0
    error_limit: int = 0
    bands: str = "fixed"
    enabled: bool = True
    dry_run: bool = False
    note: str = ""
    overridden: tuple[str, ...] = ()
    """The fields the site config set (empty for a built-in target left as shipped)."""
    builtin: bool = True

    @property
    def source_kind(self) -> str:
        return "probe" if self.probe else "query" if self.query else "sql"

    @property
    def source(self) -> str:
        """Where the value comes from, in words: 'probe latency', 'history error_rates(window=10m)'."""
        if self.probe:
            return f"probe {self.probe}"
        if self.query:
            shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
            return f"history {self.query}({shown})"
        return "history SQL"

    @property
    def threshold(self) -> str:
        text = self.pass_
        if self.fail:
            text += f"; fail {self.fail}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "source": self.source,
            "measure": self.measure,
            "pass": self.pass_,
            "fail": self.fail,
            "unit": self.unit,
            "samples": self.samples,
            "min_samples": self.min_samples,
            "on_empty": self.on_empty,
            "failure_limit": self.failure_limit,
            "inconclusive_limit": self.inconclusive_limit,
            "error_limit": self.error_limit,
            "bands": self.bands,
            "enabled": self.enabled,
            "dry_run": self.dry_run,
            "overridden": list(self.overridden),
            "note": self.note,
        }


@dataclass(frozen=True)
class GateSetSpec:
    """A gate set: its targets in the order they are shown."""

    name: str
    title: str
    description: str
    targets: tuple[TargetSpec, ...]
    builtin: bool = True

    def target(self, name: str) -> TargetSpec:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def enabled(self) -> list[TargetSpec]:
        return [t for t in self.targets if t.enabled]

    @property
    def probes(self) -> list[str]:
        """The probe names the enabled targets read (before resolving them in a site config)."""
        out: list[str] = []
        for t in self.enabled:
            if t.probe and t.probe not in out:
                out.append(t.probe)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "builtin": self.builtin,
            "targets": [t.to_json() for t in self.targets],
        }


def _target(
    set_name: str, name: str, base: dict[str, Any], override: GateTarget | None
) -> TargetSpec:
    data = {**TARGET_DEFAULTS, **base}
    overridden: tuple[str, ...] = ()
    if override is not None:
        given = override.given()
        overridden = tuple(given)
        params = {**(data.get("params") or {}), **(given.pop("params", None) or {})}
        if data.get("bands") == "embedder" and ("pass" in given or "fail" in given):
            # a number the site wrote down is meant as written, whatever embedder measured ΔS
            given.setdefault("bands", "fixed")
        data.update(given)
        data["params"] = params
        # a target that changes its source keeps nothing of the old one
        for src in ("probe", "query", "sql"):
            if src in given:
                for other in ("probe", "query", "sql"):
                    if other != src and other not in given:
                        data.pop(other, None)
                if src != "query" and "params" not in override.given():
                    data["params"] = {}
    return TargetSpec(
        name=name,
        label=data.get("label") or name.replace("_", " "),
        what=data.get("what") or name.replace("_", " "),
        measure=data["measure"],
        pass_=data["pass"],
        fail=data.get("fail"),
        probe=data.get("probe"),
        query=data.get("query"),
        sql=data.get("sql"),
        params=dict(data.get("params") or {}),
        unit=data.get("unit") or "",
        samples=data.get("samples") or "one",
        count_measure=data.get("count_measure"),
        min_samples=int(data.get("min_samples", 1)),
        on_empty=data.get("on_empty") or "inconclusive",
        failure_limit=int(data.get("failure_limit", 0)),
        inconclusive_limit=int(data.get("inconclusive_limit", 0)),
        error_limit=int(data.get("error_limit", 0)),
        bands=data.get("bands") or "fixed",
        enabled=bool(data.get("enabled", True)),
        dry_run=bool(data.get("dry_run", False)),
        note=data.get("note") or "",
        overridden=overridden,
        builtin=bool(base),
    )


def _site_gates(site: Any) -> dict[str, dict[str, GateTarget]]:
    if site is None or site.path is None:
        return {}
    return dict(site.config.gates)


def gate_sets(site: Any = None) -> dict[str, GateSetSpec]:
    """The built-in gate sets with the site's overrides, then the site's own sets."""
    site_gates = _site_gates(site)
    out: dict[str, GateSetSpec] = {}
    for set_name, spec in BUILTIN_SETS.items():
        overrides = site_gates.get(set_name, {})
        targets = [
            _target(set_name, name, base, overrides.get(name))
            for name, base in spec["targets"].items()
        ]
        targets += [
            _target(set_name, name, {}, target)
            for name, target in overrides.items()
            if name not in spec["targets"]
        ]
        out[set_name] = GateSetSpec(set_name, spec["title"], spec["description"], tuple(targets))
    for set_name, targets in site_gates.items():
        if set_name in BUILTIN_SETS:
            continue
        out[set_name] = GateSetSpec(
            set_name,
            f"{set_name.replace('_', ' ')} (site gate set)",
            f"The site's own gate set '{set_name}' from {site.path}",
            tuple(_target(set_name, name, {}, t) for name, t in targets.items()),
            builtin=False,
        )
    return out


# ------------------------------------------------------------------ results


@dataclass
class TargetResult:
    """One target's verdict, its value, the threshold it was judged against, and why."""

    name: str
    status: str
    """pass | fail | inconclusive | error"""
    value: float | int | bool | str | None
    """The judged value (the worst sample when there are several)."""
    threshold: str | None
    """The pass condition as applied, e.g. '<= 750 ms'."""
    reason: str
    """One line an on-call engineer can act on: 'p95 1840 ms > budget 1200 ms over 15m'."""
    source: str
    """'probe latency', 'history error_rates(window=10m)', 'history SQL'."""
    label: str = ""
    unit: str = ""
    dry_run: bool = False
    samples: int = 0
    """How many samples the verdict stands on."""
    counts: dict[str, int] = field(default_factory=dict)
    """Samples by outcome: pass, fail, inconclusive, empty (NaN/None), error (not a number)."""
    detail: dict[str, Any] = field(default_factory=dict)
    """Per-sample verdicts, the bands used, the query's note..."""

    def value_text(self) -> str:
        return format_value(self.value, self.unit)

    def to_json(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, float):
            value = round(value, 6) if math.isfinite(value) else None
        return {
            "name": self.name,
            "status": self.status,
            "value": value,
            "threshold": self.threshold,
            "reason": self.reason,
            "source": self.source,
            "label": self.label,
            "unit": self.unit,
            "dry_run": self.dry_run,
            "samples": self.samples,
        }


@dataclass
class GateRun:
    """One run of a gate set."""

    set: str
    verdict: str
    """go | no-go | inconclusive"""
    targets: list[TargetResult]
    started_at: str
    """ISO 8601, UTC."""
    duration_ms: float
    title: str = ""
    probe_results: list[Any] = field(default_factory=list)
    """The ProbeResults the run judged (each probe ran once)."""
    notes: list[str] = field(default_factory=list)
    """Things that went wrong around the verdict (history not updated, ...)."""

    @property
    def exit_code(self) -> int:
        """0 go, 1 no-go, 2 could not evaluate."""
        return {"go": 0, "no-go": 1}.get(self.verdict, 2)

    @property
    def deciding(self) -> list[TargetResult]:
        return [t for t in self.targets if not t.dry_run]

    def by_status(self, status: str) -> list[TargetResult]:
        return [t for t in self.deciding if t.status == status]

    def target(self, name: str) -> TargetResult:
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    def summary(self) -> str:
        """The verdict in one line: 'no-go: index, p95 failing'."""
        deciding = self.deciding
        if not deciding:
            return f"{self.verdict}: no target to judge"
        failing = self.by_status("fail")
        unsure = [t for t in deciding if t.status in ("inconclusive", "error")]
        if self.verdict == "go":
            if len(deciding) == 1:
                return "go: the one target passes"
            return f"go: all {len(deciding)} targets pass"
        if failing:
            text = f"no-go: {', '.join(t.name for t in failing)} failing"
            if unsure:
                text += f"; {', '.join(t.name for t in unsure)} not judged"
            return text
        parts = [f"{t.name} ({'error' if t.status == 'error' else 'no verdict'})" for t in unsure]
        return f"inconclusive: could not judge {', '.join(parts)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "set": self.set,
            "verdict": self.verdict,
            "targets": [t.to_json() for t in self.targets],
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "summary": self.summary(),
        }


def overall(targets: list[TargetResult]) -> str:
    """any fail -> no-go; else any error/inconclusive (or nothing judged) -> inconclusive; else go."""
    deciding = [t for t in targets if not t.dry_run]
    if any(t.status == "fail" for t in deciding):
        return "no-go"
    if not deciding or any(t.status != "pass" for t in deciding):
        return "inconclusive"
    return "go"


# ------------------------------------------------------------------ formatting


def format_value(value: Any, unit: str = "") -> str:
    """A measure as an engineer reads it: '412 ms', '99.9%', '0.305', '2.1×', 'yes'."""
    if value is None:
        return "-"
    if isinstance(value, bool) or unit == "bool":
        if isinstance(value, int | float):
            return "yes" if value else "no"
        return str(value)
    if isinstance(value, str):
        return value
    if not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if unit == "ms":
        return f"{v:.0f} ms"
    if unit == "%":
        return f"{v * 100:.2f}".rstrip("0").rstrip(".") + "%"
    if unit == "x":
        return f"{v:.2f}×"
    if unit == "count" or (v == int(v) and abs(v) < 1e9 and unit == ""):
        return str(int(v)) if v == int(v) else f"{v:.3f}".rstrip("0").rstrip(".")
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != 0 else "0"


def _fmt_threshold(value: float, unit: str, label: str | None = None) -> str:
    shown = ("yes" if value else "no") if unit == "bool" else format_value(value, unit)
    return f"{label} {shown}" if label else shown


# ------------------------------------------------------------------ judging samples


@dataclass
class _Cond:
    op: str
    value: float
    label: str | None = None
    """Where the threshold came from when it is not a plain number ('budget')."""

    @property
    def text(self) -> str:
        return f"{self.op} {_plain(self.value)}"

    def shown(self, unit: str) -> str:
        return _fmt_threshold(self.value, unit, self.label)


class _Broken(Exception):
    """The source broke: the target is an error."""


class _Empty(Exception):
    """No data: the target is judged by on_empty."""


def _resolve(text: str, values: dict[str, Any], what: str) -> _Cond:
    cond = conditions.parse(text)
    try:
        number = cond.threshold(values)
    except conditions.ThresholdMissing:
        raise _Broken(
            f"the threshold ${cond.ref} needs a number '{cond.ref}' from {what}, and it has none"
        ) from None
    label = cond.ref.removesuffix("_ms").replace("_", " ") if cond.ref else None
    return _Cond(cond.op, number, label)


def _number(v: Any) -> Any:
    """DuckDB DECIMALs as floats; anything else as it is."""
    if isinstance(v, Decimal):
        return float(v)
    return v


def _judge_samples(
    samples: list[tuple[str | None, Any]], pass_c: _Cond, fail_c: _Cond | None
) -> list[tuple[str | None, Any, str]]:
    """(key, value, outcome) per sample: pass, fail, inconclusive, empty or error."""
    pass_ = conditions.Condition(pass_c.op, pass_c.value)
    fail = conditions.Condition(fail_c.op, fail_c.value) if fail_c else None
    out = []
    for key, raw in samples:
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            out.append((key, raw, "empty"))
        elif not isinstance(raw, int | float):
            out.append((key, raw, "error"))
        else:
            out.append((key, raw, conditions.judge(float(raw), pass_, fail)))
    return out


def _worst(judged: list[tuple[str | None, Any, str]], op: str) -> tuple[str | None, Any] | None:
    """The sample to show: the worst failing one, else the worst inconclusive, else the worst."""
    numeric = [(k, v, s) for k, v, s in judged if s in ("pass", "fail", "inconclusive")]
    if not numeric:
        return None
    for status in ("fail", "inconclusive", "pass"):
        group = [(k, v) for k, v, s in numeric if s == status]
        if group:
            high_is_bad = op in ("<", "<=")
            if op in ("==", "!="):
                return group[0]
            return (max if high_is_bad else min)(group, key=lambda kv: float(kv[1]))
    return None


def _over_limit(n: int, limit: int) -> bool:
    return limit >= 0 and n > limit


# ------------------------------------------------------------------ the run


@dataclass
class _Source:
    """What a source gave a target: its values, samples and context for the reason."""

    values: dict[str, Any]
    samples: list[tuple[str | None, Any]]
    count: int | None = None
    """Samples the measure stands on when the source says (requests answered, rows)."""
    noun: str = "samples"
    context: str = ""
    """' over 15m (vs the 24h before)', ' (20 requests)'."""
    extra: str = ""
    """A line from the source worth adding to the reason (the probe's own reason)."""
    detail: dict[str, Any] = field(default_factory=dict)


def _items(raw: Any, samples: str) -> list[tuple[str | None, Any]]:
    if samples == "each":
        if isinstance(raw, dict):
            return [(str(k), v) for k, v in raw.items()]
        if isinstance(raw, list | tuple):
            return [(str(i), v) for i, v in enumerate(raw)]
    if isinstance(raw, dict | list | tuple):
        raise _Broken("the measure is a collection; set samples = 'each' to judge every item")
    return [(None, raw)]


def _resolve_probe(site: Any, t: TargetSpec) -> str:
    probes = site.config.probes
    if t.probe in probes:
        return t.probe
    kind = names.PROBE_KIND.get(t.probe or "")
    same_kind = [n for n, spec in probes.items() if kind and spec.kind == kind]
    if len(same_kind) == 1:
        return same_kind[0]
    guess = closest(t.probe or "", probes)
    hint = f"did you mean '{guess}'?" if guess else "known: " + (", ".join(probes) or "none")
    extra = (
        f"; {len(same_kind)} probes of kind {kind}: name one with probe = ..."
        if len(same_kind) > 1
        else ""
    )
    raise _Broken(
        f"no probe '{t.probe}' in the site config ({hint}){extra}; add it, or turn the target "
        f"off with enabled = false in [gates.<set>.{t.name}]"
    )


def _from_probe(t: TargetSpec, result: Any) -> _Source:
    name = result.name
    if result.status == "error":
        raise _Broken(f"probe {name} could not run: {result.reason}")
    values = dict(result.values or {})
    if t.measure == "verdict":
        if result.status not in ("pass", "fail"):
            raise _Empty(f"probe {name} has no verdict ({result.status}: {result.reason})")
        mapped = 1 if result.status == "pass" else 0
        return _Source(values, [(None, mapped)], extra=result.reason, detail={"probe": name})
    raw = values.get(t.measure, result.value if t.measure == "value" else None)
    if raw is None:
        if result.status == "fail":
            raise _FailedBeforeMeasuring(f"probe {name} failed before measuring: {result.reason}")
        raise _Empty(f"probe {name} reported no {t.measure} ({result.status}: {result.reason})")
    samples = _items(raw, t.samples)
    count = None
    if t.count_measure:
        c = values.get(t.count_measure)
        count = int(c) if _is_number(c) else None
    noun = "queries" if result.kind == "stability" else "samples"
    context = ""
    if count is not None and t.count_measure == "answered":
        context = f" ({count} requests)"
    elif count is not None and t.count_measure == "keys":
        replays = values.get("replays")
        context = f" ({count} keys × {replays} replays)" if replays else f" ({count} keys)"
    return _Source(values, samples, count, noun, context, result.reason, {"probe": name})


class _FailedBeforeMeasuring(Exception):
    """The probe failed (target down, timed out) before it measured anything: a failure."""


def _window_text(params: dict[str, Any], query: str) -> str:
    window = params.get("window")
    if not window:
        return ""
    text = f" over {window}"
    if query in _BASELINE_QUERIES:
        text += f" vs the {params.get('baseline', '24h')} before"
    return text


def _metrics_for(t: TargetSpec, params: dict[str, Any]) -> list[str]:
    if t.query in ("window_vs_baseline", "latency_percentiles"):
        return [str(params.get("metric") or "latency_ms")]
    if params.get("metric"):
        return [str(params["metric"])]
    known = _QUERY_METRICS.get(t.query or "", ())
    for m in sorted(known, key=len, reverse=True):
        if t.measure.startswith(m):
            return [m]
    return list(known)


class _HistoryReader:
    """Named queries run once per (query, params) within a gate run."""

    def __init__(self, site: Any) -> None:
        self.site = site
        self._history: Any = None
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    @property
    def history(self) -> Any:
        if self._history is None:
            from console.history import history_for

            self._history = history_for(self.site)
        return self._history

    def params(self, t: TargetSpec) -> dict[str, Any]:
        params = dict(t.params)
        if "service" not in params and t.query != "what_changed":
            service = self.site.config.default_service()
            if service:
                params["service"] = service
        return params

    def named(self, query: str, params: dict[str, Any]) -> Any:
        key = (query, tuple(sorted((k, str(v)) for k, v in params.items())))
        if key not in self._cache:
            self._cache[key] = self.history.named(query, **params)
        return self._cache[key]

    def count(self, result: Any, metrics: list[str], service: str | None) -> int | None:
        """Samples of these metrics in the query's window (not its baseline)."""
        from console.history import seconds

        window = result.params.get("window")
        if not window or result.until is None or not metrics:
            return None
        until = result.until
        since = until - timedelta(seconds=seconds(window, "window"))

        def q(text: str) -> str:
            return "'" + str(text).replace("'", "''") + "'"

        sql = (
            "SELECT count(value) FROM samples WHERE NOT isnan(value) AND metric IN ("
            + ", ".join(q(m) for m in metrics)
            + f") AND ts >= TIMESTAMP {q(since.isoformat(sep=' '))}"
            + f" AND ts < TIMESTAMP {q(until.isoformat(sep=' '))}"
            + (f" AND service = {q(service)}" if service else "")
        )
        rows = self.history.sql(sql).rows
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _derived(result: Any) -> dict[str, list[float]]:
    """window_vs_baseline rows as measures: p50_delta, p95_ratio, mean_delta... (one per service)."""
    cols = list(result.columns)
    if "stat" not in cols:
        return {}
    si = cols.index("stat")
    out: dict[str, list[float]] = {}
    for row in result.rows:
        for col in ("window", "baseline", "delta", "ratio"):
            if col in cols:
                v = row[cols.index(col)]
                if v is not None:
                    out.setdefault(f"{row[si]}_{col}", []).append(float(v))
    return out


def _from_history(t: TargetSpec, reader: _HistoryReader) -> _Source:
    from console.history import HistoryBusy, HistoryError

    try:
        if t.sql:
            result = reader.history.sql(t.sql)
            return _from_rows(t, result, "rows", "")
        params = reader.params(t)
        result = reader.named(t.query or "", params)
    except HistoryBusy as exc:
        raise _Broken(str(exc)) from None
    except HistoryError as exc:
        if str(exc.message).startswith("no samples of"):
            raise _Empty(_history_text(exc)) from None
        raise _Broken(_history_text(exc)) from None
    context = _window_text(params, t.query or "")
    if t.samples == "each":
        source = _from_rows(t, result, "buckets" if result.time_column else "rows", context)
    else:
        raw: Any = result.measures.get(t.measure)
        detail: dict[str, Any] = {}
        if raw is None:
            derived = _derived(result).get(t.measure)
            if derived:
                op = conditions.parse(t.pass_).op
                raw = min(derived) if op in (">", ">=") else max(derived)
        if raw is None and t.measure in result.columns and result.rows:
            ci = result.columns.index(t.measure)
            col = [r[ci] for r in result.rows if _is_number(r[ci])]
            if col:
                op = conditions.parse(t.pass_).op
                raw = min(col) if op in (">", ">=") else max(col)
        if raw is None:
            why = result.note or f"{t.query} reported no {t.measure}"
            if result.rows and not result.note:
                metrics = _metrics_for(t, params)
                n = reader.count(result, metrics, params.get("service"))
                if n == 0:
                    why = (
                        f"the samples of {'/'.join(metrics)}{context.split(' vs')[0]} are all "
                        "NaN or missing"
                    )
                else:
                    why += " (no baseline window to compare with?)"
            raise _Empty(why)
        if result.note:
            detail["note"] = result.note
        source = _Source(dict(result.measures), [(None, raw)], None, "samples", context, "", detail)
    metrics = _metrics_for(t, params)
    source.count = reader.count(result, metrics, params.get("service"))
    source.detail.update({"query": t.query, "params": params, "metrics": metrics})
    source.noun = f"samples of {'/'.join(metrics)}" if metrics else "samples"
    return source


def _history_text(exc: Any) -> str:
    """A HistoryError in one line: its message and the first problem's hint."""
    text = str(exc.message)
    for p in getattr(exc, "problems", [])[:1]:
        if p.hint and not p.hint.startswith("did you mean"):
            text += f" ({p.hint})"
        elif p.reason and p.reason not in text:
            text += f": {p.reason}"
    return text


def _from_rows(t: TargetSpec, result: Any, noun: str, context: str) -> _Source:
    if t.measure not in result.columns:
        cols = ", ".join(result.columns) or "none"
        raise _Broken(f"the result has no column '{t.measure}' (columns: {cols})")
    ci = result.columns.index(t.measure)
    key_col = next((i for i, c in enumerate(result.columns) if i != ci), None)
    rows = result.rows if t.samples == "each" else result.rows[:1]
    samples = [
        (str(r[key_col]) if key_col is not None else str(i), _number(r[ci]))
        for i, r in enumerate(rows)
    ]
    if not samples:
        raise _Empty(result.note or "the query returned no rows")
    return _Source({}, samples, len(result.rows), noun, context, "", {"rows": len(result.rows)})


def _embedder_bands(t: TargetSpec, src: _Source) -> tuple[str, str | None, str] | None:
    """(pass, fail, note) in the built-in lexical embedder's own ΔS bands, when it measured ΔS."""
    if t.bands != "embedder" or not src.values.get("embedder_lexical"):
        return None
    bands = src.values.get("delta_s_bands")
    if not isinstance(bands, dict) or not _is_number(bands.get("stable")):
        return None
    stable = float(bands["stable"])
    high = float(bands.get("high_risk") or stable)
    name = src.values.get("embedder") or "the built-in embedder"
    note = (
        f"judged in {name}'s own bands (stable ≤ {stable:g}, high risk > {high:g}): it is "
        f"lexical, the seed's ≤ 0.45 is set for sentence embedders"
    )
    return f"<= {_plain(stable)}", f"> {_plain(high)}", note


def _lambda_text(values: dict[str, Any]) -> str:
    flips = values.get("lambda_flips") or []
    seeds = "/".join(str(x) for x in values.get("seeds") or []) or "2 seeds"
    queries = len(values.get("delta_s_per_query") or {}) or len(flips)
    if not flips:
        return f"λ convergent: same top-k and order on seeds {seeds} for all {queries} queries"
    return f"λ divergent on {len(flips)} of {queries} queries (seeds {seeds}): {flips[0]!r}"


def _empty_result(t: TargetSpec, why: str, base: dict[str, Any]) -> TargetResult:
    policy = t.on_empty
    status = {"inconclusive": "inconclusive", "pass": "pass", "fail": "fail"}[policy]
    counted = {
        "inconclusive": "no verdict",
        "pass": "passed by on_empty = pass",
        "fail": "failed by on_empty = fail",
    }[policy]
    return TargetResult(
        status=status, value=None, reason=f"no data for {t.what}: {why}; {counted}", **base
    )


def _judge_target(t: TargetSpec, src: _Source) -> TargetResult:
    base = {
        "name": t.name,
        "threshold": None,
        "source": t.source,
        "label": t.label,
        "unit": t.unit,
        "dry_run": t.dry_run,
    }
    pass_text, fail_text, band_note = t.pass_, t.fail, None
    bands = _embedder_bands(t, src)
    if bands:
        pass_text, fail_text, band_note = bands
    where = t.source
    pass_c = _resolve(pass_text, src.values, where)
    fail_c = _resolve(fail_text, src.values, where) if fail_text else None
    base["threshold"] = f"{pass_c.op} {pass_c.shown(t.unit)}"
    judged = _judge_samples(src.samples, pass_c, fail_c)
    counts = {s: 0 for s in ("pass", "fail", "inconclusive", "empty", "error")}
    for _k, _v, s in judged:
        counts[s] += 1
    measured = counts["pass"] + counts["fail"] + counts["inconclusive"]
    n = src.count if src.count is not None else measured
    detail = dict(src.detail)
    detail["samples"] = [{"key": k, "value": v, "status": s} for k, v, s in judged]
    if band_note:
        detail["bands"] = band_note
    base.update({"counts": counts, "samples": n, "detail": detail})
    worst = _worst(judged, pass_c.op)
    value = worst[1] if worst else None
    shown = format_value(value, t.unit)
    many = len(judged) > 1 or t.samples == "each"
    thr = pass_c.shown(t.unit)
    sym = _SYMBOL[pass_c.op]
    tail = src.context
    if band_note:
        tail += f"; {band_note}"

    if _over_limit(counts["error"], t.error_limit):
        bad = next(v for _k, v, s in judged if s == "error")
        return TargetResult(
            status="error",
            value=None,
            reason=f"{counts['error']} of {len(judged)} samples of {t.measure} are not numbers "
            f"(e.g. {bad!r}): check the source",
            **base,
        )
    if measured == 0 or n < t.min_samples:
        if measured == 0:
            why = f"{t.measure} is empty or NaN" + (f" ({src.extra})" if src.extra else "")
        else:
            why = f"only {n} {src.noun}{tail.split(';')[0]} (need at least {t.min_samples})"
        result = _empty_result(t, why, base)
        result.value = value
        return result

    zero_count = t.unit == "count" and pass_c.op == "==" and pass_c.value == 0

    def fail_reason() -> str:
        fk, fv = worst if worst else (None, None)
        if fail_c is not None and judged and any(s == "fail" for _k, _v, s in judged):
            cond = f"{_SYMBOL[fail_c.op]} {fail_c.shown(t.unit)}"
        else:
            cond = f"{_NEGATION[pass_c.op]} {thr}"
        if many:
            where_ = f" on {fk!r}" if fk is not None else ""
            head = (
                f"{t.what} {cond} on {counts['fail']} of {measured} {src.noun} "
                f"(worst {format_value(fv, t.unit)}{where_})"
            )
        elif t.unit == "bool":
            head = f"not {t.what}"
        elif zero_count:
            head = f"{format_value(fv, t.unit)} {t.what} (must be 0)"
        else:
            head = f"{t.what} {format_value(fv, t.unit)} {cond}"
        return head

    if _over_limit(counts["fail"], t.failure_limit):
        reason = fail_reason() + tail
        if t.failure_limit > 0:
            reason += f" (limit {t.failure_limit})"
        if t.measure == "lambda_convergent" and "lambda_flips" in src.values:
            reason = _lambda_text(src.values) + tail
        elif src.extra and t.measure != "verdict":
            if zero_count or t.unit == "bool" or format_value(value, t.unit) not in src.extra:
                reason += f": {src.extra}"
        elif t.measure == "verdict":
            reason = f"{src.detail.get('probe', 'probe')} failed: {src.extra}"
        return TargetResult(status="fail", value=value, reason=reason, **base)
    unsure = counts["inconclusive"] + counts["empty"]
    if _over_limit(unsure, t.inconclusive_limit):
        if t.measure == "verdict":
            reason = f"{src.detail.get('probe', 'probe')} has no verdict: {src.extra}"
        elif counts["inconclusive"]:
            between = (
                f"between pass {sym} {thr} and fail {_SYMBOL[fail_c.op]} {fail_c.shown(t.unit)}"
                if fail_c
                else f"not {sym} {thr}"
            )
            if many:
                reason = (
                    f"{t.what} {between} on {counts['inconclusive']} of {measured} {src.noun} "
                    f"(worst {shown}): not a pass{tail}"
                )
            else:
                reason = f"{t.what} {shown} is {between}: not a pass{tail}"
        else:
            reason = (
                f"{counts['empty']} of {len(judged)} {src.noun} of {t.measure} are NaN or empty: "
                f"no verdict on them{tail}"
            )
        return TargetResult(status="inconclusive", value=value, reason=reason, **base)
    if t.measure == "verdict":
        reason = f"{src.detail.get('probe', 'probe')} passes: {src.extra}"
    elif many:
        reason = f"{t.what} {sym} {thr} on all {measured} {src.noun} (worst {shown}){tail}"
        if counts["fail"]:
            reason += f"; {counts['fail']} failing within the limit of {t.failure_limit}"
    elif t.measure == "lambda_convergent" and "lambda_flips" in src.values:
        reason = _lambda_text(src.values) + tail
    elif t.unit == "bool":
        reason = f"{t.what}{tail}" + (f": {src.extra}" if src.extra else "")
    elif zero_count:
        reason = f"no {t.what}{tail}" + (f": {src.extra}" if src.extra else "")
    else:
        reason = f"{t.what} {shown} {sym} {thr}{tail}"
    return TargetResult(status="pass", value=value, reason=reason, **base)


def _run_target(
    t: TargetSpec,
    site: Any,
    probe_names: dict[str, str | Exception],
    probe_results: dict[str, Any],
    reader: _HistoryReader,
) -> TargetResult:
    from console.core import redact

    base = {
        "name": t.name,
        "threshold": t.pass_,
        "source": t.source,
        "label": t.label,
        "unit": t.unit,
        "dry_run": t.dry_run,
    }
    try:
        if t.probe:
            resolved = probe_names[t.name]
            if isinstance(resolved, Exception):
                raise resolved
            result = probe_results.get(resolved)
            if result is None:
                raise _Broken(f"probe {resolved} did not run")
            base["source"] = f"probe {resolved}"
            src = _from_probe(t, result)
        else:
            src = _from_history(t, reader)
        out = _judge_target(t, src)
        if t.probe:
            out.source = base["source"]
    except _FailedBeforeMeasuring as exc:
        out = TargetResult(status="fail", value=None, reason=str(exc), **base)
    except _Empty as exc:
        out = _empty_result(t, str(exc), base)
    except _Broken as exc:
        out = TargetResult(status="error", value=None, reason=str(exc), **base)
    except FixmapError as exc:
        out = TargetResult(
            status="error", value=None, reason=exc.render().replace("\n", " "), **base
        )
    except Exception as exc:  # a target must never take the run down
        out = TargetResult(
            status="error",
            value=None,
            reason=f"the target crashed: {type(exc).__name__}: {exc}",
            **base,
        )
    out.reason = redact(out.reason)
    return out


def require_site(site: Any) -> None:
    if site is None or site.path is None:
        from console.site import NO_CONFIG_HINT

        raise ConfigError(
            "no site config: a gate needs the site's probes and metric history",
            [Problem(None, None, "no fixmap.toml found", None, NO_CONFIG_HINT)],
        )


def get_set(site: Any, name: str) -> GateSetSpec:
    sets = gate_sets(site)
    spec = sets.get(name)
    if spec is None:
        guess = closest(name, sets)
        hint = f"did you mean '{guess}'?" if guess else "sets: " + ", ".join(sets)
        raise GateError(f"no gate set named '{name}' ({hint})")
    return spec


def run_gate_set(
    site: Any,
    name: str = DEFAULT_SET,
    *,
    record: bool = True,
    on_probe: Callable[[Any], Any] | None = None,
) -> GateRun:
    """Run one gate set: its probes once, together, then its history queries; judge each target.

    `record`: store the probe results and the verdict in the history (best effort) and on the
    current incident's timeline. `on_probe(result)` is called as each probe finishes.
    Raises GateError / ConfigError (exit 2) for an unknown set or no site config.
    """
    require_site(site)
    spec = get_set(site, name)
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    targets = spec.enabled
    probe_names: dict[str, str | Exception] = {}
    for t in targets:
        if t.probe:
            try:
                probe_names[t.name] = _resolve_probe(site, t)
            except _Broken as exc:
                probe_names[t.name] = exc
    wanted = [n for n in site.config.probes if n in set(probe_names.values())]
    probe_results: dict[str, Any] = {}
    results: list[Any] = []
    if wanted:
        from console.probes import run_probes_sync

        try:
            results = run_probes_sync(site, wanted, on_probe)
            probe_results = {r.name: r for r in results}
        except FixmapError as exc:
            for tname, pname in probe_names.items():
                if isinstance(pname, str):
                    probe_names[tname] = _Broken(exc.render().replace("\n", " "))
    reader = _HistoryReader(site)
    judged = [_run_target(t, site, probe_names, probe_results, reader) for t in targets]
    run = GateRun(
        set=spec.name,
        verdict=overall(judged),
        targets=judged,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - t0) * 1000, 1),
        title=spec.title,
        probe_results=results,
    )
    if record:
        from console.incident import recorder

        run.notes.extend(recorder.gate(site, run))
    return run
