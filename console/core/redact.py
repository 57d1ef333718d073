"""One redaction step for every text that leaves fixmap (screen, stdout/stderr, logs, journal,
history, exports). Everything fixmap prints or stores passes `redact` (text) or `redact_obj` /
`redact_json` (structured data); console.cli.base.echo is the CLI's one way out.

What is masked, in this order:

1. known values: every secret fixmap resolved (`register_secret`) and the values of environment
   variables named like credentials (`FIXMAP_SECRET_*`, `*_TOKEN`, `*PASSWORD*`, ...), which a
   command run by fixmap could print even though fixmap never resolved them. Each in every form
   a target or a command can echo it in: as it is and in any letter case, URL-quoted,
   JSON-escaped (`\\/`, `\\u0026`), as HTML entities, base64 and base64url (at any offset inside
   a longer base64 text, such as a Basic auth header: the whole base64 run is masked), each line
   of a multi-line value, and a prefix of at least half of it (a "token hint" cut short);
2. a second look at words that carry %-, &- or \\-escapes: decoded, a word that holds a secret is
   masked whole, whatever mix of escapes it used;
3. shapes: `Authorization: Bearer …`, `password=…`, `api_key: …`, PEM private key blocks, and
   URL userinfo, which is removed (`https://user:pass@host` reads `https://host`).

Structured data is masked value by value before it is serialised, never as serialised text:
numbers, true/false/null and fixmap's own words (statuses, record types: `WORDS`) are left as
they are, so a secret whose value is `null`, `false` or `done` cannot break a JSON record or
change what it says. A secret shorter than MIN_SECRET_LEN cannot be masked reliably, so
`console.core.secrets.resolve` refuses such values instead of letting them through.

The environment's credential values are worked out once per change of the environment (a
dictionary comparison per call, not a scan).
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from console.core.secret_forms import forms

MASK = "••••••"
MIN_SECRET_LEN = 4
"""Shorter values would mask half the text they appear in; secrets.resolve refuses them."""
MIN_PREFIX = 8
"""A prefix of a secret is masked from half of the secret on, and never from fewer than this many
characters (or the whole of a shorter secret): shorter prefixes of words would mask ordinary text."""

WORDS = frozenset(
    {
        # JSON literals spelled as text
        "null",
        "none",
        "true",
        "false",
        # statuses and verdicts of probes, gates, actions, steps, checklists, incidents
        "pass",
        "fail",
        "error",
        "inconclusive",
        "done",
        "failed",
        "refused",
        "invalid",
        "interrupted",
        "running",
        "pending",
        "skipped",
        "already_done",
        "dry_run",
        "timed_out",
        "cancelled",
        "ticked",
        "unknown",
        "open",
        "closed",
        "go",
        "no-go",
        "ok",
        "run",
        # journal record types
        "intent",
        "outcome",
        "verify",
    }
)
"""fixmap's own words. A string that is exactly one of them is structure, not data: never masked
as a whole value (a secret 'done' would otherwise turn every successful run into a failed one)."""

# Environment variables whose values are credentials even when fixmap never resolved them.
_SECRET_ENV_NAME = re.compile(
    r"^FIXMAP_SECRET_|TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY",
    re.IGNORECASE,
)
_ENV_MIN_LEN = 8
_B64_RUN = "A-Za-z0-9+/_-"
_ESCAPED_WORD = re.compile(r"\S*[%&\\]\S*")
_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\\/\"bfnrt])")
_JSON_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

# Values that look like credentials even when fixmap never resolved them, each with the words
# (lower case) one of which a text must hold for the pattern to be worth running. The
# look-behind keeps fixmap's own placeholder syntax ("{secret:NAME}") readable in plans and
# error messages.
_PATTERNS = [
    (
        ("authorization",),
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|digest)\s+)(?!\{secret:)([^\s\"',}]+)"
        ),
    ),
    (("bearer",), re.compile(r"(?i)(\bbearer\s+)(?!\{secret:)([A-Za-z0-9._~+/=-]{8,})")),
    (
        ("key", "token", "passw", "pwd", "secret"),
        re.compile(
            r"(?i)((?<![{A-Za-z0-9])(?:api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|"
            r"client[_-]?secret|token|passw(?:or)?d|pwd|secret)[\"']?\s*[:=]\s*[\"']?)(?!\{secret:)([^\s\"',}&]{6,})"
        ),
    ),
    (
        ("-----begin",),
        re.compile(
            r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)(.*?)(-----END [A-Z ]*PRIVATE KEY-----)", re.S
        ),
    ),
]
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@?#\"'<>]+)@")
_PLACEHOLDER = re.compile(r"\{secret:[^{}]*\}")
_PLACEHOLDERS_ONLY = re.compile(r"^(?:\{secret:[^}]*\}|:)+$")


def _prefix_len(value: str) -> int:
    return max(min(len(value), MIN_PREFIX), len(value) // 2)


class _Matcher:
    """Every form of a fixed set of secret values, ready to find in a text. Immutable."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = frozenset(values)
        text: set[str] = set()
        b64: set[str] = set()
        prefixes: dict[str, str] = {}
        for v in self.values:
            t, b = forms(v, MIN_SECRET_LEN)
            text |= t
            b64 |= b
            low = v.lower()
            p = low[: _prefix_len(v)]
            if len(prefixes.get(p, "")) < len(low):
                prefixes[p] = low
        self.text = tuple(sorted(text, key=len, reverse=True))
        self.b64 = tuple(sorted(b64 - text, key=len, reverse=True))
        self.prefixes = tuple(prefixes.items())
        self.plain = tuple(sorted({v.lower() for v in self.values}, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self.values)

    def spans(self, text: str) -> list[tuple[int, int]]:
        low = text.lower()
        if len(low) != len(text):  # a character whose lower case is longer: match case-blind
            return self._spans_regex(text)
        out: list[tuple[int, int]] = []
        for form in self.text:
            if form in low:
                out.extend(_occurrences(low, form))
        for form in self.b64:
            if form in low:
                for i, j in _occurrences(low, form):
                    out.append(_widen_b64(text, i, j))
        for prefix, full in self.prefixes:
            if prefix in low:
                for i, _ in _occurrences(low, prefix):
                    j = i + len(prefix)
                    while j < len(low) and j - i < len(full) and low[j] == full[j - i]:
                        j += 1
                    out.append((i, j))
        return out

    def _spans_regex(self, text: str) -> list[tuple[int, int]]:
        out = []
        for form in (*self.text, *self.b64, *(p for p, _ in self.prefixes)):
            out.extend(m.span() for m in re.finditer(re.escape(form), text, re.IGNORECASE))
        return out

    def in_decoded(self, word: str) -> bool:
        """Whether the word, its escapes decoded, holds a secret or a prefix of one."""
        decoded = _decode(word).lower()
        if decoded == word.lower():
            return False
        return any(p in decoded for p, _ in self.prefixes) or any(v in decoded for v in self.plain)


def _occurrences(haystack: str, needle: str) -> Iterable[tuple[int, int]]:
    i = haystack.find(needle)
    while i >= 0:
        yield i, i + len(needle)
        i = haystack.find(needle, i + 1)


def _widen_b64(text: str, i: int, j: int) -> tuple[int, int]:
    """The whole base64 run around [i, j): its other characters carry bits of the secret too."""
    while i > 0 and (text[i - 1].isascii() and (text[i - 1].isalnum() or text[i - 1] in "+/_-")):
        i -= 1
    while j < len(text) and (text[j].isascii() and (text[j].isalnum() or text[j] in "+/_-")):
        j += 1
    while j < len(text) and text[j] == "=":
        j += 1
    return i, j


def _json_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        g = m.group(1)
        if g[0] == "u":
            return chr(int(g[1:], 16))
        return _JSON_SIMPLE.get(g, g)

    return _JSON_ESCAPE.sub(one, text)


def _decode(word: str) -> str:
    """The word with URL, HTML and JSON escapes undone, twice over (escapes inside escapes)."""
    for _ in range(2):
        word = _json_unescape(html.unescape(unquote(word)))
    return word


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    spans.sort()
    out: list[str] = []
    pos = 0
    end = -1
    for i, j in spans:
        if i < end:  # overlaps the masked run before it
            if j > end:
                end = j
                pos = j
            continue
        out.append(text[pos:i])
        out.append(MASK)
        pos = end = j
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------- the known values


_lock = threading.Lock()
_registered: set[str] = set()
_registered_matcher = _Matcher(())
_env_seen: dict[Any, Any] | None = None
_env_matcher = _Matcher(())


def register_secret(value: str) -> bool:
    """Remember a resolved secret value so it is masked everywhere from now on.

    Returns False (and registers nothing) for a value too short to mask reliably.
    """
    global _registered_matcher
    if not value or len(value) < MIN_SECRET_LEN:
        return False
    with _lock:
        if value not in _registered:
            _registered.add(value)
            _registered_matcher = _Matcher(_registered)
    return True


def _environ_data() -> Any:
    # os.environ keeps its items in `_data` (bytes on POSIX); comparing that dictionary with a
    # copy is a C-level pass with identity shortcuts, about 2 µs for 170 variables
    return getattr(os.environ, "_data", os.environ)


def _env_secret_values() -> set[str]:
    out = set()
    for k, v in os.environ.items():
        if _SECRET_ENV_NAME.search(k) and len(v) >= (
            MIN_SECRET_LEN if k.upper().startswith("FIXMAP_SECRET_") else _ENV_MIN_LEN
        ):
            out.add(v)
    return out


def _matchers() -> tuple[_Matcher, _Matcher]:
    """The matcher of registered secrets and that of the environment (rebuilt when it changed)."""
    global _env_seen, _env_matcher
    data = _environ_data()
    if data != _env_seen:
        with _lock:
            if data != _env_seen:
                snapshot = dict(data)
                values = _env_secret_values()
                if values != _env_matcher.values:
                    _env_matcher = _Matcher(values)
                _env_seen = snapshot
    return _registered_matcher, _env_matcher


# ---------------------------------------------------------------- masking


def _strip_userinfo(m: re.Match[str]) -> str:
    if _PLACEHOLDERS_ONLY.match(m.group(2)):
        return m.group(0)
    return m.group(1)


def _mask_shape(m: re.Match[str]) -> str:
    groups = m.groups()
    return groups[0] + MASK + (groups[2] if len(groups) > 2 else "")


MEMO_MAX_LEN = 256
"""Texts up to this long are remembered with their masked form (below)."""
MEMO_SIZE = 8192
_memo: tuple[tuple[_Matcher, _Matcher] | None, dict[str, str]] = (None, {})
"""(the matchers, text -> masked text): a probe result's keys, kinds, statuses and service
names recur, and each result is masked again for the JSON answer, probe_runs.jsonl and the
history. Masking is a function of the text and the matchers, so the memo is dropped the moment
either matcher is replaced (a secret registered, the environment changed). One tuple, read
once per call: a thread never files an answer under matchers it did not mask with."""


def _redact_with(text: str, known: tuple[_Matcher, _Matcher]) -> str:
    global _memo
    if len(text) > MEMO_MAX_LEN:
        return _redact_text(text, known)
    state = _memo
    if state[0] is None or state[0][0] is not known[0] or state[0][1] is not known[1]:
        state = _memo = (known, {})
    memo = state[1]
    hit = memo.get(text)
    if hit is None:
        hit = _redact_text(text, known)
        if len(memo) >= MEMO_SIZE:  # full: start again (recent texts are the ones that recur)
            memo.clear()
        memo[text] = hit
    return hit


def _redact_text(text: str, known: tuple[_Matcher, _Matcher]) -> str:
    spans: list[tuple[int, int]] = []
    for matcher in known:
        if matcher:
            spans.extend(matcher.spans(text))
    if spans and "{secret:" in text:
        # a secret's name in fixmap's own placeholder is no secret ('{secret:done}' stays)
        names = [m.span() for m in _PLACEHOLDER.finditer(text)]
        spans = [(i, j) for i, j in spans if not any(a <= i and j <= b for a, b in names)]
    if spans:
        text = _mask_spans(text, spans)
    if ("%" in text or "&" in text or "\\" in text) and any(known):
        text = _ESCAPED_WORD.sub(
            lambda m: MASK if any(k and k.in_decoded(m.group(0)) for k in known) else m.group(0),
            text,
        )
    if "://" in text:
        text = _USERINFO.sub(_strip_userinfo, text)
    low = text.lower()
    for words, pat in _PATTERNS:
        if any(w in low for w in words):
            text = pat.sub(_mask_shape, text)
    return text


def redact(text: str) -> str:
    """The text with every known secret value (in any of its forms) and credential-shaped value
    masked, and URL userinfo removed."""
    if not text:
        return text
    if not isinstance(text, str):
        text = str(text)
    return _redact_with(text, _matchers())


def _walk(obj: Any, known: tuple[_Matcher, _Matcher]) -> Any:
    if isinstance(obj, str):
        if not obj or obj in WORDS:
            return obj
        return _redact_with(obj, known)
    if isinstance(obj, dict):
        return {
            _walk(k, known) if isinstance(k, str) else k: _walk(v, known) for k, v in obj.items()
        }
    if isinstance(obj, list | tuple | set | frozenset):
        return [_walk(v, known) for v in obj]
    return obj


def redact_obj(obj: Any) -> Any:
    """A new JSON-like structure with every string in it (keys too) redacted, value by value.

    Numbers, booleans, None and strings that are exactly one of fixmap's WORDS are kept as they
    are: masking is for data, never for the shape or the vocabulary of a record.
    """
    return _walk(obj, _matchers())


def redact_json(obj: Any, **dumps_kwargs: Any) -> str:
    """JSON text of `obj` with its string values redacted before serialisation (the text itself
    is never rewritten, so it always parses, whatever the secrets are)."""
    dumps_kwargs.setdefault("ensure_ascii", False)
    dumps_kwargs.setdefault("default", str)
    return json.dumps(redact_obj(_plain(obj, dumps_kwargs["default"])), **dumps_kwargs)


def _plain(obj: Any, default: Any) -> Any:
    """Objects json.dumps would hand to `default` (dates, paths, ...), as that text, so that their
    text is redacted too."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, dict):
        return {k: _plain(v, default) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_plain(v, default) for v in obj]
    return default(obj)


def public_url(url: str) -> str:
    """The URL as it may be shown or stored: its userinfo removed (its password, or a token given
    as the user name, registered as a secret first), and the rest redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if "@" in parts.netloc:
        user, _, pw = parts.netloc.rpartition("@")[0].partition(":")
        for secret in (unquote(pw), unquote(user) if not pw else ""):
            if len(secret) >= MIN_SECRET_LEN:
                register_secret(secret)
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return redact(url)


def forget_all_for_tests() -> None:
    global _registered_matcher, _env_seen, _env_matcher
    with _lock:
        _registered.clear()
        _registered_matcher = _Matcher(())
        _env_seen = None
        _env_matcher = _Matcher(())
