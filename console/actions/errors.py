"""ActionError: what the actions engine raises for bad input, before anything has changed.

An unknown action, a bad parameter, an unusable key, a missing program, a header value that
breaks a line, a break-glass reason nobody could read in the postmortem: each is the operator's
(or the site config's) to fix, so each is exit 2 with the field named and, where one exists, the
closest valid name. A missing secret is the same kind of error but raised by console/core/secrets.py.
"""

from __future__ import annotations

from console.core import EXIT_BAD_INPUT, FixmapError


class ActionError(FixmapError):
    """Bad action input: unknown action, bad parameter, bad key, missing program (exit 2)."""

    exit_code = EXIT_BAD_INPUT
