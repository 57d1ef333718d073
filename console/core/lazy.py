"""Front doors that stay light: names whose modules pull in pydantic (or worse) load on use."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` serving `names` (name -> submodule of `package`) on first use."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        globals_of(package)[name] = value
        return value

    return __getattr__


def globals_of(package: str) -> dict[str, Any]:
    return vars(importlib.import_module(package))
