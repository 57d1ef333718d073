"""The one rendering of an action's command or request from its templates.

`render()` fills an action's argv (with its env and cwd) or its HTTP request from the site
config's templates (console/core/templates.py), twice in an action's life and always the same
way: for the plan with `secret_values` None, so secrets stay `{secret:NAME}` (what the operator
reads, the journal keeps and the idempotency key is made of), and for the run with the secrets'
values, the moment before it starts. The live state check of a freeze or read-only action
(state.py) builds its GET with the same `request()`.

Rules kept here: a relative URL goes to the action's service; a value in a URL is quoted as one
segment; a header value (a secret, say) may not break a line; a placeholder fills one argv
word and never adds one. The run's idempotency key reaches the target: `{key}` in a template,
`FIXMAP_IDEMPOTENCY_KEY` in an argv action's environment, the `Idempotency-Key` header of an
HTTP action (unless the site sets that header itself), so a target several bastions share can
dedupe too. Without a key yet (the idempotency key is made of the rendering) `{key}` stays as
written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.actions.errors import ActionError
from console.core.templates import render_json, render_text, url_quote

KEY_ENV = "FIXMAP_IDEMPOTENCY_KEY"
KEY_HEADER = "Idempotency-Key"

if TYPE_CHECKING:
    from console.site import ActionSpec, Site


@dataclass(frozen=True)
class Command:
    """An argv action, filled: the words, the extra environment, the working directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: str | None

    def identity(self) -> Any:
        """What makes it this command (for the idempotency key)."""
        return self.argv


@dataclass(frozen=True)
class Request:
    """An HTTP request, filled."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any
    verify_tls: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": self.headers, "json": self.body}

    def identity(self) -> Any:
        """What makes it this request (for the idempotency key); headers carry credentials."""
        return {"method": self.method, "url": self.url, "json": self.body}


def service_name(site: Site, spec: ActionSpec) -> str | None:
    """The service an action acts on: its own, else the site's default (None if unknown)."""
    if spec.service is not None:
        return spec.service if spec.service in site.config.services else None
    return site.config.default_service()


def service_base_url(site: Site, spec: ActionSpec) -> str:
    svc = service_name(site, spec)
    return site.config.services[svc].base_url.rstrip("/") if svc else ""


def program_path(argv0: str, base_dir: Path) -> str | None:
    """The program an argv action runs: a path (relative to the config) or a name on PATH."""
    if "/" in argv0:
        p = Path(argv0).expanduser()
        p = p if p.is_absolute() else base_dir / p
        return str(p) if p.is_file() and os.access(p, os.X_OK) else None
    return shutil.which(argv0)


def request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any,
    values: Mapping[str, Any],
    secret_values: Mapping[str, str] | None,
    *,
    base_url: str,
    verify_tls: bool = True,
    key: str | None = None,
) -> Request:
    """Fill a request's templates; a relative URL goes to `base_url`; `key` goes in the
    Idempotency-Key header unless the site sets one."""
    full = render_text(url, values, secret_values, encode=url_quote)
    if full.startswith("/"):
        full = base_url + full
    filled = {k: render_text(v, values, secret_values) for k, v in headers.items()}
    if key and KEY_HEADER.lower() not in {k.lower() for k in filled}:
        filled[KEY_HEADER] = key
    for k, v in filled.items():
        if "\r" in v or "\n" in v:
            raise ActionError(f"header {k}: a value (secret?) contains a line break")
    data = render_json(body, values, secret_values) if body is not None else None
    return Request(method, full, filled, data, verify_tls)


def render(
    site: Site,
    spec: ActionSpec,
    typed: Mapping[str, Any],
    secret_values: Mapping[str, str] | None = None,
    *,
    program: str | None = None,
    key: str | None = None,
) -> Command | Request:
    """The action's command or request with its typed parameters; secrets masked when
    `secret_values` is None. `program`: the resolved argv[0] (default: as written); `key`: the
    run's idempotency key (None: `{key}` stays as written, as the key is made of this)."""
    values = {**typed, "key": key or "{key}"}
    if spec.argv:
        argv = [program or spec.argv[0]]
        argv += [render_text(w, values, secret_values) for w in spec.argv[1:]]
        env = {k: render_text(v, values, secret_values) for k, v in spec.env.items()}
        if key:
            env[KEY_ENV] = key
        return Command(argv, env, str(site.resolve(spec.cwd)) if spec.cwd else None)
    http = spec.http
    assert http is not None  # the config has exactly one of argv and http
    return request(
        http.method,
        http.url,
        http.headers,
        http.json_body,
        values,
        secret_values,
        base_url=service_base_url(site, spec),
        verify_tls=http.verify_tls,
        key=key,
    )
