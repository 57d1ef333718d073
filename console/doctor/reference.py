"""The site-config reference, generated from the models: `fixmap config reference` (Markdown)
and `fixmap config schema` (JSON Schema, for editors).

Every table and field with its type, default and docstring (fields are documented where they are
declared, as attribute docstrings; they are read here from the source, so the reference can never
drift from the code); for each probe kind the measures it reports (console/probes/kinds); for
each built-in gate set the probe measures and history metrics (and units) its targets read; the
parameters each bundled playbook passes to each action.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from console.doctor.needs import QUERY_METRICS, action_uses, metric_unit, target_metrics

# ------------------------------------------------------------------ reading the models


@cache
def field_docs(model: type) -> dict[str, str]:
    """Attribute docstrings of a model and its bases: field name -> text."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if cls.__module__.startswith(("pydantic", "builtins")):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, [*body[1:], None], strict=True):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _models_in(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _special(meta: Any) -> str | None:
    """'duration' or 'JSON path' when a validator in this metadata makes the field one."""
    from console.core.durations import parse_duration

    funcs = [getattr(m, "func", None) for m in meta]
    if parse_duration in funcs:
        return "duration"
    if any(getattr(f, "__name__", "") == "_check_path" for f in funcs):
        return "JSON path"
    return None


def field_type_text(field: Any) -> str:
    """A model field's type as a user writes it (pydantic keeps validators in its metadata)."""
    return _special(field.metadata) or type_text(field.annotation)


def type_text(annotation: Any) -> str:
    """A type as a user writes it."""
    from pydantic import BaseModel

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        return _special(meta) or type_text(inner)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in args if _models_in(a)]
        if len(models) > 3:
            return f"table (one of {len(models)} kinds: see below)"
        return " or ".join(dict.fromkeys(type_text(a) for a in args))
    if origin is typing.Literal:
        return " or ".join(json.dumps(v) for v in typing.get_args(annotation))
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return f"list of {type_text(args[0])}" if args else "list"
    if origin is dict:
        _k, v = typing.get_args(annotation)
        return f"table of {type_text(v)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"table ({annotation.__name__})"
    if annotation is Any:
        return "any JSON value"
    if annotation is Path:
        return "path"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def default_text(field: Any) -> str:
    from pydantic_core import PydanticUndefined

    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if hasattr(value, "model_dump"):
        return "a table of defaults"
    if isinstance(value, Path):
        value = str(value)
    if _special(field.metadata) == "duration" and isinstance(value, int | float):
        from console.core import duration_text

        return f"`{duration_text(value)}`"
    return "`" + json.dumps(value, ensure_ascii=False, default=str) + "`"


def _rows(model: type) -> list[str]:
    docs = field_docs(model)
    rows = ["| field | type | default | what |", "| --- | --- | --- | --- |"]
    for name, f in model.model_fields.items():
        what = " ".join(docs.get(name, "").split()).replace("|", "\\|")
        rows.append(f"| `{f.alias or name}` | {field_type_text(f)} | {default_text(f)} | {what} |")
    return rows


def _section(title: str, model: type, level: int = 3) -> list[str]:
    doc = inspect.cleandoc(model.__doc__ or "")
    out = [f"{'#' * level} {title}", ""]
    if doc and not doc.startswith(model.__name__ + "("):
        out += [" ".join(doc.split("\n\n")[0].split()), ""]
    return [*out, *_rows(model), ""]


# ------------------------------------------------------------------ the Markdown


def reference_markdown(site: Any = None) -> str:
    """The whole reference, as Markdown."""
    from console.site import (
        ActionSpec,
        EmbeddingsSpec,
        FileSource,
        GateTarget,
        HistorySpec,
        HttpSpec,
        JsonCheck,
        ParamSpec,
        PrometheusSource,
        Request,
        Service,
        SiteConfig,
        SiteInfo,
        StateSpec,
    )

    out = [
        "# fixmap site-config reference",
        "",
        "Generated from the models by `fixmap config reference` (a JSON Schema for editors:",
        "`fixmap config schema`). Every relative path in fixmap.toml is relative to the config",
        "file. `\"\"` switches an optional path or URL off. Durations are written '250ms', '30s',",
        "'5m', '24h' or as seconds.",
        "",
        "## Tables",
        "",
        *_section("Top level", SiteConfig),
        *_section("[site]", SiteInfo),
        *_section("[services.NAME]", Service),
        *_section("[embeddings]", EmbeddingsSpec),
        *_section("[history]", HistorySpec),
        *_section('[history.sources.NAME], kind = "prometheus"', PrometheusSource),
        *_section('[history.sources.NAME], kind = "files"', FileSource),
        *_section("[actions.NAME]", ActionSpec),
        *_section("[actions.NAME].http", HttpSpec),
        *_section("[actions.NAME].params.PARAM", ParamSpec),
        *_section("[actions.NAME].state", StateSpec),
        *_section("[gates.SET.TARGET]", GateTarget),
        *_section("A request table (any probe request)", Request),
        *_section("[probes.NAME].checks[] (http)", JsonCheck),
        *_probe_kinds(),
        *_gate_sets(site),
        *_playbook_params(site),
    ]
    return "\n".join(out).rstrip() + "\n"


def _probe_kinds() -> list[str]:
    from console.probes import KINDS

    out = [
        "## Probe kinds",
        "",
        "`timeout` bounds each request of a probe (default: its service's `timeout`);",
        "`deadline` the whole probe (default 30 s, or the timeout when longer). A probe that",
        "could not measure (its reads refused, throttled, reset or timed out) is *error*, which",
        "gates count as inconclusive; only the kinds that measure answering itself say *fail*.",
        "A gate target reads a measure by its name below; `verdict` (1 pass, 0 fail) and",
        "`value` (the headline value) exist for every kind.",
        "",
    ]
    for kind in KINDS.values():
        out += _section(f'kind = "{kind.name}"', kind.spec)
        fills = {f: sorted(v) for f, v in kind.spec.FILLS.items()}
        if fills:
            filled = "; ".join(
                f"`{f}`: " + ", ".join(f"`{{{n}}}`" for n in names) for f, names in fills.items()
            )
            out += [f"Values it fills into templates: {filled}.", ""]
        out += [
            f"Measures ({kind.name}): "
            + ", ".join(f"`{m}`" for m in kind.measures)
            + (
                " and, for each JSON path or metric it checks, its value under that path or "
                "selector"
                if kind.json_paths
                else ""
            )
            + ".",
            "",
            "No answer is "
            + ("a **fail** here." if kind.no_answer_fails else "an **error** here."),
            "",
        ]
    return out


def _gate_sets(site: Any) -> list[str]:
    from console.gates import gate_sets

    out = [
        "## Built-in gate sets",
        "",
        "What each target reads: a probe's measure (the probe of that name, else the only one of",
        "its kind), or history metrics through a named query, stored under these metric names",
        "and in these units. Change a target in `[gates.SET.TARGET]`.",
        "",
    ]
    for gs in gate_sets(site).values():
        if not gs.builtin:
            continue
        out += [
            f"### {gs.name}",
            "",
            gs.title,
            "",
            "| target | reads | measure | pass | history metrics (unit) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for t in gs.targets:
            metrics = ", ".join(
                f"`{m}`" + (f" ({metric_unit(m)})" if metric_unit(m) else "")
                for m in target_metrics(t)
            )
            out.append(
                f"| `{t.name}` | {t.source} | `{t.measure}` | `{t.pass_}` | {metrics or '-'} |"
            )
        out.append("")
    out += [
        "Named queries and the metrics they read when no `metric` is given: "
        + "; ".join(f"`{q}`: " + ", ".join(f"`{m}`" for m in ms) for q, ms in QUERY_METRICS.items())
        + "; the others: `latency_ms` (ms).",
        "",
    ]
    return out


def _playbook_params(site: Any) -> list[str]:
    from console.playbooks import load_catalog

    dirs = site.playbook_dirs if site is not None else []
    uses = action_uses(load_catalog(dirs))
    out = [
        "## Actions the playbooks run, and the parameters they pass",
        "",
        "An `[actions.NAME]` table must declare (under `params`) every parameter the playbook",
        "steps pass to it, and use each in its argv or http request as `{name}`.",
        "",
        "| action | parameters (playbook/step = value) |",
        "| --- | --- |",
    ]
    for action in sorted(uses):
        params = uses[action].params
        text = (
            "<br>".join(f"`{p}`: " + "; ".join(v) for p, v in sorted(params.items()))
            if params
            else "none (" + ", ".join(uses[action].steps[:4]) + ")"
        )
        out.append(f"| `{action}` | {text} |")
    return [*out, ""]


# ------------------------------------------------------------------ the JSON Schema


def config_schema() -> dict[str, Any]:
    """JSON Schema of fixmap.toml, the field docstrings as descriptions."""
    from console.site import SiteConfig

    schema = SiteConfig.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "fixmap.toml"
    defs = schema.get("$defs", {})
    for model in _all_models(SiteConfig):
        target = defs.get(model.__name__) if model is not SiteConfig else schema
        if target is None:
            continue
        docs = field_docs(model)
        for name, f in model.model_fields.items():
            prop = target.get("properties", {}).get(f.alias or name)
            if prop is not None and docs.get(name):
                prop["description"] = docs[name]
    return schema


def _all_models(root: type) -> list[type]:
    seen: list[type] = []
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for f in model.model_fields.values():
            todo.extend(_models_in(f.annotation))
    return seen
