"""The probe-kind registry against the site's probe specs and against each kind's own code:
every kind in console/site/probe_spec.py is registered, and the measures a kind declares are
exactly the names its code puts into `values`."""

from __future__ import annotations

import ast
import inspect
import re
import typing

import pytest

from console.probes.kinds import KINDS, measures
from console.site import PROBE_KINDS, ProbeBase
from console.site.probe_kinds import AnyProbe
from console.site.probe_spec import TEMPLATE_FIELDS


def test_every_probe_kind_of_the_site_config_is_registered():
    assert set(KINDS) == set(typing.get_args(AnyProbe))
    assert sorted(k.name for k in KINDS.values()) == sorted(PROBE_KINDS)
    for spec, kind in KINDS.items():
        assert issubclass(spec, ProbeBase)
        assert kind.spec is spec and kind.measures, spec.__name__
        assert len(set(kind.measures)) == len(kind.measures), f"{kind.name}: a measure twice"
    assert "p95_ms" in measures("latency") and measures("no-such-kind") == ()


def test_fills_name_template_fields_the_kind_has():
    for spec in KINDS:
        for field, names in spec.FILLS.items():
            assert field in TEMPLATE_FIELDS and field in spec.model_fields, (spec.__name__, field)
            assert names and field != "headers", (spec.__name__, field)


def _keys_put_into_values(source: str) -> list[ast.expr]:
    """Every key expression the code writes into a dict named `values`."""
    keys: list[ast.expr] = []
    for node in ast.walk(ast.parse(source)):
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == "values" and isinstance(value, ast.Dict):
            keys.extend(k for k in value.keys if k is not None)
        if isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "values":
            keys.append(target.slice)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and getattr(node.func.value, "id", None) == "values"
            and node.args
            and isinstance(node.args[0], ast.Dict)
        ):
            keys.extend(k for k in node.args[0].keys if k is not None)
    return keys


def _pattern(key: ast.JoinedStr) -> re.Pattern[str]:
    parts = [re.escape(p.value) if isinstance(p, ast.Constant) else ".+" for p in key.values]
    return re.compile("".join(parts))


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=lambda k: k.name)
def test_a_kind_declares_exactly_the_measures_its_code_reports(kind):
    source = inspect.getsource(inspect.getmodule(kind.run))
    keys = _keys_put_into_values(source)
    assert keys, f"found no values in {kind.name}'s module"
    declared = set(kind.measures)
    named = {k.value for k in keys if isinstance(k, ast.Constant)}
    patterns = [_pattern(k) for k in keys if isinstance(k, ast.JoinedStr)]
    dynamic = [k for k in keys if not isinstance(k, ast.Constant | ast.JoinedStr)]
    assert named <= declared, f"{kind.name} reports undeclared {sorted(named - declared)}"
    for p in patterns:
        assert any(p.fullmatch(m) for m in declared), f"{kind.name}: nothing declared matches {p}"
    unused = {m for m in declared if m not in named and not any(p.fullmatch(m) for p in patterns)}
    assert not unused, f"{kind.name} declares measures its code never reports: {sorted(unused)}"
    assert bool(dynamic) == kind.json_paths, f"{kind.name}: values under computed names"
