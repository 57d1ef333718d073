"""The `rate_limit` probe: a burst of requests; the share answered 429 against a ceiling, and
whether every 429 says when to come back (Retry-After), since clients cannot back off otherwise.
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
    threshold = f"429 share <= {spec.max_share * 100:g}%"

    async def send(_i: int) -> Answer:
        return await run.send(spec.method, url, timeout=timeout, headers=headers, body=body)

    answers = await run.gather(spec.requests, spec.concurrency, send)
    got = [a for a in answers if isinstance(a, Answer)]
    limited = [a for a in got if a.status == 429]
    no_retry_after = [a for a in limited if not a.headers.get("retry-after")]
    errors_5xx = [a for a in got if a.status >= 500]
    values: dict[str, Any] = {
        "requests": spec.requests,
        "answered": len(got),
        "count_429": len(limited),
        "missing_retry_after": len(no_retry_after),
        "error_rate_5xx": round(len(errors_5xx) / spec.requests, 4),
    }
    if not got:
        first = next(a for a in answers if isinstance(a, Verdict))
        return Outcome("fail", None, threshold, f"no request answered: {first.reason}", values, "%")
    share = len(limited) / len(got)
    values["share_429"] = round(share, 4)
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
    if share > spec.max_share:
        ra = ", ".join(values["retry_after"])
        return Outcome(
            "fail",
            share,
            threshold,
            f"{len(limited)} of {len(got)} answered 429 ({share * 100:.1f}%, Retry-After {ra}): the rate limit is biting",
            values,
            "%",
        )
    return Outcome(
        "pass",
        share,
        threshold,
        f"{len(limited)} of {len(got)} answered 429 in a burst",
        values,
        "%",
    )
