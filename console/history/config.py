"""What the site config decides for the history: where its file is, its limits, its sources.

The file is `[history] db` when the config names one (relative to the config's folder), else
history.duckdb in the data dir ($FIXMAP_HOME, the config's data_dir, the user data dir, in that
order). `[history.sources.*]` are the metric sources `fixmap history ingest` loads with no
arguments: Prometheus-compatible APIs and folders of files, each under its own name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from console.core import Problem, closest, data_dir
from console.history import prometheus
from console.history.history import History
from console.history.results import HistoryError, IngestReport
from console.history.schema import DB_NAME


def default_db_path(site: Any = None) -> Path:
    """history.db from the config, else $FIXMAP_HOME, the config's data_dir, the user data dir."""
    if _has_file(site):
        spec = site.config.history
        if spec.db is not None:
            return site.resolve(Path(spec.db))
        if not os.environ.get("FIXMAP_HOME") and site.config.data_dir is not None:
            return site.resolve(Path(site.config.data_dir)) / DB_NAME
    return data_dir() / DB_NAME


def _has_file(site: Any) -> bool:
    """A site with a config file: its [history] settings count. With none, the defaults do
    (and validating an empty config would import pydantic for nothing)."""
    return site is not None and getattr(site, "path", None) is not None


_in_worker_process = False


def run_in_worker_process(on: bool = True) -> bool:
    """From now on `history_for` hands out histories that run in a worker process (the
    console: its memory stays its own). Returns the previous setting."""
    global _in_worker_process
    before, _in_worker_process = _in_worker_process, on
    return before


def history_for(site: Any = None, **kwargs: Any) -> History:
    """The History a site config points at (its lock timeout included); a WorkerHistory with
    the same methods after `run_in_worker_process()`."""
    if _has_file(site):
        kwargs.setdefault("lock_timeout", site.config.history.lock_timeout)
        kwargs.setdefault("memory_limit", site.config.history.memory_limit)
    if _in_worker_process:
        from console.history.worker import WorkerHistory

        return WorkerHistory(default_db_path(site), **kwargs)  # type: ignore[return-value]
    return History(default_db_path(site), **kwargs)


def ingest_sources(history: History, site: Any, names: Sequence[str] | None = None) -> IngestReport:
    """Ingest the metric sources of the site config ([history.sources.*]); all when names is None."""
    spec = site.config.history
    sources = dict(spec.sources)
    if not sources:
        raise HistoryError(
            "the site config has no metric sources",
            [
                Problem(
                    str(site.path or "<no config>"),
                    "history.sources",
                    "none defined",
                    hint="add [history.sources.NAME] with kind = 'prometheus' or 'files'",
                )
            ],
        )
    chosen = list(names) if names else [n for n, s in sources.items() if s.kind != "scrape"]
    for n in chosen:
        if n not in sources:
            guess = closest(n, sources)
            raise HistoryError(
                f"no metric source '{n}' in the site config",
                [
                    Problem(
                        str(site.path),
                        f"history.sources.{n}",
                        "not defined",
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else "sources: " + ", ".join(sources),
                    )
                ],
            )
        if sources[n].kind == "scrape":
            raise HistoryError(
                f"'{n}' is a scrape source: the live sampler reads it, not ingest",
                [
                    Problem(
                        str(site.path),
                        f"history.sources.{n}",
                        "a /metrics endpoint says only what it counts now",
                        hint="name it in [history.sampling] sources and run 'fixmap watch'",
                    )
                ],
            )
    total = IngestReport(rows=0, elapsed_s=0.0)
    t0 = time.perf_counter()
    for n in chosen:
        src = sources[n]
        if src.kind == "prometheus":
            rep = history.ingest_prometheus(
                src.url,
                dict(src.queries),
                src.since,
                src.step,
                service=src.service,
                headers=dict(src.headers),
                token_secret=src.token_secret,
                timeout=src.timeout,
                verify=prometheus.source_verify(site, src),
            )
        else:
            rep = history.ingest_files(
                [str(site.resolve(Path(p))) for p in src.paths], service=src.service
            )
        total.rows += rep.rows
        total.replaced += rep.replaced
        total.sources.extend(rep.sources)
    total.elapsed_s = time.perf_counter() - t0
    return total
