"""Variable values: gathered from --var, --var-file and DEPLOYER_VAR_*, typed and checked by JSON Schema."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jsonschema
import yaml

from deployer.errors import Location, Problem

SCHEMA_KEYWORDS = ("type", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "items",
                   "properties", "exclusiveMinimum", "exclusiveMaximum", "const", "format")
ENV_PREFIX = "DEPLOYER_VAR_"


def parse_typed(raw: str, declared_type: str | None) -> Any:
    """Turn a command-line or environment string into the variable's declared type."""
    if declared_type in ("integer", "number", "boolean", "array", "object"):
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw
        if declared_type == "number" and isinstance(value, int) and not isinstance(value, bool):
            return value
        return value
    return raw


def gather_values(
    declarations: Mapping[str, Any],
    cli_vars: list[str],
    var_files: list[str],
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Collect raw values in precedence order: --var, then --var-file, then DEPLOYER_VAR_* (later wins)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    cli_loc = Location("<command line>", 0, 0)
    for item in cli_vars:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(Problem(cli_loc, f"var.{item}", "expected --var NAME=VALUE"))
            continue
        if name not in declarations:
            problems.append(Problem(cli_loc, f"var.{name}", f"undeclared variable '{name}'" + _suggest(name, declarations)))
            continue
        values[name] = parse_typed(raw, _type_of(declarations[name]))
    for path in var_files:
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh)
        except OSError as exc:
            problems.append(Problem(Location(path, 1, 1), "", f"cannot read variable file: {exc.strerror}"))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            loc = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
            problems.append(Problem(loc, "", f"invalid YAML: {getattr(exc, 'problem', exc)}"))
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(Location(path, 1, 1), "", "a variable file must be a mapping of NAME: VALUE"))
            continue
        for name, value in data.items():
            if name not in declarations:
                problems.append(Problem(Location(path, 1, 1), f"var.{name}",
                                        f"undeclared variable '{name}'" + _suggest(str(name), declarations)))
                continue
            values[name] = value
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):] in declarations:
            name = key[len(ENV_PREFIX):]
            values[name] = parse_typed(raw, _type_of(declarations[name]))
    return values, problems


def resolve(
    declarations: Mapping[str, Any],
    given: Mapping[str, Any],
    locate,
) -> tuple[dict[str, Any], list[Problem]]:
    """Apply defaults, report missing required variables, and check each value against its declaration."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, decl in declarations.items():
        decl = decl if isinstance(decl, dict) else {}
        if name in given:
            value = given[name]
        elif "default" in decl:
            value = decl["default"]
        else:
            problems.append(Problem(locate(("variables", name)), f"variables.{name}",
                                    f"variable '{name}' is required: pass --var {name}=VALUE, a --var-file "
                                    f"or {ENV_PREFIX}{name}"))
            continue
        schema = {k: decl[k] for k in SCHEMA_KEYWORDS if k in decl}
        for err in jsonschema.Draft202012Validator(schema).iter_errors(value):
            shown = "(sensitive)" if decl.get("sensitive") else repr(value)
            message = err.message if not decl.get("sensitive") else f"value does not satisfy '{err.validator}'"
            message = message.replace(repr(value), shown)
            problems.append(Problem(locate(("variables", name)), f"var.{name}", f"invalid value {shown}: {message}"))
        values[name] = value
    return values, problems


def _type_of(decl: Any) -> str | None:
    return decl.get("type") if isinstance(decl, dict) else None


def _suggest(name: str, choices) -> str:
    from deployer.spec.suggest import did_you_mean

    return did_you_mean(name, choices)
