"""Idempotency keys: what makes two runs the same change, and which earlier run a key answers to.

A key names one change. Unless the operator gives one, it is `<action>-<hash>` of the change's
*base* (the action, its typed parameters, the incident and the resolved command or request,
secrets masked, so one site's key never matches another target's run) and of the last *other*
change that completed in the journal. So pressing confirm twice, or two consoles running the same
thing, collapse into one run, while freeze → unfreeze → freeze runs each step (the unfreeze in
between changes the key of the second freeze). The base is journaled with each intent: a key
reused for another change is refused (guards.py), never reported as that change's outcome.

A derived key covers one attempt at one state of the incident. Where the key's run completed,
the same action gets a new key (the next *epoch*: the hash takes that run's id too), and the
plan says why, when

- the run is older than the site's key_ttl (default 30m): "rollback at 09:12 done, 42m ago";
- what it was for failed again after its re-check (`relapse`): "rollback at 09:12 done; index
  failed again at 09:20".

A run that failed or was interrupted keeps its key: retrying it is a decision (--retry). The
operator can always ask for a new key with a written reason (`fresh_key`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from console.actions import journal
from console.actions.errors import ActionError
from console.actions.journal import Entry
from console.actions.symptoms import clock
from console.core import Problem, duration_text, parse_ts

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


def _key(name: str, base: str, after: str, epoch: str) -> str:
    tail = f"|{epoch}" if epoch else ""
    return f"{name}-{hashlib.sha256(f'{base}|{after}{tail}'.encode()).hexdigest()[:12]}"


def derive_key(
    name: str,
    typed: dict[str, Any],
    incident: str | None,
    base: str,
    history: list[Entry],
    *,
    ttl: float | None = None,
    relapse: Callable[[Entry], str | None] | None = None,
    now: datetime | None = None,
) -> tuple[str, dict[str, Any], str | None]:
    """The key of this change after the last other change that completed, its basis, and why
    it is a new one (None: it is not). `ttl`: how long a completed run's key lasts; `relapse`:
    what failed again after a completed run's re-check (None: nothing)."""
    after = next(
        (e for e in reversed(history) if e.status == "done" and e.run and e.base != base), None
    )
    after_run = after.run if after and after.run else ""
    now = now or datetime.now(UTC)
    epoch = ""
    why: str | None = None
    for _ in range(len(history) + 1):
        key = _key(name, base, after_run, epoch)
        done = next((e for e in history if e.key == key and e.run and e.status == "done"), None)
        if done is None:
            break
        successor = _key(name, base, after_run, done.run or "")
        if any(e.key == successor and e.run for e in history):
            epoch = done.run or ""  # this one was already followed by a run under a new key
            continue
        at = done.finished_at or done.started_at
        age = (now - parse_ts(at)).total_seconds()
        if ttl is not None and age > ttl:
            why = (
                f"{name} at {clock(at)} done, {duration_text(age)} ago "
                f"(a derived key lasts {duration_text(ttl)})"
            )
        else:
            again = relapse(done) if relapse is not None else None
            if again is None:
                break  # the completed run stands for this one: already done
            why = f"{name} at {clock(at)} done; {again}"
        epoch = done.run or ""
    basis = {
        "action": name,
        "params": typed,
        "incident": incident,
        "after_run": after.run if after else None,
        "after_action": after.action if after else None,
        "epoch": epoch or None,
        "why_new": why,
    }
    return key, basis, why


def fresh_key(name: str, base: str, after_run: str | None, done_run: str | None) -> str:
    """The operator's 'run again under a new key': after a completed run, the key its relapse
    would get (so two consoles asking at once still run it once, and the next plan follows
    it); otherwise one no run has used."""
    if done_run:
        return _key(name, base, after_run or "", done_run)
    return _key(name, base, after_run or "", "new:" + uuid.uuid4().hex)


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
