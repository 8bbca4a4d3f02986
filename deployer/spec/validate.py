"""Check a loaded stack: the envelope schema, each resource's type schema, references and cycles.

Every problem is collected (not just the first), each with the location of the offending value.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema

from deployer.errors import Problem, SpecError
from deployer.graph import build_graph, cycle_problems
from deployer.schemas_loader import envelope_schema, known_types, resource_schema
from deployer.spec.functions import is_function
from deployer.spec.model import Stack
from deployer.spec.refs import Ref, RefSyntaxError, has_reference, walk_refs
from deployer.spec.suggest import did_you_mean
from deployer.spec.yamlmarks import Path, format_path

_REF_TOLERANT = {"type", "pattern", "enum", "format", "minLength", "maxLength", "minimum", "maximum",
                 "multipleOf", "const", "oneOf", "anyOf", "exclusiveMinimum", "exclusiveMaximum"}


def attributes_of(type_name: str) -> list[str]:
    """The names usable as ${Name.Attr}: CloudFormation's read-only properties plus the identifier."""
    schema = resource_schema(type_name) or {}
    names = [".".join(p.split("/")[2:]) for p in schema.get("readOnlyProperties", [])]
    names += [a for a in schema.get("attributes", []) if a not in names]
    names += [p.split("/")[2] for p in schema.get("primaryIdentifier", []) if p.split("/")[2] not in names]
    return names


@functools.cache
def _validator(type_name: str | None):
    """One compiled validator per schema (the envelope when type_name is None)."""
    if type_name is None:
        return jsonschema.Draft202012Validator(envelope_schema())
    return jsonschema.Draft7Validator(resource_schema(type_name))


def _schema_problems(stack: Stack, schema: dict, instance: Any, base: Path, type_name: str | None) -> list[Problem]:
    problems = []
    validator = _validator(type_name)
    for err in validator.iter_errors(instance):
        problems += _explain(stack, err, base, schema)
    return problems


def _explain(stack: Stack, err: jsonschema.ValidationError, base: Path, schema: dict) -> list[Problem]:
    """Turn one jsonschema error into problems that say exactly what and where, with suggestions."""
    if err.validator in ("anyOf", "oneOf") and err.context:
        best = jsonschema.exceptions.best_match(err.context)
        return _explain(stack, best, base, schema)
    if (err.validator in _REF_TOLERANT and has_reference(err.instance)) or is_function(err.instance):
        return []  # a reference's value is checked when it is known, at apply time
    path = (*base, *err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list((err.schema.get("properties") or {}).keys())
        extra = [k for k in err.instance if k not in allowed and not _matches_pattern(err.schema, k)]
        patterns = list(err.schema.get("patternProperties") or {})
        if patterns and not allowed:
            return [Problem(stack.location((*path, k)), format_path((*path, k)),
                            f"invalid key '{k}': keys here must match {' or '.join(patterns)}") for k in extra]
        return [Problem(stack.location((*path, k)), format_path((*path, k)),
                        f"unknown property '{k}'" + did_you_mean(k, allowed)) for k in extra]
    if err.validator == "required":
        return [Problem(stack.location(path), format_path(path) or "<root>", err.message)]
    if err.validator == "enum":
        return [Problem(stack.location(path), format_path(path),
                        f"{err.instance!r} is not one of {err.validator_value}"
                        + (did_you_mean(str(err.instance), [str(v) for v in err.validator_value])
                           if isinstance(err.instance, str) else ""))]
    if err.validator == "propertyNames":
        return [Problem(stack.location(path), format_path(path), f"invalid name: {err.message}")]
    return [Problem(stack.location(path), format_path(path), _shorten(err.message))]


def _shorten(message: str, limit: int = 300) -> str:
    """jsonschema quotes the whole offending value; a 10 kB value must not make a 10 kB error line."""
    return message if len(message) <= limit else message[: limit - 40] + f"... ({len(message)} chars)"


def _matches_pattern(schema: dict, key: str) -> bool:
    import re

    return any(re.search(p, key) for p in (schema.get("patternProperties") or {}))


def validate_stack(stack: Stack) -> list[Problem]:
    """All problems of a loaded stack; an empty list means it is valid."""
    problems = _schema_problems(stack, envelope_schema(), stack.raw, (), None)
    names = list(stack.resources)
    types = known_types()
    for name, res in stack.resources.items():
        base = ("resources", name)
        schema = resource_schema(res.type)
        if schema is None:
            if res.type:
                problems.append(Problem(stack.location((*base, "type")), format_path((*base, "type")),
                                        f"unknown resource type '{res.type}'" + did_you_mean(res.type, types)))
        else:
            problems += _schema_problems(stack, schema, res.properties, (*base, "properties"), res.type)
            read_only = {p.split("/")[2] for p in schema.get("readOnlyProperties", []) if p.count("/") == 2}
            for key in sorted(read_only & set(res.properties)):
                p = (*base, "properties", key)
                problems.append(Problem(stack.location(p), format_path(p),
                                        f"'{key}' is read-only (an attribute AWS assigns); refer to it as "
                                        f"${{{name}.{key}}} instead of setting it"))
        for path, ref in walk_refs(res.properties, (*base, "properties")):
            problems += _ref_problem(stack, path, ref, names, name)
        for i, dep in enumerate(res.depends_on):
            if dep not in stack.resources:
                p = (*base, "depends_on", i)
                problems.append(Problem(stack.location(p), format_path(p),
                                        f"unknown resource '{dep}'" + did_you_mean(dep, names)))
            elif dep == name:
                p = (*base, "depends_on", i)
                problems.append(Problem(stack.location(p), format_path(p), "a resource cannot depend on itself"))
    for path, ref in walk_refs(stack.outputs, ("outputs",)):
        problems += _ref_problem(stack, path, ref, names, None)
    problems += cycle_problems(stack, build_graph(stack))
    return problems


def _ref_problem(stack: Stack, path: Path, ref: Ref | RefSyntaxError, names: list[str], owner: str | None) -> list[Problem]:
    where = stack.location(path)
    if isinstance(ref, RefSyntaxError):
        return [Problem(where, format_path(path), str(ref))]
    if ref.kind != "resource":
        return []
    if ref.target not in stack.resources:
        return [Problem(where, format_path(path), f"reference to unknown resource '{ref.target}'"
                        + did_you_mean(ref.target, names))]
    if ref.target == owner:
        return [Problem(where, format_path(path), f"'{ref}' refers to the resource itself")]
    if ref.attr:
        attrs = attributes_of(stack.resources[ref.target].type)
        if resource_schema(stack.resources[ref.target].type) and ref.attr not in attrs:
            return [Problem(where, format_path(path),
                            f"{stack.resources[ref.target].type} has no attribute '{ref.attr}'"
                            + did_you_mean(ref.attr, attrs) + f" (attributes: {', '.join(attrs)})")]
    return []


def check(stack: Stack) -> None:
    """Raise SpecError with every problem, or return when the stack is valid."""
    problems = validate_stack(stack)
    if problems:
        raise SpecError(problems)
