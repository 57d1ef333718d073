"""The `stability` probe: a gold question and its paraphrases against retrieval — ΔS, coverage
and λ convergence, the seed's three retrieval measures.

Every query is retrieved under two seeds (or replicas), filled into the url/body as `{query}`,
`{seed}` and `{k}`. ΔS is 1 − cos(question, the top snippets' text) by the site's embeddings
endpoint, else the built-in lexical embedder (said in the reason, and judged in that embedder's
own bands); coverage is the share of the expected anchors in the top-k; λ is convergent when
both seeds return the same top-k in the same order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.probes.client import Answer, Run, refusal, short
from console.probes.result import Outcome, Verdict, broken

if TYPE_CHECKING:
    from console.site import StabilityProbe


async def _embedder_for(run: Run, spec: StabilityProbe) -> tuple[Any, str | None]:
    """The embedder to use and, when it is the lexical fallback, why."""
    from console.probes.embed import HashEmbedder, SiteEmbedder

    endpoint = run.config.embeddings
    if spec.embedder == "builtin":
        return HashEmbedder(), "the probe asks for the built-in embedder"
    if endpoint is None:
        if spec.embedder == "site":
            raise broken("embedder = 'site' but the site config has no [embeddings]")
        return HashEmbedder(), "no [embeddings] configured"
    key = await run.secret(endpoint.api_key_secret) if endpoint.api_key_secret else None
    return SiteEmbedder(endpoint, run.client, key), None


Snippet = tuple[str, str, str]
"""(id, anchor, text) of one retrieved item."""


async def _retrieve_all(
    run: Run, spec: StabilityProbe, queries: list[str], timeout: float
) -> dict[tuple[str, Any], list[Snippet]]:
    """The top-k snippets of every query under every seed."""
    headers = await run.headers(spec)
    jobs = [(q, s) for q in queries for s in spec.seeds]

    async def retrieve(i: int) -> Answer:
        q, seed = jobs[i]
        vals = {"query": q, "seed": seed, "k": spec.k}
        return await run.request(spec, vals, timeout=timeout, headers=headers, retrying=True)

    answers = await run.gather(len(jobs), len(jobs), retrieve)
    snippets: dict[tuple[str, Any], list[Snippet]] = {}
    for (q, seed), a in zip(jobs, answers, strict=True):
        if isinstance(a, Verdict):
            raise a
        if a.status not in spec.expect_status:
            raise broken(f"could not measure: retrieve {refusal(a)} for {q!r} (seed {seed})")
        items = a.at(a.json(), spec.results_path, "results_path")
        if not isinstance(items, list):
            raise broken(f"results_path '{spec.results_path}' is not a list in {short(a.url)}")
        snippets[(q, seed)] = [
            (
                str(a.at(item, spec.id_path, "id_path")),
                str(a.at(item, spec.anchor_path, "anchor_path")),
                str(a.at(item, spec.text_path, "text_path")),
            )
            for item in items[: spec.k]
        ]
    return snippets


async def probe_stability(run: Run, spec: StabilityProbe, timeout: float) -> Outcome:
    from console.probes.embed import EmbeddingError, HashEmbedder, delta_s, zone

    queries = [spec.question, *spec.paraphrases]
    snippets = await _retrieve_all(run, spec, queries, timeout)

    first_seed, second_seed = spec.seeds[0], spec.seeds[1]
    expected = set(spec.expected_anchors)
    coverage = {
        q: len(expected & {anchor for _i, anchor, _t in snippets[(q, first_seed)]}) / len(expected)
        for q in queries
    }
    flips = [
        q
        for q in queries
        if [i for i, _a, _t in snippets[(q, first_seed)]]
        != [i for i, _a, _t in snippets[(q, second_seed)]]
    ]
    contexts = [
        "\n".join(t for _i, _a, t in snippets[(q, first_seed)][: spec.context]) for q in queries
    ]

    embedder, fallback = await _embedder_for(run, spec)
    try:
        vectors = await embedder.embed(queries + contexts)
    except EmbeddingError as exc:
        if spec.embedder == "site":
            raise broken(f"site embeddings: {exc}") from None
        embedder, fallback = (
            HashEmbedder(),
            f"site embeddings failed: {exc}",
        )
        vectors = await embedder.embed(queries + contexts)
    n = len(queries)
    ds = [round(delta_s(vectors[i], vectors[n + i]), 4) for i in range(n)]
    bands = embedder.bands
    stable = spec.delta_s_pass or bands.stable
    high = spec.delta_s_fail or max(bands.high_risk, stable)
    if spec.delta_s_pass or spec.delta_s_fail:
        band_source = "bands set by the probe"
    else:
        band_source = bands.source
    worst_ds = max(ds)
    worst_cov = min(coverage.values())
    values: dict[str, Any] = {
        "delta_s": worst_ds,
        "delta_s_per_query": dict(zip(queries, ds, strict=True)),
        "delta_s_zones": {
            q: zone(d, type(bands)(stable, high, band_source))
            for q, d in zip(queries, ds, strict=True)
        },
        "delta_s_bands": {"stable": stable, "high_risk": high, "source": band_source},
        "coverage": round(worst_cov, 4),
        "coverage_per_query": {q: round(c, 4) for q, c in coverage.items()},
        "lambda_convergent": not flips,
        "lambda_flip_rate": round(len(flips) / n, 4),
        "lambda_flips": flips,
        "seeds": [first_seed, second_seed],
        "embedder": embedder.name,
        "embedder_lexical": bool(embedder.lexical),
        "lexical_fallback": fallback,
    }
    threshold = f"ΔS <= {stable:.2f}, coverage >= {spec.min_coverage:.2f}, λ convergent"
    if not fallback:
        lead = ""
    elif fallback.startswith("site embeddings failed"):
        lead = f"lexical fallback ({fallback}): "
    else:
        lead = "lexical fallback: "
    who = "" if fallback else f" (ΔS by {embedder.name})"
    lam = (
        "λ convergent"
        if not flips
        else f"λ divergent on {len(flips)} of {n} queries (seeds {first_seed}/{second_seed})"
    )
    worst_zone = zone(worst_ds, type(bands)(stable, high, ""))
    line = f"{lead}ΔS {worst_ds:.2f} {worst_zone}, coverage {worst_cov:.2f}, {lam}{who}"
    if worst_ds > high or worst_cov < spec.min_coverage or flips:
        status = "fail"
    elif worst_ds > stable:
        status = "inconclusive"
    else:
        status = "pass"
    return Outcome(status, worst_ds, threshold, line, values, "", embedder.name)
