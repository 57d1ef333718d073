"""fixmap's command line: the console, and the same engine headless (`fixmap --help`)."""

from console.cli.base import main

__all__ = ["main"]
