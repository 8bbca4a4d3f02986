"""One JSON Schema for spec files (envelope plus every resource type), for editors' YAML support."""

from __future__ import annotations

import copy
import json
from typing import Any

from deployer.schemas_loader import envelope_schema, known_types, resource_schema

BASE_ID = "https://deployer.dev/schemas/resources/"


def editor_schema() -> dict[str, Any]:
    """The envelope with each resource's `properties` checked against its type's schema.

    Each type schema is embedded with its own `$id`, so its internal `#/definitions/...` references
    keep resolving inside it."""
    doc = copy.deepcopy(envelope_schema())
    resource = doc["$defs"]["resource"]
    resource["properties"]["type"] = {"enum": list(known_types()), "description": "CloudFormation type name"}
    branches = []
    for type_name in known_types():
        key = type_name.replace("::", "_")
        embedded = copy.deepcopy(resource_schema(type_name))
        embedded["$id"] = BASE_ID + key + ".json"
        embedded["$schema"] = "http://json-schema.org/draft-07/schema#"
        for meta in ("primaryIdentifier", "createOnlyProperties", "writeOnlyProperties", "readOnlyProperties",
                     "refValue", "taggable", "typeName"):
            embedded.pop(meta, None)
        _allow_references(embedded)
        doc["$defs"][key] = embedded
        branches.append({"if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
                         "then": {"properties": {"properties": {"$ref": BASE_ID + key + ".json"}}}})
    resource["allOf"] = branches
    return doc


def _allow_references(node: Any) -> None:
    """Any value may be a ${...} reference string: loosen scalar types and drop string patterns."""
    if isinstance(node, dict):
        node.pop("pattern", None)
        node.pop("format", None)
        t = node.get("type")
        if t in ("integer", "number", "boolean"):
            node["type"] = [t, "string"]
        elif isinstance(t, list) and "string" not in t and set(t) & {"integer", "number", "boolean"}:
            node["type"] = [*t, "string"]
        for v in node.values():
            _allow_references(v)
    elif isinstance(node, list):
        for v in node:
            _allow_references(v)


def dumps() -> str:
    return json.dumps(editor_schema(), indent=2) + "\n"
