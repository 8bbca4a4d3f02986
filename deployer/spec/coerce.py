"""CloudFormation's scalar conversion, driven by a resource type's schema (SPEC §3).

CloudFormation converts a property value to the type its schema declares: the string "22" where the
schema says integer is 22, "true" where it says boolean is true, the number 20 where it says string is
"20". So does deployer, in one place: `validate` checks the converted value, and the desired view sent to AWS
is built from it. The conversion is pure and idempotent. It follows the schema (`$ref` into
`definitions`, `properties`, `patternProperties`, `additionalProperties`, `items`, and the branches of
`oneOf`/`anyOf`/`allOf`) and leaves alone what it cannot convert (a wrong value then fails validation
as written) and every string holding a `${...}` reference (its value is known at apply time).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from deployer.spec.refs import has_reference

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "True", "TRUE"})  # the forms CloudFormation (and cfn-lint) accept
_FALSE = frozenset({"false", "False", "FALSE"})
_MAX_REFS = 32  # a $ref chain longer than this is a broken schema, not a deeper value


def coerce(schema: dict[str, Any], value: Any) -> Any:
    """`value` (a resource's property map, or any value under `schema`) with its scalars converted
    to the types `schema` declares. `schema` is the resource schema: its `definitions` resolve `$ref`."""
    return _coerce(schema, schema, value)


def _resolve(root: dict, node: Any) -> dict:
    for _ in range(_MAX_REFS):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            break
        node = root.get("definitions", {}).get(node["$ref"].rsplit("/", 1)[-1], {})
    return node if isinstance(node, dict) else {}


def _branches(root: dict, node: dict) -> list[dict]:
    """The node and, depth first, every branch of its combinators (resolved)."""
    out = [node]
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key) or []:
            out += _branches(root, _resolve(root, branch))
    return out


_WALKED: dict[int, tuple[Any, list[dict]]] = {}


def _walked(root: dict, node: Any) -> list[dict]:
    """The branches of a schema node, kept per node (held, so its id stays its own): a schema is
    walked once however many values it converts."""
    hit = _WALKED.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    branches = _branches(root, _resolve(root, node))
    _WALKED[id(node)] = (node, branches)
    return branches


def _declared_types(node: dict) -> list[str]:
    t = node.get("type")
    return list(t) if isinstance(t, list) else [t] if isinstance(t, str) else []


def _coerce(root: dict, node: Any, value: Any) -> Any:
    branches = _walked(root, node)
    if isinstance(value, dict):
        return _coerce_object(root, branches, value)
    if isinstance(value, list):
        items = next((b["items"] for b in branches if isinstance(b.get("items"), dict)), None)
        return [_coerce(root, items, v) for v in value] if items is not None else list(value)
    types = [t for b in branches for t in _declared_types(b)]
    return _scalar(value, types) if types else value


def _coerce_object(root: dict, branches: list[dict], value: dict) -> dict:
    out = {}
    for key, item in value.items():
        sub = _member_schema(branches, key)
        out[key] = _coerce(root, sub, item) if sub is not None else item
    return out


def _member_schema(branches: list[dict], key: str) -> Any:
    """The schema of one key of an object: a named property, a matching pattern, or the rest."""
    for b in branches:
        props = b.get("properties")
        if isinstance(props, dict) and isinstance(props.get(key), dict):
            return props[key]
    for b in branches:
        for pattern, sub in (b.get("patternProperties") or {}).items():
            if isinstance(sub, dict) and _search(pattern, key):
                return sub
    for b in branches:
        if isinstance(b.get("additionalProperties"), dict):
            return b["additionalProperties"]
    return None


def _search(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _scalar(value: Any, types: list[str]) -> Any:
    """The value as the first declared type it converts to; unchanged when its type is declared."""
    kind = _json_type(value)
    if kind is None and isinstance(value, datetime.date) and "string" in types:
        return value.isoformat()
    if kind is None or kind in types or (kind == "integer" and "number" in types):
        return value
    if kind == "number" and "integer" in types and float(value).is_integer():
        return value  # JSON Schema counts 3.0 as an integer
    if kind == "string" and has_reference(value):
        return value
    for target in types:
        converted = _convert(value, kind, target)
        if converted is not None:
            return converted
    return value


def _convert(value: Any, kind: str, target: str) -> Any:
    if kind == "string":
        if target == "integer" and _INTEGER.fullmatch(value):
            return int(value)
        if target == "number" and _NUMBER.fullmatch(value):
            return int(value) if _INTEGER.fullmatch(value) else float(value)
        if target == "boolean" and value in _TRUE | _FALSE:
            return value in _TRUE
        return None
    if target == "string":
        if kind == "boolean":
            return "true" if value else "false"
        return str(value)
    return None
