"""Who is acting, from where, and when: the same words in the journal and on the timeline."""

from __future__ import annotations

import getpass
import os
import socket
from datetime import UTC, datetime


def now_iso() -> str:
    """UTC now, to the millisecond, as written in every record: 2026-12-01T10:12:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(text: str) -> datetime:
    """A record's timestamp back into an aware datetime (naive ones are UTC)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def who() -> str:
    """The operator: the login name (and who they were before sudo)."""
    try:
        user = getpass.getuser()
    except Exception:
        user = os.environ.get("USER") or f"uid {os.getuid()}"
    sudo = os.environ.get("SUDO_USER")
    return f"{sudo} (as {user})" if sudo and sudo != user else user


def host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "?"
