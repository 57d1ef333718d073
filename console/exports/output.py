"""Where an export may be written: an existing, writable folder, never one made up on the way.

`fixmap incident export --output PATH` names a file; a typo in its folder must not create a tree
of directories somewhere, and a folder that cannot take the file must say so before anything is
written (not a traceback). The file itself is replaced atomically (old or new, never half).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from console.core import EXIT_REFUSED, FixmapError, Problem, atomic_write


class ExportError(FixmapError):
    """An export that cannot be written where it was asked to go."""


def check_output(path: Path) -> Path:
    """The path to write an export to, checked: its folder exists and is writable, and it is
    not a folder itself. Raises ExportError (exit 2, or 3 when the folder will not take it)."""
    target = path.expanduser()
    folder = target.parent
    where = str(target)
    if target.is_dir():
        raise ExportError(
            f"cannot write the export to {where}: it is a folder",
            [Problem(where, "--output", "a folder", hint=f"name a file, e.g. {target / 'x.md'}")],
        )
    if not folder.exists():
        raise ExportError(
            f"cannot write the export to {where}: the folder {folder} does not exist",
            [
                Problem(
                    where, "--output", "no such folder", hint=f"create it first: mkdir -p {folder}"
                )
            ],
        )
    if not folder.is_dir():
        raise ExportError(
            f"cannot write the export to {where}: {folder} is not a folder",
            [Problem(where, "--output", "its parent is a file")],
        )
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    writable = os.access(folder, os.W_OK | os.X_OK) and (
        not target.exists() or os.access(target, os.W_OK)
    )
    if read_only or not writable:
        why = "the folder is on a read-only file system" if read_only else "permission denied"
        raise ExportError(
            f"cannot write the export to {where}: {why}",
            [Problem(where, "--output", why, hint="choose a folder you can write to")],
            exit_code=EXIT_REFUSED,
        )
    return target


def write_export(path: Path, text: str) -> Path:
    """Write an export's text to `path` (checked by check_output first); returns where it went."""
    target = check_output(path)
    try:
        atomic_write(target, text)
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise ExportError(
            f"cannot write the export to {target}: {exc.strerror or exc}; nothing was written",
            [
                Problem(
                    str(target),
                    "--output",
                    "the disk is full" if full else (exc.strerror or type(exc).__name__),
                    hint="free some space or write elsewhere" if full else None,
                )
            ],
            exit_code=EXIT_REFUSED,
        ) from None
    return target
