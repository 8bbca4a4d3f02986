"""The JSON Schema keywords a cut resource schema uses beyond Draft 7, checked generically.

CloudFormation's own (from its provider schemas, kept as CloudFormation writes them):
- `requiredXor: [A, B]`: exactly one of the properties is set;
- `requiredOr: [A, B]`: at least one is set;
- `dependentExcluded: {A: [B]}`: when A is set, B is not;
- `uniqueKeys: [K]`: the items of an array differ in their K values.
Standard in later drafts, used by the provider schemas: `dependentRequired: {A: [B]}` (when A is
set, B is too) and `prefixItems` (the first items' own schemas).
deployer's own:
- `memberOf: [{values, in, message?}]` at the root of a resource schema: every value found at the
  instance pointer `values` (`*` steps into every item of a list) is one of the values found at the
  pointers `in`. A value that is a `${...}` reference, or a source that is not yet a list (a
  reference, or a form the pointer cannot walk), leaves the check to apply time.
- `ruleMessage`: an annotation on a rule; validate.py reports any failure inside it with this text.

Each error carries the path of the offending key or value, and a message that names properties.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema import ValidationError
from jsonschema import _keywords as standard

from deployer.spec import patterns
from deployer.spec.pointers import Unwalkable, select
from deployer.spec.refs import has_reference


def _names(names: list[str]) -> str:
    return ", ".join(names)


def required_xor(validator, names: list[str], instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    present = [n for n in names if n in instance]
    if not present:
        yield ValidationError(f"needs {names[0]}" if len(names) == 1 else f"needs exactly one of {_names(names)}")
    for extra in present[1:]:
        yield ValidationError(f"'{extra}' cannot be set together with '{present[0]}': set exactly one of "
                              f"{_names(names)}", path=[extra])


def required_or(validator, names: list[str], instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "object") and not any(n in instance for n in names):
        yield ValidationError(f"needs {names[0]}" if len(names) == 1 else f"needs at least one of {_names(names)}")


def dependent_required(validator, deps: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for trigger, needed in deps.items():
        missing = [n for n in needed if n not in instance] if trigger in instance else []
        if missing:
            yield ValidationError(f"'{trigger}' needs {_names(missing)} set too", path=[trigger])


def dependent_excluded(validator, deps: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    seen: set[frozenset[str]] = set()
    for trigger, excluded in deps.items():
        if trigger not in instance:
            continue
        for other in excluded:
            pair = frozenset((trigger, other))
            if other in instance and pair not in seen:
                seen.add(pair)
                yield ValidationError(f"'{other}' cannot be set together with '{trigger}'", path=[other])


def unique_keys(validator, keys: list[str], instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "array"):
        return
    first: dict[tuple, int] = {}
    for i, item in enumerate(instance):
        if not isinstance(item, dict) or not all(k in item for k in keys):
            continue
        key = tuple(repr(item[k]) for k in keys)
        if key in first:
            shown = ", ".join(f"{k} {item[k]!r}" for k in keys)
            yield ValidationError(f"duplicate {shown} (also item {first[key]})", path=[i])
        else:
            first[key] = i


def _shown(pointer: str) -> str:
    return ".".join(p if p != "*" else "[*]" for p in pointer.split("/") if p).replace(".[*]", "[*]")


def member_of(validator, entries: list[dict], instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for entry in entries:
        try:
            allowed = [v for source in entry["in"] for _, v in select(instance, source)]
            values = select(instance, entry["values"])
        except Unwalkable:
            continue
        if any(has_reference(v) or isinstance(v, dict | list) for v in allowed):
            continue
        why = entry.get("message") or f"it must be one of the values at {', '.join(map(_shown, entry['in']))}"
        listed = ", ".join(dict.fromkeys(str(v) for v in allowed)) or "(none)"
        for path, value in values:
            if isinstance(value, dict | list) or has_reference(value) or value in allowed:
                continue
            yield ValidationError(f"{value!r} is not one of {listed}: {why}", path=list(path), instance=value)


KEYWORDS = {
    "requiredXor": required_xor,
    "requiredOr": required_or,
    "dependentRequired": dependent_required,
    "dependentExcluded": dependent_excluded,
    "uniqueKeys": unique_keys,
    "prefixItems": standard.prefixItems,
    "memberOf": member_of,
}

ResourceValidator = jsonschema.validators.extend(patterns.Draft7Validator, KEYWORDS)  # ECMA-262 patterns
