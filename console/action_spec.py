"""Site-config models for actions (the `[actions.NAME]` tables). Pydantic only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ActionSpec(BaseModel):
    """Placeholder until the actions engine lands: any table is kept as is."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kind: str
