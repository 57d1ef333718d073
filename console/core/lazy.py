"""Front doors that stay light: names load with their module on first use (console.core's rules,
the pydantic-backed names of console.site)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any


def lazy_names(
    package: str, names: dict[str, str], submodules: Iterable[str] = ()
) -> Callable[[str], Any]:
    """A module `__getattr__` serving `names` (name -> submodule of `package`) on first use;
    each name in `submodules` is that submodule itself."""
    whole = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = importlib.import_module(f"{package}.{module}")
        if name not in whole:
            value = getattr(value, name)
        globals_of(package)[name] = value
        return value

    return __getattr__


def globals_of(package: str) -> dict[str, Any]:
    return vars(importlib.import_module(package))
