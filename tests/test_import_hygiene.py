"""The engine never imports the UI: every console module loads without textual or rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import console


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
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"UI modules site by the engine: {proc.stdout.strip()}"


def test_cli_import_stays_light():
    """Heavy libraries load when used, not when the CLI starts."""
    code = (
        "import sys, console.cli\n"
        "print(','.join(sorted(m for m in ('numpy', 'duckdb', 'httpx', 'keyring', 'pyarrow') if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_the_console_first_frame_path_stays_light():
    """What the console imports before its first frame: no pydantic, numpy, duckdb, httpx, yaml."""
    code = (
        "import sys, console.cli, console.site.config, screens.app, screens.triage\n"
        "from console.site.config import load_config\n"
        "load_config(None)\n"
        "heavy = ('pydantic', 'numpy', 'duckdb', 'httpx', 'yaml', 'keyring', 'pyarrow')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"site before the first frame: {proc.stdout.strip()}"
