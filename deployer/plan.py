"""The plan: the contract between planning and applying.

A plan is a plain, frozen value: typed steps (what to do to which resource, with the properties to
apply — references still unresolved — and what the plan showed for them), outputs and where the
plan came from. It is rendered, saved (`to_json`, valid against schemas/plan.schema.json), loaded
back (`from_json`) and applied as it is. Sensitive values never leave memory: in JSON they are
"(sensitive)" and their digest, and an apply of a saved plan takes them from the spec again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from deployer import secrets
from deployer.spec.refs import UNKNOWN, Unknown, contains_unknown

FORMAT_VERSION = 1
UNKNOWN_TEXT = "(known after apply)"
ACTIONS = ("create", "update", "replace", "delete", "noop")


class Op(StrEnum):
    """What a step does. The plan JSON's `action` is one of ACTIONS; the other two are deletes."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    DELETE_DEPOSED = "delete-deposed"  # an object left by a replacement or a duplicated create
    FORGET = "forget"  # deletion_policy retain: dropped from the state, left in AWS
    NOOP = "noop"

    @property
    def action(self) -> str:
        return "delete" if self in (Op.DELETE_DEPOSED, Op.FORGET) else self.value


class Order(StrEnum):
    """The order of a replacement's two halves."""

    CREATE_FIRST = "create_before_destroy"
    DELETE_FIRST = "delete_before_create"


@dataclass(frozen=True)
class Change:
    """One changed leaf: its path (SPEC §5), the value before and after, whether it forces a replacement."""

    path: str
    before: Any
    after: Any
    replace: bool = False
    sensitive: bool = False
    policy: bool = False  # inside (or holding) an IAM-style policy document: a reviewer reads these first

    @property
    def property(self) -> str:
        """The top-level property the changed leaf belongs to (`Policies[x].A` -> `Policies`)."""
        return re.split(r"[.\[]", self.path, maxsplit=1)[0]

    def to_json(self) -> dict[str, Any]:
        def shown(v: Any) -> Any:
            return secrets.MASK if self.sensitive and v is not None else display(v)
        doc = {"path": self.path, "before": shown(self.before), "after": shown(self.after), "replace": self.replace}
        if self.policy:
            doc["policy"] = True
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Change:
        before, after = _unknowns(doc.get("before")), _unknowns(doc.get("after"))
        return cls(path=doc["path"], before=before, after=after, replace=bool(doc.get("replace")),
                   sensitive=secrets.MASK in (before, after), policy=bool(doc.get("policy")))


@dataclass(frozen=True)
class Step:
    """One resource's part of a plan. `desired` holds the properties to apply with references unresolved
    (the applier resolves them against the state as it goes); `planned` is their view as far as the plan
    knew it, UNKNOWN where it did not; `before` the live properties the plan read (what a rollback
    restores); `attributes` the live attributes of a resource that stays (for references to it)."""

    name: str
    type: str
    region: str
    op: Op
    physical_id: str | None = None
    deposed: str | None = None  # DELETE_DEPOSED: the state key of the object to delete
    depends_on: tuple[str, ...] = ()
    desired: Mapping[str, Any] = field(default_factory=dict)
    planned: Mapping[str, Any] = field(default_factory=dict)
    before: Mapping[str, Any] | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    sensitive: frozenset[str] = frozenset()
    secret_digests: Mapping[str, str] = field(default_factory=dict)  # of sensitive desired values
    fingerprint: str | None = None
    reason: str | None = None
    order: Order | None = None
    destroys: str | None = None
    blocked: str | None = None  # why apply refuses this step as planned (SPEC §7: a non-empty bucket)
    token: str = ""
    ignore_changes: tuple[str, ...] = ()
    force_destroy: bool = False
    final_snapshot: str | None = None
    deletion_policy: str = "delete"  # recorded in the state, for a delete after the spec forgot it
    keep_old: bool = False  # REPLACE whose update_replace_policy is retain: the old one is forgotten, not deleted
    settle: bool = False  # NOOP of a journal entry whose resource turned out right: record it as applied

    @property
    def key(self) -> str:
        """The step's key in the graph and the state: the logical id, or the deposed object's key."""
        return self.deposed or self.name

    @property
    def action(self) -> str:
        return self.op.action

    @property
    def retain(self) -> bool:
        return self.op is Op.FORGET

    @property
    def destructive(self) -> bool:
        return self.op in (Op.DELETE, Op.REPLACE, Op.DELETE_DEPOSED)

    @property
    def changing(self) -> bool:
        return self.op is not Op.NOOP

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type, "action": self.action,
                               "physical_id": self.physical_id, "region": self.region,
                               "changes": [c.to_json() for c in self.changes]}
        if self.reason:
            doc["reason"] = self.reason
        if self.retain:
            doc["retain"] = True
        if self.deposed:
            doc["deposed"] = self.deposed
        if self.order:
            doc["replace_order"] = self.order.value
        if self.destroys:
            doc["destroys"] = self.destroys
        if self.blocked:
            doc["blocked"] = self.blocked
        if self.depends_on:
            doc["depends_on"] = list(self.depends_on)
        engine: dict[str, Any] = {"op": self.op.value}
        for key in ("desired", "planned", "before", "attributes"):
            value = getattr(self, key)
            if value:
                engine[key] = _masked(value, self.sensitive)
        if self.sensitive:
            engine["sensitive"] = sorted(self.sensitive)
        if self.secret_digests:
            engine["digests"] = dict(self.secret_digests)
        for key in ("fingerprint", "token", "final_snapshot"):
            if getattr(self, key):
                engine[key] = getattr(self, key)
        if self.ignore_changes:
            engine["ignore_changes"] = list(self.ignore_changes)
        if self.force_destroy:
            engine["force_destroy"] = True
        if self.deletion_policy != "delete":
            engine["deletion_policy"] = self.deletion_policy
        if self.settle:
            engine["settle"] = True
        if self.keep_old:
            engine["keep_old"] = True
        doc["apply"] = engine
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Step:
        engine = doc.get("apply") or {}
        before = engine.get("before")
        return cls(name=doc["name"], type=doc["type"], region=doc.get("region", ""), op=Op(engine.get("op",
                   doc["action"])), physical_id=doc.get("physical_id"), deposed=doc.get("deposed"),
                   depends_on=tuple(doc.get("depends_on", ())), desired=_unknowns(engine.get("desired") or {}),
                   planned=_unknowns(engine.get("planned") or {}),
                   before=_unknowns(before) if before is not None else None,
                   attributes=engine.get("attributes") or {},
                   changes=tuple(Change.from_json(c) for c in doc.get("changes", ())),
                   sensitive=frozenset(engine.get("sensitive", ())), secret_digests=engine.get("digests") or {},
                   fingerprint=engine.get("fingerprint"),
                   reason=doc.get("reason"), order=Order(doc["replace_order"]) if doc.get("replace_order") else None,
                   destroys=doc.get("destroys"), blocked=doc.get("blocked"), token=engine.get("token", ""),
                   ignore_changes=tuple(engine.get("ignore_changes", ())),
                   force_destroy=bool(engine.get("force_destroy")), final_snapshot=engine.get("final_snapshot"),
                   deletion_policy=engine.get("deletion_policy", "delete"), settle=bool(engine.get("settle")),
                   keep_old=bool(engine.get("keep_old")))


@dataclass(frozen=True)
class Plan:
    stack: str
    region: str
    steps: tuple[Step, ...]
    outputs: Mapping[str, Any] = field(default_factory=dict)  # as shown: resolved where known
    output_specs: Mapping[str, Any] = field(default_factory=dict)  # the stack's outputs, unresolved
    serial: int = 0
    lineage: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)  # how to re-load the spec: path, vars, region
    warnings: tuple[str, ...] = ()
    kind: str = "plan"  # or "drift"
    identity: Mapping[str, Any] = field(default_factory=dict)  # account, endpoint, environment it was made for

    def summary(self) -> dict[str, int]:
        counts = {a: 0 for a in ACTIONS}
        for step in self.steps:
            counts[step.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(s.changing for s in self.steps)

    def blocked(self) -> list[str]:
        """Why apply refuses this plan as it stands, one line per refused step (empty: it may run)."""
        return [f"{s.key}: {s.blocked}" for s in self.steps if s.blocked]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def with_steps(self, steps: list[Step] | tuple[Step, ...], **changes: Any) -> Plan:
        return replace(self, steps=tuple(steps), **changes)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "stack": self.stack,
            "region": self.region,
            "summary": self.summary(),
            "actions": [s.to_json() for s in self.steps],
            "outputs": {k: display(v) for k, v in self.outputs.items()},
        }
        if self.warnings:
            doc["warnings"] = list(self.warnings)
        if self.kind == "plan":
            doc["state"] = {"serial": self.serial, "lineage": self.lineage}
            doc["source"] = dict(self.source)
            doc["fingerprints"] = {s.key: s.fingerprint for s in self.steps if s.fingerprint}
            if self.output_specs:
                doc["output_specs"] = json.loads(json.dumps(self.output_specs, default=str))
            if self.identity:
                doc["identity"] = dict(self.identity)
        else:
            doc["kind"] = self.kind
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Plan:
        state = doc.get("state") or {}
        return cls(stack=doc["stack"], region=doc["region"],
                   steps=tuple(Step.from_json(a) for a in doc.get("actions", ())),
                   outputs=_unknowns(doc.get("outputs") or {}), output_specs=doc.get("output_specs") or {},
                   serial=int(state.get("serial", 0)), lineage=state.get("lineage", ""),
                   source=doc.get("source") or {}, warnings=tuple(doc.get("warnings", ())),
                   kind=doc.get("kind", "plan"), identity=doc.get("identity") or {})

    def dumps(self) -> str:
        return secrets.redact(json.dumps(self.to_json(), indent=2, default=str)) + "\n"

    def digest(self) -> str:
        """What must be equal for two plans to be the same plan (used to refuse a stale saved plan)."""
        doc = self.to_json()
        keep = {"stack": doc["stack"], "actions": doc["actions"], "state": doc.get("state"),
                "digests": {s.key: dict(s.secret_digests) for s in self.steps if s.secret_digests}}
        return "sha256:" + hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()


def display(value: Any) -> Any:
    """Unknown leaves shown as (known after apply); known parts of the same value shown as they are."""
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if isinstance(value, dict) and contains_unknown(value):
        return {k: display(v) for k, v in value.items()}
    if isinstance(value, list) and contains_unknown(value):
        return [display(v) for v in value]
    return value


def _unknowns(value: Any) -> Any:
    """The inverse of display: "(known after apply)" leaves back to UNKNOWN."""
    if value == UNKNOWN_TEXT:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    return value


def _masked(value: Mapping[str, Any], sensitive: frozenset[str]) -> dict[str, Any]:
    """A property map for JSON: sensitive properties as (sensitive), unknown leaves as their text."""
    return {k: (secrets.MASK if k in sensitive and v is not None else display(v)) for k, v in value.items()}
