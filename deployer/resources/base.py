"""The uniform interface every resource type implements, and the helpers handlers share.

A handler knows one AWS type: how to read it into CloudFormation-shaped properties, and how
to create, update (only what changed) and delete it. It knows nothing of graphs or plans.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.aws import Aws, error_code
from deployer.schemas_loader import resource_schema

OWNER_STACK = "deployer:stack"
OWNER_ID = "deployer:logical-id"


@dataclass
class Live:
    """What a read found: properties in spec shape, attributes for ${X.Attr}, and who owns it."""

    properties: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    owner: tuple[str, str] | None = None  # (stack, logical id) from the ownership tags


@dataclass
class Context:
    """Everything a handler may use for one resource: clients for its region, and who it is."""

    aws: Aws
    region: str
    stack: str
    logical_id: str
    token: str = ""  # an idempotency token for this step (ClientToken), stable across retries of one plan

    def client(self, service: str):
        return self.aws.client(service, self.region)

    @property
    def account_id(self) -> str:
        return self.aws.account_id(self.region)

    @property
    def partition(self) -> str:
        from deployer.aws import partition_of

        return partition_of(self.region)

    def ownership_tags(self) -> dict[str, str]:
        return {OWNER_STACK: self.stack, OWNER_ID: self.logical_id}


class Handler(ABC):
    """Base class: subclasses set the ClassVars and implement read/create/update/delete."""

    type_name: ClassVar[str]
    name_property: ClassVar[str | None] = None  # generated as <stack>-<logical id>-<random> when absent
    name_max_length: ClassVar[int] = 64
    name_lowercase: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {}  # service defaults: what a removed property resets to
    tags_property: ClassVar[str | None] = "Tags"
    readable_write_only: ClassVar[frozenset[str]] = frozenset()  # write-only props the handler still reads
    sensitive_properties: ClassVar[frozenset[str]] = frozenset()  # always masked, stored only as digests
    # properties whose read-back form cannot recreate the resource (a code digest, a masked password):
    # a rollback that recreates a deleted resource takes these from the spec instead
    restore_from_spec: ClassVar[frozenset[str]] = frozenset()
    # a create-only property summarising the resource's dependencies (an API Gateway deployment's
    # snapshot of the API): unknown at plan time when a dependency changes in the same plan
    snapshot_property: ClassVar[str | None] = None
    replace_before_destroy: ClassVar[bool] = False  # replacements create first (the old one is in use)

    def __init__(self) -> None:
        self.schema = resource_schema(self.type_name) or {}

    # --- metadata from the schema -------------------------------------------------------------
    @staticmethod
    def _top(pointers: list[str]) -> set[str]:
        return {p.split("/")[2] for p in pointers}

    @property
    def create_only(self) -> set[str]:
        return self._top(self.schema.get("createOnlyProperties", []))

    @property
    def write_only(self) -> set[str]:
        """Top-level properties that cannot be read back whole (compared with the last apply)."""
        pointers = [p for p in self.schema.get("writeOnlyProperties", []) if p.count("/") == 2]
        return self._top(pointers) - self.readable_write_only

    @property
    def attribute_names(self) -> list[str]:
        """Names usable as ${X.Attr} whose values only AWS knows (nested ones dotted: Endpoint.Address)."""
        names = [".".join(p.split("/")[2:]) for p in self.schema.get("readOnlyProperties", [])]
        return names + [a for a in self.schema.get("attributes", []) if a not in names]

    @property
    def ref_attribute(self) -> str:
        return self.schema.get("refValue", "/properties/Id").split("/")[2]

    @property
    def taggable(self) -> bool:
        return bool(self.schema.get("taggable")) and self.tags_property is not None

    # --- naming -------------------------------------------------------------------------------
    def generate_name(self, stack: str, logical_id: str, props: dict[str, Any], suffix: str) -> str:
        """A unique name like CloudFormation's, stack-logicalid-SUFFIX, within the service's limits
        (the planner picks the suffix so that re-plans of one state agree)."""
        base = f"{stack}-{logical_id}"
        room = self.name_max_length - len(suffix) - 1
        name = f"{base[:room]}-{suffix}"
        if self.name_lowercase:
            name = name.lower()
        return name

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """The physical id a create with these props will produce, when it is known beforehand."""
        if self.name_property and isinstance(props.get(self.name_property), str):
            return props[self.name_property]
        return None

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        """What ${Name} gives (CloudFormation's Ref). Usually the physical id; a sub-resource whose
        physical id is composite (e.g. "API|RESOURCE") returns the part CloudFormation's Ref returns."""
        return physical_id

    def desired_view(self, props: dict[str, Any], ctx: Context | None = None) -> dict[str, Any]:
        """Desired properties in the shape read() returns (e.g. a code path as its digest)."""
        return props

    # --- the operations -----------------------------------------------------------------------
    @abstractmethod
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """Describe the resource; None when it does not exist. Read at least the properties in `wanted`
        (those the spec or the last apply set), in spec shape, and every attribute."""

    @abstractmethod
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create from resolved properties (tags merged with the stack's; add ctx.ownership_tags()),
        wait until usable, and return (physical id, attributes)."""

    @abstractmethod
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Change in place what differs between the full property maps before and after, with the
        right API for each property; return the attributes afterwards."""

    @abstractmethod
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Delete and wait until gone; a resource that is already gone is success."""

    def differs(self, before: dict[str, Any], after: dict[str, Any], *keys: str) -> bool:
        """Whether any of keys differs between two property maps, by canonical value (absent = default)."""
        from deployer.normalize import canon

        return any(canon(before.get(k, self.defaults.get(k))) != canon(after.get(k, self.defaults.get(k)))
                   for k in keys)

    def trim(self, props: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
        """What read() returns: set properties, minus defaults nobody asked for (absent = default)."""
        from deployer.normalize import canon

        return {k: v for k, v in props.items() if v is not None and
                (k in wanted or k not in self.defaults or canon(v) != canon(self.defaults[k]))}

    def read_many(self, requests: list[tuple[Context, str, set[str]]]) -> list[Live | None]:
        """Read several resources of this type at once; handlers whose API describes many ids in one
        call (EC2) override this so a plan costs a few calls per kind, not one per resource."""
        return [self.read(ctx, pid, wanted) for ctx, pid, wanted in requests]

    def find_owned(self, ctx: Context) -> str | None:
        """The physical id of a resource tagged as this stack's logical id, when the type can search tags."""
        return None

    def tag_for_ownership(self, ctx: Context, physical_id: str) -> None:
        """Add the ownership tags to an existing resource (import, rebuild). The default is an update
        whose before and after are the live tags; a handler whose update skips unchanged tags overrides it."""
        live = self.read(ctx, physical_id, {self.tags_property} if self.tags_property else set())
        if live is None or not self.taggable:
            return
        tags = live.properties.get(self.tags_property) or []
        self.update(ctx, physical_id, {self.tags_property: tags}, {self.tags_property: tags})


# --- helpers shared by handlers -----------------------------------------------------------------

def is_not_found(exc: BaseException, *codes: str) -> bool:
    code = error_code(exc) or ""
    known = codes or ("NoSuchEntity", "ResourceNotFoundException", "NotFound", "NoSuchBucket", "404",
                      "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NotFoundException")
    return isinstance(exc, ClientError) and (code in known or code.endswith("NotFound")
                                             or code.endswith(".NotFound") or "NotFound" in code)


@contextmanager
def missing_ok(*codes: str) -> Iterator[None]:
    """Run a call for which "not found" is success (deleting what is already gone)."""
    try:
        yield
    except ClientError as exc:
        if not is_not_found(exc, *codes):
            raise


def owned_arn(ctx: Context, resource_type: str) -> str | None:
    """The ARN of the resource carrying this stack's ownership tags for ctx.logical_id (tagging API)."""
    pages = ctx.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate(
        TagFilters=[{"Key": k, "Values": [v]} for k, v in ctx.ownership_tags().items()],
        ResourceTypeFilters=[resource_type])
    for page in pages:
        for mapping in page.get("ResourceTagMappingList", []):
            return mapping["ResourceARN"]
    return None


def tags_to_map(tags: Any) -> dict[str, str]:
    """CloudFormation tag lists ([{Key, Value}]) or maps -> a plain map."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for t in tags or []:
        if isinstance(t, dict) and "Key" in t:
            out[str(t["Key"])] = str(t.get("Value", ""))
    return out


def map_to_tags(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(mapping.items())]


def user_tags(tags: Any) -> list[dict[str, str]]:
    """Tags as read from AWS, without ownership and aws: tags, as a sorted CloudFormation list."""
    m = tags_to_map(tags)
    return map_to_tags({k: v for k, v in m.items() if not k.startswith(("deployer:", "aws:"))})


def owner_of(tags: Any) -> tuple[str, str] | None:
    m = tags_to_map(tags)
    if OWNER_STACK in m:
        return (m[OWNER_STACK], m.get(OWNER_ID, ""))
    return None


def tag_changes(before: Any, after: Any) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) going from before to after; ownership tags are never removed."""
    b, a = tags_to_map(before), tags_to_map(after)
    to_set = {k: v for k, v in a.items() if b.get(k) != v}
    to_remove = [k for k in b if k not in a and not k.startswith("deployer:")]
    return to_set, to_remove


def with_ownership(ctx: Context, tags: Any) -> dict[str, str]:
    m = tags_to_map(tags)
    m.update(ctx.ownership_tags())
    return m

