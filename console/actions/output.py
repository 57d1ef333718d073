"""One output line of an action as it may be shown and kept: no terminal escapes, no control
characters, secrets masked, bounded. The runners, the supervisor and the tails all use it."""

from __future__ import annotations

import re

from console.core import redact

TAIL_LINES = 40
"""Output lines an outcome keeps."""
LINE_MAX = 500
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """One output line as it may be shown and kept: no escapes, redacted, bounded."""
    text = _ANSI.sub("", text).replace("\r", "")
    text = _CTRL.sub("", text)
    text = redact(text)  # before cutting: a secret across the cut would leak half of itself
    if len(text) > LINE_MAX:
        text = text[:LINE_MAX] + "…"
    return text
