"""The `rate_limit` probe: a burst of requests; the share not served (answered 429, or not
answered at all) against a ceiling, and whether every 429 says when to come back (Retry-After),
since clients cannot back off otherwise. A request dropped or timed out under a burst is worse
than a 429: the client gets nothing to back off on, so it counts against the ceiling too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.probes.client import Answer, Run
from console.probes.result import Outcome, Verdict

if TYPE_CHECKING:
    from console.site import RateLimitProbe


async def probe_rate_limit(run: Run, spec: RateLimitProbe, timeout: float) -> Outcome:
    url = await run.url(spec)
    headers = await run.headers(spec)
    body = await run.body(spec)
    threshold = f"429 + unanswered share <= {spec.max_share * 100:g}%"

    async def send(_i: int) -> Answer:
        return await run.send(spec.method, url, timeout=timeout, headers=headers, body=body)

    answers = await run.gather(spec.requests, spec.concurrency, send)
    got = [a for a in answers if isinstance(a, Answer)]
    limited = [a for a in got if a.status == 429]
    no_retry_after = [a for a in limited if not a.headers.get("retry-after")]
    errors_5xx = [a for a in got if a.status >= 500]
    silent = [a for a in answers if isinstance(a, Verdict)]
    values: dict[str, Any] = {
        "requests": spec.requests,
        "answered": len(got),
        "unanswered": len(silent),
        "count_429": len(limited),
        "missing_retry_after": len(no_retry_after),
        "error_rate_5xx": round(len(errors_5xx) / spec.requests, 4),
    }
    if not got:
        return Outcome(
            "fail", None, threshold, f"no request answered: {silent[0].reason}", values, "%"
        )
    share = (len(limited) + len(silent)) / spec.requests
    values["share_429"] = round(len(limited) / spec.requests, 4)
    if limited:
        values["retry_after"] = sorted({a.headers.get("retry-after") or "missing" for a in limited})
    if spec.require_retry_after and no_retry_after:
        return Outcome(
            "fail",
            share,
            threshold,
            f"{len(no_retry_after)} of {len(limited)} 429 answers carry no Retry-After: clients cannot back off",
            values,
            "%",
        )
    if silent and share > spec.max_share:
        lost = f"{len(silent)} of {spec.requests} burst requests got no answer ({silent[0].reason})"
        also = f", {len(limited)} answered 429" if limited else ""
        return Outcome(
            "fail",
            share,
            threshold,
            f"{lost}{also}: {share * 100:.1f}% not served, and clients get nothing to back off on",
            values,
            "%",
        )
    if share > spec.max_share:
        ra = ", ".join(values["retry_after"])
        return Outcome(
            "fail",
            share,
            threshold,
            f"{len(limited)} of {spec.requests} answered 429 ({share * 100:.1f}%, Retry-After {ra}): the rate limit is biting",
            values,
            "%",
        )
    return Outcome(
        "pass",
        share,
        threshold,
        f"{len(limited)} of {spec.requests} burst requests answered 429, {len(silent)} unanswered "
        f"({share * 100:.1f}%)",
        values,
        "%",
    )
