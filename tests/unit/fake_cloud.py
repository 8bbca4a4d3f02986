"""An in-memory cloud and a handler for it, so the engine (planner, applier, rollback, scheduler,
plan JSON) is tested without an emulator — as Terraform's test provider and Pulumi's deploytest do.

A `FakeCloud` holds resources by physical id; `FakeHandler` implements the handler interface over
it, with knobs a test turns: fail an operation for a logical id, lose the answer of one (do the work,
then raise a 5xx), slow calls down. Every call is logged in order, with how many ran at once.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import Aws
from deployer.plan import Plan
from deployer.planner import Options, Planner
from deployer.resources.base import Context, Handler, Live, owner_of, user_tags, with_ownership
from deployer.spec.model import Lifecycle, Resource, Stack
from deployer.state.model import State

TYPE = "AWS::Test::Thing"


def error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"fake {code}"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Fake")


@dataclass
class FakeCloud:
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # physical id -> properties (+ Tags)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, logical id), in order
    fail: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, logical id) -> error code
    lose: set[tuple[str, str]] = field(default_factory=set)  # (operation, logical id): done, answer lost once
    delay: float = 0.0
    running: int = 0
    most_at_once: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, operation: str, logical_id: str, work) -> Any:
        with self._lock:
            self.calls.append((operation, logical_id))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.delay:
                time.sleep(self.delay)
            code = self.fail.get((operation, logical_id))
            if code:
                raise error(code)
            result = work()
            if (operation, logical_id) in self.lose:
                self.lose.discard((operation, logical_id))
                raise error("ServiceUnavailable", 503)
            return result
        finally:
            with self._lock:
                self.running -= 1

    def new_id(self) -> str:
        return f"thing-{next(self._ids)}"

    def ops(self, operation: str | None = None) -> list[str]:
        """The logical ids called, in order (of one operation, or as "operation:id")."""
        return [lid for op, lid in self.calls if op == operation] if operation else [f"{op}:{lid}" for op, lid in self.calls]


class FakeHandler(Handler):
    """A named, taggable thing: `Name` (generated when absent), `Size` (updatable), `Kind` (replaces)."""

    type_name = TYPE
    name_property = "Name"
    defaults = {"Size": 1, "Tags": []}
    not_found_codes = frozenset({"NotFound"})
    already_exists_codes = frozenset({"AlreadyExists"})

    def __init__(self, cloud: FakeCloud, schema: dict[str, Any] | None = None):
        super().__init__()
        self.cloud = cloud
        self.schema = {"taggable": True, "createOnlyProperties": ["/properties/Kind"],
                       "readOnlyProperties": ["/properties/Arn"], **(schema or {})}
        self.reads: list[str] = []  # the physical ids read, in order

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        return None  # ids are assigned by the cloud, as AWS assigns VPC ids

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        self.reads.append(physical_id)
        item = self.cloud.resources.get(physical_id)
        if item is None:
            return None
        props = {k: v for k, v in item.items() if k != "Tags"}
        props["Tags"] = user_tags(item.get("Tags"))
        return Live(self.trim(props, wanted), {"Arn": f"arn:fake:{physical_id}"}, owner_of(item.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        def work() -> str:
            for item in self.cloud.resources.values():
                if item.get("Name") == props.get("Name"):
                    raise error("AlreadyExists")
            pid = self.cloud.new_id()
            self.cloud.resources[pid] = {**{k: v for k, v in props.items() if k != "Tags"},
                                         "Tags": with_ownership(ctx, props.get("Tags"))}
            return pid
        pid = self.cloud.call("create", ctx.logical_id, work)
        return pid, {"Arn": f"arn:fake:{pid}"}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        def work() -> None:
            item = self.cloud.resources.get(physical_id)
            if item is None:
                raise error("NotFound")
            for key in changed - {"Tags"}:
                if key in after:
                    item[key] = after[key]
                else:
                    item.pop(key, None)
        self.cloud.call("update", ctx.logical_id, work)
        return {"Arn": f"arn:fake:{physical_id}"}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        def work() -> None:
            self.cloud.resources.pop(physical_id, None)
        self.cloud.call("delete", ctx.logical_id, work)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        return sorted(pid for pid, item in self.cloud.resources.items()
                      if owner_of(item.get("Tags")) == (ctx.stack, ctx.logical_id))

    def tag_for_ownership(self, ctx: Context, physical_id: str) -> None:
        self.cloud.resources[physical_id]["Tags"] = with_ownership(ctx, self.cloud.resources[physical_id].get("Tags"))


class ClaimingHandler(FakeHandler):
    """A thing whose name is its id and whose create carries its tags and fails on a taken name, as
    IAM's CreateRole does: its create is its own existence check."""

    create_checks_existence = True

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        name = props.get("Name")
        return name if isinstance(name, str) else None

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        def work() -> str:
            if props["Name"] in self.cloud.resources:
                raise error("AlreadyExists")
            self.cloud.resources[props["Name"]] = {**{k: v for k, v in props.items() if k != "Tags"},
                                                   "Tags": with_ownership(ctx, props.get("Tags"))}
            return props["Name"]
        pid = self.cloud.call("create", ctx.logical_id, work)
        return pid, {"Arn": f"arn:fake:{pid}"}


def stack(resources: dict[str, dict[str, Any]], name: str = "unit") -> Stack:
    """A Stack of fake things: {logical id: {"properties": ..., "depends_on": [...], "lifecycle": {...}}}."""
    built = {}
    for logical, body in resources.items():
        built[logical] = Resource(name=logical, type=TYPE, properties=dict(body.get("properties", {})),
                                  depends_on=list(body.get("depends_on", [])),
                                  deletion_policy=body.get("deletion_policy"),
                                  update_replace_policy=body.get("update_replace_policy"),
                                  lifecycle=Lifecycle(**body.get("lifecycle", {})))
    return Stack(name=name, region="us-east-1", path="<unit>", resources=built)


@dataclass
class Engine:
    """The planner and applier wired to one fake cloud and an in-memory state."""

    cloud: FakeCloud = field(default_factory=FakeCloud)
    state: State = field(default_factory=lambda: State(stack="unit"))
    schema: dict[str, Any] | None = None
    saves: int = 0
    handler_type: type[FakeHandler] = FakeHandler

    def __post_init__(self) -> None:
        self.handler = self.handler_type(self.cloud, self.schema)
        self.aws = Aws()

    def handlers(self, type_name: str) -> Handler | None:
        return self.handler if type_name == TYPE else None

    def plan(self, spec: Stack, **options: Any) -> Plan:
        return Planner(spec, self.aws, self.state, self.handlers).make(Options(**options))

    def save(self, state: State) -> None:
        self.saves += 1
        self.state = State.from_json(state.to_json())

    def apply(self, plan: Plan, **kwargs: Any):
        from deployer.apply import Applier

        applier = Applier(plan, self.state, self.handlers, self.save, self.aws, **kwargs)
        try:
            applier.run()
        finally:
            self.state = applier.state
        return applier
