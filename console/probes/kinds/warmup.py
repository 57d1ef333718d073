"""The `warmup` probe: the first call of each popular query — is the cache warm, how slow are
first calls.

With a cache signal (a response header or a JSON path saying hit/miss) the verdict is the share
of first calls that missed the cache. Without one, the first calls' p95 is judged against the
budget and against the same calls repeated: slow first calls that get fast when repeated are a
cold start; slow first calls that stay slow when repeated are a slow service, not a cold one
(inconclusive here: the latency probe judges that). Each query goes into the url/body as
`{query}`. First calls that got no answer, or not the expected status, are not measured: none
answering is an error (could not measure), some missing makes the verdict inconclusive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.probes.client import Answer, Run, refusal, short
from console.probes.kinds.common import percentile
from console.probes.result import Outcome, Verdict, broken

if TYPE_CHECKING:
    from console.site import WarmupProbe


def _cache_signal(spec: WarmupProbe, answer: Answer) -> bool | None:
    """Whether this answer was a cache hit; None when the probe has no cache signal."""
    raw: Any = None
    if spec.cache_header:
        raw = answer.headers.get(spec.cache_header)
        if raw is None:
            raise broken(
                f"{short(answer.url)} sent no {spec.cache_header} header; set cache_header to the one this site uses"
            )
    elif spec.cache_path:
        raw = answer.at(answer.json(), spec.cache_path, "cache_path")
    else:
        return None
    hits = {h.lower() for h in spec.hit_values}
    return str(raw).strip().lower() in hits


async def probe_warmup(run: Run, spec: WarmupProbe, timeout: float) -> Outcome:
    headers = await run.headers(spec)
    budget = run.budget_ms(spec)

    async def first_call(i: int) -> Answer:
        return await run.request(
            spec, {"query": spec.queries[i]}, timeout=timeout, headers=headers, retrying=True
        )

    answers = await run.gather(len(spec.queries), len(spec.queries), first_call)
    good = [a for a in answers if isinstance(a, Answer) and a.status in spec.expect_status]
    if not good:
        first = answers[0]
        why = first.reason if isinstance(first, Verdict) else refusal(first)
        raise broken(f"could not measure: no warm-up query answered as expected ({why})")
    first_ms = [a.elapsed_ms for a in good]
    values: dict[str, Any] = {
        "queries": len(spec.queries),
        "answered": len(good),
        "first_call_p95_ms": round(percentile(first_ms, 95), 1),
        "first_call_max_ms": round(max(first_ms), 1),
        "budget_ms": budget,
    }
    signals = [_cache_signal(spec, a) for a in good]
    if signals[0] is not None:
        misses = sum(1 for s in signals if not s)
        share = misses / len(good)
        values["miss_share"] = round(share, 4)
        values["cache_hit_ratio"] = round(1 - share, 4)
        threshold = f"cache misses <= {spec.max_miss_share * 100:g}%"
        line = f"{misses} of {len(good)} popular queries missed (first calls p95 {values['first_call_p95_ms']:.0f} ms)"
        if len(good) < len(spec.queries):
            return Outcome(
                "inconclusive",
                share,
                threshold,
                f"only {len(good)} of {len(spec.queries)} warm-up queries answered; {line}",
                values,
                "%",
            )
        if share > spec.max_miss_share:
            return Outcome("fail", share, threshold, f"cold cache: {line}", values, "%")
        return Outcome("pass", share, threshold, f"cache warm: {line}", values, "%")

    again = await run.gather(len(spec.queries), len(spec.queries), first_call)
    repeat_ms = [
        a.elapsed_ms for a in again if isinstance(a, Answer) and a.status in spec.expect_status
    ]
    threshold = f"first calls p95 <= {budget:g} ms"
    p95_first = values["first_call_p95_ms"]
    values["repeat_p95_ms"] = round(percentile(repeat_ms, 95), 1) if repeat_ms else None
    repeated = (
        f"repeated p95 {values['repeat_p95_ms']:.0f} ms" if repeat_ms else "repeats not answered"
    )
    line = f"first calls p95 {p95_first:.0f} ms, {repeated}"
    if len(good) < len(spec.queries):
        return Outcome(
            "inconclusive",
            p95_first,
            threshold,
            f"only {len(good)} of {len(spec.queries)} warm-up queries answered; {line}",
            values,
            "ms",
        )
    if p95_first <= budget:
        return Outcome(
            "pass", p95_first, threshold, f"{line}: within the {budget:g} ms budget", values, "ms"
        )
    if repeat_ms and p95_first > 2 * values["repeat_p95_ms"]:
        return Outcome(
            "fail",
            p95_first,
            threshold,
            f"cold start: {line}; first calls over the {budget:g} ms budget",
            values,
            "ms",
        )
    return Outcome(
        "inconclusive",
        p95_first,
        threshold,
        f"{line}: first calls over the {budget:g} ms budget, "
        + (
            "but repeats as slow, so the service is slow rather than cold (see the latency probe)"
            if repeat_ms
            else "and no repeat answered to tell a cold start from a slow service"
        ),
        values,
        "ms",
    )
