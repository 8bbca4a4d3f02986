"""Instance pointers such as /Indexes/*/Keys/*/Name: the values a schema rule or a read-only property
names, with their paths (used by validation and by deployer's memberOf keyword)."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


class Unwalkable(Exception):
    """A pointer met a value it cannot walk yet (a reference, or another form of the property)."""


def select(instance: Any, pointer: str) -> list[tuple[Path, Any]]:
    """Every (path, value) an instance pointer such as /Indexes/*/Keys/*/Name reaches."""
    found: list[tuple[Path, Any]] = [((), instance)]
    for part in [p for p in pointer.split("/") if p]:
        step: list[tuple[Path, Any]] = []
        for path, value in found:
            if part == "*":
                if not isinstance(value, list):
                    raise Unwalkable
                step += [((*path, i), v) for i, v in enumerate(value)]
            elif isinstance(value, dict):
                if part in value:
                    step.append(((*path, part), value[part]))
            else:
                raise Unwalkable
        found = step
    return found
