"""JSON paths: the one walker for every value fixmap reads out of a response.

`results[0].anchor`, `data.index.hash`, `["a.b"]` for keys with dots, `$` (or '') for the
whole body. A path that leads nowhere raises JsonPathError saying where it stopped.
"""

from __future__ import annotations

import re
from typing import Any

_PATH_TOKEN = re.compile(
    r"""\.?([A-Za-z_][A-Za-z0-9_-]*)      # .name or name
      | \[\s*(-?\d+)\s*\]                 # [0] / [-1]
      | \.(\d+)(?![A-Za-z_])              # .0 (dotted index, as in 'mode.0.state')
      | \[\s*"([^"]*)"\s*\]               # ["a.b"]
      | \[\s*'([^']*)'\s*\]               # ['a.b']
    """,
    re.VERBOSE,
)


class JsonPathError(LookupError):
    """A JSON path that does not lead anywhere in a response."""


def parse_json_path(path: str) -> tuple[str | int, ...]:
    """'results[0].anchor' -> ('results', 0, 'anchor'); '' or '$' is the whole body."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = _PATH_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(
                f"'{path}' is not a JSON path (use dotted names and [index], e.g. 'results[0].anchor')"
            )
        name, index, dotted, dq, sq = m.groups()
        if name is not None:
            parts.append(name)
        elif index is not None or dotted is not None:
            parts.append(int(index if index is not None else dotted))
        else:
            parts.append(dq if dq is not None else sq)
        pos = m.end()
    return tuple(parts)


def lookup(data: Any, path: str) -> Any:
    """The value at `path` in parsed JSON; JsonPathError says where the path stopped."""
    current = data
    walked = "$"
    for part in parse_json_path(path):
        if isinstance(part, int) and isinstance(current, dict) and str(part) in current:
            current = current[str(part)]
            walked += f".{part}"
        elif isinstance(part, int):
            if not isinstance(current, list):
                raise JsonPathError(f"'{path}': {walked} is not a list")
            try:
                current = current[part]
            except IndexError:
                raise JsonPathError(f"'{path}': {walked} has no item [{part}]") from None
            walked += f"[{part}]"
        else:
            if not isinstance(current, dict):
                raise JsonPathError(f"'{path}': {walked} is not an object")
            if part not in current:
                keys = ", ".join(list(current)[:8]) or "no keys"
                raise JsonPathError(f"'{path}': {walked} has no key '{part}' (it has: {keys})")
            current = current[part]
            walked += f".{part}"
    return current
