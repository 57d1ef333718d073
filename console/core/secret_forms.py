"""The forms one secret value takes when a target or a command echoes it: URL-quoted, JSON-escaped
(with `\\/` and `\\u0026`-style HTML-safe escapes), HTML entities, each line of a multi-line value,
and base64 / base64url at each byte offset inside a longer base64 text. console/core/redact.py
masks every form it gets from here."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus


def _json_forms(value: str) -> set[str]:
    plain = json.dumps(value, ensure_ascii=False)[1:-1]
    ascii_ = json.dumps(value)[1:-1]
    out = {plain, ascii_}
    for base in (plain, ascii_):
        slashed = base.replace("/", "\\/")
        out.add(slashed)
        # Go's and many JSON encoders' HTML-safe escapes
        for text in (base, slashed):
            out.add(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))
    return out


def _html_forms(value: str) -> set[str]:
    out = {html.escape(value, quote=True), html.escape(value, quote=False)}
    specials = {c for c in value if c in "&<>\"'/=`"}
    if specials:
        out.add("".join(f"&#{ord(c)};" if c in specials else c for c in value))
        out.add("".join(f"&#x{ord(c):x};" if c in specials else c for c in value))
    return out


def _base64_cores(value: str) -> set[str]:
    """The base64 (and base64url) text the value's bytes produce at each of the three offsets it
    can start at inside a longer base64 text, without the characters its neighbours share."""
    raw = value.encode("utf-8")
    out: set[str] = set()
    for offset in range(3):
        data = b"\0" * offset + raw
        enc = base64.b64encode(data).decode("ascii").rstrip("=")
        start = 4 if offset else 0  # the first group mixes in the neighbour's bytes
        whole = (len(data) // 3) * 4  # groups made of the value's bytes only
        if offset == 0 and len(data) % 3 == 0:
            whole = len(enc)
        core = enc[start:whole]
        if len(core) >= 8:
            out.add(core)
            out.add(core.replace("+", "-").replace("/", "_"))
    # the value alone, padded: short secrets too
    alone = base64.b64encode(raw).decode("ascii")
    out.update({alone, alone.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii")})
    return {c for c in out if len(c) >= 6}


def forms(value: str, min_len: int) -> tuple[set[str], set[str]]:
    """(text forms, base64 forms) of a secret value, each at least `min_len` long; all
    lower-cased for matching."""
    text = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    text |= _json_forms(value) | _html_forms(value)
    for line in value.splitlines():
        if len(line.strip()) >= min_len:
            text.add(line)
    b64 = _base64_cores(value)
    return (
        {t.lower() for t in text if len(t) >= min_len},
        {b.lower() for b in b64} - {t.lower() for t in text},
    )
