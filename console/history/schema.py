"""The tables of the history file, and the names it accepts for metrics and events.

One DuckDB file holds five tables: `samples` (the metric points everything is queried from),
`probe_results`, `events` (deploys, rollbacks, actions ... marked on charts), `ingests` (what
was loaded, so a file is not loaded twice) and `meta` (the schema version). Ad-hoc SQL sees the
same tables, so their names and columns are part of what engineers type: change them only with
a new SCHEMA_VERSION.
"""

from __future__ import annotations

import re

SCHEMA_VERSION = "1"
DB_NAME = "history.duckdb"

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS samples (
        ts TIMESTAMP NOT NULL,
        service VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE,
        labels VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS probe_results (
        ts TIMESTAMP NOT NULL,
        name VARCHAR NOT NULL,
        kind VARCHAR,
        service VARCHAR,
        status VARCHAR,
        value DOUBLE,
        threshold VARCHAR,
        reason VARCHAR,
        duration_ms DOUBLE,
        embedder VARCHAR,
        values_json VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        ts TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL,
        service VARCHAR,
        title VARCHAR,
        detail VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS ingests (
        ingested_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        fingerprint VARCHAR,
        rows BIGINT
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
)
TABLES = ("samples", "probe_results", "events", "ingests", "meta")

KNOWN_METRICS: tuple[str, ...] = (
    "latency_ms",
    "requests",
    "error_rate",
    "rate_5xx",
    "rate_429",
    "delta_s",
    "coverage",
    "lambda_flip_rate",
    "cache_hit_ratio",
)
"""The metric names the playbooks and the demo use; any other name can be stored too."""

EVENT_KINDS: tuple[str, ...] = (
    "deploy",
    "rollback",
    "action",
    "incident",
    "freeze",
    "unfreeze",
    "read_only",
    "read_write",
    "flag",
    "index_swap",
    "cache_rotate",
    "gate",
    "note",
)
"""Event kinds charts know how to mark; other lower-case kinds are stored as given."""

EVENT_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
"""What any event kind must look like (a lower-case word)."""
METRIC_NAME = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:.\-]*$")
"""What a metric name must look like (Prometheus names, plus dots and dashes)."""
