"""Judging a target: its samples against the pass and fail conditions, the limits, the empty
policy, and the one-line reason an on-call engineer reads.

Each sample is pass, fail or inconclusive by console.core.conditions (the judge playbook gates
use too); a NaN or missing sample is `empty`, anything else that is not a number an `error`.
Then, in this order:

- more non-numbers than `error_limit` -> error (check the source);
- nothing measured, or fewer samples than `min_samples` -> no data, judged by `on_empty`;
- more failing samples than `failure_limit` -> fail;
- more inconclusive or empty samples than `inconclusive_limit` -> inconclusive;
- else pass. A limit of -1 tolerates any number.

The value shown is the worst sample (the worst failing one, else the worst inconclusive), and
the reason names the measure, that value, the threshold and the window it stands on:
'p95 1840 ms > budget 1200 ms (20 requests)'. The built-in lexical embedder's ΔS is judged in
that embedder's own bands unless the site gave its own numbers (`bands`).
"""

from __future__ import annotations

import math
from typing import Any

from console.core import conditions
from console.core.conditions import NEGATION, SYMBOL, is_number, plain
from console.gates.results import TargetResult, format_value
from console.gates.sources import Broken, Source
from console.gates.spec import TargetSpec


def result_fields(t: TargetSpec, threshold: str | None = None) -> dict[str, Any]:
    """The fields of a TargetResult that come from the target itself."""
    return {
        "name": t.name,
        "threshold": threshold,
        "source": t.source,
        "label": t.label,
        "unit": t.unit,
        "dry_run": t.dry_run,
    }


def _resolve(text: str, values: dict[str, Any], where: str) -> conditions.Condition:
    """The condition with its number: a `$name` threshold read from what the source reported."""
    cond = conditions.parse(text)
    try:
        return cond.resolved(values)
    except conditions.ThresholdMissing:
        raise Broken(
            f"the threshold ${cond.ref} needs a number '{cond.ref}' from {where}, and it has none"
        ) from None


def _shown(cond: conditions.Condition, unit: str) -> str:
    """A threshold as a reason says it: '750 ms', 'yes', or 'budget 1200 ms' for $budget_ms."""
    number = cond.threshold()
    shown = ("yes" if number else "no") if unit == "bool" else format_value(number, unit)
    label = cond.ref.removesuffix("_ms").replace("_", " ") if cond.ref else None
    return f"{label} {shown}" if label else shown


def _judge_samples(
    samples: list[tuple[str | None, Any]],
    pass_: conditions.Condition,
    fail: conditions.Condition | None,
) -> list[tuple[str | None, Any, str]]:
    """(key, value, outcome) per sample: pass, fail, inconclusive, empty or error."""
    out = []
    for key, raw in samples:
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            out.append((key, raw, "empty"))
        elif not isinstance(raw, int | float):
            out.append((key, raw, "error"))
        else:
            out.append((key, raw, conditions.judge(float(raw), pass_, fail)))
    return out


def _worst(
    judged: list[tuple[str | None, Any, str]], pass_: conditions.Condition
) -> tuple[str | None, Any] | None:
    """The sample to show: the worst failing one, else the worst inconclusive, else the worst."""
    numeric = [(k, v, s) for k, v, s in judged if s in ("pass", "fail", "inconclusive")]
    for status in ("fail", "inconclusive", "pass"):
        group = [(k, v) for k, v, s in numeric if s == status]
        if group:
            if pass_.op in ("==", "!="):
                return group[0]
            return (max if pass_.high_is_bad else min)(group, key=lambda kv: float(kv[1]))
    return None


def _over_limit(n: int, limit: int) -> bool:
    return limit >= 0 and n > limit


def _embedder_bands(t: TargetSpec, src: Source) -> tuple[str, str | None, str] | None:
    """(pass, fail, note) in the built-in lexical embedder's own ΔS bands, when it measured ΔS."""
    if t.bands != "embedder" or not src.values.get("embedder_lexical"):
        return None
    bands = src.values.get("delta_s_bands")
    if not isinstance(bands, dict) or not is_number(bands.get("stable")):
        return None
    stable = float(bands["stable"])
    high = float(bands.get("high_risk") or stable)
    name = src.values.get("embedder") or "the built-in embedder"
    note = (
        f"judged in {name}'s own bands (stable ≤ {stable:g}, high risk > {high:g}): it is "
        f"lexical, the seed's ≤ 0.45 is set for sentence embedders"
    )
    return f"<= {plain(stable)}", f"> {plain(high)}", note


def _lambda_text(values: dict[str, Any]) -> str:
    flips = values.get("lambda_flips") or []
    seeds = "/".join(str(x) for x in values.get("seeds") or []) or "2 seeds"
    queries = len(values.get("delta_s_per_query") or {}) or len(flips)
    if not flips:
        return f"λ convergent: same top-k and order on seeds {seeds} for all {queries} queries"
    return f"λ divergent on {len(flips)} of {queries} queries (seeds {seeds}): {flips[0]!r}"


def empty_result(t: TargetSpec, why: str, base: dict[str, Any]) -> TargetResult:
    """No data (or too little) for the target: its `on_empty` says what that means."""
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


def judge_target(t: TargetSpec, src: Source) -> TargetResult:
    """The target's verdict on what its source gave, with the value shown and the reason."""
    base = result_fields(t)
    pass_text, fail_text, band_note = t.pass_, t.fail, None
    bands = _embedder_bands(t, src)
    if bands:
        pass_text, fail_text, band_note = bands
    pass_c = _resolve(pass_text, src.values, t.source)
    fail_c = _resolve(fail_text, src.values, t.source) if fail_text else None
    base["threshold"] = f"{pass_c.op} {_shown(pass_c, t.unit)}"
    j = _Judged(t, src, pass_c, fail_c, _judge_samples(src.samples, pass_c, fail_c), band_note)
    detail = dict(src.detail)
    detail["samples"] = [{"key": k, "value": v, "status": s} for k, v, s in j.judged]
    if band_note:
        detail["bands"] = band_note
    base.update({"counts": j.counts, "samples": j.n, "detail": detail})

    if _over_limit(j.counts["error"], t.error_limit):
        bad = next(v for _k, v, s in j.judged if s == "error")
        return TargetResult(
            status="error",
            value=None,
            reason=f"{j.counts['error']} of {len(j.judged)} samples of {t.measure} are not "
            f"numbers (e.g. {bad!r}): check the source",
            **base,
        )
    if j.measured == 0 or j.n < t.min_samples:
        if j.measured == 0:
            why = f"{t.measure} is empty or NaN" + (f" ({src.extra})" if src.extra else "")
        else:
            why = f"only {j.n} {src.noun}{j.tail.split(';')[0]} (need at least {t.min_samples})"
        result = empty_result(t, why, base)
        result.value = j.value
        return result
    detail["decided_by"] = "samples"  # from here on the sample counts and limits decide
    if _over_limit(j.counts["fail"], t.failure_limit):
        return TargetResult(status="fail", value=j.value, reason=j.fail_reason(), **base)
    if _over_limit(j.counts["inconclusive"] + j.counts["empty"], t.inconclusive_limit):
        return TargetResult(status="inconclusive", value=j.value, reason=j.unsure_reason(), **base)
    return TargetResult(status="pass", value=j.value, reason=j.pass_reason(), **base)


class _Judged:
    """A target's judged samples and the words its reason is made of."""

    def __init__(
        self,
        t: TargetSpec,
        src: Source,
        pass_c: conditions.Condition,
        fail_c: conditions.Condition | None,
        judged: list[tuple[str | None, Any, str]],
        band_note: str | None,
    ) -> None:
        self.t, self.src, self.pass_c, self.fail_c, self.judged = t, src, pass_c, fail_c, judged
        self.counts = {s: 0 for s in ("pass", "fail", "inconclusive", "empty", "error")}
        for _k, _v, s in judged:
            self.counts[s] += 1
        self.measured = self.counts["pass"] + self.counts["fail"] + self.counts["inconclusive"]
        self.n = src.count if src.count is not None else self.measured
        self.worst = _worst(judged, pass_c)
        self.value = self.worst[1] if self.worst else None
        self.shown = format_value(self.value, t.unit)
        self.many = len(judged) > 1 or t.samples == "each"
        self.thr = _shown(pass_c, t.unit)
        self.sym = SYMBOL[pass_c.op]
        self.tail = src.context + (f"; {band_note}" if band_note else "")
        self.zero_count = t.unit == "count" and pass_c.op == "==" and pass_c.number == 0

    @property
    def probe(self) -> str:
        return self.src.detail.get("probe", "probe")

    def fail_reason(self) -> str:
        """Why it fails: 'p95 1840 ms > budget 1200 ms (20 requests)'."""
        t, src = self.t, self.src
        if t.measure == "lambda_convergent" and "lambda_flips" in src.values:
            return _lambda_text(src.values) + self.tail
        if t.measure == "verdict":
            return f"{self.probe} failed: {src.extra}"
        reason = self.fail_head() + self.tail
        if t.failure_limit > 0:
            reason += f" (limit {t.failure_limit})"
        shown_already = format_value(self.value, t.unit) in src.extra
        if src.extra and (self.zero_count or t.unit == "bool" or not shown_already):
            reason += f": {src.extra}"
        return reason

    def fail_head(self) -> str:
        """The measure, the worst value and the condition it breaks, without the context."""
        t, fail_c = self.t, self.fail_c
        fk, fv = self.worst if self.worst else (None, None)
        if fail_c is not None and self.counts["fail"]:
            cond = f"{SYMBOL[fail_c.op]} {_shown(fail_c, t.unit)}"
        else:
            cond = f"{NEGATION[self.pass_c.op]} {self.thr}"
        if self.many:
            where = f" on {fk!r}" if fk is not None else ""
            return (
                f"{t.what} {cond} on {self.counts['fail']} of {self.measured} {self.src.noun} "
                f"(worst {format_value(fv, t.unit)}{where})"
            )
        if t.unit == "bool":
            return f"not {t.what}"
        if self.zero_count:
            return f"{format_value(fv, t.unit)} {t.what} (must be 0)"
        return f"{t.what} {format_value(fv, t.unit)} {cond}"

    def unsure_reason(self) -> str:
        """Why there is no verdict: between pass and fail, or NaN / empty samples."""
        t, src, counts, tail = self.t, self.src, self.counts, self.tail
        if t.measure == "verdict":
            return f"{self.probe} has no verdict: {src.extra}"
        if not counts["inconclusive"]:
            return (
                f"{counts['empty']} of {len(self.judged)} {src.noun} of {t.measure} are NaN or "
                f"empty: no verdict on them{tail}"
            )
        fail_c = self.fail_c
        between = (
            f"between pass {self.sym} {self.thr} and fail {SYMBOL[fail_c.op]} "
            f"{_shown(fail_c, t.unit)}"
            if fail_c
            else f"not {self.sym} {self.thr}"
        )
        if self.many:
            return (
                f"{t.what} {between} on {counts['inconclusive']} of {self.measured} {src.noun} "
                f"(worst {self.shown}): not a pass{tail}"
            )
        return f"{t.what} {self.shown} is {between}: not a pass{tail}"

    def pass_reason(self) -> str:
        """Why it passes: 'ΔS ≤ 0.45 on all 4 queries (worst 0.31)'."""
        t, src, tail = self.t, self.src, self.tail
        extra = f": {src.extra}" if src.extra else ""
        if t.measure == "verdict":
            return f"{self.probe} passes: {src.extra}"
        if self.many:
            reason = (
                f"{t.what} {self.sym} {self.thr} on all {self.measured} {src.noun} "
                f"(worst {self.shown}){tail}"
            )
            if self.counts["fail"]:
                reason += f"; {self.counts['fail']} failing within the limit of {t.failure_limit}"
            return reason
        if t.measure == "lambda_convergent" and "lambda_flips" in src.values:
            return _lambda_text(src.values) + tail
        if t.unit == "bool":
            return f"{t.what}{tail}{extra}"
        if self.zero_count:
            return f"no {t.what}{tail}{extra}"
        return f"{t.what} {self.shown} {self.sym} {self.thr}{tail}"
