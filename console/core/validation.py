"""Turn pydantic validation errors into problems that name file, field path, line and a fix."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from console.core.errors import Problem, closest

Loc = tuple[Any, ...]
LineLookup = Callable[[Loc], int | None]


def format_loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<top level>"


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes (or plain types) an annotation can hold at the next level."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _step(annotation: Any, part: Any) -> list[Any]:
    """Follow one loc element from a type to the types it leads to."""
    from pydantic import BaseModel

    out: list[Any] = []
    for candidate in _unwrap(annotation):
        origin = typing.get_origin(candidate)
        if origin in (list, tuple, set, frozenset, Sequence):
            args = typing.get_args(candidate)
            if isinstance(part, int) and args:
                out.extend(_unwrap(args[0]))
        elif origin is dict:
            args = typing.get_args(candidate)
            if len(args) == 2:
                out.extend(_unwrap(args[1]))
        elif isinstance(candidate, type) and issubclass(candidate, BaseModel):
            field = documented_fields(candidate).get(part) if isinstance(part, str) else None
            if field is not None:
                out.extend(_unwrap(field.annotation))
    return out


def documented_fields(model: type) -> dict[str, Any]:
    """A model's fields by the name a user writes: the alias where there is one (`pass`, not
    `pass_`; `json`, not `json_body`), else the field's own name."""
    return {(f.alias or name): f for name, f in model.model_fields.items()}


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    return ()


def _tagged_member(current: list[Any], part: Any) -> Any | None:
    """If `current` is a tagged union and `part` is one member's tag, that member."""
    from pydantic import BaseModel

    models = [c for c in current if isinstance(c, type) and issubclass(c, BaseModel)]
    if len(models) < 2 or not isinstance(part, str):
        return None
    for m in models:
        kind = m.model_fields.get("kind")
        if kind is not None and part in _literal_values(kind.annotation):
            return m
    return None


def _walk(model: type, loc: Loc) -> tuple[Loc, list[Any]]:
    """The loc without union tags, and the types found at its end."""
    out: list[Any] = []
    current: list[Any] = [model]
    for part in loc:
        member = _tagged_member(current, part)
        if member is not None:
            current = [member]
            continue
        out.append(part)
        nxt: list[Any] = []
        for c in current:
            nxt.extend(_step(c, part))
        current = nxt
    return tuple(out), current


def fields_at(model: type, loc: Loc) -> list[str]:
    """Valid field names of the model found at `loc` (used to suggest a fix for a typo)."""
    from pydantic import BaseModel

    _, current = _walk(model, loc)
    names: list[str] = []
    for c in current:
        if isinstance(c, type) and issubclass(c, BaseModel):
            names.extend(n for n in documented_fields(c) if n not in names)
    return names


def problems_from(
    exc: Any, file: str, model: type, line_of: LineLookup | None = None
) -> list[Problem]:
    """One Problem per pydantic error, with the closest valid name for an unknown field."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        # the discriminator tag pydantic inserts (e.g. steps[0].probe.x) is not a user field
        user_loc, _ = _walk(model, loc)
        hint = None
        reason = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden" and user_loc:
            valid = fields_at(model, loc[:-1])
            guess = closest(str(user_loc[-1]), valid)
            reason = "unknown field"
            if guess:
                hint = f"did you mean '{guess}'?"
            elif valid:
                hint = "valid fields: " + ", ".join(valid)
        elif err["type"] == "union_tag_invalid":
            ctx = err.get("ctx") or {}
            expected = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
            got = str(ctx.get("tag", ""))
            guess = closest(got, expected)
            reason = f"unknown kind '{got}'"
            hint = f"did you mean '{guess}'?" if guess else "valid kinds: " + ", ".join(expected)
        elif err["type"] == "literal_error":
            ctx = err.get("ctx") or {}
            expected = re.findall(r"'([^']+)'", str(ctx.get("expected", "")))
            guess = closest(str(err.get("input")), expected)
            if guess:
                hint = f"did you mean '{guess}'?"
        line = line_of(user_loc) if line_of else None
        problems.append(
            Problem(file=file, field=format_loc(user_loc), reason=reason, line=line, hint=hint)
        )
    return problems
