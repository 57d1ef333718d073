"""A week of metric history for the demo service, with one incident in it.

About five hours before `now`, release v1.5.0 is deployed; a minute later latency starts to climb
and, a minute after that, the rate limiter starts answering 429 (and the error rate follows).
An incident is opened, and 42 minutes after the deploy a rollback to v1.4.1 brings everything
back. Two earlier deploys that went fine are in the week too. Quality (ΔS, coverage, λ), 5xx,
cache hit ratio and traffic stay normal. Deterministic: the same `now` gives the same history.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from console.history.history import History
from console.history.records import insert_columns
from console.history.times import parse_time, utcnow

SAMPLES_PER_MINUTE = 6
"""Raw latency samples per minute (one every 10 s); the other metrics have one per minute."""


@dataclass(frozen=True)
class DemoIncident:
    """What the seeded week contains, for the demo and for tests."""

    service: str
    deploy_at: datetime
    rollback_at: datetime
    opened_at: datetime
    resolved_at: datetime
    metrics: tuple[str, ...]
    """The metrics that climb during the incident."""
    start: datetime
    end: datetime
    rows: int


def seed_demo_history(
    db_path: str | os.PathLike[str], service_name: str, now: datetime | str | None = None
) -> DemoIncident:
    """Replace the service's samples and events in `db_path` with the demo week (one transaction)."""
    import numpy as np

    end = (parse_time(now, "now") if now is not None else utcnow()).replace(second=0, microsecond=0)
    start = end - timedelta(days=7)
    n_min = 7 * 1440
    rng = np.random.default_rng(20240501)
    minute = np.arange(n_min)
    t_min = np.datetime64(start, "us") + minute.astype("timedelta64[m]")
    hour = ((start.hour * 60 + start.minute + minute) % 1440) / 60.0
    diurnal = np.sin(2 * np.pi * (hour - 9.0) / 24.0)

    deploy_i = n_min - 5 * 60  # five hours ago: inside a 6 h or 24 h "what changed" window
    rollback_i = deploy_i + 42
    deploy_at = start + timedelta(minutes=deploy_i)
    rollback_at = start + timedelta(minutes=rollback_i)

    def ramp(begin: int, rise: int, fall: int) -> np.ndarray:
        """0 before `begin`, up to 1 over `rise` minutes, back to 0 over `fall` after the rollback."""
        up = np.clip((minute - begin + 1) / rise, 0.0, 1.0)
        down = np.clip(1.0 - (minute - rollback_i) / fall, 0.0, 1.0)
        return np.where(minute < rollback_i, up, up * down)

    latency_factor = 1.0 + 2.6 * ramp(deploy_i + 1, 6, 4)
    throttle = ramp(deploy_i + 2, 5, 3)

    requests = np.round(600 + 180 * diurnal + rng.normal(0, 15, n_min))
    rate_5xx = np.clip(0.0015 + rng.normal(0, 0.0004, n_min), 0, None)
    rate_429 = np.clip(0.001 + rng.normal(0, 0.0004, n_min), 0, None) + 0.09 * throttle
    error_rate = rate_5xx + rate_429 + np.clip(0.001 + rng.normal(0, 0.0003, n_min), 0, None)
    per_minute = {
        "requests": requests,
        "rate_5xx": rate_5xx,
        "rate_429": rate_429,
        "error_rate": error_rate,
        "delta_s": np.clip(0.31 + rng.normal(0, 0.015, n_min), 0, 1),
        "coverage": np.clip(0.82 + rng.normal(0, 0.015, n_min), 0, 1),
        "lambda_flip_rate": np.clip(0.03 + rng.normal(0, 0.008, n_min), 0, 1),
        "cache_hit_ratio": np.clip(0.86 + rng.normal(0, 0.012, n_min), 0, 1),
    }

    k = SAMPLES_PER_MINUTE
    lat_ts = np.repeat(t_min, k) + np.tile(np.arange(k) * (60 // k), n_min).astype("timedelta64[s]")
    lat_median = np.repeat((120.0 + 15.0 * diurnal) * latency_factor, k)
    latency = lat_median * np.exp(rng.normal(0, 0.25, n_min * k))

    names = list(per_minute)
    ts = np.concatenate([lat_ts, *([t_min] * len(names))])
    values = np.concatenate([latency, *per_minute.values()])
    metric = np.concatenate(
        [
            np.full(len(latency), "latency_ms", dtype=object),
            *[np.full(n_min, m, dtype=object) for m in names],
        ]
    )
    batch = {
        "ts": ts.astype("datetime64[us]"),
        "service": np.full(len(ts), service_name, dtype=object),
        "metric": metric,
        "value": values.astype(np.float64),
        "labels": np.full(len(ts), None, dtype=object),
    }

    opened_at = deploy_at + timedelta(minutes=9)
    resolved_at = rollback_at + timedelta(minutes=15)
    events = [
        (
            start + timedelta(days=2, hours=3),
            "deploy",
            "deploy v1.4.0",
            {"version": "v1.4.0", "previous": "v1.3.2", "by": "ci"},
        ),
        (
            start + timedelta(days=4, hours=5),
            "deploy",
            "deploy v1.4.1",
            {"version": "v1.4.1", "previous": "v1.4.0", "by": "ci"},
        ),
        (
            deploy_at,
            "deploy",
            "deploy v1.5.0",
            {"version": "v1.5.0", "previous": "v1.4.1", "by": "ci"},
        ),
        (
            opened_at,
            "incident",
            "incident opened: p95 latency and 429s climbing after v1.5.0",
            {"state": "opened", "severity": "SEV2"},
        ),
        (rollback_at, "rollback", "rollback to v1.4.1", {"version": "v1.4.1", "from": "v1.5.0"}),
        (
            resolved_at,
            "incident",
            "incident resolved: latency and 429s back to baseline",
            {"state": "resolved", "severity": "SEV2"},
        ),
    ]

    history = History(Path(db_path))
    with history.write() as conn:
        conn.execute("DELETE FROM samples WHERE service = ?", [service_name])
        conn.execute("DELETE FROM events WHERE service = ?", [service_name])
        insert_columns(conn, batch, order_by="metric, ts")
        for ts_e, kind, title, detail in events:
            conn.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                [ts_e, kind, service_name, title, json.dumps({**detail, "source": "demo-seed"})],
            )
    return DemoIncident(
        service=service_name,
        deploy_at=deploy_at,
        rollback_at=rollback_at,
        opened_at=opened_at,
        resolved_at=resolved_at,
        metrics=("latency_ms", "rate_429", "error_rate"),
        start=start,
        end=end,
        rows=len(ts),
    )
