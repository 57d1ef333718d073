"""Routing with a warm cache: the router index is rebuilt only when a playbook file or the
router's own code or lexicon changes. The install step builds it (`make` calls
`warm()`); otherwise the first run does, and every later process, the console's
included, reads it instead of building its own.

The state is in the data dir's cache/, in files named by the fingerprint: the router's, its
example bank's (the bigger part, read on the first route) and the routes' titles (JSON, what
the console's first frame lists, a few hundred bytes). A state file is a magic line, one line
of JSON (the plain values, and where each array lies) and the int32 / float32 arrays' raw bytes
(the cache is this machine's own): reading one is a read and a copy per array. Reading them imports no numpy, and this
module imports none of the router's own: the first frame pays for a few stat calls and the
titles. A corrupt or unreadable cache file is rebuilt, and a cache that cannot be written is
skipped.
"""

from __future__ import annotations

import contextlib
import json
from array import array
from pathlib import Path

from console.core.digest import CacheKey
from console.core.paths import bundled_dir, example_files, playbook_files
from console.site import Site

CACHE_VERSION = "3"
STATE_MAGIC = b"fixmap router state 3\n"


def router_sources() -> list[Path]:
    """Every module of this package: the router is built from their code and the lexicon's
    data, so an edit to any of them (a new synonym in lexicon.py) rebuilds the cached index."""
    return sorted(Path(__file__).parent.glob("*.py"))


def fingerprint(dirs: list[Path], sources: list[Path] | None = None) -> str:
    """The cache key: the router's sources, the playbook files and their example banks, by path,
    mtime and size."""
    h = CacheKey(CACHE_VERSION.encode())
    code = router_sources() if sources is None else sources
    data = [f for d in dirs if d.is_dir() for f in [*playbook_files(d), *example_files(d)]]
    for f in [*code, *data]:
        st = f.stat()
        h.update(f"{f}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()[:16]


def _cache_file(site: Site) -> Path:
    return _cache_dir() / f"router-{fingerprint([bundled_dir(), *site.playbook_dirs])}.state"


def _bank_file(cache: Path) -> Path:
    return cache.with_suffix(".bank.state")


def _titles_file(cache: Path) -> Path:
    return cache.with_suffix(".titles.json")


def cached_titles(site: Site) -> dict[str, str] | None:
    """Each route's title by id, from the warm cache (none of the router is read), or None when
    it is cold or unreadable: what the console's first frame lists before the router loads."""
    try:
        raw = json.loads(_titles_file(_cache_file(site)).read_text(encoding="utf-8"))
        return dict(zip(raw["ids"], raw["titles"], strict=True))
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
    data = path.read_bytes()
    if not data.startswith(STATE_MAGIC):
        raise ValueError(f"{path} is not a router state file (version {CACHE_VERSION})")
    end = data.index(b"\n", len(STATE_MAGIC))
    head = json.loads(data[len(STATE_MAGIC) : end])
    raw = head["plain"]
    body = memoryview(data)[end + 1 :]
    for key, (typecode, offset, size) in head["arrays"].items():
        values = array(typecode)
        if offset + size > len(body) or size % values.itemsize:
            raise ValueError(f"{path} is cut short")
        values.frombytes(body[offset : offset + size])
        raw[key] = values
    return raw


def _state_bytes(state: dict) -> bytes:
    plain: dict = {}
    arrays: dict = {}
    chunks: list[bytes] = []
    offset = 0
    for key, value in state.items():
        if isinstance(value, array):
            chunk = value.tobytes()
            arrays[key] = [value.typecode, offset, len(chunk)]
            chunks.append(chunk)
            offset += len(chunk)
        else:
            plain[key] = value
    head = json.dumps({"plain": plain, "arrays": arrays}).encode()
    return b"".join([STATE_MAGIC, head, b"\n", *chunks])


def _write_state(path: Path, state: dict) -> None:
    """The router's state in `path`, its bank's (keys bank_*) and the titles beside it."""
    from console.core import atomic_write

    bank = {k: v for k, v in state.items() if k.startswith("bank_")}
    router = {k: v for k, v in state.items() if not k.startswith("bank_")}
    for old in path.parent.glob("router-*"):
        old.unlink(missing_ok=True)
    # the bank first, the router last: a router file is only ever next to its own bank
    atomic_write(_bank_file(path), _state_bytes(bank))
    titles = {"ids": state["ids"], "titles": state["titles"]}
    atomic_write(_titles_file(path), json.dumps(titles))
    atomic_write(path, _state_bytes(router))
