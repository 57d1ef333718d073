"""The `idempotency` probe: replay writes with the same key, as a retry storm would, and count
the side effects — the share of keys that caused exactly one.

Each key goes into the url/body as `{key}` and into `key_header`. The counter is read per key
when `counter_url` (or `counter_labels`) names `{key}`, else once before and once after (a
global counter) — as JSON (`counter_path`) or as a metric of a Prometheus-text / OpenMetrics
answer (`counter_metric` + `counter_labels`). Writes refused as in read-only mode make the probe
inconclusive: there is nothing to judge. Writes or counter reads that are unanswered, throttled
or answered with an unexpected status are an error: the side effects could not be counted.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from console.core.templates import names_in, render_text
from console.probes.client import Answer, Run, refusal, short
from console.probes.kinds.common import status_counts
from console.probes.result import Outcome, Verdict, broken

if TYPE_CHECKING:
    from console.site import IdempotencyProbe


async def probe_idempotency(run: Run, spec: IdempotencyProbe, timeout: float) -> Outcome:
    base_headers = await run.headers(spec)
    counter_template = (
        spec.counter_url
        if isinstance(spec.counter_url, str)
        else [spec.counter_url.url, spec.counter_url.body]
    )
    per_key = "key" in names_in([counter_template, spec.counter_labels], "param")
    threshold = f"exactly-once share >= {spec.min_share * 100:g}%"
    prefix = f"fixmap-probe-{uuid.uuid4().hex[:10]}"
    keys = [f"{prefix}-{i}" for i in range(spec.keys)]

    async def counter(key: str | None) -> int:
        fill = {"key": key} if key else None
        a = await run.read(
            spec, "counter_url", fill, timeout=timeout, headers=base_headers, retrying=True
        )
        a.expect(200, what=f"the side-effect counter {short(a.url)}")
        if spec.counter_metric:
            return int(_metric(a, spec, fill or {}))
        value = a.at(a.json(), spec.counter_path, "counter_path")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise broken(f"counter_path '{spec.counter_path}' is {value!r}, not a number")
        return int(value)

    before = None if per_key else await counter(None)
    jobs = [(k, r) for k in keys for r in range(spec.replays)]

    async def write(i: int) -> Answer:
        key = jobs[i][0]
        return await run.request(
            spec,
            {"key": key},
            timeout=timeout,
            headers={**base_headers, spec.key_header: key},
            default_body={"probe": "fixmap idempotency", "key": key},
        )

    answers = await run.gather(len(jobs), len(jobs), write)
    values: dict[str, Any] = {
        "keys": spec.keys,
        "replays": spec.replays,
        "statuses": status_counts(answers),
    }
    refused = [a for a in answers if isinstance(a, Answer) and a.status in spec.refused_status]
    if refused:
        return Outcome(
            "inconclusive",
            None,
            threshold,
            f"writes refused ({refused[0].status}, Retry-After {refused[0].headers.get('retry-after', '-')}): read-only mode? nothing to judge",
            values,
            "%",
        )
    dropped = [a for a in answers if isinstance(a, Verdict)]
    if dropped:
        raise broken(
            f"could not measure: {len(dropped)} of {len(jobs)} writes got no answer "
            f"({dropped[0].reason}), so their side effects cannot be counted",
            **values,
        )
    unexpected = [
        a for a in answers if isinstance(a, Answer) and a.status not in spec.expect_status
    ]
    if unexpected:
        raise broken(
            f"could not measure: {len(unexpected)} of {len(jobs)} writes {refusal(unexpected[0])}",
            **values,
        )

    if per_key:
        effects = await asyncio.gather(*(counter(k) for k in keys))
        exactly_once = sum(1 for e in effects if e == 1)
        duplicates = sum(max(0, e - 1) for e in effects)
        lost = sum(1 for e in effects if e == 0)
        share = exactly_once / len(keys)
    else:
        delta = await counter(None) - (before or 0)
        duplicates = max(0, delta - len(keys))
        lost = max(0, len(keys) - delta)
        share = max(0.0, 1 - (duplicates + lost) / len(keys))
        values["counter_delta"] = delta
    values.update(
        {
            "duplicate_effects": duplicates,
            "lost_effects": lost,
            "exactly_once_share": round(share, 4),
        }
    )
    source = (
        f"counter {spec.counter_metric}" if spec.counter_metric else f"counter {spec.counter_path}"
    )
    line = f"{spec.keys} keys × {spec.replays} replays, {source}"
    if share < spec.min_share:
        return Outcome(
            "fail",
            share,
            threshold,
            f"{duplicates} duplicate and {lost} lost side effects ({line}): replays are not idempotent",
            values,
            "%",
        )
    return Outcome(
        "pass", share, threshold, f"exactly one side effect per key ({line})", values, "%"
    )


def _metric(answer: Answer, spec: IdempotencyProbe, fill: dict[str, str]) -> float:
    """The side-effect counter out of a Prometheus-text answer (labels filled in with the key)."""
    from console.probes.metrics import MetricError, parse_exposition, select

    labels = {k: render_text(v, fill, {}) for k, v in spec.counter_labels.items()}
    try:
        samples = parse_exposition(answer.text(), answer.headers.get("content-type", ""))
        return select(samples, spec.counter_metric or "", labels)
    except MetricError as exc:
        raise broken(f"counter_metric: {short(answer.url)}: {exc}") from None
