"""fixmap's command line: the console, and the same engine headless (`fixmap --help`).

`main` is the `fixmap` entry point. With nothing but `--config PATH`, it opens the console
without loading click (console.cli.start); every other command line is the click CLI's
(console.cli.base.main).
"""

from __future__ import annotations

from typing import Any


def main(args: list[str] | None = None, **extra: Any) -> Any:
    import sys

    from console.cli.start import console_only, open_console

    only, config = console_only(sys.argv[1:] if args is None else list(args))
    if only and not extra:
        return open_console(config)
    from console.cli.base import main as cli

    return cli(args=args, **extra)


__all__ = ["main"]
