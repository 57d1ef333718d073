"""TOML a user can paste: a probe or an action a playbook or gate set needs, built from the
models (every field the kind requires, with a value to change) so that it validates as pasted.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from console.site import names

_CHANGE_ME = "CHANGE-ME"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _example(annotation: Any) -> Any:
    """A value of this type to change, for a field that has no default."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _example(typing.get_args(annotation)[0])
    if origin in (list, tuple):
        return [_CHANGE_ME]
    if annotation is int:
        return 1
    return _CHANGE_ME


def probe_toml(name: str, kind: str | None = None) -> str:
    """A [probes.NAME] table of the conventional kind for that name, its required fields set."""
    from console.site import AnyProbe

    kind = kind or names.PROBE_KIND.get(name, "http")
    spec = next(c for c in typing.get_args(AnyProbe) if _kind_of(c) == kind)
    lines = [f"[probes.{name}]", f"kind = {_toml(kind)}"]
    if name in names.PROBES:
        lines.append(f"description = {_toml(names.PROBES[name])}")
    for field_name, field in spec.model_fields.items():
        if field_name == "kind" or not field.is_required():
            continue
        lines.append(f"{field_name} = {_toml(_example(field.annotation))}")
    lines.append("# every other field has a default: see `fixmap config reference`")
    return "\n".join(lines)


def _kind_of(model: type) -> str:
    return typing.get_args(model.model_fields["kind"].annotation)[0]


def param_toml(name: str, uses: list[str]) -> str:
    """A parameter's line that takes the values the playbooks pass (`uses`: 'pb/step = value'):
    an enum of them when they are few, else a str (free text only where a value needs it)."""
    import ast

    from console.site import SAFE_VALUE

    values = sorted({str(ast.literal_eval(u.split(" = ", 1)[1])) for u in uses if " = " in u})
    if values and len(values) <= 6:
        return f"params.{name} = {{ enum = {_toml(values)} }}"
    if all(SAFE_VALUE.match(v) for v in values):
        return f'params.{name} = {{ type = "str" }}'
    return (
        f'params.{name} = {{ type = "str", free_text = true }}  '
        "# CHANGE-ME: free text only if it reaches no shell or interpreter"
    )


def action_toml(name: str, params: dict[str, list[str]]) -> str:
    """An [actions.NAME] table taking `params` (argv to change; each parameter one word)."""
    from console.site import ACTION_KINDS

    kind = name if name in ACTION_KINDS else "custom"
    lines = [f"[actions.{name}]", f"kind = {_toml(kind)}"]
    if name in names.ACTIONS:
        lines.append(f"description = {_toml(names.ACTIONS[name])}")
    lines.append(
        "argv = " + _toml([_CHANGE_ME, *(f"--{p.replace('_', '-')}={{{p}}}" for p in params)])
    )
    lines += [param_toml(p, params[p]) for p in sorted(params)]
    lines.append('# or http = { method = "POST", url = "/...", json = { ... } } instead of argv')
    return "\n".join(lines)


def params_toml(action: str, params: dict[str, list[str]]) -> str:
    """The parameter lines to add inside an existing [actions.NAME] table."""
    lines = [
        f"# inside [actions.{action}], and use each as {{name}} in its argv or http request:",
        *(param_toml(p, params[p]) for p in sorted(params)),
    ]
    return "\n".join(lines)
