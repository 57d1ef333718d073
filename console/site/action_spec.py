"""Site-config models for actions (the `[actions.NAME]` tables). Pydantic only: no httpx here.

An action is either an argv template (a list of words, run without a shell) or an HTTP request.
Templates hold placeholders: `{param}` for a typed parameter, `{secret:NAME}` for a secret
(resolved only when the action runs, masked everywhere else); `{{` and `}}` are literal braces.
A placeholder always substitutes inside one argv word, so a parameter value can never add words.

    [actions.rollback]
    kind = "rollback"
    service = "rag"
    destructive = true
    timeout = "30s"
    verify = "health"
    http = { method = "POST", url = "/admin/rollback",
             headers = { Authorization = "Bearer {secret:admin_token}" },
             json = { to = "{release}" } }
    params.release = { type = "str", regex = "^v[0-9]+(\\.[0-9]+)*$", default = "last-good" }
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from console.core.argv import admits_shell_syntax, code_uses, program_name
from console.core.templates import (
    NAME as _PARAM_NAME,
)
from console.core.templates import (
    Placeholder,
    bad_characters,
    parse_template,
    placeholders,
    template_strings,
)
from console.site.fields import Duration

ActionKind = Literal[
    "rollback",
    "freeze",
    "unfreeze",
    "read_only",
    "read_write",
    "flag",
    "index_alias",
    "cache_rotate",
    "custom",
]
ACTION_KINDS: tuple[str, ...] = (
    "rollback",
    "freeze",
    "unfreeze",
    "read_only",
    "read_write",
    "flag",
    "index_alias",
    "cache_rotate",
    "custom",
)
NEVER_BLOCKED_BY_FREEZE = frozenset({"rollback", "freeze", "unfreeze", "read_only", "read_write"})
"""Kinds that stop or undo change: a freeze never blocks them (and they cannot ship change)."""
SHIPS_CHANGE_BY_DEFAULT = frozenset({"flag", "index_alias"})
"""Kinds that ship change unless the site says otherwise (a kill-switch-only flag, say)."""
FREEZE_KINDS = frozenset({"freeze", "unfreeze"})
READ_ONLY_KINDS = frozenset({"read_only", "read_write"})

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
SAFE_VALUE = re.compile(r"^(?:[A-Za-z0-9._:/=@+][A-Za-z0-9._:/=@+-]*)?$")
"""What a str parameter without enum, regex or free_text accepts: data, never syntax."""
SAFE_SET = "letters, digits and . _ : / = @ + - (not first)"
KEY_PLACEHOLDER = "key"
"""`{key}` in a template is the run's idempotency key, not a parameter."""


# ---------------------------------------------------------------- models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamSpec(_Model):
    """One typed parameter of an action; values are validated before anything runs."""

    type: Literal["str", "int", "bool"] = "str"
    """'str', 'int' or 'bool' (true/false, yes/no, on/off, 1/0)."""
    required: bool | None = None
    """Must be given; default: required when there is no default."""
    default: str | int | bool | None = None
    """The value when none is given (validated like a given one)."""
    enum: list[str | int] | None = None
    """The only values allowed."""
    regex: str | None = None
    """A regular expression the whole value must match (Python syntax)."""
    min: int | None = None
    """Smallest value of an int parameter."""
    max: int | None = None
    """Largest value of an int parameter."""
    max_length: int = Field(default=200, ge=1, le=4096)
    """Longest value of a str parameter."""
    description: str = ""
    """What the value means, shown in the plan and the confirm dialog."""
    free_text: bool = False
    """Accept any one-line text, not only the safe set (letters, digits and . _ : / = @ + -, not
    starting with '-'). Set it only where the site vouches that the value reaches no shell or
    interpreter (a message, a note): the value still fills one argv word, and the wrapper and
    interpreter checks still refuse it in a word that is run as code."""

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpec:
        if self.free_text and (self.type != "str" or self.enum or self.regex):
            raise ValueError("free_text applies to a str parameter without enum or regex")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        if self.type == "bool" and (self.enum or self.regex):
            raise ValueError("a bool parameter takes no enum or regex")
        if self.type != "int" and (self.min is not None or self.max is not None):
            raise ValueError("min and max apply to int parameters only")
        if self.required and self.default is not None:
            raise ValueError("a required parameter has no default (drop one of them)")
        if self.required is False and self.default is None:
            raise ValueError("an optional parameter needs a default (or make it required)")
        if self.default is not None:
            try:
                self.convert(self.default)
            except ValueError as exc:
                raise ValueError(f"default: {exc}") from None
        if self.enum:
            for value in self.enum:
                try:
                    self.convert(value, check_enum=False)
                except ValueError as exc:
                    raise ValueError(f"enum value {value!r}: {exc}") from None
        return self

    @property
    def is_required(self) -> bool:
        return self.default is None if self.required is None else self.required

    def convert(self, raw: Any, *, check_enum: bool = True) -> str | int | bool:
        """The typed value of `raw`; ValueError with a sentence saying what is wrong."""
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, int | str):
            text = str(raw)
        else:
            raise ValueError(f"expected a {self.type}, got {type(raw).__name__}")
        why = bad_characters(text)
        if why:
            raise ValueError(f"the value {why}")
        value: str | int | bool
        if self.type == "int":
            if not re.fullmatch(r"-?[0-9]{1,18}", text.strip()):
                raise ValueError(f"{text!r} is not a whole number")
            value = int(text)
            if self.min is not None and value < self.min:
                raise ValueError(f"{value} is below the minimum {self.min}")
            if self.max is not None and value > self.max:
                raise ValueError(f"{value} is above the maximum {self.max}")
        elif self.type == "bool":
            low = text.strip().lower()
            if low in ("true", "yes", "on", "1"):
                value = True
            elif low in ("false", "no", "off", "0"):
                value = False
            else:
                raise ValueError(f"{text!r} is not true/false")
        else:
            if len(text) > self.max_length:
                raise ValueError(f"the value is longer than {self.max_length} characters")
            if not (self.enum or self.regex or self.free_text) and not SAFE_VALUE.match(text):
                raise ValueError(_unsafe(text))
            value = text
        if (
            check_enum
            and self.enum is not None
            and value not in self.enum
            and text not in [str(e) for e in self.enum]
        ):
            raise ValueError(f"{text!r} is not one of: " + ", ".join(str(e) for e in self.enum))
        if self.regex is not None and self.type == "str" and not re.fullmatch(self.regex, text):
            raise ValueError(f"{text!r} does not match {self.regex}")
        return value

    @property
    def constrained(self) -> bool:
        """Admits no shell syntax: an int or bool, an enum, a regex that admits none, or the
        default safe set (not free_text)."""
        if self.type != "str" or self.enum:
            return True
        if self.regex is not None:
            return not admits_shell_syntax(self.regex)
        return not self.free_text


def _unsafe(text: str) -> str:
    """Why a value is outside the safe set, naming the characters (not the whole value)."""
    if text.startswith("-"):
        return f"{text!r} starts with '-' and would be read as an option"
    bad = sorted({ch for ch in text if not SAFE_VALUE.match(ch)})
    shown = " ".join(repr(ch) for ch in bad[:8])
    return (
        f"{text!r} holds {shown}: a parameter takes data only ({SAFE_SET}); "
        "give it an enum or a regex, or free_text = true if the site vouches the value "
        "reaches no shell or interpreter"
    )


class HttpSpec(_Model):
    """An HTTP request: method, URL, headers and a JSON body, all templates."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    """Absolute (http://host/path) or relative to the action's service ('/admin/rollback')."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Header templates, e.g. Authorization = "Bearer {secret:admin_token}"."""
    json_body: Any = Field(default=None, alias="json")
    """The JSON body (a table); a string leaf that is exactly '{param}' takes the parameter's type."""
    expect_status: list[int] | None = None
    """HTTP statuses that mean success (default: any 2xx)."""
    verify_tls: bool = True
    """Check the server's TLS certificate."""

    @model_validator(mode="after")
    def _check(self) -> HttpSpec:
        if not (re.match(r"^https?://", self.url) or self.url.startswith("/")):
            raise ValueError(
                f"url {self.url!r} must start with http://, https:// or '/' (relative to the service)"
            )
        parsed = parse_template(self.url)
        if re.match(r"^https?://", self.url):
            # scheme, host and port stay literal: a parameter must not redirect the request (and
            # the credentials in its headers) to another host
            authority_end = self.url.find("/", self.url.index("://") + 3)
            head = self.url if authority_end < 0 else self.url[:authority_end]
            if "{" in head.replace("{{", "").replace("}}", ""):
                raise ValueError(
                    f"url {self.url!r}: the scheme, host and port cannot hold placeholders"
                )
        elif parsed and isinstance(parsed[0], Placeholder):
            raise ValueError(f"url {self.url!r}: a relative url starts with a literal '/'")
        for name, value in self.headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            parse_template(value)
        for s in template_strings(self.json_body):
            parse_template(s)
        for code in self.expect_status or []:
            if not 100 <= code <= 599:
                raise ValueError(f"expect_status {code} is not an HTTP status")
        return self

    def templates(self) -> list[str]:
        return [self.url, *self.headers.values(), *template_strings(self.json_body)]


class StateSpec(_Model):
    """Where to read the live state a freeze or read-only action controls (a GET returning JSON)."""

    url: str
    """Absolute, or relative to the action's service ('/admin/state')."""
    path: str
    """Dotted path to the value in the JSON answer, e.g. 'frozen' or 'mode.read_only'."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Header templates; may use {secret:NAME}, not parameters."""
    timeout: Duration = Field(default=3.0, gt=0, le=30)

    @model_validator(mode="after")
    def _check(self) -> StateSpec:
        if not (re.match(r"^https?://", self.url) or self.url.startswith("/")):
            raise ValueError(f"url {self.url!r} must start with http://, https:// or '/'")
        for text in (self.url, *self.headers.values()):
            if any(p.kind == "param" for p in placeholders(text)):
                raise ValueError(
                    f"{text!r}: state urls and headers take secrets only, no parameters"
                )
        return self


class ActionSpec(_Model):
    """One action the console can run: an argv template or an HTTP request, typed parameters,
    guards (destructive, ships_change), a timeout and an optional verify probe."""

    kind: ActionKind
    """rollback, freeze, unfreeze, read_only, read_write, flag, index_alias, cache_rotate or custom."""
    description: str = ""
    """One line saying what the action does, shown in the plan and the confirm dialog."""
    argv: list[str] | None = Field(default=None, min_length=1)
    """The command as a list of words (never a shell string); each word a template."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment for an argv action (templates); the way to pass secrets, unlike argv."""
    cwd: Path | None = None
    """Working directory of an argv action (relative to the config file)."""
    http: HttpSpec | None = None
    """The HTTP request, instead of argv."""
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    """Typed parameters, used in templates as {name}."""
    service: str | None = None
    """The service acted on (a key of [services]): base of relative urls, default confirm target."""
    target: str | None = None
    """What to type to confirm a destructive action (default: the service, else the action name)."""
    destructive: bool = True
    """Require typing the target's name to confirm (else a yes/no). Default true: say false."""
    ships_change: bool | None = None
    """Refused during a change freeze (unless break-glass). Default: true for flag and index_alias."""
    timeout: Duration = Field(default=60.0, gt=0, le=3600)
    """Killed (the whole process group) or abandoned after this long; recorded as timed out."""
    verify: str | None = None
    """A probe (a key of [probes]) run afterwards; its verdict goes with the outcome."""
    state: StateSpec | None = None
    """freeze/unfreeze/read_only/read_write: where to read the live state this action controls."""

    @model_validator(mode="after")
    def _check(self) -> ActionSpec:
        if (self.argv is None) == (self.http is None):
            raise ValueError("give exactly one of 'argv' (a list of words) or 'http' (a request)")
        for name in self.params:
            if not _PARAM_NAME.match(name):
                raise ValueError(
                    f"parameter name {name!r}: use letters, digits and '_' (not first)"
                )
            if name == KEY_PLACEHOLDER:
                raise ValueError(
                    "'key' is not a parameter name: {key} is the run's idempotency key"
                )
        if self.ships_change and self.kind in NEVER_BLOCKED_BY_FREEZE:
            raise ValueError(
                f"a {self.kind} action is never blocked by a freeze; drop ships_change"
            )
        if self.state is not None and self.kind not in FREEZE_KINDS | READ_ONLY_KINDS:
            raise ValueError(
                "'state' belongs to freeze, unfreeze, read_only and read_write actions"
            )
        if self.env and self.argv is None:
            raise ValueError("'env' applies to argv actions only")
        if self.cwd is not None and self.argv is None:
            raise ValueError("'cwd' applies to argv actions only")
        used: set[str] = set()
        for text in self.templates():
            for ph in placeholders(text):
                if ph.kind == "param" and ph.name != KEY_PLACEHOLDER:
                    if ph.name not in self.params:
                        from console.core import closest

                        guess = closest(ph.name, self.params)
                        hint = (
                            f" (did you mean '{guess}'?)"
                            if guess
                            else (
                                " (declare it under params)"
                                if not self.params
                                else " (declared: " + ", ".join(self.params) + ")"
                            )
                        )
                        raise ValueError(
                            f"{{{ph.name}}} in {text!r} is not a declared parameter{hint}"
                        )
                    used.add(ph.name)
        if self.target is not None:
            if any(p.kind == "secret" for p in placeholders(self.target)):
                raise ValueError("the confirm target cannot hold a secret")
            if any(p.name not in self.params for p in placeholders(self.target)):
                raise ValueError(f"target {self.target!r} names an undeclared parameter")
        if self.argv is not None:
            self._check_argv()
        unused = set(self.params) - used - {p.name for p in placeholders(self.target or "")}
        if unused:
            raise ValueError("parameters not used in any template: " + ", ".join(sorted(unused)))
        return self

    def _check_argv(self) -> None:
        argv = self.argv or []
        if placeholders(argv[0]):
            raise ValueError("argv[0], the program, must be literal (no placeholders)")
        if not argv[0].strip():
            raise ValueError("argv[0], the program, is empty")
        for i, (runner, how) in code_uses(argv).items():
            params = [p for p in placeholders(argv[i]) if p.kind == "param"]
            if not params:
                continue
            by = f"{os.path.basename(argv[runner])} (argv[{runner}])"
            what = f"is run as code by {by}" if how == "code" else f"is the program {by} runs"
            name = params[0].name
            if name == KEY_PLACEHOLDER:
                raise ValueError(
                    f"argv[{i}] {what}; {{key}} would be code, not data: read the key from "
                    "$FIXMAP_IDEMPOTENCY_KEY in the command instead"
                )
            raise ValueError(
                f"argv[{i}] {what}; {{{name}}} would be code, not data: pass it as its own "
                "argv word to a program that reads it as data "
                "(e.g. sh -c 'cmd \"$1\"' sh {" + name + "})"
            )
        for start in [j for j, w in enumerate(argv) if program_name(w) == "ssh"][:1]:
            for word in argv[start + 1 :]:
                for ph in placeholders(word):
                    if (
                        ph.kind == "param"
                        and ph.name != KEY_PLACEHOLDER
                        and not self.params[ph.name].constrained
                    ):
                        raise ValueError(
                            f"ssh runs its command through the remote shell: parameter '{ph.name}' "
                            "needs an enum, a regex that admits no shell syntax, or no free_text"
                        )
        for name, value in self.env.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"env name {name!r} is not a valid variable name")
            parse_template(value)

    # ---------------------------------------------------------------- derived

    def templates(self) -> list[str]:
        """Every template string of this action (argv words, env, http parts)."""
        out: list[str] = []
        if self.argv:
            out.extend(self.argv)
            out.extend(self.env.values())
        if self.http:
            out.extend(self.http.templates())
        return out

    def secret_names(self) -> list[str]:
        names: list[str] = []
        for text in self.templates():
            for ph in placeholders(text):
                if ph.kind == "secret" and ph.name not in names:
                    names.append(ph.name)
        return names

    @property
    def effective_ships_change(self) -> bool:
        if self.kind in NEVER_BLOCKED_BY_FREEZE:
            return False
        if self.ships_change is None:
            return self.kind in SHIPS_CHANGE_BY_DEFAULT
        return self.ships_change
