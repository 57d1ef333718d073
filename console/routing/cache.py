"""Routing with a warm cache: the router index is rebuilt only when a playbook file or the
router's own code or lexicon changes. The install step builds it (`make` calls
`warm()`); otherwise the first run does, and every later process, the console's
included, reads it instead of building its own.

The state is JSON in the data dir's cache/ (its int32 and float32 arrays as the hex of their
bytes: the cache is this machine's own), one file named by the fingerprint; reading it imports
no numpy; a corrupt or unreadable cache file is rebuilt, and a cache that cannot be written
is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from array import array
from pathlib import Path

from console.core.paths import bundled_dir, playbook_files
from console.routing.examples import example_files
from console.site import Site

CACHE_VERSION = "2"


def router_sources() -> list[Path]:
    """Every module of this package: the router is built from their code and the lexicon's
    data, so an edit to any of them (a new synonym in lexicon.py) rebuilds the cached index."""
    return sorted(Path(__file__).parent.glob("*.py"))


def fingerprint(dirs: list[Path], sources: list[Path] | None = None) -> str:
    """The cache key: the router's sources, the playbook files and their example banks, by path,
    mtime and size."""
    h = hashlib.sha1(CACHE_VERSION.encode())
    code = router_sources() if sources is None else sources
    data = [f for d in dirs if d.is_dir() for f in [*playbook_files(d), *example_files(d)]]
    for f in [*code, *data]:
        st = f.stat()
        h.update(f"{f}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()[:16]


def _cache_file(site: Site) -> Path:
    return _cache_dir() / f"router-{fingerprint([bundled_dir(), *site.playbook_dirs])}.json"


def _bank_file(cache: Path) -> Path:
    return cache.with_suffix(".bank.json")


def cached_router(site: Site):
    """The router from the warm cache, or None when it is cold (or unreadable). Its example bank
    (the bigger part) is read from its own file on the first route, not in the first frame."""
    from console.routing.router import Router

    try:
        cache = _cache_file(site)
    except OSError:  # no data dir to keep a cache in (read-only, full): route without one
        return None
    if cache.is_file():
        try:
            return Router.from_state(_read_state(cache), bank=lambda: _cached_bank(site, cache))
        except Exception:  # a corrupt cache is rebuilt, never fatal
            with contextlib.suppress(OSError):
                cache.unlink(missing_ok=True)
    return None


def _cached_bank(site: Site, cache: Path):
    """The bank kept beside the cached router; a lost or corrupt one is rebuilt (and kept)."""
    from console.routing.examples import Bank

    try:
        return Bank.from_state(_read_state(_bank_file(cache)))
    except Exception:
        router = build_router(site)
        save_router(site, router)
        return router.bank


def save_router(site: Site, router) -> None:
    """Keep the router in the cache for the next process (a read-only data dir: skipped)."""
    with contextlib.suppress(OSError):
        _write_state(_cache_file(site), router.to_state())


def get_router(site: Site):
    """The router over bundled + team playbooks, from the cache when nothing changed."""
    router = cached_router(site)
    if router is None:
        router = build_router(site)
        save_router(site, router)
    return router


def build_router(site: Site, catalog=None):
    """A fresh router over this site's catalogue (loaded when not given) and the example banks
    of the bundled and the team playbook folders."""
    from console.routing.examples import load_examples
    from console.routing.router import Router

    if catalog is None:
        from console.playbooks import load_catalog

        catalog = load_catalog(site.playbook_dirs)
    bank, _ = load_examples([bundled_dir(), *site.playbook_dirs])
    return Router.from_playbooks(catalog, bank)


def warm() -> Path:
    """Build the cache of the bundled playbooks' router now (the install step runs this, so
    the first console and `fixmap route` start warm); returns the cache file."""
    from console.site import Site

    site = Site()
    get_router(site)
    return _cache_file(site)


def route_query(site: Site, query: str, top: int = 5):
    return get_router(site).route(query, top)


def _cache_dir() -> Path:
    from console.core import data_dir

    d = data_dir() / "cache"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _read_state(path: Path) -> dict:
    raw = json.loads(path.read_text(encoding="utf-8"))
    for key, spec in raw.pop("__arrays__", {}).items():
        raw[key] = array(spec["typecode"], bytes.fromhex(spec["hex"]))
    return raw


def _write_state(path: Path, state: dict) -> None:
    """The router's state in `path`, its bank's (keys bank_*) in the file beside it."""
    from console.core import atomic_write

    parts: dict[Path, dict] = {path: {}, _bank_file(path): {}}
    for key, value in state.items():
        parts[_bank_file(path) if key.startswith("bank_") else path][key] = value
    for old in path.parent.glob("router-*.json"):
        old.unlink(missing_ok=True)
    # the bank first: a router file is only ever next to its own bank
    for file in sorted(parts, key=lambda f: f != _bank_file(path)):
        plain: dict = {}
        arrays: dict = {}
        for key, value in parts[file].items():
            if isinstance(value, array):
                arrays[key] = {"typecode": value.typecode, "hex": value.tobytes().hex()}
            else:
                plain[key] = value
        plain["__arrays__"] = arrays
        atomic_write(file, json.dumps(plain))
