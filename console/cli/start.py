"""How a `fixmap` process starts and ends, with no click in it.

`fixmap` with nothing but `--config PATH` opens the console straight away: click and the
command tree are never imported, so the first frame comes sooner. Every other command line goes
to the click CLI (console.cli.base). Both ways end a failure by the one rule here (`failure`):
a sentence on stderr and its exit code, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any


def split_config(args: list[str]) -> tuple[list[str], list[str]]:
    """Every `--config PATH` / `--config=PATH` before a `--`, and the rest of the arguments."""
    rest: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--config" and i + 1 < len(args):
            found.append(args[i + 1])
            i += 2
            continue
        if arg.startswith("--config="):
            found.append(arg.split("=", 1)[1])
            i += 1
            continue
        rest.append(arg)
        i += 1
    return found, rest


def console_only(args: list[str]) -> tuple[bool, str | None]:
    """Whether this command line only opens the console, and the config it names (if any)."""
    found, rest = split_config(args)
    if rest or len(set(found)) > 1:
        return False, None
    return True, (found[0] if found else None)


def storage_error(exc: OSError):
    """An OSError while reading or writing fixmap's files, as a sentence (refused: exit 3 when
    the disk or the folder will not take the write)."""
    import errno

    from console.core import EXIT_REFUSED, FixmapError

    where = f" {exc.filename}" if exc.filename else ""
    what = exc.strerror or type(exc).__name__
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
        return FixmapError(
            f"cannot write{where}: {what}; nothing else was changed. Free some space, fix the "
            "folder's permissions, or point FIXMAP_HOME at a writable folder",
            exit_code=EXIT_REFUSED,
        )
    return FixmapError(f"cannot use{where}: {what}")


def failure(exc: Exception) -> tuple[list[str], int]:
    """How a command that raised `exc` ends: its lines for stderr and its exit code (call it
    in the `except` block: with FIXMAP_DEBUG=1 the traceback is one of the lines)."""
    from console.core import EXIT_CHECK_FAILED, FixmapError

    if isinstance(exc, OSError):
        exc = storage_error(exc)
    if isinstance(exc, FixmapError):
        return [f"fixmap: {exc.render()}"], exc.exit_code
    import os

    lines = [f"fixmap: internal error: {type(exc).__name__}: {exc}"]  # never a traceback: it
    if os.environ.get("FIXMAP_DEBUG"):  # could carry a secret
        import traceback

        lines.append(traceback.format_exc())
    else:
        lines.append("fixmap: set FIXMAP_DEBUG=1 to see where it happened")
    return lines, EXIT_CHECK_FAILED


def run_console(site, **kwargs: Any) -> None:
    """Open the console on `site` in this terminal (the one engine -> UI import)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from console.core import FixmapError

        raise FixmapError(
            "the console needs a terminal, and this is not one: use a subcommand "
            '(fixmap --help lists them), e.g. fixmap route "what you see" or fixmap gate'
        )
    from screens.app import run

    code = run(site, **kwargs)
    if code:
        sys.exit(code)


def open_console(config: str | None) -> None:
    """`fixmap [--config PATH]`: the site's data dir, its config, then the console."""
    from pathlib import Path

    path = Path(config) if config is not None else None
    try:
        from console.site import load_config, use_data_dir_of

        use_data_dir_of(path)  # a problem reading it is said in full by load_config
        run_console(load_config(path))
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)  # as click ends an interrupted command
        sys.exit(1)
    except Exception as exc:
        from console.core import redact

        lines, code = failure(exc)
        for line in lines:
            print(redact(line), file=sys.stderr)
        sys.exit(code)
