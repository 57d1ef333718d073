"""Keep a developer's own config, keyring and data out of every test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXMAP = str(Path(sys.executable).with_name("fixmap"))


def fresh_python(code: str, timeout: float = 60) -> str:
    """What `code` prints in a fresh interpreter (what a new process imports); it must succeed."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def warm_router_cache(tmp_path_factory) -> Path:
    """The bundled playbooks' router cache, built once per test process (as `make` warms it on
    install): each test's fresh data dir starts with it, so the tests do not each rebuild the
    router and its example bank. A test that needs a cold cache deletes it (test_startup.py)."""
    home = tmp_path_factory.mktemp("warm-home")
    saved = os.environ.get("FIXMAP_HOME")
    os.environ["FIXMAP_HOME"] = str(home)
    try:
        from console.routing import warm

        return warm()
    finally:
        if saved is None:
            os.environ.pop("FIXMAP_HOME", None)
        else:
            os.environ["FIXMAP_HOME"] = saved


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch, warm_router_cache):
    home = tmp_path_factory.mktemp("fixmap-home")
    (home / "cache").mkdir()
    for f in warm_router_cache.parent.glob(f"{warm_router_cache.stem}.*"):  # router, bank, titles
        # linked, not copied (5 MB per test): fixmap replaces a cache file, never writes into it,
        # so a test that damages one must replace it too (unlink, then write)
        try:
            os.link(f, home / "cache" / f.name)
        except OSError:
            shutil.copy2(f, home / "cache" / f.name)
    xdg = tmp_path_factory.mktemp("xdg")
    work = tmp_path_factory.mktemp("cwd")
    monkeypatch.setenv("FIXMAP_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg / "data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("FIXMAP_CONFIG", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for key in list(os.environ):
        if key.startswith("FIXMAP_SECRET_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def fixmap_home(isolated_env) -> Path:
    return isolated_env


def without_sampling(text: str) -> str:
    """The demo's site config as a site that does not sample: its history (the seeded week) is
    judged with the 5-minute default max_age, not three sampling intervals."""
    sampled = 'sources = ["demo_metrics"]'
    assert sampled in text
    return text.replace(sampled, "sources = []", 1)


SLOW_FILES = ("test_tui_routes.py", "test_routes_e2e.py", "test_live_gates.py", "test_any_site.py")
"""The longest files, longest first (minutes, not seconds: `pytest --durations=30`), run before
the rest: with `make test`'s two workers taking one file at a time, a long file taken last is a
long tail."""


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return SLOW_FILES.index(name) if name in SLOW_FILES else len(SLOW_FILES)

    items.sort(key=rank)  # stable: the order within a file is kept
