"""Errors an on-call engineer can act on, and the exit codes they map to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


@dataclass
class Problem:
    """One thing wrong with one input: where it is and what to do about it."""

    file: str | None
    field: str | None
    reason: str
    line: int | None = None
    hint: str | None = None

    def render(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class FixmapError(Exception):
    """A failure the user caused or can fix; carries its exit code."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self, message: str, problems: Iterable[Problem] = (), exit_code: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems)
        if exit_code is not None:
            self.exit_code = exit_code

    def render(self) -> str:
        lines = [self.message]
        lines.extend(f"  {p.render()}" for p in self.problems)
        return "\n".join(lines)


class ConfigError(FixmapError):
    """The site config is missing, unreadable or invalid."""


class PlaybookError(FixmapError):
    """A playbook file is unreadable or invalid."""


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The valid name a typo most likely meant, if any is close enough."""
    import difflib

    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None
