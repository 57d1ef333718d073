"""Site-config models for metric history (the `[history]` table). Pydantic only.

[history]
db = "history.duckdb"            # default: history.duckdb in fixmap's data dir

[history.sources.prom]
kind = "prometheus"              # Prometheus, Thanos, Mimir, VictoriaMetrics ...
url = "http://127.0.0.1:9090"
since = "24h"
step = "30s"
[history.sources.prom.queries]   # metric name -> PromQL
latency_ms = 'histogram_quantile(0.95, sum(rate(request_seconds_bucket[1m])) by (le, job)) * 1000'
rate_429 = 'sum(rate(responses_total{code="429"}[1m])) by (job) / sum(rate(responses_total[1m])) by (job)'

[history.sources.exports]
kind = "files"
paths = ["exports/*.parquet"]    # files, folders or globs, relative to the config file

[history.sources.app]
kind = "scrape"                  # a Prometheus-text /metrics endpoint, read by the sampler
url = "/metrics"                 # relative to the service's base_url, or a full URL
service = "rag"
families = ["rag_*"]             # stored as they are: counters as rates/s, histograms as
                                 # <name>_p50/_p95/_p99, gauges as they are
[history.sources.app.metrics]    # history metric -> what it is computed from, each scrape
rate_429 = { counter = "rag_requests", match = { status = "429" }, per = {} }
latency_ms = { histogram = "rag_request_seconds", quantile = 0.95, scale = 1000 }

[history.sampling]               # the live sampler (the console, `fixmap watch`)
interval = "15s"
sources = ["app", "prom"]        # scrape and prometheus sources, read every interval
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from console.site.fields import Duration

"""Seconds; written as '30s', '5m', '24h' or a plain number of seconds."""

METRIC_NAME = r"^[A-Za-z_:][A-Za-z0-9_:.\-]*$"


def _secret_headers(v: Any) -> Any:
    """Header values take `{secret:NAME}` only: a source has no values of its own to fill."""
    if isinstance(v, dict):
        from console.core.templates import check_names

        check_names(list(v.values()), frozenset(), "headers")
    return v


SecretHeaders = Annotated[dict[str, str], BeforeValidator(_secret_headers)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrometheusSource(_Model):
    """A Prometheus-compatible HTTP API read with query_range."""

    kind: Literal["prometheus"]
    url: str = Field(pattern=r"^https?://")
    """Base URL of the API, e.g. http://prometheus:9090 (…/api/v1/query_range is added)."""
    queries: dict[str, str] = Field(min_length=1)
    """Metric name -> PromQL. Each query's series are stored under that metric name."""
    since: Duration = 86400.0
    """How far back each ingest reads."""
    step: Duration = 30.0
    """Resolution of the range queries."""
    service: str | None = None
    """Service to store the series under; default: each series' `service` label, else its `job`."""
    timeout: Duration = 30.0
    token_secret: str | None = None
    """Name of the secret holding a bearer token (never the token itself)."""
    headers: SecretHeaders = Field(default_factory=dict)
    """Extra headers, e.g. X-Scope-OrgID for Mimir; a value may hold `{secret:NAME}`."""
    ca_file: Path | None = None
    """A PEM file of CAs to trust besides the system's (a private CA); relative to the config."""

    @field_validator("queries")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        import re

        for name, promql in v.items():
            if not re.match(METRIC_NAME, name):
                raise ValueError(f"'{name}' is not a usable metric name (letters, digits, _ : . -)")
            if not promql.strip():
                raise ValueError(f"the query for '{name}' is empty")
        return v

    @field_validator("step")
    @classmethod
    def _step(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("step must be more than 0s")
        return v


class ScrapeMetric(_Model):
    """One history metric computed from each scrape of a /metrics endpoint.

    Exactly one of counter, histogram or gauge names the family it reads; `match` picks its
    series (label = value, or label = "~regex" for a regular expression over the whole value)
    and they are summed. A counter gives its rate per second between two scrapes, or with `per`
    its share of the same family's series matching `per` ({} = all of them): 429s over all
    requests. A histogram gives one quantile from the bucket deltas between two scrapes. A gauge
    is stored as it is. `scale` multiplies the value (1000: seconds to ms, 60: per minute).
    """

    counter: str | None = None
    """A counter family (with or without its _total suffix)."""
    histogram: str | None = None
    """A histogram family (without _bucket)."""
    gauge: str | None = None
    """A gauge family (or any untyped one)."""
    match: dict[str, str] = Field(default_factory=dict)
    """Labels the series must have; a value starting with ~ is a regex."""
    per: dict[str, str] | None = None
    """Counters: the share of the series matching these labels ({} = every series)."""
    quantile: float | None = Field(default=None, gt=0, lt=1)
    """Histograms: the quantile, e.g. 0.95."""
    scale: float = 1.0
    """Multiplies the value (1000 turns seconds into milliseconds)."""

    @model_validator(mode="after")
    def _one_family(self) -> ScrapeMetric:
        given = [k for k in ("counter", "histogram", "gauge") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of counter, histogram or gauge"
                + (f", not {given}" if given else "")
            )
        if self.histogram and self.quantile is None:
            raise ValueError("a histogram metric needs a quantile, e.g. quantile = 0.95")
        if self.quantile is not None and not self.histogram:
            raise ValueError("quantile goes with a histogram")
        if self.per is not None and not self.counter:
            raise ValueError("per (a share) goes with a counter")
        for label, value in {**self.match, **(self.per or {})}.items():
            if value.startswith("~"):
                try:
                    re.compile(value[1:])
                except re.error as exc:
                    raise ValueError(
                        f"label {label}: {value[1:]!r} is not a regex: {exc}"
                    ) from None
        return self

    @property
    def family(self) -> str:
        return self.counter or self.histogram or self.gauge or ""


class ScrapeSource(_Model):
    """A Prometheus-text /metrics endpoint the sampler reads every interval."""

    kind: Literal["scrape"]
    url: str
    """The endpoint: a full http(s) URL, or a path on the service's base_url ('/metrics')."""
    service: str | None = None
    """The service the samples are stored under (and whose base_url a path is relative to);
    default: the site's service."""
    families: list[str] = Field(default_factory=list)
    """Families stored as they are, by name or glob ('rag_*'): counters as rates per second,
    histograms as <name>_p50/_p95/_p99, gauges as they are; their labels are kept."""
    metrics: dict[str, ScrapeMetric] = Field(default_factory=dict)
    """History metric name -> what it is computed from (summed over the matching series)."""
    timeout: Duration = 5.0
    headers: SecretHeaders = Field(default_factory=dict)
    """Extra headers; a value may hold `{secret:NAME}` (resolved when the source is read)."""
    ca_file: Path | None = None
    """A PEM file of CAs to trust besides the system's (a private CA); relative to the config."""
    token_secret: str | None = None
    """Name of the secret holding a bearer token (never the token itself)."""

    @field_validator("metrics")
    @classmethod
    def _names(cls, v: dict[str, ScrapeMetric]) -> dict[str, ScrapeMetric]:
        for name in v:
            if not re.match(METRIC_NAME, name):
                raise ValueError(f"'{name}' is not a usable metric name (letters, digits, _ : . -)")
        return v

    @model_validator(mode="after")
    def _something(self) -> ScrapeSource:
        if not self.families and not self.metrics:
            raise ValueError("a scrape source stores nothing: give families, metrics or both")
        if not re.match(r"^(https?://|/)", self.url):
            raise ValueError(f"url {self.url!r}: give a full http(s) URL or a path like /metrics")
        return self


class SamplingSpec(_Model):
    """The live sampler: which sources it reads, how often."""

    interval: Duration = 15.0
    """Time between two sampling rounds."""
    sources: list[str] = Field(default_factory=list)
    """Names of [history.sources.*] of kind scrape or prometheus."""

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if v < 0.2:
            raise ValueError("the sampling interval must be at least 0.2s")
        return v


class FileSource(_Model):
    """CSV or Parquet files with ts/service/metric/value(/labels) columns."""

    kind: Literal["files"]
    paths: list[str] = Field(min_length=1)
    """Files, folders or glob patterns; relative paths are relative to the config file."""
    service: str | None = None
    """Service for files without a service column."""


MetricSource = Annotated[PrometheusSource | FileSource | ScrapeSource, Field(discriminator="kind")]


class HistorySpec(BaseModel):
    """Where metric history lives and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    db: Path | None = None
    """The DuckDB file; default: history.duckdb in fixmap's data dir."""
    lock_timeout: Duration = 20.0
    """How long a read or write waits for another fixmap process to let go of the file."""
    memory_limit: str | None = Field(
        default="128MB", pattern=r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)\s*$"
    )
    """How much memory the console's history queries may use (DuckDB memory_limit)."""
    sources: dict[str, MetricSource] = Field(default_factory=dict)
    """Metric sources: `fixmap history ingest` (with no files) loads the prometheus and files
    ones; the sampler reads those named in [history.sampling]."""
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    """The live sampler ([history.sampling]): off while it names no sources."""
    max_age: Duration | None = None
    """How old the newest data point a history gate target stands on may be; older is
    inconclusive. Default: 3 sampling intervals while sampling, else 5 minutes."""

    @model_validator(mode="after")
    def _sampled_sources(self) -> HistorySpec:
        for name in self.sampling.sources:
            src = self.sources.get(name)
            if src is None:
                from console.core import closest

                guess = closest(name, self.sources)
                hint = (
                    f"did you mean '{guess}'?" if guess else "define [history.sources." + name + "]"
                )
                raise ValueError(f"sampling.sources: no source '{name}' ({hint})")
            if src.kind == "files":
                raise ValueError(
                    f"sampling.sources: '{name}' is a files source; the sampler reads scrape "
                    "and prometheus sources"
                )
        return self

    def default_max_age(self) -> float:
        """max_age when a target sets none: [history] max_age, else 3 sampling intervals while
        sampling, else 5 minutes."""
        if self.max_age is not None:
            return self.max_age
        if self.sampling.sources:
            return 3 * self.sampling.interval
        return 300.0
