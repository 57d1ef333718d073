"""Metric history: a local DuckDB of samples, probe results and events, fed by ingest (CSV,
Parquet, a Prometheus-compatible API), by the live sampler (the site's /metrics and PromQL, every
interval) and by every probe run; named queries, ad-hoc read-only SQL and "what changed" over it.

DuckDB loads when a History is first used, never at import.
"""

from console.history.config import (
    default_db_path,
    history_for,
    ingest_sources,
    run_in_worker_process,
)
from console.history.history import QUERY_TIMEOUT_S, History
from console.history.prometheus import fetch_prometheus, query_instant, source_verify
from console.history.queries import NAMED_QUERIES, named_queries
from console.history.results import (
    Change,
    Event,
    HistoryBusy,
    HistoryError,
    IngestReport,
    NamedQuery,
    QueryCancelled,
    QueryResult,
    QueryTimedOut,
    jsonable,
)
from console.history.sampler import Sampler, SamplingRound, sampling_sources
from console.history.schema import EVENT_KINDS, KNOWN_METRICS
from console.history.seed import DemoIncident, seed_demo_history
from console.history.store import close_all
from console.history.times import parse_time, seconds, utcnow
from console.history.worker import WorkerHistory, stop_worker, worker_pid

__all__ = [
    "EVENT_KINDS",
    "KNOWN_METRICS",
    "NAMED_QUERIES",
    "QUERY_TIMEOUT_S",
    "Change",
    "DemoIncident",
    "Event",
    "History",
    "HistoryBusy",
    "HistoryError",
    "IngestReport",
    "NamedQuery",
    "QueryCancelled",
    "QueryResult",
    "QueryTimedOut",
    "Sampler",
    "SamplingRound",
    "WorkerHistory",
    "close_all",
    "default_db_path",
    "fetch_prometheus",
    "history_for",
    "ingest_sources",
    "jsonable",
    "named_queries",
    "parse_time",
    "query_instant",
    "run_in_worker_process",
    "sampling_sources",
    "seconds",
    "seed_demo_history",
    "source_verify",
    "stop_worker",
    "utcnow",
    "worker_pid",
]
