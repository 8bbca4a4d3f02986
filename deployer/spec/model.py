"""The loaded stack as plain values: what every later phase (validate, graph, plan) reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deployer.errors import Location
from deployer.spec.yamlmarks import Marks, Path, format_path


@dataclass
class Lifecycle:
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    allow_replace: bool = False  # SPEC §7: a named data-bearing resource may be replaced
    force_destroy: bool = False  # SPEC §7: a bucket holding objects may be emptied and deleted


@dataclass
class Resource:
    """One resource of the spec, exactly as written (references still unresolved)."""

    name: str
    type: str
    properties: dict[str, Any]
    depends_on: list[str] = field(default_factory=list)
    region: str | None = None
    deletion_policy: str | None = None  # delete | retain | snapshot | retain_except_on_create; None: the type's default (SPEC §7)
    # delete | retain | snapshot: what a replacement does with the old one; None: a final snapshot where
    # the deletion policy takes one (an RDS instance by default), else delete
    update_replace_policy: str | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)


@dataclass
class Stack:
    """A whole stack: the merged top-level keys of its files, plus where each value came from."""

    name: str
    region: str
    path: str
    tags: dict[str, str] = field(default_factory=dict)
    backend: dict[str, Any] = field(default_factory=lambda: {"type": "local"})
    variables: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    sensitive_values: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    marks: Marks = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # load-time warnings the CLI prints
    environment: str | None = None  # the environment (SPEC §9) this stack was loaded for
    source_format: str = "deployer"  # or "cloudformation": a template read by deployer.cfn
    path_words: dict[str, str] = field(default_factory=dict)  # model words -> the source's (display_path)

    def display_path(self, path: Path) -> str:
        """A model path in the words of the file it came from: `resources.X.properties.Y` for a deployer
        spec; for a template (whose loader sets path_words) `Resources.X.Properties.Y`."""
        if not self.path_words:
            return format_path(path)
        words = [self.path_words.get(p, p) if isinstance(p, str) and n in (0, 2) else p for n, p in enumerate(path)]
        return format_path(tuple(words))

    def location(self, path: Path) -> Location | None:
        """The location of a path, or of its nearest ancestor that has one."""
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]
