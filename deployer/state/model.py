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


class NewerFormat(ValueError):
    """A state written by a newer deployer: refused, never rewritten in the older format."""


@dataclass
class State:
    stack: str
    lineage: str = ""  # assigned at the first write, so plans of a stack never applied agree on it
    serial: int = 0
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # what the state was made against (deployer/state/identity.py): a command against another is refused
    environment: str | None = None
    account: str | None = None
    endpoint: str | None = None  # a custom endpoint (AWS_ENDPOINT_URL, "sandbox"); None: AWS itself
    # where this state's changes are recorded step by step (deployer/state/journal.py), when it was
    # read from a backend; never serialised, shared by copies
    journal: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"format_version": FORMAT_VERSION, "stack": self.stack, "lineage": self.lineage,
                               "serial": self.serial}
        for key in ("environment", "account", "endpoint"):
            if getattr(self, key):
                doc[key] = getattr(self, key)
        doc["resources"] = {k: v.to_json() for k, v in sorted(self.resources.items())}
        doc["outputs"] = self.outputs
        return doc

    def dumps(self) -> str:
        """The state as text, with every registered sensitive value redacted."""
        if not self.lineage:
            self.lineage = str(uuid.uuid4())
        return secrets.redact(json.dumps(self.to_json(), indent=2, sort_keys=False, default=str)) + "\n"

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> State:
        """The state in a document; a newer format is refused (NewerFormat), a malformed one raises
        KeyError, TypeError or ValueError naming what is wrong."""
        if not isinstance(doc, dict):
            raise TypeError(f"the document is a {type(doc).__name__}, not a map")
        version = doc.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"format_version is {version!r}, not a number")
        if version > FORMAT_VERSION:
            raise NewerFormat(f"it was written by a newer deployer (state format {version}; this one reads "
                              f"format {FORMAT_VERSION}): upgrade deployer to use it")
        if not isinstance(doc.get("stack"), str):
            raise KeyError("stack")
        resources = doc.get("resources", {})
        if not isinstance(resources, dict) or not all(isinstance(v, dict) for v in resources.values()):
            raise TypeError("resources is not a map of resource entries")
        return cls(stack=doc["stack"], lineage=doc.get("lineage") or "", serial=int(doc.get("serial", 0)),
                   resources={k: ResourceState.from_json(v) for k, v in resources.items()},
                   outputs=doc.get("outputs", {}), environment=doc.get("environment"),
                   account=doc.get("account"), endpoint=doc.get("endpoint"))

    @classmethod
    def parse(cls, text: str | bytes, where: str) -> State:
        """The state stored at `where`, or StateError naming the file, what is wrong, and what to do."""
        from deployer.errors import StateError

        try:
            return cls.from_json(json.loads(text))
        except NewerFormat as exc:
            raise StateError(f"{where}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise StateError(f"{where}: the state is corrupt ({what}); restore a good copy (a backup or the "
                             "bucket's previous version), or run `deployer state rebuild PATH`, which sets the "
                             "corrupt file aside and finds the stack's resources by their tags") from None

    def copy(self) -> State:
        """A deep copy, recording into the same journal."""
        return State(stack=self.stack, lineage=self.lineage, serial=self.serial,
                     resources=copy.deepcopy(self.resources), outputs=copy.deepcopy(self.outputs),
                     environment=self.environment, account=self.account, endpoint=self.endpoint,
                     journal=self.journal)
