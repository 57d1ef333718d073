"""Field types shared by every table of the site config (pydantic: imported lazily)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from console.core import parse_duration
from console.core.jsonpath import parse_json_path


def _check_path(value: Any) -> Any:
    if isinstance(value, str):
        parse_json_path(value)
    return value


Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=str | float)]
"""Seconds; written as '250ms', '30s', '1h30m', '24h', '7d', '2w' or a plain number of seconds."""

JsonPath = Annotated[str, BeforeValidator(_check_path)]
"""A path into a JSON response: dotted names and [index], '$' for the whole body."""
