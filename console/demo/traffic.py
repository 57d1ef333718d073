"""Simulated users of the demo service, so its /metrics move the way a live service's do.

A few requests a second over real HTTP: mostly retrieve calls (the questions of the corpus's
sections, asked in a few wordings and seeds), some writes with an idempotency key, and now and
then a client retrying a write with the same key. The users ask their own questions, never the
probes' ones, so a probe still sees each fault exactly as console/demo/faults.py says. The
order of requests is fixed (no random draw): every run sends the same sequence.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import Any

from console.demo import corpus

WRITE_EVERY = 6
"""One request in WRITE_EVERY is a write."""
RETRY_EVERY = 4
"""One write in RETRY_EVERY is a client's retry of the previous write (same key)."""


def user_questions() -> list[str]:
    """What the simulated users ask: each section's title in a few wordings."""
    out = []
    for title in corpus.SECTION_TITLES.values():
        t = title.lower()
        out += [f"{t}", f"how do we handle {t}", f"what is the checklist for {t}"]
    return out


class DemoTraffic:
    """A thread sending `rate` requests a second to the demo at `url` until stop()."""

    def __init__(self, url: str, rate: float = 3.0) -> None:
        self.url = url.rstrip("/")
        self.rate = rate
        self.sent = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._questions = user_questions()
        self._last_key: str | None = None
        self._run_id = uuid.uuid4().hex[:8]  # keys of one run never collide with another's

    def start(self) -> DemoTraffic:
        self._thread = threading.Thread(target=self._run, name="fixmap-demo-users", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import httpx

        gap = 1.0 / self.rate
        next_at = time.monotonic()
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    self._one(client, self.sent)
                self.sent += 1
                next_at += gap
                now = time.monotonic()
                if next_at < now - 1.0:  # fell behind (a slow fault): don't burst to catch up
                    next_at = now
                self._stop.wait(max(0.0, next_at - now))

    def _one(self, client: Any, i: int) -> None:
        if i % WRITE_EVERY == WRITE_EVERY - 1:
            n_write = i // WRITE_EVERY
            if self._last_key is None or n_write % RETRY_EVERY != RETRY_EVERY - 1:
                self._last_key = f"demo-user-{self._run_id}-{n_write}"
            client.post(
                self.url + "/write",
                json={"note": f"user write {n_write}"},
                headers={"Idempotency-Key": self._last_key},
            )
            return
        q = self._questions[(i * 7) % len(self._questions)]
        resp = client.get(self.url + "/retrieve", params={"q": q, "k": 5, "seed": str(i % 3)})
        if resp.status_code >= 500:
            self.errors += 1
