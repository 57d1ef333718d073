"""The probe kinds past plain `http` (the `[probes.NAME]` tables with `kind = "..."`), and the
union a site config's probe table is parsed as. The shared parts — requests, checks, templates,
the base every kind extends — are in console/site/probe_spec.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from console.site.fields import JsonPath
from console.site.probe_spec import (
    METRIC_NAME,
    HttpMethod,
    HttpProbe,
    ProbeBase,
    Request,
    Statuses,
    UrlOrRequest,
    _off,
    _Request,
)


class LatencyProbe(ProbeBase, _Request):
    """N requests; the chosen percentile of their latency against the service's budget."""

    kind: Literal["latency"]
    requests: int = Field(default=20, ge=1, le=10_000)
    """How many requests are measured."""
    concurrency: int = Field(default=5, ge=1, le=1000)
    """How many of them are in flight at once (also bounded by max_in_flight)."""
    warmup_requests: int = Field(default=1, ge=0, le=100)
    """Requests sent first and not measured (steady-state latency; 'warmup' judges cold starts)."""
    percentile: Literal[50, 90, 95, 99] = 95
    budget_ms: float | None = Field(default=None, gt=0)
    """Default: the service's latency_budget_ms."""
    expect_status: Statuses = Field(default_factory=lambda: [200])
    min_answered: float = Field(default=0.5, gt=0, le=1)
    """Share of requests that must answer with an expected status to judge at all."""


class RateLimitProbe(ProbeBase, _Request):
    """A burst of requests; the share answered 429 against a ceiling, and whether 429s say when."""

    kind: Literal["rate_limit"]
    requests: int = Field(default=40, ge=1, le=10_000)
    concurrency: int = Field(default=20, ge=1, le=1000)
    max_share: float = Field(default=0.005, ge=0, le=1)
    """Highest share of 429 answers that passes (0.5 % by default)."""
    require_retry_after: bool = True
    """A 429 without Retry-After fails the probe: clients cannot back off properly."""


class WarmupProbe(ProbeBase, _Request):
    """The first call of each popular query: is the cache warm, and how slow are first calls.

    `url`/`body` hold `{query}`. With a cache signal (a JSON path or a header saying hit/miss)
    the verdict is the share of first calls that missed the cache; without one, the first calls'
    p95 against the budget and against the same calls repeated.
    """

    FILLS = {"url": frozenset({"query"}), "body": frozenset({"query"})}

    kind: Literal["warmup"]
    url: str = "/retrieve?q={query}&k=3"
    queries: list[str] = Field(min_length=1)
    """The queries a warm service has cached (its popular set)."""
    cache_path: JsonPath | None = "cache"
    """JSON path of the cache signal in the response; "" for none (then latency decides)."""
    cache_header: str | None = None
    """Header carrying the cache signal (e.g. 'X-Cache')."""
    hit_values: list[str] = Field(default_factory=lambda: ["hit", "true", "1"])
    """Signal values (case-insensitive) that mean a cache hit."""
    max_miss_share: float = Field(default=0.25, ge=0, le=1)
    budget_ms: float | None = Field(default=None, gt=0)
    expect_status: Statuses = Field(default_factory=lambda: [200])


Off = BeforeValidator(_off)
"""'' switches an optional field off (the same as leaving a default path out)."""


class IndexProbe(ProbeBase):
    """The index the service runs against the manifest: zero silent mismatches.

    Three reads, each optional: the manifest (what should be live), the stats endpoint's
    self-report (`live_url`: hash and doc/chunk counts), and the served side — the build or hash
    carried *in answers* of a search endpoint (`served`), per response or per hit, compared
    with the manifest's hash or a pin. A stats endpoint can say the new build while every answer
    still comes from the old one: only the served side shows that.
    """

    FILLS = {"served": frozenset({"query"})}

    kind: Literal["index"]
    manifest_url: Annotated[UrlOrRequest | None, Off] = "/manifest"
    """Where the manifest is read ('' for none: then `served_pin` is what answers must carry)."""
    live_url: Annotated[UrlOrRequest | None, Off] = "/index/stats"
    """Where the service reports its live index ('' for none)."""
    manifest_hash: Annotated[JsonPath | None, Off] = "index_hash"
    manifest_docs: Annotated[JsonPath | None, Off] = "doc_count"
    manifest_chunks: Annotated[JsonPath | None, Off] = "chunk_count"
    live_hash: Annotated[JsonPath | None, Off] = "index_hash"
    live_docs: Annotated[JsonPath | None, Off] = "doc_count"
    live_chunks: Annotated[JsonPath | None, Off] = "chunk_count"
    served: Request | None = None
    """A search request whose answers carry the build they were served from, e.g.
    { method = "POST", url = "/v1/search", body = { query = "{query}", top_k = 3 } }."""
    served_queries: list[str] = Field(default_factory=lambda: ["fixmap index check"])
    """One served request per query, filled in as `{query}`."""
    served_hits: Annotated[JsonPath | None, Off] = None
    """JSON path of the list of hits in a served answer; then `served_hash` is read in each hit.
    Unset: `served_hash` is read once per answer."""
    served_hash: Annotated[JsonPath | None, Off] = None
    """JSON path of the served build/hash (in the answer, or in each hit)."""
    served_pin: str | None = None
    """Compare the served hash with this key of [pins] instead of the manifest's hash."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers sent with every request of the probe (templates: {secret:NAME})."""
    bearer_secret: str | None = None

    @model_validator(mode="after")
    def _something_to_compare(self) -> IndexProbe:
        pairs = [
            (self.manifest_hash, self.live_hash),
            (self.manifest_docs, self.live_docs),
            (self.manifest_chunks, self.live_chunks),
        ]
        live = bool(self.live_url and self.manifest_url and any(m and v for m, v in pairs))
        if self.served is not None:
            if not self.served_hash:
                raise ValueError("served needs served_hash: where answers carry their build")
            if not self.served_pin and not (self.manifest_url and self.manifest_hash):
                raise ValueError(
                    "served answers are compared with the manifest's hash (manifest_url and "
                    "manifest_hash) or a pin (served_pin): set one"
                )
        elif not live:
            raise ValueError(
                "an index probe needs manifest_url with live_url and a pair of manifest_*/live_* "
                "paths, or served (answers that carry their build)"
            )
        return self


class StabilityProbe(ProbeBase, _Request):
    """A gold question and its paraphrases against retrieval: ΔS, coverage, λ convergence.

    `url`/`body` hold `{query}`, `{seed}` and `{k}`.
    """

    FILLS = {"url": frozenset({"query", "seed", "k"}), "body": frozenset({"query", "seed", "k"})}

    kind: Literal["stability"]
    url: str = "/retrieve?q={query}&k={k}&seed={seed}"
    question: str = Field(min_length=3)
    paraphrases: list[str] = Field(min_length=1)
    """Paraphrases of the question (the seed's gate uses 3)."""
    expected_anchors: list[str] = Field(min_length=1)
    """The anchors of the section that answers the question."""
    k: int = Field(default=5, ge=1, le=100)
    seeds: list[int | str] = Field(default_factory=lambda: [1, 2], min_length=2, max_length=2)
    """Two retrieval seeds (or replicas) whose top-k must agree."""
    results_path: JsonPath = "results"
    """JSON path of the list of retrieved snippets."""
    text_path: JsonPath = "text"
    """Within one snippet: its text."""
    anchor_path: JsonPath = "anchor"
    """Within one snippet: its section anchor."""
    id_path: JsonPath = "id"
    """Within one snippet: its id (for λ, the top-k order)."""
    context: int = Field(default=1, ge=1, le=100)
    """How many top snippets form 'the retrieved text' ΔS is measured against."""
    min_coverage: float = Field(default=0.70, ge=0, le=1)
    delta_s_pass: float | None = Field(default=None, gt=0, le=2)
    """Override the embedder's 'stable' ΔS band (pass at or below)."""
    delta_s_fail: float | None = Field(default=None, gt=0, le=2)
    """Override the embedder's 'high risk' ΔS band (fail above)."""
    embedder: Literal["auto", "builtin", "site"] = "auto"
    """auto: the site's [embeddings] endpoint when configured, else the built-in embedder."""
    expect_status: Statuses = Field(default_factory=lambda: [200])

    @model_validator(mode="after")
    def _bands(self) -> StabilityProbe:
        if self.delta_s_pass and self.delta_s_fail and self.delta_s_fail < self.delta_s_pass:
            raise ValueError("delta_s_fail must be at least delta_s_pass")
        return self


class IdempotencyProbe(ProbeBase, _Request):
    """Replay writes with the same key; the share that caused exactly one side effect."""

    FILLS = {
        "url": frozenset({"key"}),
        "body": frozenset({"key"}),
        "counter_url": frozenset({"key"}),
        "counter_labels": frozenset({"key"}),
    }

    kind: Literal["idempotency"]
    url: str = "/write"
    method: HttpMethod = "POST"
    key_header: str = "Idempotency-Key"
    keys: int = Field(default=5, ge=1, le=1000)
    """How many distinct keys to write."""
    replays: int = Field(default=4, ge=2, le=100)
    """How many times each key is sent (at once, as a retry storm would)."""
    counter_url: UrlOrRequest = "/effects?key={key}"
    """Where the side-effect counter is read: with {key}, per key; without, a global counter."""
    counter_path: JsonPath = "effects"
    """JSON path of the counter in the counter_url answer."""
    counter_metric: str | None = Field(default=None, pattern=METRIC_NAME)
    """Instead of counter_path: the counter is this metric of a Prometheus-text / OpenMetrics
    answer (e.g. counter_url = "/metrics", counter_metric = "side_effects_total"), summed over
    the samples whose labels match counter_labels."""
    counter_labels: dict[str, str] = Field(default_factory=dict)
    """With counter_metric: label values the samples must have ({key} counts per key)."""
    min_share: float = Field(default=0.999, ge=0, le=1)
    expect_status: Statuses = Field(default_factory=lambda: [200, 201, 202, 204, 409])
    refused_status: Statuses = Field(default_factory=lambda: [423, 503])
    """Statuses meaning 'writes refused now' (read-only): the probe is then inconclusive."""


class PinsProbe(ProbeBase, _Request):
    """Deployed versions (model, prompt, embedder, index…) against the pinned lock: as the
    service reports them (`url`, a GET or a POST with a body), and as its answers carry them
    (`served` + `served_fields`), where the service puts them there."""

    FILLS = {"served": frozenset({"query"})}

    kind: Literal["pins"]
    url: str = "/manifest"
    pins_path: Annotated[JsonPath | None, Off] = "pins"
    """JSON path of the object of deployed versions ('' for none: only `fields`)."""
    fields: dict[str, JsonPath] = Field(default_factory=dict)
    """Lock key -> JSON path, for versions that live elsewhere in the response."""
    lock: dict[str, str] | None = None
    """Expected versions; default: the site's [pins] table."""
    served: Request | None = None
    """A request whose answers carry versions (a search, a chat completion...)."""
    served_queries: list[str] = Field(default_factory=lambda: ["fixmap pins check"])
    """One served request per query, filled in as `{query}`."""
    served_hits: Annotated[JsonPath | None, Off] = None
    """JSON path of the list of hits in a served answer; `served_fields` are then read per hit."""
    served_fields: dict[str, JsonPath] = Field(default_factory=dict)
    """Lock key -> JSON path in each served answer (or hit), e.g. { model = "meta.model" }."""

    @model_validator(mode="after")
    def _served(self) -> PinsProbe:
        if self.served is not None and not self.served_fields:
            raise ValueError("served needs served_fields: lock key -> where answers carry it")
        if self.served_fields and self.served is None:
            raise ValueError("served_fields go with served (the request whose answers carry them)")
        return self


class ReadOnlyProbe(ProbeBase, _Request):
    """In read-only mode, a write is refused with 423/503 and a Retry-After.

    In read-write mode nothing is written: the probe passes unless `expect_read_only` is set.
    """

    FILLS = {"url": frozenset({"key"}), "body": frozenset({"key"})}

    kind: Literal["read_only"]
    url: str = "/write"
    method: HttpMethod = "POST"
    mode_url: UrlOrRequest = "/readyz"
    mode_path: JsonPath = "mode"
    read_only_values: list[str] = Field(
        default_factory=lambda: ["read-only", "read_only", "readonly"]
    )
    key_header: str = "Idempotency-Key"
    refused_status: Statuses = Field(default_factory=lambda: [423, 503])
    require_retry_after: bool = True
    expect_read_only: bool = False
    """Fail when the service is not in read-only mode (for steps right after switching it on)."""


class CommandProbe(ProbeBase):
    """An argv (never a shell string) with a timeout; verdict from its exit code or its JSON."""

    kind: Literal["command"]
    argv: list[str] = Field(min_length=1)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    secret_env: dict[str, str] = Field(default_factory=dict)
    """Environment variable -> secret name, resolved at run time."""
    pass_exit_codes: list[int] = Field(default_factory=lambda: [0])
    judge: Literal["exit_code", "json"] = "exit_code"
    """json: stdout is JSON; `status_path` holds pass/fail/inconclusive (or true/false)."""
    status_path: JsonPath = "status"
    value_path: JsonPath | None = None
    """JSON path of the measured value to show."""

    @field_validator("argv")
    @classmethod
    def _no_empty(cls, v: list[str]) -> list[str]:
        if not v[0].strip():
            raise ValueError("argv[0] (the program) is empty")
        return v


AnyProbe = (
    HttpProbe
    | LatencyProbe
    | RateLimitProbe
    | WarmupProbe
    | IndexProbe
    | StabilityProbe
    | IdempotencyProbe
    | PinsProbe
    | ReadOnlyProbe
    | CommandProbe
)

ProbeSpec = Annotated[AnyProbe, Field(discriminator="kind")]
"""One `[probes.NAME]` table: a probe of one kind (see PROBE_KINDS). Use ProbeBase for isinstance."""
