"""Site-config models for metric history (the `[history]` table). Pydantic only."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class HistorySpec(BaseModel):
    """Where metric history lives and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    db: Path | None = None
    """The DuckDB file; default: history.duckdb in fixmap's data dir."""
