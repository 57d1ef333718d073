"""Judging after a change: a recovery verdict is about the minutes since the fix.

The recovery set asks for its targets over a window ("error rate < 0.5 % over 10 min"). Right
after a rollback, that window still holds the minutes before it: judged as is, a service that
has been clean since the fix reads as failing, which is false of the service now. So a set
marked `after_change` judges each history target on the part of its window since the last
change fixmap made (the newest action the journal holds as done), and then:

- bad since the change: fail (the fix did not take, or the fault came back);
- clean since the change, but for less than the window asks: inconclusive, with the time the
  whole window will be clean ("re-run after 14:32:05"); never a pass before it has been seen;
- the change older than the window: the window as configured, nothing clipped.

Clipping can turn a fail into inconclusive only when every sample since the change passes, and
never turns anything into a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.core.durations import duration_text

MIN_AFTER_S = 10.0
"""The shortest part of a window judged after a change (the history's shortest window)."""


@dataclass(frozen=True)
class Change:
    """The last change fixmap made: an action the journal holds as done."""

    action: str
    at: datetime
    """When its outcome was written, naive UTC (as history times are)."""

    def text(self) -> str:
        return f"{self.action} at {self.at:%H:%M:%S}"

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "at": self.at.isoformat(timespec="seconds") + "Z"}


def last_change(path: Any = None) -> Change | None:
    """The newest action the journal (this data dir's, or `path`) holds as done; None when it
    holds none or cannot be read (then windows are judged as configured)."""
    from console.actions import read_journal
    from console.core.identity import parse_ts

    try:
        entries = read_journal(path=path)
    except (OSError, ValueError):
        return None
    done = [e for e in entries if e.status == "done" and e.finished_at]
    if not done:
        return None
    newest = max(done, key=lambda e: parse_ts(str(e.finished_at)))
    at = parse_ts(str(newest.finished_at)).replace(tzinfo=None)
    return Change(newest.action, at)


@dataclass(frozen=True)
class Clip:
    """A window cut to the time since a change."""

    change: Change
    window_s: float
    """The window the target asks for."""
    since_s: float
    """How long ago the change was (the part judged)."""

    @property
    def clean_at(self) -> datetime:
        """When the whole window will lie after the change."""
        return self.change.at + timedelta(seconds=self.window_s)

    def context(self) -> str:
        return f" since {self.change.text()} ({duration_text(self.since_s)} ago)"

    def not_yet(self, reason: str) -> str:
        """Why a pass on the part since the change is not yet a pass."""
        return (
            f"clean for {duration_text(self.since_s)} of the {duration_text(self.window_s)} "
            f"needed since {self.change.text()}: re-run after {self.clean_at:%H:%M:%S} UTC "
            f"({reason})"
        )


def clip_window(
    params: dict[str, Any], change: Change | None, now: datetime
) -> tuple[dict[str, Any], Clip | None]:
    """The target's parameters with its window cut to the time since `change`, and the Clip;
    unchanged (and None) when there is no change, no window, or the change is older than it."""
    from console.history import seconds

    window = params.get("window")
    if change is None or not window:
        return params, None
    window_s = seconds(window, "window")
    since_s = (now - change.at).total_seconds()
    if since_s >= window_s or since_s < 0:
        return params, None
    return {**params, "window": f"{max(since_s, MIN_AFTER_S):.0f}s"}, Clip(
        change, window_s, since_s
    )


def after_change(out: Any, clip: Clip) -> Any:
    """A target's result judged on the part of its window since the change (see the module)."""
    if clip.since_s < MIN_AFTER_S:
        out.status = "inconclusive"
        out.value = None
        out.reason = clip.not_yet("too soon to measure")
    elif out.status in ("pass", "inconclusive"):
        out.status = "inconclusive"
        out.reason = clip.not_yet(out.reason)
    out.detail["after_change"] = {
        **clip.change.to_json(),
        "window_s": clip.window_s,
        "judged_s": round(clip.since_s, 1),
    }
    return out
