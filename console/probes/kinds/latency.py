"""The `latency` probe: N requests, the chosen percentile of their latency against the budget.

Warm-up requests go first and are not measured (cold starts are the warmup probe's business);
too few answers with an expected status make the verdict inconclusive, not a pass. Requests that
get no answer count as errors in `error_rate`; none answering at all is a fail (answering in time
is what this kind measures), and so is a warm-up request that got none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.probes.client import Answer, Run
from console.probes.kinds.common import percentile, status_counts
from console.probes.result import NoAnswer, Outcome, Verdict

if TYPE_CHECKING:
    from console.site import LatencyProbe


async def probe_latency(run: Run, spec: LatencyProbe, timeout: float) -> Outcome:
    url = await run.url(spec)
    headers = await run.headers(spec)
    body = await run.body(spec)
    budget = run.budget_ms(spec)
    threshold = f"p{spec.percentile} <= {budget:g} ms"

    async def send(_i: int) -> Answer:
        return await run.send(spec.method, url, timeout=timeout, headers=headers, body=body)

    for i in range(spec.warmup_requests):
        try:
            await send(i)
        except NoAnswer as v:
            values = {"requests": spec.requests, "answered": 0, "budget_ms": budget}
            return Outcome(
                "fail",
                None,
                threshold,
                f"the warm-up request got no answer: {v.reason}",
                values,
                "ms",
            )
    answers = await run.gather(spec.requests, spec.concurrency, send)
    ok = [a.elapsed_ms for a in answers if isinstance(a, Answer) and a.status in spec.expect_status]
    statuses = status_counts(answers)
    values: dict[str, Any] = {
        "requests": spec.requests,
        "answered": len(ok),
        "statuses": statuses,
        "budget_ms": budget,
    }
    values["error_rate"] = round(1 - len(ok) / spec.requests, 4)
    if not ok:
        first = next((a for a in answers if isinstance(a, Verdict)), None)
        why = first.reason if first else f"statuses {statuses}"
        return Outcome(
            "fail", None, threshold, f"no request answered as expected: {why}", values, "ms"
        )
    for p in (50, 95, 99):
        values[f"p{p}_ms"] = round(percentile(ok, p), 1)
    value = values[f"p{spec.percentile}_ms"]
    others = [p for p in (50, 95, 99) if p != spec.percentile]
    summary = ", ".join(f"p{p} {values[f'p{p}_ms']:.0f}" for p in others) + f"; {len(ok)} requests"
    if len(ok) / spec.requests < spec.min_answered:
        return Outcome(
            "inconclusive",
            value,
            threshold,
            f"only {len(ok)} of {spec.requests} requests answered as expected ({statuses})",
            values,
            "ms",
        )
    if value > budget:
        return Outcome(
            "fail",
            value,
            threshold,
            f"p{spec.percentile} {value:.0f} ms over the {budget:g} ms budget ({summary})",
            values,
            "ms",
        )
    return Outcome(
        "pass",
        value,
        threshold,
        f"p{spec.percentile} {value:.0f} ms within the {budget:g} ms budget ({summary})",
        values,
        "ms",
    )
