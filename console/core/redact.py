"""One redaction step for every text that leaves fixmap (screen, logs, journal, history, exports).

Three nets, applied in this order:

1. known values: every secret fixmap resolved (`register_secret`), in the encodings it can take on
   the way out (URL-quoted, JSON-escaped, each line of a multi-line value), plus the values of
   environment variables named like credentials (`FIXMAP_SECRET_*`, `*_TOKEN`, `*PASSWORD*`, ...),
   which a command run by fixmap could print even though fixmap never resolved them;
2. shapes: `Authorization: Bearer …`, `password=…`, `api_key: …`, `https://user:pass@host`,
   PEM private key blocks;
3. nothing else: a secret shorter than MIN_SECRET_LEN cannot be masked reliably, so
   `console.secrets.resolve` refuses such values instead of letting them through.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "••••••"
MIN_SECRET_LEN = 4
"""Shorter values would mask half the text they appear in; secrets.resolve refuses them."""

_lock = threading.Lock()
_secrets: set[str] = set()
_sorted: list[str] = []

# Environment variables whose values are credentials even when fixmap never resolved them.
_SECRET_ENV_NAME = re.compile(
    r"^FIXMAP_SECRET_|TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY",
    re.IGNORECASE,
)
_ENV_MIN_LEN = 8
_env_cache: tuple[frozenset[tuple[str, str]], list[str]] = (frozenset(), [])

# Values that look like credentials even when fixmap never resolved them. The look-behind keeps
# fixmap's own placeholder syntax ("{secret:NAME}") readable in plans and error messages.
_PATTERNS = [
    re.compile(
        r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|digest)\s+)(?!\{secret:)([^\s\"',}]+)"
    ),
    re.compile(r"(?i)(\bbearer\s+)(?!\{secret:)([A-Za-z0-9._~+/=-]{8,})"),
    re.compile(
        r"(?i)((?<![{A-Za-z0-9])(?:api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|"
        r"client[_-]?secret|token|passw(?:or)?d|pwd|secret)[\"']?\s*[:=]\s*[\"']?)(?!\{secret:)([^\s\"',}&]{6,})"
    ),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)"),
    re.compile(
        r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)(.*?)(-----END [A-Z ]*PRIVATE KEY-----)", re.S
    ),
]


def _variants(value: str) -> set[str]:
    """The forms a value can take in text fixmap writes: raw, URL-quoted, JSON-escaped, per line."""
    out = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    out.add(json.dumps(value, ensure_ascii=False)[1:-1])
    for line in value.splitlines():
        if len(line.strip()) >= MIN_SECRET_LEN:
            out.add(line)
    return {v for v in out if len(v) >= MIN_SECRET_LEN}


def register_secret(value: str) -> bool:
    """Remember a resolved secret value so it is masked everywhere from now on.

    Returns False (and registers nothing) for a value too short to mask reliably.
    """
    if not value or len(value) < MIN_SECRET_LEN:
        return False
    global _sorted
    with _lock:
        new = _variants(value) - _secrets
        if new:
            _secrets.update(new)
            _sorted = sorted(_secrets, key=len, reverse=True)
    return True


def _env_values() -> list[str]:
    """Values of credential-named environment variables (cached while the environment is unchanged)."""
    global _env_cache
    items = frozenset(
        (k, v)
        for k, v in os.environ.items()
        if _SECRET_ENV_NAME.search(k)
        and len(v) >= (MIN_SECRET_LEN if k.startswith("FIXMAP_SECRET_") else _ENV_MIN_LEN)
    )
    cached_items, cached_values = _env_cache
    if items == cached_items:
        return cached_values
    values: set[str] = set()
    for _, v in items:
        values |= _variants(v)
    ordered = sorted(values, key=len, reverse=True)
    _env_cache = (items, ordered)
    return ordered


def _mask_shape(m: re.Match[str]) -> str:
    groups = m.groups()
    return groups[0] + MASK + (groups[2] if len(groups) > 2 else "")


def redact(text: str) -> str:
    """The text with every known secret value and credential-shaped value masked."""
    if not text:
        return text
    if not isinstance(text, str):
        text = str(text)
    with _lock:
        values = _sorted
    for v in values:
        if v in text:
            text = text.replace(v, MASK)
    for v in _env_values():
        if v in text:
            text = text.replace(v, MASK)
    for pat in _PATTERNS:
        text = pat.sub(_mask_shape, text)
    return text


def redact_obj(obj: Any) -> Any:
    """Redact every string (keys included) inside a JSON-like structure; returns a new structure."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {redact(k) if isinstance(k, str) else k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [redact_obj(v) for v in obj]
    return obj


def redact_json(obj: Any, **dumps_kwargs: Any) -> str:
    """JSON text of `obj` with secrets masked both before and after serialisation."""
    dumps_kwargs.setdefault("ensure_ascii", False)
    dumps_kwargs.setdefault("default", str)
    return redact(json.dumps(redact_obj(obj), **dumps_kwargs))


def forget_all_for_tests() -> None:
    global _sorted, _env_cache
    with _lock:
        _secrets.clear()
        _sorted = []
        _env_cache = (frozenset(), [])
