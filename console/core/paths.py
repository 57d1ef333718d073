"""Where fixmap finds its config and keeps its data."""

from __future__ import annotations

import os
from pathlib import Path

APP = "fixmap"
CONFIG_NAME = "fixmap.toml"


_site_data_dir: Path | None = None


def use_site_data_dir(path: Path | None) -> None:
    """The site config's data_dir: where the journal, locks, incidents and history live when
    FIXMAP_HOME is not set (so engineers sharing a site config share one journal)."""
    global _site_data_dir
    _site_data_dir = path


def data_dir(*, create: bool = True) -> Path:
    """FIXMAP_HOME, else the site config's data_dir, else the user data dir; created on first use
    (`create=False`: only where it would be, for readers on a read-only file system)."""
    home = os.environ.get("FIXMAP_HOME")
    if home:
        path = Path(home).expanduser()
    elif _site_data_dir is not None:
        path = _site_data_dir
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def user_config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / CONFIG_NAME


def find_config(explicit: str | os.PathLike[str] | None = None) -> tuple[Path | None, str]:
    """The config file to use and how it was found: --config, $FIXMAP_CONFIG, ./fixmap.toml, user dir.

    An explicit path (flag or variable) that does not exist is returned as is, so the loader can
    say so; the implicit places are only used when the file is there.
    """
    if explicit:
        return Path(explicit).expanduser(), "--config"
    env = os.environ.get("FIXMAP_CONFIG")
    if env:
        return Path(env).expanduser(), "$FIXMAP_CONFIG"
    local = Path.cwd() / CONFIG_NAME
    if local.is_file():
        return local, "./fixmap.toml"
    user = user_config_file()
    if user.is_file():
        return user, "user config dir"
    return None, "none"


def bundled_dir() -> Path:
    """The folder of playbooks shipped inside the package."""
    import playbooks

    return Path(playbooks.__file__).parent


def playbook_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def example_files(folder: Path) -> list[Path]:
    """The example-bank files of a playbook folder: examples/<id>.yaml (none without a bank)."""
    bank = Path(folder) / "examples"
    if not bank.is_dir():
        return []
    return playbook_files(bank)
