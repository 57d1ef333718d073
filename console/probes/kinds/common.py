"""Small things several probe kinds share: a percentile, a tally of answer statuses, awaiting
reads together, and the served side (answers that carry what they were served from)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from console.core.templates import names_in
from console.probes.client import Answer, Run, short
from console.probes.result import Verdict, broken


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default), without importing numpy."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * pct / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def status_counts(answers: Iterable[Answer | Verdict]) -> dict[str, int]:
    """How many answers had each status ('no answer' for requests that got none)."""
    counts: dict[str, int] = {}
    for a in answers:
        key = str(a.status) if isinstance(a, Answer) else "no answer"
        counts[key] = counts.get(key, 0) + 1
    return counts


async def all_of(*awaitables: Awaitable[Any]) -> list[Any]:
    """Await them together; the first to raise decides (after every one has finished, so no
    request outlives the probe that sent it)."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return list(results)


async def served_items(run: Run, spec: Any, timeout: float, headers: dict[str, str]) -> list[Any]:
    """What the served request's answers carry: each answer, or each hit of it when the probe
    sets `served_hits`. One request per `served_queries` entry when the request names {query}."""
    target = spec.served
    uses_query = "query" in names_in([target.url, target.body], "param")
    queries = spec.served_queries if uses_query else [None]

    async def one(query: str | None) -> list[Any]:
        values = {"query": query} if query is not None else None
        a = await run.read(spec, "served", values, timeout=timeout, headers=headers, retrying=True)
        a.expect(200, what=f"the served request {short(a.url)}")
        data = a.json()
        if not spec.served_hits:
            return [data]
        hits = a.at(data, spec.served_hits, "served_hits")
        if not isinstance(hits, list):
            raise broken(f"served_hits '{spec.served_hits}' is not a list in {short(a.url)}")
        return hits

    items = [item for batch in await all_of(*(one(q) for q in queries)) for item in batch]
    if not items:
        raise broken(
            f"could not measure: the served answers had no hits at '{spec.served_hits}' "
            "(choose served_queries that find something)"
        )
    return items
