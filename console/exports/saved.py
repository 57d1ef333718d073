"""A pane kept as a plain-text file: what was on screen, redacted, under the data dir.

`s` in the console saves the focused pane (a probe's detail, a query's result, status drafts,
the journal, gate results) as DATA_DIR/saved/<screen>-<UTC time>.txt, so it can be pasted into
a ticket or read after the terminal scrolled away. Every line goes through the one redaction
funnel first: a secret on screen (it should never be) does not reach the file either.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from console.core import atomic_write, data_dir, redact

_NAME = re.compile(r"[^a-z0-9_-]+")


def save_text(screen: str, text: str, *, now: datetime | None = None) -> Path:
    """Write `text` (redacted, trailing spaces trimmed) to DATA_DIR/saved/<screen>-<UTC>.txt and
    return its path; a second save in the same second gets its own name."""
    when = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    name = _NAME.sub("-", screen.lower()).strip("-") or "pane"
    folder = data_dir() / "saved"
    path = folder / f"{name}-{when}.txt"
    n = 2
    while path.exists():
        path = folder / f"{name}-{when}-{n}.txt"
        n += 1
    lines = [line.rstrip() for line in redact(text).splitlines()]
    atomic_write(path, "\n".join(lines).strip("\n") + "\n")
    return path
