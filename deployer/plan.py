"""A plan as a plain value: typed actions with before/after per property, JSON round trip."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from deployer import secrets
from deployer.diff import Change, _display

ACTIONS = ("create", "update", "replace", "delete", "noop")
PLAN_FORMAT_VERSION = 1


@dataclass
class Action:
    name: str
    type: str
    action: str
    physical_id: str | None
    region: str
    changes: list[Change] = field(default_factory=list)
    reason: str | None = None  # why a replace (which property forced it) or a delete
    depends_on: list[str] = field(default_factory=list)
    fingerprint: str | None = None  # digest of the live properties the plan was made against
    retain: bool = False  # deletion_policy: retain (a delete only forgets)
    create_before_destroy: bool = False

    @property
    def destructive(self) -> bool:
        return self.action in ("delete", "replace") and not self.retain

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type, "action": self.action,
                               "physical_id": self.physical_id, "region": self.region,
                               "changes": [c.to_json() for c in self.changes]}
        if self.reason:
            doc["reason"] = self.reason
        if self.retain:
            doc["retain"] = True
        return doc


@dataclass
class Plan:
    stack: str
    region: str
    actions: list[Action]
    outputs: dict[str, Any]
    serial: int = 0
    lineage: str = ""
    source: dict[str, Any] = field(default_factory=dict)  # how to re-load the spec: path, vars, region
    warnings: list[str] = field(default_factory=list)
    kind: str = "plan"  # or "drift"

    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in ACTIONS}
        for act in self.actions:
            counts[act.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(a.action != "noop" for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        doc = {
            "format_version": PLAN_FORMAT_VERSION,
            "stack": self.stack,
            "region": self.region,
            "summary": self.summary(),
            "actions": [a.to_json() for a in self.actions],
            "outputs": {k: _display(v) for k, v in self.outputs.items()},
        }
        if self.warnings:
            doc["warnings"] = self.warnings
        if self.kind == "plan":
            doc["state"] = {"serial": self.serial, "lineage": self.lineage}
            doc["source"] = self.source
            doc["fingerprints"] = {a.name: a.fingerprint for a in self.actions if a.fingerprint}
        return doc

    def dumps(self) -> str:
        return secrets.redact(json.dumps(self.to_json(), indent=2, default=str)) + "\n"


def comparable(doc: dict[str, Any]) -> str:
    """The parts of a plan document that must be equal for a saved plan to still hold."""
    keep = {k: doc.get(k) for k in ("stack", "actions", "state", "fingerprints")}
    return json.dumps(keep, sort_keys=True, default=str)
