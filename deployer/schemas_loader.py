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
