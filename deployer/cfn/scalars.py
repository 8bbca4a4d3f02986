"""CloudFormation's scalar conversion, applied to a template's properties by the type's schema.

CloudFormation passes every parameter as text and converts scalars to the property's type: `"5"`
where an integer is wanted is 5, `"true"` where a boolean is wanted is true, and a number where a
string is wanted is its text. Templates rely on it (`DelaySeconds: !Ref Delay`, `RawMessageDelivery:
!Ref Raw`), so the loader converts known values by the resource schema. In convert mode a value that
is a variable becomes a Jinja expression doing the same conversion.
"""

from __future__ import annotations

import re
from typing import Any

from deployer.cfn.values import MISSING, Func, IfVal, Jinja, LDict, LList, Part, Text

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _resolve(schema: Any, root: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _types(schema: dict) -> set[str]:
    t = schema.get("type")
    return {t} if isinstance(t, str) else set(t) if isinstance(t, list) else set()


def _child(schema: dict, key: str, root: dict) -> dict:
    props = schema.get("properties") or {}
    if key in props:
        return _resolve(props[key], root)
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        if re.search(pattern, key):
            return _resolve(sub, root)
    extra = schema.get("additionalProperties")
    return _resolve(extra, root) if isinstance(extra, dict) else {}


def coerce(value: Any, schema: Any, root: dict) -> Any:
    """The value with its scalars converted to the types the schema wants (where the conversion is
    unambiguous); anything else unchanged."""
    schema = _resolve(schema, root)
    if not schema:
        return value
    if isinstance(value, IfVal):
        return IfVal(value.expr, coerce(value.then, schema, root), coerce(value.other, schema, root))
    if isinstance(value, Func):
        return value
    if isinstance(value, dict):
        items = {k: coerce(v, _child(schema, str(k), root), root) for k, v in value.items()}
        return LDict(items, value.loc, value.locs) if isinstance(value, LDict) else items
    if isinstance(value, list):
        item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        items = [coerce(v, item_schema, root) for v in value]
        return LList(items, value.loc, value.locs) if isinstance(value, LList) else items
    types = _types(schema)
    if not types:
        return value
    if isinstance(value, Text):
        return _coerce_variable(value, types)
    return coerce_scalar(value, types)


def coerce_scalar(value: Any, types: set[str]) -> Any:
    if isinstance(value, str) and not {"string"} & types:
        text = value.strip()
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if "integer" in types and _INT.match(text):
            return int(text)
        if "number" in types and _FLOAT.match(text):
            return int(text) if _INT.match(text) else float(text)
        return value
    if isinstance(value, bool):
        return ("true" if value else "false") if types == {"string"} else value
    if isinstance(value, int | float) and "string" in types and not {"integer", "number"} & types:
        return str(value)
    return value


def _coerce_variable(value: Text, types: set[str]) -> Any:
    """convert: a whole-value variable converted as CloudFormation would, by a Jinja expression."""
    if len(value.parts) != 1 or not isinstance(value.parts[0], Part) or not value.parts[0].ref.startswith("var."):
        return value
    part = value.parts[0]
    known = part.known
    if known is MISSING:
        return value
    converted = coerce_scalar(known, types)
    if type(converted) is type(known) and converted == known:
        return value
    if isinstance(converted, bool):
        return Jinja(f"({part.ref} | string | lower) == \"true\"", converted)
    if isinstance(converted, int):
        return Jinja(f"{part.ref} | int", converted)
    if isinstance(converted, float):
        return Jinja(f"{part.ref} | float", converted)
    if isinstance(converted, str):
        return Jinja(f"{part.ref} | string", converted)
    return value
