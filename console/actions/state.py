"""Change freeze and read-only mode: what the console shows on every screen and the freeze guard
reads before an action that ships change.

Where the answer comes from, per dimension (frozen; read-only), first that works:

1. live: the `state` table of a freeze/unfreeze (resp. read_only/read_write) action in the site
   config: a GET whose JSON answer holds the value at a dotted path. The service (or the team's
   freeze calendar behind it) is the shared truth: other engineers on other bastions change it.
2. last known: the newest freeze/unfreeze (resp. read_only/read_write) action that completed in
   this machine's journal. This covers sites whose freeze is an argv command with nothing to ask.
3. unknown: neither: reported as not frozen / read-write, and said so.

A live check that fails (the service is down, mid-incident) falls back to the last known state and
says "live check failed"; it never blocks rollback, freeze or read-only, which no freeze blocks.
The live checks run at the same time, under one deadline (the longest of their timeouts): two
hanging state endpoints cost one timeout, not two.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from console.actions import journal
from console.actions.render import request, service_base_url
from console.core import lookup, redact, redact_obj
from console.core.http import RequestAbandoned, bounded_http
from console.core.identity import now_iso
from console.core.templates import names_in
from console.site import FREEZE_KINDS, READ_ONLY_KINDS, ActionSpec

_ON = {
    "true",
    "yes",
    "on",
    "1",
    "frozen",
    "read_only",
    "readonly",
    "active",
    "enabled",
    "maintenance",
}
_OFF = {
    "false",
    "no",
    "off",
    "0",
    "",
    "none",
    "normal",
    "read_write",
    "readwrite",
    "inactive",
    "disabled",
    "unfrozen",
}


@dataclass
class SiteState:
    """Change freeze and read-only mode, and where each answer came from.

    Unpacks as a pair: `frozen, read_only = site_state(site)`.
    """

    frozen: bool
    read_only: bool
    frozen_source: str
    read_only_source: str
    errors: list[str] = field(default_factory=list)
    checked_at: str = ""

    def __iter__(self):
        yield self.frozen
        yield self.read_only

    def to_json(self) -> dict[str, Any]:
        return redact_obj(
            {
                "frozen": self.frozen,
                "read_only": self.read_only,
                "frozen_source": self.frozen_source,
                "read_only_source": self.read_only_source,
                "errors": self.errors,
                "checked_at": self.checked_at,
            }
        )

    def text(self) -> str:
        f = "FROZEN" if self.frozen else "not frozen"
        r = "READ-ONLY" if self.read_only else "read-write"
        return f"{f} ({self.frozen_source}) · {r} ({self.read_only_source})"


def _on_off(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        low = value.strip().lower().replace("-", "_")
        if low in _ON:
            return True
        if low in _OFF:
            return False
    raise ValueError(f"cannot read {value!r} as on/off")


def _live(site, spec: ActionSpec) -> bool:
    from console.core import resolve

    st = spec.state
    assert st is not None
    values = {n: resolve(n) for n in names_in([st.url, *st.headers.values()], "secret")}
    req = request(
        "GET", st.url, st.headers, None, {}, values, base_url=service_base_url(site, spec)
    )
    resp = bounded_http(lambda client: client.get(req.url, headers=req.headers), timeout=st.timeout)
    if resp.status_code // 100 != 2:
        raise ValueError(f"HTTP {resp.status_code}")
    return _on_off(lookup(resp.json(), st.path))


def site_state(site, *, live: bool = True) -> SiteState:
    """Change freeze and read-only mode: live where the site says how, else last known here."""
    history = journal.entries()
    actions: dict[str, ActionSpec] = site.config.actions if site is not None else {}
    dims = (("frozen", FREEZE_KINDS, "freeze"), ("read_only", READ_ONLY_KINDS, "read_only"))
    checks = {
        dim: next(
            ((n, spec) for n, spec in actions.items() if spec.kind in kinds and spec.state),
            None,
        )
        for dim, kinds, _on in dims
    }
    answers = _ask_live(site, {d: c for d, c in checks.items() if c}) if live else {}
    errors: list[str] = []
    result: dict[str, tuple[bool, str]] = {}
    for dim, kinds, on_kind in dims:
        known = next((e for e in reversed(history) if e.kind in kinds and e.status == "done"), None)
        if known is not None:
            when = known.finished_at or known.started_at
            fallback = (
                known.kind == on_kind,
                f"last known: {known.action} at {when} by {known.who}",
            )
        else:
            fallback = (False, "unknown: no live state configured or recorded")
        result[dim] = fallback
        if dim not in answers:
            continue
        name, spec = checks[dim]  # type: ignore[misc]
        answer = answers[dim]
        if isinstance(answer, bool):
            result[dim] = (answer, f"live: GET {spec.state.url} of actions.{name}")
            continue
        errors.append(redact(f"{name} state: {answer}"))
        if known is not None:
            result[dim] = (fallback[0], fallback[1] + " (live check failed)")
        else:
            result[dim] = (False, "unknown: the live check failed and nothing is recorded")
    return SiteState(
        frozen=result["frozen"][0],
        read_only=result["read_only"][0],
        frozen_source=result["frozen"][1],
        read_only_source=result["read_only"][1],
        errors=errors,
        checked_at=now_iso(),
    )


def _ask_live(site, checks: dict[str, tuple[str, ActionSpec]]) -> dict[str, bool | str]:
    """Each dimension's live answer (True/False) or what went wrong, all asked at once and
    given up together at the longest of their timeouts."""
    answers: dict[str, bool | str] = {}
    lock = threading.Lock()

    def ask(dim: str, spec: ActionSpec) -> None:
        try:
            value: bool | str = _live(site, spec)
        except Exception as exc:  # the service may be the thing on fire
            if isinstance(exc, RequestAbandoned) or type(exc).__name__.endswith("Timeout"):
                value = f"timed out after {float(spec.state.timeout):g}s"
            else:
                value = f"{type(exc).__name__}: {exc}"
        with lock:
            answers[dim] = value

    threads = []
    for dim, (_name, spec) in checks.items():
        t = threading.Thread(target=ask, args=(dim, spec), name=f"fixmap-state-{dim}", daemon=True)
        t.start()
        threads.append(t)
    timeout = max(
        (float(spec.state.timeout) for _n, spec in checks.values() if spec.state), default=0
    )
    deadline = time.monotonic() + timeout + 0.5  # bounded_http gives up at its timeout itself
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    with lock:
        out = dict(answers)
    for dim in checks:
        out.setdefault(dim, f"no answer within {timeout:g}s")
    return out
