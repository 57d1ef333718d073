"""The engine never imports the UI: every console module loads without textual or rich."""

from __future__ import annotations

import pkgutil

import pytest

import console
from tests.conftest import fresh_python


def engine_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(console.__path__, prefix="console.")
        if not m.name.rsplit(".", 1)[-1].startswith("_")
    )


def test_every_console_module_imports_without_textual_or_rich():
    modules = engine_modules()
    assert "console.playbooks.schema" in modules and "console.cli.base" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    assert fresh_python(code, timeout=120) == "", "UI modules in the engine"


def test_cli_import_stays_light():
    """Heavy libraries load when used, not when the CLI starts."""
    code = (
        "import sys, console.cli\n"
        "print(','.join(sorted(m for m in ('numpy', 'duckdb', 'httpx', 'keyring', 'pyarrow') if m in sys.modules)))\n"
    )
    assert fresh_python(code) == ""


def test_the_console_first_frame_path_stays_light():
    """What the console imports before its first frame: no pydantic, numpy, duckdb, httpx, yaml."""
    code = (
        "import sys, console.cli, console.site.config, screens.app, screens.triage\n"
        "from console.site.config import load_config\n"
        "load_config(None)\n"
        "heavy = ('pydantic', 'numpy', 'duckdb', 'httpx', 'yaml', 'keyring', 'pyarrow')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    assert fresh_python(code) == "", "heavy modules before the first frame"


def test_console_core_serves_every_name_lazily():
    """console.core loads its rules on first use; every name of its __all__ still imports."""
    code = (
        "import sys, console.core\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('console.core.'))\n"
        "import console.core.durable\n"  # imports console.core.redact's module itself
        "from console.core import redact\n"
        "assert callable(redact) and redact.__name__ == 'redact', redact\n"
        "for name in console.core.__all__:\n"
        "    exec(f'from console.core import {name}')\n"
        "print(','.join(loaded))\n"
    )
    assert fresh_python(code) == "console.core.lazy,console.core.redact,console.core.secret_forms"


@pytest.mark.parametrize("package", ["console.routing", "console.triage", "console.walkthrough"])
def test_lazy_front_doors_load_nothing_until_asked_and_serve_every_name(package):
    """The console's first frame imports console.routing (for the cached titles) and its first
    ranking console.triage: their front doors load a module only when one of its names is used."""
    code = (
        f"import sys, {package} as door\n"
        f"print(sorted(m for m in sys.modules if m.startswith('{package}.')))\n"
        "for name in door.__all__:\n"
        f"    exec(f'from {package} import {{name}}')\n"
    )
    assert fresh_python(code) == "[]"


# ------------------------------------------------------------------ front doors

import ast  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.name for p in (ROOT / "console").iterdir() if (p / "__init__.py").is_file())


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]


def _package_of(path: Path) -> str | None:
    rel = path.relative_to(ROOT).with_suffix("").parts
    if rel[0] == "console" and len(rel) > 2:
        return rel[1]
    return None


def test_other_packages_come_in_through_the_front_door():
    """Outside a package, only its front door (console.<pkg>) is imported; console.core's
    modules are each one rule and count as doors. No private name crosses a package."""
    bad = []
    for path in [*(ROOT / "console").rglob("*.py"), *(ROOT / "screens").rglob("*.py")]:
        own = _package_of(path)
        for line, module, names in _imports(path):
            parts = module.split(".")
            if parts[0] != "console" or len(parts) < 2 or parts[1] == own:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            entry_point = parts[1] == "cli" and own is None and path.parts[-2] == "console"
            if parts[1] in PACKAGES and len(parts) > 2 and parts[1] != "core" and not entry_point:
                bad.append(f"{where}: imports {module} (use console.{parts[1]})")
            for name in names:
                if name.startswith("_"):
                    bad.append(f"{where}: imports the private name {name} from {module}")
    assert not bad, "\n".join(bad)
