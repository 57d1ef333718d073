"""The `command` probe: an argv (never a shell string) run with a timeout; the verdict comes
from its exit code, or from the JSON it prints (`status_path`, optionally `value_path`).

Secrets reach the program only through `secret_env` (environment variables), never its argv,
which is literal; it does not inherit the $FIXMAP_SECRET_* variables of fixmap's environment.
On timeout the process is killed and waited for, so none is left behind, and the probe is an
error: the command could not say.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.core import JsonPathError, lookup
from console.probes.client import Run
from console.probes.result import Outcome, broken

if TYPE_CHECKING:
    from console.site import CommandProbe

_STATUS_SAID = {
    True: "pass",
    False: "fail",
    "ok": "pass",
    "pass": "pass",
    "fail": "fail",
    "inconclusive": "inconclusive",
    "error": "error",
}


async def probe_command(run: Run, spec: CommandProbe, timeout: float) -> Outcome:
    from console.core.secrets import child_environ

    env = child_environ()
    env.update(spec.env)
    for var, secret_name in spec.secret_env.items():
        env[var] = await run.secret(secret_name)
    cwd = str(run.site.resolve(Path(spec.cwd))) if spec.cwd else None
    try:
        proc = await asyncio.create_subprocess_exec(
            *spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
    except FileNotFoundError:
        raise broken(f"program not found: {spec.argv[0]}") from None
    except PermissionError:
        raise broken(f"program not executable: {spec.argv[0]}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise broken(f"{spec.argv[0]} did not finish within {timeout:g} s: killed") from None
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    rc = proc.returncode
    values: dict[str, Any] = {"exit_code": rc}
    last_err = (err.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:160]
    if spec.judge == "exit_code":
        if rc in spec.pass_exit_codes:
            return Outcome(
                "pass", rc, f"exit {spec.pass_exit_codes}", f"{spec.argv[0]} exited {rc}", values
            )
        return Outcome(
            "fail",
            rc,
            f"exit {spec.pass_exit_codes}",
            f"{spec.argv[0]} exited {rc}" + (f": {last_err}" if last_err else ""),
            values,
        )
    try:
        data = json.loads(out)
    except ValueError:
        raise broken(f"{spec.argv[0]} printed no JSON on stdout (exit {rc})") from None
    try:
        raw = lookup(data, spec.status_path)
        value = lookup(data, spec.value_path) if spec.value_path else rc
    except JsonPathError as exc:
        raise broken(f"{spec.argv[0]} output: {exc}") from None
    values["output"] = data
    status = _STATUS_SAID.get(raw if isinstance(raw, bool) else str(raw).lower())
    if status is None:
        raise broken(
            f"{spec.argv[0]} said status {raw!r}; expected pass/fail/inconclusive/error or true/false"
        )
    return Outcome(
        status,
        value,
        "status pass",
        f"{spec.argv[0]} says {raw}" + (f" (value {value})" if spec.value_path else ""),
        values,
    )
