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
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from console.site.fields import Duration

"""Seconds; written as '30s', '5m', '24h' or a plain number of seconds."""

METRIC_NAME = r"^[A-Za-z_:][A-Za-z0-9_:.\-]*$"


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
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra headers that are not secret, e.g. X-Scope-OrgID for Mimir."""

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


class FileSource(_Model):
    """CSV or Parquet files with ts/service/metric/value(/labels) columns."""

    kind: Literal["files"]
    paths: list[str] = Field(min_length=1)
    """Files, folders or glob patterns; relative paths are relative to the config file."""
    service: str | None = None
    """Service for files without a service column."""


MetricSource = Annotated[PrometheusSource | FileSource, Field(discriminator="kind")]


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
    """Metric sources `fixmap history ingest` (with no files) and the console's refresh read."""
