"""Keep a developer's own config, keyring and data out of every test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXMAP = str(Path(sys.executable).with_name("fixmap"))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("fixmap-home")
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
