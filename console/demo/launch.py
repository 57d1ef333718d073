"""`fixmap demo`: start the simulated service, write its site config, then open the console on it
(or, with --serve, print `serving URL config=PATH` and serve until SIGINT/SIGTERM)."""

from __future__ import annotations

import secrets as _random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from console.core import EXIT_BAD_INPUT, FixmapError, closest, env_var
from console.demo.faults import FAULTS, HEALTHY_PINS
from console.demo.service import DemoService
from console.demo.site import ADMIN_SECRET, SECRETS_DIR, SERVICE_NAME, write_site_config

if TYPE_CHECKING:
    from console.site import Site


def normalise_faults(faults: list[str]) -> list[str]:
    """Fault names as given on the command line (rate_limit and rate-limit both work)."""
    out: list[str] = []
    for raw in faults:
        name = raw.strip().lower().replace("_", "-")
        if name not in FAULTS:
            guess = closest(name, FAULTS)
            hint = f"did you mean '{guess}'?" if guess else "faults: " + ", ".join(FAULTS)
            raise FixmapError(f"unknown fault '{raw}' ({hint})", exit_code=EXIT_BAD_INPUT)
        if name not in out:
            out.append(name)
    return out


def demo_folder(folder: Path | None) -> Path:
    """The folder asked for, or a fresh one under the data dir's demo/."""
    if folder is not None:
        folder = folder.expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        return folder.resolve()
    from console.core import data_dir

    parent = data_dir() / "demo"
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=parent))


def admin_token(folder: Path) -> tuple[str, bool]:
    """The demo's admin token: the secret if it resolves, else one made up for this run.

    Either way it is written 0600 into the demo folder's secrets/ (the config's secrets_dir), so
    actions resolve it by name like any secret, from this process or from a second shell with
    nothing exported.
    """
    from console.core import SecretError, register_secret, resolve
    from console.core.secrets import store_in_dir

    try:
        token, made_up = resolve(ADMIN_SECRET), False
    except SecretError:
        token, made_up = _random.token_urlsafe(24), True
        register_secret(token)
    store_in_dir(folder / SECRETS_DIR, ADMIN_SECRET, token)
    return token, made_up


def _seed_history(folder: Path) -> None:
    try:
        from console.history import seed_demo_history
    except ImportError as exc:
        if exc.name in ("console.history.seed",):
            return
        raise
    try:
        seed_demo_history(folder / "history.duckdb", SERVICE_NAME)
    except Exception as exc:  # the live demo is still worth having without its history
        print(f"fixmap demo: could not seed the metric history: {exc}", file=sys.stderr)


def run_demo(
    faults: list[str],
    folder: Path | None,
    serve: bool,
    open_console: Callable[[Site], None] | None = None,
) -> None:
    """Start the demo; returns when `open_console` returns or, with serve, on SIGINT/SIGTERM."""
    names = normalise_faults(list(faults))
    where = demo_folder(folder)
    token, made_up = admin_token(where)
    service = DemoService(names, admin_token=token)
    url = service.start()
    try:
        path = write_site_config(where, url, HEALTHY_PINS)
        _seed_history(where)
        note = f"fixmap demo: {url}, config {path}, faults: {', '.join(names) or 'none'}"
        if made_up:
            note += (
                f"; admin token made up for this run, in {where / SECRETS_DIR / ADMIN_SECRET} "
                f"(set ${env_var(ADMIN_SECRET)} before starting to choose one)"
            )
        print(note, file=sys.stderr, flush=True)
        if serve:
            _serve_until_signalled(url, path)
        else:
            from console.site import load_config

            assert open_console is not None, "run_demo() needs open_console unless it serves"
            open_console(load_config(path))
    finally:
        service.stop()


def _serve_until_signalled(url: str, path: Path) -> None:
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"serving {url} config={path}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
