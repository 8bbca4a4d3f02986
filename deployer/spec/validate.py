"""Check a loaded stack: the envelope schema, each resource's type schema, references and cycles.

Every problem is collected (not just the first), each with the location of the offending value.
Resource properties are checked after CloudFormation's scalar conversion (deployer/spec/coerce.py),
against the cut schema with CloudFormation's cross-property keywords (deployer/spec/keywords.py).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from deployer.errors import Problem, SpecError
from deployer.graph import cycle_problems
from deployer.schemas_loader import attribute_names, envelope_schema, known_types, resource_schema
from deployer.spec import quickcheck
from deployer.spec.coerce import coerce
from deployer.spec.functions import is_function
from deployer.spec.model import Stack
from deployer.spec.pointers import Unwalkable, select
from deployer.spec.refs import Ref, RefSyntaxError, has_reference, walk_refs
from deployer.spec.suggest import did_you_mean
from deployer.spec.yamlmarks import Path

if TYPE_CHECKING:
    import jsonschema

_REF_TOLERANT = {"type", "pattern", "enum", "format", "minLength", "maxLength", "minimum", "maximum",
                 "multipleOf", "const", "oneOf", "anyOf", "exclusiveMinimum", "exclusiveMaximum"}
_NAMING_KEYWORDS = {"requiredXor", "requiredOr"}  # their messages read "<type> needs ..." at the top


def attributes_of(type_name: str) -> list[str]:
    """The names usable as ${Name.Attr}: exactly CloudFormation's Fn::GetAtt names for the type
    (read-only properties as dotted leaves, plus the schema's documented `attributes`)."""
    return list(attribute_names(type_name))


@functools.cache
def _validator(type_name: str | None):
    """One jsonschema validator per schema (the envelope when type_name is None), made when a value
    fails the compiled test: a valid stack is checked without importing jsonschema."""
    from deployer.spec import patterns
    from deployer.spec.keywords import ResourceValidator

    if type_name is None:
        return patterns.Draft202012Validator(envelope_schema())
    return ResourceValidator(resource_schema(type_name))


def _schema_problems(stack: Stack, schema: dict, instance: Any, base: Path, type_name: str | None) -> list[Problem]:
    if quickcheck.passes(type_name, instance):
        return []
    problems = []
    validator = _validator(type_name)
    for err in validator.iter_errors(instance):
        problems += _explain(stack, err, base, schema)
    return problems


def _explain(stack: Stack, err: jsonschema.ValidationError, base: Path, schema: dict) -> list[Problem]:
    """Turn one jsonschema error into problems that say exactly what and where, with suggestions."""
    from deployer.spec.keywords import KEYWORDS

    if err.validator in ("anyOf", "oneOf") and err.context:
        from jsonschema.exceptions import best_match

        best = best_match(err.context)
        return _explain(stack, best, base, schema)
    if (err.validator in _REF_TOLERANT and has_reference(err.instance)) or is_function(err.instance):
        return []  # a reference's value is checked when it is known, at apply time
    path = (*base, *err.absolute_path)
    rule = _rule_message(schema, err.absolute_schema_path)
    if rule is not None:
        return [Problem(stack.location(p), stack.display_path(p), f"{schema.get('typeName')}: {rule}")
                for p in _offending(err, path)]
    if err.validator in KEYWORDS:
        subject = f"{schema.get('typeName')} " if err.validator in _NAMING_KEYWORDS and not err.absolute_path else ""
        return [Problem(stack.location(path), stack.display_path(path) or "<root>", subject + err.message)]
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list((err.schema.get("properties") or {}).keys())
        extra = [k for k in err.instance if k not in allowed and not _matches_pattern(err.schema, k)]
        patterns = list(err.schema.get("patternProperties") or {})
        if patterns and not allowed:
            return [Problem(stack.location((*path, k)), stack.display_path((*path, k)),
                            f"invalid key '{k}': keys here must match {' or '.join(patterns)}") for k in extra]
        return [Problem(stack.location((*path, k)), stack.display_path((*path, k)),
                        f"unknown property '{k}'" + did_you_mean(k, allowed)) for k in extra]
    if err.validator == "required":
        return [Problem(stack.location(path), stack.display_path(path) or "<root>", err.message)]
    if err.validator == "enum":
        return [Problem(stack.location(path), stack.display_path(path),
                        f"{err.instance!r} is not one of {err.validator_value}"
                        + (did_you_mean(str(err.instance), [str(v) for v in err.validator_value])
                           if isinstance(err.instance, str) else ""))]
    if err.validator == "propertyNames":
        return [Problem(stack.location(path), stack.display_path(path), f"invalid name: {err.message}")]
    return [Problem(stack.location(path), stack.display_path(path), _shorten(err.message))]


def _rule_message(schema: dict, schema_path) -> str | None:
    """The `ruleMessage` of the innermost rule an error comes from, walking the schema path (which
    jsonschema writes without the `$ref` steps: a missing key is looked up in the referenced schema)."""
    node: Any = schema
    found = None
    for part in [*schema_path, None]:
        for _ in range(32):
            if not (isinstance(node, dict) and "$ref" in node and part not in node):
                break
            node = schema.get("definitions", {}).get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        if isinstance(node, dict) and isinstance(node.get("ruleMessage"), str):
            found = node["ruleMessage"]
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return found


def _offending(err: jsonschema.ValidationError, path: Path) -> list[Path]:
    """Where a failed rule points: the keys a `not` forbids that are set, a key a property name
    rule refuses, else the failing value (for a missing key: its object)."""
    if err.validator == "not" and isinstance(err.instance, dict):
        named = _named_keys(err.validator_value)
        keys = [k for k in err.instance if k in named]
        if keys:
            return [(*path, k) for k in keys]
    if "propertyNames" in err.absolute_schema_path and isinstance(err.instance, str):
        return [(*path, err.instance)]
    return [path]


def _named_keys(node: Any) -> set[str]:
    """Property names a sub-schema requires (through required, requiredOr/Xor and combinators)."""
    if isinstance(node, list):
        return set().union(*map(_named_keys, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    names = {n for key in ("required", "requiredOr", "requiredXor") for n in node.get(key, [])}
    return names | set().union(*(_named_keys(node.get(k, [])) for k in ("anyOf", "oneOf", "allOf")))


def _shorten(message: str, limit: int = 300) -> str:
    """jsonschema quotes the whole offending value; a 10 kB value must not make a 10 kB error line."""
    return message if len(message) <= limit else message[: limit - 40] + f"... ({len(message)} chars)"


def _matches_pattern(schema: dict, key: str) -> bool:
    from deployer.spec import patterns

    return any(patterns.search(p, key) for p in (schema.get("patternProperties") or {}))


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
                problems.append(Problem(stack.location((*base, "type")), stack.display_path((*base, "type")),
                                        f"unknown resource type '{res.type}'" + did_you_mean(res.type, types)))
        else:
            problems += _schema_problems(stack, schema, coerce(schema, res.properties), (*base, "properties"),
                                         res.type)
            problems += _read_only_problems(stack, schema, name, res.properties, (*base, "properties"))
        problems += _name_problems(stack, res.type, res.properties, (*base, "properties"))
        for path, ref in walk_refs(res.properties, (*base, "properties")):
            problems += _ref_problem(stack, path, ref, names, name)
        for i, dep in enumerate(res.depends_on):
            if dep not in stack.resources:
                p = (*base, "depends_on", i)
                problems.append(Problem(stack.location(p), stack.display_path(p),
                                        f"unknown resource '{dep}'" + did_you_mean(dep, names)))
            elif dep == name:
                p = (*base, "depends_on", i)
                problems.append(Problem(stack.location(p), stack.display_path(p), "a resource cannot depend on itself"))
    for path, ref in walk_refs(stack.outputs, ("outputs",)):
        problems += _ref_problem(stack, path, ref, names, None)
    problems += cycle_problems(stack)
    return problems


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _name_problems(stack: Stack, type_name: str, props: dict, base: Path) -> list[Problem]:
    """A resource's name (the property its handler names it by) with a newline or another control
    character: no AWS name allows one, and many schemas have no pattern to say so. (The handlers,
    which say which property names a resource, are imported only when some value has one.)"""
    if not any(isinstance(v, str) and _CONTROL.search(v) for v in props.values()):
        return []
    from deployer.resources import handler_for

    handler = handler_for(type_name)
    prop = getattr(handler, "name_property", None) if handler else None
    value = props.get(prop) if prop else None
    if not isinstance(value, str) or not _CONTROL.search(value):
        return []
    path = (*base, prop)
    return [Problem(stack.location(path), stack.display_path(path),
                    f"{value!r}: a name cannot hold a newline or another control character")]


def _read_only_problems(stack: Stack, schema: dict, name: str, props: dict, base: Path) -> list[Problem]:
    """A read-only property (top-level or nested) set in the spec: AWS assigns it."""
    problems = []
    attrs = attribute_names(schema.get("typeName", ""))
    reported: set[Path] = set()
    for pointer in schema.get("readOnlyProperties", []):
        try:
            found = select(props, pointer[len("/properties"):])
        except Unwalkable:  # a reference or another form: nothing read-only is set in it
            continue
        for rel, _ in found:
            if any(rel[:n] in reported for n in range(1, len(rel))):
                continue  # its container is reported already
            reported.add(rel)
            p = (*base, *rel)
            dotted = ".".join(str(x) for x in rel if isinstance(x, str))
            uses = [a for a in attrs if a == dotted or a.startswith(dotted + ".")]
            hint = ", ".join(f"${{{name}.{a}}}" for a in uses) or "an attribute"
            problems.append(Problem(stack.location(p), stack.display_path(p),
                                    f"'{dotted}' is read-only (AWS assigns it); refer to {hint} instead of "
                                    "setting it"))
    return problems


def _ref_problem(stack: Stack, path: Path, ref: Ref | RefSyntaxError, names: list[str], owner: str | None) -> list[Problem]:
    where = stack.location(path)
    if isinstance(ref, RefSyntaxError):
        return [Problem(where, stack.display_path(path), str(ref))]
    if ref.kind != "resource":
        return []
    if ref.target not in stack.resources:
        return [Problem(where, stack.display_path(path), f"reference to unknown resource '{ref.target}'"
                        + (_variable_hint(stack, ref) or did_you_mean(ref.target, names)))]
    if ref.target == owner:
        return [Problem(where, stack.display_path(path), f"'{ref}' refers to the resource itself")]
    target_type = stack.resources[ref.target].type
    if ref.attr and resource_schema(target_type):
        attrs = attributes_of(target_type)
        if ref.attr in attrs:
            return []
        leaves = [a for a in attrs if a.startswith(ref.attr + ".")]
        if leaves:
            return [Problem(where, stack.display_path(path), f"{target_type} attribute '{ref.attr}' is an object: "
                                                      f"refer to one of its values: {', '.join(leaves)}")]
        listed = f" (attributes: {', '.join(attrs)})" if attrs else " (it has no attributes)"
        return [Problem(where, stack.display_path(path), f"{target_type} has no attribute '{ref.attr}'"
                        + did_you_mean(ref.attr, attrs) + listed)]
    return []


_VARIABLE_WORDS = ("var", "vars", "variable", "variables")


def _variable_hint(stack: Stack, ref: Ref) -> str:
    """`${memory}` for the variable memory, or `${vars.memory}`: say how a variable is written."""
    if ref.target in stack.variables:
        return f": '{ref.target}' is a variable, write ${{var.{ref.target}}}"
    if ref.target in _VARIABLE_WORDS:
        name = (ref.attr or "NAME").split(".")[0]
        return f" (a variable is written ${{var.{name}}})"
    return ""


def check(stack: Stack) -> None:
    """Raise SpecError with every problem, or return when the stack is valid."""
    problems = validate_stack(stack)
    if problems:
        raise SpecError(problems)
