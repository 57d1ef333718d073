"""Idempotency keys: what makes two runs the same change, and which earlier run a key answers to.

A key names one change. Unless the operator gives one, it is `<action>-<hash>` of the change's
*base* (the action, its typed parameters, the incident and the resolved command or request,
secrets masked, so one site's key never matches another target's run) and of the last *other*
change that completed in the journal. So pressing confirm twice, or two consoles running the same
thing, collapse into one run, while freeze → unfreeze → freeze runs each step (the unfreeze in
between changes the key of the second freeze). The base is journaled with each intent: a key
reused for another change is refused (guards.py), never reported as that change's outcome.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from console.actions import journal
from console.actions.errors import ActionError
from console.actions.journal import Entry
from console.core import Problem

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}$")


def change_base(name: str, typed: dict[str, Any], incident: str | None, identity: Any) -> str:
    """What makes two runs 'the same change', as a short hash (`identity`: the resolved
    command or request, secrets masked)."""
    blob = json.dumps(
        {"action": name, "params": typed, "incident": incident, "resolved": identity},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def derive_key(
    name: str, typed: dict[str, Any], incident: str | None, base: str, history: list[Entry]
) -> tuple[str, dict[str, Any]]:
    """The key of this change after the last other change that completed, and its basis."""
    after = next(
        (e for e in reversed(history) if e.status == "done" and e.run and e.base != base), None
    )
    digest = hashlib.sha256(f"{base}|{after.run if after else ''}".encode()).hexdigest()[:12]
    basis = {
        "action": name,
        "params": typed,
        "incident": incident,
        "after_run": after.run if after else None,
        "after_action": after.action if after else None,
    }
    return f"{name}-{digest}", basis


def check_key(key: str) -> str:
    """A key the operator gave, if it is one; ActionError (exit 2) if not."""
    if not _KEY.match(key):
        raise ActionError(
            f"'{key}' is not a usable idempotency key",
            [
                Problem(
                    None,
                    "key",
                    "1-200 characters: letters, digits and . _ : / @ + = -",
                    None,
                    "start with a letter or digit",
                )
            ],
        )
    return key


def previous_run(key: str, *, holding_lock: bool = False) -> Entry | None:
    """The run that decides what this key may do: a completed one if any, else the newest.

    Pass holding_lock=True from inside the key's lock (an open intent then cannot be running).
    """
    runs = journal.key_history(key, holding_lock=holding_lock)
    done = next((e for e in runs if e.status == "done"), None)
    return done or (runs[-1] if runs else None)
