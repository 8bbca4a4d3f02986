"""The state document: what deployer last applied, per resource, plus serial and lineage."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from deployer import secrets

FORMAT_VERSION = 1


@dataclass
class ResourceState:
    """One resource as last applied. `pending` is the journal: an operation begun but not confirmed."""

    type: str
    physical_id: str | None
    region: str
    properties: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    sensitive_paths: list[str] = field(default_factory=list)
    pending: str | None = None  # "create" | "delete" | "update" while an API mutation is in flight
    token: str = ""  # a pending create's idempotency token (what finds it again after a kill)
    # how a delete must treat it when the spec no longer says: deletion_policy, force_destroy
    lifecycle: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc = {"type": self.type, "physical_id": self.physical_id, "region": self.region,
               "properties": self.properties, "attributes": self.attributes, "depends_on": self.depends_on}
        if self.sensitive_paths:
            doc["sensitive_paths"] = self.sensitive_paths
        if self.pending:
            doc["pending"] = self.pending
        if self.token:
            doc["token"] = self.token
        if self.lifecycle:
            doc["lifecycle"] = self.lifecycle
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ResourceState:
        return cls(type=doc["type"], physical_id=doc.get("physical_id"), region=doc["region"],
                   properties=doc.get("properties", {}), attributes=doc.get("attributes", {}),
                   depends_on=doc.get("depends_on", []), sensitive_paths=doc.get("sensitive_paths", []),
                   pending=doc.get("pending"), token=doc.get("token", ""), lifecycle=doc.get("lifecycle", {}))


@dataclass
class State:
    stack: str
    lineage: str = ""  # assigned at the first write, so plans of a stack never applied agree on it
    serial: int = 0
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # where this state's changes are recorded step by step (deployer/state/journal.py), when it was
    # read from a backend; never serialised, shared by copies
    journal: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "stack": self.stack, "lineage": self.lineage,
                "serial": self.serial,
                "resources": {k: v.to_json() for k, v in sorted(self.resources.items())},
                "outputs": self.outputs}

    def dumps(self) -> str:
        """The state as text, with every registered sensitive value redacted."""
        if not self.lineage:
            self.lineage = str(uuid.uuid4())
        return secrets.redact(json.dumps(self.to_json(), indent=2, sort_keys=False, default=str)) + "\n"

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> State:
        return cls(stack=doc["stack"], lineage=doc.get("lineage") or "", serial=doc.get("serial", 0),
                   resources={k: ResourceState.from_json(v) for k, v in doc.get("resources", {}).items()},
                   outputs=doc.get("outputs", {}))

    def copy(self) -> State:
        """A deep copy, recording into the same journal."""
        return State(stack=self.stack, lineage=self.lineage, serial=self.serial,
                     resources=copy.deepcopy(self.resources), outputs=copy.deepcopy(self.outputs),
                     journal=self.journal)
