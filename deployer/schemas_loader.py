"""The JSON Schemas shipped as package data: the spec envelope and one file per resource type."""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any


def _root():
    return importlib.resources.files("deployer.schemas")


@functools.cache
def envelope_schema() -> dict[str, Any]:
    return json.loads((_root() / "spec.schema.json").read_text())


@functools.cache
def plan_schema() -> dict[str, Any]:
    return json.loads((_root() / "plan.schema.json").read_text())


@functools.cache
def resource_schema(type_name: str) -> dict[str, Any] | None:
    """The schema of one resource type, or None when deployer does not implement that type."""
    path = _root() / "resources" / (type_name.replace("::", "_") + ".json")
    if not path.is_file():
        return None
    return json.loads(path.read_text())


@functools.cache
def known_types() -> tuple[str, ...]:
    names = [p.name[:-5].replace("_", "::") for p in (_root() / "resources").iterdir() if p.name.endswith(".json")]
    return tuple(sorted(names))


def schema_node(schema: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    """The schema of the property at /properties/A/B (`*` steps into array items), with `$ref`s
    followed; None when the schema has no such property."""
    node: Any = {"properties": schema.get("properties", {})}
    for part in pointer.split("/")[2:]:
        node = _deref(schema, node)
        node = node.get("items") if part == "*" else (node.get("properties") or {}).get(part)
        if not isinstance(node, dict):
            return None
    return _deref(schema, node)


def _deref(schema: dict[str, Any], node: Any) -> dict[str, Any]:
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            break
        node = schema.get("definitions", {}).get(node["$ref"].rsplit("/", 1)[-1])
    return node if isinstance(node, dict) else {}


@functools.cache
def attribute_names(type_name: str) -> tuple[str, ...]:
    """What `${Name.Attr}` accepts for a type: CloudFormation's Fn::GetAtt names. Those are the
    read-only properties as dotted leaves (an object such as Endpoint is not one, its Endpoint.Address
    is), then the schema's `attributes` (documented GetAtt names that are plain properties)."""
    schema = resource_schema(type_name) or {}
    names: list[str] = []
    for pointer in schema.get("readOnlyProperties", []):
        if "*" not in pointer:
            names += [n for n in _leaves(schema, pointer) if n not in names]
    names += [a for a in schema.get("attributes", []) if a not in names]
    return tuple(names)


def _leaves(schema: dict[str, Any], pointer: str) -> list[str]:
    node = schema_node(schema, pointer) or {}
    children = node.get("properties")
    if isinstance(children, dict) and children:
        return [leaf for child in children for leaf in _leaves(schema, f"{pointer}/{child}")]
    return [".".join(pointer.split("/")[2:])]


def cut_from() -> str:
    """The cfn-lint version the resource schemas were cut from (tools/schemagen.py records it)."""
    versions = {(resource_schema(t) or {}).get("cfnLintVersion") for t in known_types()}
    if len(versions) != 1:
        raise ValueError(f"the resource schemas were cut from different cfn-lint versions: {sorted(map(str, versions))}")
    return versions.pop()


@functools.cache
def local_path_pointers(type_name: str) -> tuple[str, ...]:
    """Pointers of the deployer extension properties that name a local file or directory
    (`"localPath": true` in the schema, e.g. a function's code directory), relative to the spec."""
    schema = resource_schema(type_name) or {}
    found: list[str] = []

    def walk(node: Any, pointer: str, depth: int) -> None:
        node = _deref(schema, node)
        if node.get("localPath") is True:
            found.append(pointer)
        if depth < 8:
            for name, sub in (node.get("properties") or {}).items():
                walk(sub, f"{pointer}/{name}", depth + 1)

    for name, sub in schema.get("properties", {}).items():
        walk(sub, f"/properties/{name}", 0)
    return tuple(found)
