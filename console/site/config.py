"""The site config (fixmap.toml): finding, reading and validating it.

Validation is pydantic (console/config_models.py). A bad file is reported with the file, the
field path, the line where it can be found, the reason and the closest valid name for a typo;
nothing starts half-configured.

Start-up does not pay for pydantic when it need not: a file whose exact content already
validated under this schema (a fingerprint in the data dir's cache) is re-validated lazily,
off the first frame. A changed, new or never-valid file is always validated before anything
starts.
"""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.core import ConfigError, Problem
from console.core.paths import find_config

if TYPE_CHECKING:
    from console.site.models import SiteConfig

_MODEL_NAMES = {"SiteConfig", "SiteInfo", "Service", "EmbeddingsSpec", "Duration"}


def __getattr__(name: str) -> Any:
    """The models live in console.config_models; importing them here is lazy."""
    if name in _MODEL_NAMES:
        from console.site import models as config_models

        return getattr(config_models, name)
    raise AttributeError(f"module 'console.site.config' has no attribute '{name}'")


class Site:
    """A site config and where it came from (path None: no config, playbooks work offline).

    `raw` is the parsed TOML; `config` the validated SiteConfig, built on first use when the
    file is known to be valid.
    """

    def __init__(
        self,
        config: SiteConfig | None = None,
        path: Path | None = None,
        found_by: str = "none",
        raw: dict[str, Any] | None = None,
        file: str | None = None,
    ) -> None:
        self._config = config
        self.path = path
        self.found_by = found_by
        self.raw = raw if raw is not None else {}
        self._file = file or (str(path) if path else "<no config>")
        self._lock = threading.Lock()

    @property
    def config(self) -> SiteConfig:
        if self._config is None:
            with self._lock:
                if self._config is None:
                    self._config = _validate(self.raw, self._file, None)
        return self._config

    @property
    def site_name(self) -> str:
        site = self.raw.get("site") if self._config is None else None
        if isinstance(site, dict) and isinstance(site.get("name"), str):
            return site["name"]
        return self.config.site.name if self.path else "site"

    @property
    def default_service(self) -> str | None:
        if self._config is not None or self.path is None:
            return self.config.default_service()
        site = self.raw.get("site")
        if isinstance(site, dict) and isinstance(site.get("service"), str):
            return site["service"]
        services = self.raw.get("services")
        return next(iter(services), None) if isinstance(services, dict) else None

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, p: Path | str) -> Path:
        p = Path(p).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def playbook_dirs(self) -> list[Path]:
        if self.path is None and not self.raw.get("playbook_dirs"):
            return []
        raw = self.raw.get("playbook_dirs", [])
        if self._config is None and isinstance(raw, list) and all(isinstance(p, str) for p in raw):
            return [self.resolve(p) for p in raw]  # a known-good file: no pydantic for this
        return [self.resolve(p) for p in self.config.playbook_dirs]


def _toml_line_lookup(text: str):
    """Best-effort line of a field path in a TOML file (tomllib keeps no positions)."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    keyline = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+)\s*=")
    entries: list[tuple[tuple[str, ...], int]] = []
    table: tuple[str, ...] = ()
    for n, raw in enumerate(lines, start=1):
        m = header.match(raw)
        if m:
            table = tuple(part.strip().strip("\"'") for part in m.group(1).split("."))
            entries.append((table, n))
            continue
        k = keyline.match(raw)
        if k:
            key = tuple(part.strip().strip("\"'") for part in k.group(1).split("."))
            entries.append((table + key, n))

    def line_of(loc: tuple[Any, ...]) -> int | None:
        want = tuple(str(p) for p in loc if not isinstance(p, int))
        best, best_len = None, -1
        for path, n in entries:
            if len(path) > best_len and want[: len(path)] == path:
                best, best_len = n, len(path)
        if best_len < len(want):
            # a table spelled out only by its sub-tables ([gates.SET.TARGET] for gates.SET)
            for path, n in entries:
                if path[: len(want)] == want:
                    return n
        return best

    return line_of


def _parse_toml(text: str, file: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"{file} is not valid TOML",
            [
                Problem(
                    file,
                    None,
                    str(exc),
                    int(m.group(1)) if m else None,
                    "fix the syntax at that line",
                )
            ],
        ) from None


def _validate(data: dict[str, Any], file: str, text: str | None) -> SiteConfig:
    from pydantic import ValidationError

    from console.core.validation import problems_from
    from console.site.models import SiteConfig

    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        line_of = _toml_line_lookup(text) if text is not None else None
        problems = problems_from(exc, file, SiteConfig, line_of)
        raise ConfigError(f"{file} is not a valid fixmap config", problems) from None


def parse_config(text: str, file: str) -> SiteConfig:
    return _validate(_parse_toml(text, file), file, text)


def _fingerprint(path: Path, text: str) -> str:
    """Changes whenever the file's content, its path or the config schema's code changes."""
    from console.core.digest import CacheKey

    h = CacheKey(f"{path}\0{text}".encode())
    here = Path(__file__).parent
    # every module the schema is built from: the site models and the core rules they use
    for module in sorted([*here.glob("*.py"), *(here.parent / "core").glob("*.py")]):
        try:
            st = module.stat()
            h.update(f"{module.name}:{st.st_mtime_ns}:{st.st_size}".encode())
        except OSError:
            h.update(module.name.encode())
    return h.hexdigest()[:24]


def _known_valid(fp: str) -> Path | None:
    try:
        from console.core import data_dir

        return data_dir() / "cache" / f"config-valid-{fp}"
    except OSError:
        return None


def _use_data_dir(raw: dict[str, Any], resolved: Path) -> None:
    """The config's data_dir (relative to the config file) is where this process keeps data."""
    from console.core.paths import use_site_data_dir

    if isinstance(raw.get("data_dir"), str):
        site_dir = Path(raw["data_dir"]).expanduser()
        use_site_data_dir(site_dir if site_dir.is_absolute() else resolved.parent / site_dir)


def use_data_dir_of(explicit: str | Path | None = None) -> str | None:
    """Point this process at the data dir the site config names, reading only its TOML (every
    command, whether it needs the rest of the config or not, uses the same journal, incidents
    and history). Returns a warning when the file cannot be read; the commands that need the
    config say what is wrong with it in full."""
    path, found_by = find_config(explicit)
    if path is None or not path.is_file():
        return None
    try:
        raw = _parse_toml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ConfigError) as exc:
        why = exc.message if isinstance(exc, ConfigError) else str(exc)
        return f"cannot read {path} (from {found_by}) for its data_dir: {why}"
    _use_data_dir(raw, path.resolve())
    return None


def _use_secrets_dir(raw: dict[str, Any], base: Path) -> None:
    """The site's secrets_dir (relative to the config's folder), for every secret look-up."""
    from console.core.secrets import use_secrets_dir

    value = raw.get("secrets_dir")
    if isinstance(value, str) and value:
        folder = Path(value).expanduser()
        use_secrets_dir(folder if folder.is_absolute() else base / folder)
    else:
        use_secrets_dir(None)


def load_config(explicit: str | Path | None = None, *, eager: bool = False) -> Site:
    """Find and validate the site config; with none anywhere, an empty (offline) config."""
    path, found_by = find_config(explicit)
    if path is None:
        return Site(None, None, found_by, {})
    if not path.is_file():
        raise ConfigError(
            f"config file not found: {path} (from {found_by})",
            [
                Problem(
                    str(path),
                    None,
                    "no such file",
                    None,
                    "check the path, or run 'fixmap demo' to try fixmap on a simulated service",
                )
            ],
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config {path}", [Problem(str(path), None, str(exc))]
        ) from None
    file = str(path)
    raw = _parse_toml(text, file)
    resolved = path.resolve()
    _use_data_dir(raw, resolved)
    _use_secrets_dir(raw, resolved.parent)
    marker = _known_valid(_fingerprint(resolved, text))
    if not eager and marker is not None and marker.exists():
        return Site(None, resolved, found_by, raw, file)
    config = _validate(raw, file, text)
    if marker is not None:
        with contextlib.suppress(OSError):  # an unwritable data dir only costs the fast path
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
    return Site(config, resolved, found_by, raw, file)


NO_CONFIG_HINT = (
    "No site config: playbooks work offline. Give one with --config PATH (or $FIXMAP_CONFIG, "
    "./fixmap.toml), or try it all on a simulated service: fixmap demo"
)
