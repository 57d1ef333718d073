"""The one template language: argv words, HTTP requests of actions and probes, state checks.

`{name}` is a value (an action's typed parameter, a probe's `{query}`, `{seed}`, `{k}`, `{key}`),
`{secret:NAME}` a secret, resolved only when the request is sent and masked everywhere else;
`{{` and `}}` are literal braces. A placeholder always substitutes inside one string: in argv it
fills one word and can never add words; in a URL its value is quoted as one segment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


class TemplateError(ValueError):
    """A template that cannot be filled: bad syntax, or a value it names is not there."""


@dataclass(frozen=True)
class Placeholder:
    """`{name}` (kind 'param') or `{secret:NAME}` (kind 'secret') inside a template."""

    kind: Literal["param", "secret"]
    name: str

    def __str__(self) -> str:
        return f"{{secret:{self.name}}}" if self.kind == "secret" else f"{{{self.name}}}"


Part = str | Placeholder


def parse_template(text: str) -> list[Part]:
    """Split a template into literal text and placeholders; TemplateError with a fix on bad syntax."""
    parts: list[Part] = []
    pos = 0
    buf = ""
    for m in _TOKEN.finditer(text):
        buf += text[pos : m.start()]
        pos = m.end()
        tok = m.group(0)
        if tok in ("{{", "}}"):
            buf += tok[0]
            continue
        if tok in ("{", "}"):
            raise TemplateError(
                f"unmatched '{tok}' in {text!r}: write '{tok * 2}' for a literal brace"
            )
        inner = m.group(1).strip()
        if inner.startswith("secret:"):
            name = inner.removeprefix("secret:").strip()
            if not SECRET_NAME.match(name):
                raise TemplateError(
                    f"'{{{inner}}}' in {text!r}: a secret name uses letters, digits, _ . - only"
                )
            ph = Placeholder("secret", name)
        elif NAME.match(inner):
            ph = Placeholder("param", inner)
        else:
            raise TemplateError(
                f"'{{{inner}}}' in {text!r} is not a placeholder: use {{name}} or {{secret:NAME}} "
                "(write '{{' and '}}' for literal braces)"
            )
        if buf:
            parts.append(buf)
            buf = ""
        parts.append(ph)
    buf += text[pos:]
    if buf:
        parts.append(buf)
    return parts


def placeholders(text: str) -> list[Placeholder]:
    return [p for p in parse_template(text) if isinstance(p, Placeholder)]


def template_strings(obj: Any) -> list[str]:
    """Every string leaf of a JSON-like template (keys are literal and not included)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in template_strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in template_strings(v)]
    return []


def names_in(obj: Any, kind: Literal["param", "secret"]) -> list[str]:
    """The value (or secret) names a template or JSON-like template uses, in order, once each."""
    out: list[str] = []
    for text in template_strings(obj):
        for ph in placeholders(text):
            if ph.kind == kind and ph.name not in out:
                out.append(ph.name)
    return out


def check_names(obj: Any, allowed: set[str] | frozenset[str], where: str) -> None:
    """TemplateError when a template names a value that will never be there."""
    for name in names_in(obj, "param"):
        if name not in allowed:
            known = ", ".join(f"{{{n}}}" for n in sorted(allowed)) or "none"
            raise TemplateError(f"{where}: '{{{name}}}' is not a value here (known: {known})")


def as_text(value: Any) -> str:
    """A value as it goes into text: true/false for bools."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def url_quote(value: str) -> str:
    """A value inside a URL: one path segment or query value, never a separator."""
    return quote(value, safe="")


def render_text(
    text: str,
    values: Mapping[str, Any],
    secret_values: Mapping[str, str] | None,
    encode: Callable[[str], str] | None = None,
) -> str:
    """Fill a template; with `secret_values` None, secrets stay as {secret:NAME} (for plans)."""
    out = ""
    for part in parse_template(text):
        if isinstance(part, str):
            out += part
        elif part.kind == "param":
            if part.name not in values:
                raise TemplateError(f"{text!r}: no value for '{{{part.name}}}'")
            value = as_text(values[part.name])
            out += encode(value) if encode else value
        elif secret_values is None:
            out += str(part)
        else:
            if part.name not in secret_values:
                raise TemplateError(f"{text!r}: secret '{part.name}' was not resolved")
            value = secret_values[part.name]
            out += encode(value) if encode else value
    return out


def render_json(
    obj: Any, values: Mapping[str, Any], secret_values: Mapping[str, str] | None
) -> Any:
    """Fill every string of a JSON-like template; a string that is one `{name}` keeps the
    value's type (an int stays an int, a bool a bool). Keys are literal."""
    if isinstance(obj, str):
        parts = parse_template(obj)
        if len(parts) == 1 and isinstance(parts[0], Placeholder) and parts[0].kind == "param":
            name = parts[0].name
            if name not in values:
                raise TemplateError(f"{obj!r}: no value for '{{{name}}}'")
            return values[name]
        return render_text(obj, values, secret_values)
    if isinstance(obj, dict):
        return {k: render_json(v, values, secret_values) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [render_json(v, values, secret_values) for v in obj]
    return obj


def bad_characters(value: str) -> str | None:
    """Why a value may not be substituted anywhere (control characters, line breaks, bidi)."""
    for ch in value:
        if ch == "\0":
            return "contains a NUL byte"
        if ch in "\r\n\u0085\u2028\u2029":
            return "contains a line break"
        if ch in _BIDI:
            return "contains a bidirectional-text control character"
        if unicodedata.category(ch) == "Cc":
            return f"contains the control character U+{ord(ch):04X}"
    return None
