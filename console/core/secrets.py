"""Secrets by name: keyring (service 'fixmap', username = the name), else $FIXMAP_SECRET_<NAME>,
else a file named NAME in the site's `secrets_dir`, else in $CREDENTIALS_DIRECTORY (one file per
secret: the Kubernetes / Docker / systemd-credentials convention; trailing newlines are dropped,
a file readable by every user is refused).

Never prompts, never hangs. On a bastion there is no desktop keyring; the backends keyring picks
there either fail on every call (`fail`), do nothing (`null`), or ask for a password on the
terminal (keyrings.alt's encrypted file), which would hang the console that owns the terminal.
So the keyring is asked in a short-lived child process that:

- has no controlling terminal (new session) and a closed stdin, so nothing can read a password;
- has `getpass.getpass` and `input` replaced by functions that refuse;
- skips backends that fail or would prompt (`fail`, `null`, encrypted-file backends, a chainer
  with nothing usable in it) without calling them;
- is killed after KEYRING_TIMEOUT seconds (a locked Secret Service, a stuck D-Bus).

The keyring's answer is cached for the life of the process. Every resolved value is registered
with the redactor, so it is masked in anything fixmap prints or writes afterwards. Child
processes get `child_environ()`: this process's environment without any $FIXMAP_SECRET_*, so a
secret reaches only the programs that name it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from console.core.errors import ConfigError
from console.core.redact import MIN_SECRET_LEN, register_secret

SERVICE = "fixmap"
KEYRING_TIMEOUT = 5.0
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

ENV_PREFIX = "FIXMAP_SECRET_"

_lock = threading.Lock()
_status: KeyringStatus | None = None
_keyring_values: dict[str, str | None] = {}
_secrets_dir: Path | None = None


class SecretError(ConfigError):
    """A secret name that resolves nowhere, or to a value fixmap cannot use safely."""


@dataclass(frozen=True)
class KeyringStatus:
    """Whether the keyring can be asked, which backend answered, and why it was skipped if not."""

    usable: bool
    backend: str
    reason: str = ""


def env_var(name: str) -> str:
    """The environment variable that holds secret `name`: FIXMAP_SECRET_<NAME>, upper case."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def child_environ() -> dict[str, str]:
    """The environment for a child process: this one's, without any $FIXMAP_SECRET_*."""
    return {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}


def use_secrets_dir(path: Path | None) -> None:
    """The site config's secrets_dir (absolute), read after the keyring and the environment."""
    global _secrets_dir
    _secrets_dir = path


def secret_dirs() -> list[Path]:
    """The folders of one-file-per-secret, in the order they are read."""
    dirs = [_secrets_dir] if _secrets_dir is not None else []
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds:
        dirs.append(Path(creds))
    return dirs


def store_in_dir(folder: Path, name: str, value: str) -> Path:
    """Write secret `name` as its own file in `folder` (folder 0700, file 0600), atomically."""
    if not _NAME.match(name or "") or not name.strip("."):
        raise SecretError(f"'{name}' is not a valid secret name")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / name
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, value.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def _file_of(name: str) -> Path | None:
    """The file that holds secret `name`, if any folder has one."""
    if not name.strip("."):
        return None  # '.' and '..' are folders, never secrets
    for folder in secret_dirs():
        path = folder / name
        if path.exists():
            return path
    return None


def _from_file(name: str) -> str | None:
    path = _file_of(name)
    if path is None:
        return None
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise SecretError(f"secret '{name}': {path} is not a file")
        if st.st_mode & stat.S_IROTH:
            raise SecretError(
                f"secret '{name}': {path} is readable by every user on this host "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); fixmap will not use it: chmod 600 {path} "
                "(Kubernetes: defaultMode 0400; Docker: mode 0400)"
            )
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SecretError(f"secret '{name}': cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretError(f"secret '{name}': {path} is not UTF-8 text") from None
    return value or None


# Runs in the child. Prints one JSON object: backend, usable, reason, values {name: str|None}.
_CHILD = r"""
import builtins, getpass, json, sys

def _refuse(*_a, **_k):
    raise EOFError("fixmap: the keyring may not prompt")

getpass.getpass = _refuse
builtins.input = _refuse
out = {"backend": "", "usable": False, "reason": "", "values": {}}
_PROMPTING = ("_get_new_password", "_unlock", "keyring_key")

def _name(b):
    return type(b).__module__ + "." + type(b).__name__

def _usable(b):
    name = _name(b)
    low = name.lower()
    if low.startswith(("keyring.backends.fail.", "keyring.backends.null.")):
        return "fails on every call"
    if any(hasattr(type(b), a) for a in _PROMPTING) or ("encrypted" in low and "keyrings.alt.file" in low):
        return "would ask for a password on the terminal"
    try:
        if float(b.priority) < 0:
            return "not viable here"
    except Exception as exc:
        return "not viable here (%s)" % type(exc).__name__
    return ""

try:
    import keyring
    from keyring.backends import chainer
    kr = keyring.get_keyring()
    out["backend"] = _name(kr)
    if isinstance(kr, chainer.ChainerBackend):
        inner = list(kr.backends)
        if not inner:
            out["reason"] = "the keyring chainer has no usable backend"
    else:
        inner = [kr]
    usable, skipped = [], []
    for b in inner:
        why = _usable(b)
        if why:
            skipped.append(_name(b) + ": " + why)
        else:
            usable.append(b)
    if usable:
        out["usable"] = True
        out["backend"] = ", ".join(_name(b) for b in usable)
    elif not out["reason"]:
        out["reason"] = "; ".join(skipped) or "no backend"
    for name in sys.argv[2:]:
        value = None
        for b in usable:
            try:
                value = b.get_password(sys.argv[1], name)
            except Exception:
                value = None
            if value:
                break
        out["values"][name] = value
except Exception as exc:
    out["usable"] = False
    out["reason"] = "keyring failed: %s" % type(exc).__name__
sys.stdout.write(json.dumps(out))
"""


def _ask_keyring(names: list[str]) -> tuple[KeyringStatus, dict[str, str | None]]:
    """One child process: detect the backend and look every name up, bounded in time."""
    if os.environ.get("FIXMAP_NO_KEYRING"):
        return KeyringStatus(False, "", "FIXMAP_NO_KEYRING is set"), {}
    forced = os.environ.get("PYTHON_KEYRING_BACKEND", "")
    if forced.startswith(("keyring.backends.fail.", "keyring.backends.null.")):
        # known to fail on every call: no need to start a child to find out
        return KeyringStatus(False, forced, f"{forced} fails on every call"), {}
    cmd = [sys.executable, "-P", "-c", _CHILD, SERVICE, *names]
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=KEYRING_TIMEOUT,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return KeyringStatus(
            False, "", f"the keyring did not answer within {KEYRING_TIMEOUT:g}s"
        ), {}
    except OSError as exc:
        return KeyringStatus(False, "", f"cannot start the keyring check: {exc.strerror}"), {}
    try:
        out = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return KeyringStatus(False, "", f"the keyring check failed (exit {proc.returncode})"), {}
    status = KeyringStatus(
        bool(out.get("usable")), str(out.get("backend", "")), str(out.get("reason", ""))
    )
    values = {k: (v if isinstance(v, str) else None) for k, v in (out.get("values") or {}).items()}
    return status, values


def keyring_status() -> KeyringStatus:
    """Whether the keyring is used on this machine (checked once per process, in a child)."""
    global _status
    with _lock:
        if _status is None:
            _status, _ = _ask_keyring([])
        return _status


def prefetch(names: list[str]) -> None:
    """Look several names up in the keyring with one child process (resolve() then hits the cache)."""
    global _status
    todo = sorted({n for n in names if _NAME.match(n or "")} - set(_keyring_values))
    with _lock:
        if not todo or (_status is not None and not _status.usable):
            return
        status, values = _ask_keyring(todo)
        _status = status
        for n in todo:
            _keyring_values[n] = values.get(n) if status.usable else None


def _from_keyring(name: str) -> str | None:
    with _lock:
        if name in _keyring_values:
            return _keyring_values[name]
    prefetch([name])
    with _lock:
        return _keyring_values.get(name)


def _missing(name: str, why: str) -> SecretError:
    status = _status
    if status is None:
        keyring_note = "the keyring was not asked"
    elif status.usable:
        keyring_note = f"keyring backend: {status.backend}"
    else:
        keyring_note = f"keyring skipped: {status.reason}"
    dirs = secret_dirs()
    file_note = (
        f", or write it to {dirs[0] / name} (chmod 600)"
        if dirs
        else ", or put it in a file of the config's secrets_dir"
    )
    return SecretError(
        f"secret '{name}' {why}: store it with 'keyring set {SERVICE} {name}' "
        f"or export {env_var(name)}{file_note} ({keyring_note})"
    )


def source(name: str) -> str | None:
    """Where secret `name` would come from ('keyring', the env var name or 'file PATH'), or None
    (a refused file too: resolve() says why); the value is not registered or returned."""
    if not _NAME.match(name or ""):
        return None
    if _from_keyring(name):
        return "keyring"
    if os.environ.get(env_var(name)):
        return env_var(name)
    try:
        return f"file {_file_of(name)}" if _from_file(name) else None
    except SecretError:
        return None


def resolve(name: str) -> str:
    """The value of secret `name`; raises SecretError naming every place to put it.

    The value is registered with the redactor before it is returned.
    """
    if not _NAME.match(name or ""):
        raise SecretError(
            f"'{name}' is not a valid secret name: use letters, digits, '_', '.' and '-' (at most 128)"
        )
    value = _from_keyring(name) or os.environ.get(env_var(name)) or _from_file(name)
    if value is None:
        raise _missing(name, "is not set")
    if len(value) < MIN_SECRET_LEN:
        raise _missing(
            name, f"is shorter than {MIN_SECRET_LEN} characters and could not be masked in output"
        )
    register_secret(value)
    return value


def reset_for_tests() -> None:
    global _status, _secrets_dir
    with _lock:
        _status = None
        _keyring_values.clear()
        _secrets_dir = None
