"""What an action is handed, checked before anything is planned: its name, its parameters, the
incident, and the site config's references (service, verify probe, program).

Everything wrong is gathered first and raised once, as an ActionError (exit 2) whose problems
name the field, the reason and the closest valid name. Valid values are also checked for where
they land: a value that would be read as an option (argv) or move up a URL path is refused even
though its type allows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.actions.errors import ActionError
from console.actions.render import program_path, service_name
from console.core import Problem, closest, redact
from console.core.templates import Placeholder, as_text, bad_characters, parse_template

if TYPE_CHECKING:
    from console.site import ActionSpec, Site


def find_spec(site: Site, name: str) -> ActionSpec:
    """The configured action `name`; ActionError naming the closest one if there is none."""
    actions: dict[str, ActionSpec] = site.config.actions
    if name in actions:
        return actions[name]
    where = str(site.path) if site.path else None
    if not actions:
        hint = (
            "point fixmap at a site config with --config PATH"
            if site.path is None
            else "add [actions.NAME] tables to the site config"
        )
        raise ActionError(
            f"unknown action '{name}': no actions are configured",
            [Problem(where, "actions", "no actions defined", None, hint)],
        )
    guess = closest(name, actions)
    hint = f"did you mean '{guess}'?" if guess else "configured: " + ", ".join(actions)
    raise ActionError(
        f"unknown action '{name}'",
        [Problem(where, f"actions.{name}", "not configured", None, hint)],
    )


def checked_inputs(
    site: Site, name: str, spec: ActionSpec, params: dict[str, Any], incident: str | None
) -> tuple[dict[str, Any], str | None]:
    """The typed parameters and the resolved program (argv actions), or one ActionError with
    every problem found."""
    problems = _reference_problems(site, name, spec)
    typed, param_problems = _typed_params(name, spec, params)
    problems += param_problems
    if not param_problems:
        problems += _placement_problems(spec, typed)
    if incident is not None and (bad_characters(incident) or len(incident) > 200):
        problems.append(
            Problem(None, "incident", "an incident id is one line of at most 200 characters")
        )
    program = None
    if not problems and spec.argv:
        program = program_path(spec.argv[0], site.base_dir)
        if program is None:
            where = f"in {site.base_dir}" if "/" in spec.argv[0] else "on PATH"
            problems.append(
                Problem(
                    str(site.path) if site.path else None,
                    f"actions.{name}.argv[0]",
                    f"program '{spec.argv[0]}' not found {where}",
                    None,
                    "install it, or give its full path",
                )
            )
    if problems:
        raise ActionError(redact(f"cannot plan action '{name}'"), problems)
    return typed, program


def _reference_problems(site: Site, name: str, spec: ActionSpec) -> list[Problem]:
    where = str(site.path) if site.path else None
    problems: list[Problem] = []
    services = site.config.services
    if spec.service is not None and spec.service not in services:
        guess = closest(spec.service, services)
        problems.append(
            Problem(
                where,
                f"actions.{name}.service",
                f"service '{spec.service}' is not in [services]",
                None,
                f"did you mean '{guess}'?" if guess else None,
            )
        )
    needs_base = (spec.http is not None and spec.http.url.startswith("/")) or (
        spec.state is not None and spec.state.url.startswith("/")
    )
    if needs_base and service_name(site, spec) is None:
        problems.append(
            Problem(
                where,
                f"actions.{name}",
                "a relative url needs a service",
                None,
                "set 'service' on the action, or define [services]",
            )
        )
    if spec.verify is not None and spec.verify not in site.config.probes:
        guess = closest(spec.verify, site.config.probes)
        problems.append(
            Problem(
                where,
                f"actions.{name}.verify",
                f"probe '{spec.verify}' is not in [probes]",
                None,
                f"did you mean '{guess}'?" if guess else None,
            )
        )
    return problems


def _typed_params(
    name: str, spec: ActionSpec, given: dict[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    typed: dict[str, Any] = {}
    problems: list[Problem] = []
    for pname in given:
        if pname not in spec.params:
            guess = closest(pname, spec.params)
            hint = (
                f"did you mean '{guess}'?"
                if guess
                else (
                    "this action takes no parameters"
                    if not spec.params
                    else "parameters: " + ", ".join(spec.params)
                )
            )
            problems.append(
                Problem(None, f"param {pname}", f"{name} has no parameter '{pname}'", None, hint)
            )
    for pname, pspec in spec.params.items():
        raw = given.get(pname)
        if raw is None:
            if pspec.default is None:
                desc = f" ({pspec.description})" if pspec.description else ""
                problems.append(
                    Problem(
                        None,
                        f"param {pname}",
                        "required" + desc,
                        None,
                        f"pass --param {pname}=VALUE",
                    )
                )
                continue
            raw = pspec.default
        try:
            typed[pname] = pspec.convert(raw)
        except ValueError as exc:
            problems.append(Problem(None, f"param {pname}", redact(str(exc))))
    return typed, problems


def _placement_problems(spec: ActionSpec, typed: dict[str, Any]) -> list[Problem]:
    """Values that are valid but dangerous where they land: an option, a path step."""
    problems: list[Problem] = []
    if spec.http is not None:
        for ph in parse_template(spec.http.url):
            if (
                isinstance(ph, Placeholder)
                and ph.kind == "param"
                and ph.name in typed
                and as_text(typed[ph.name]) in (".", "..")
            ):
                problems.append(
                    Problem(
                        None,
                        f"param {ph.name}",
                        "'.' and '..' cannot go into a URL (they would move up the path)",
                    )
                )
    for i, word in enumerate((spec.argv or [])[1:], start=1):
        parts = parse_template(word)
        if (
            parts
            and isinstance(parts[0], Placeholder)
            and parts[0].kind == "param"
            and parts[0].name in spec.params
        ):
            pname = parts[0].name
            value = as_text(typed.get(pname, ""))
            if (
                value.startswith("-")
                and spec.params[pname].type == "str"
                and not spec.params[pname].constrained
            ):
                problems.append(
                    Problem(
                        None,
                        f"param {pname}",
                        f"'{value}' starts with '-' and would be read as an option (argv[{i}])",
                        None,
                        "values may not start with '-' unless the action's enum or regex allows it",
                    )
                )
    return problems
