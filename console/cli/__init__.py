from console.cli.base import main

__all__ = ["main"]
