"""The uniform interface every resource type implements, and the helpers handlers share.

A handler knows one AWS type: how to read it into CloudFormation-shaped properties, and how to
create, update (only what changed) and delete it. It declares what the engine needs to decide for
it — its not-found and already-exists error codes, its tag API, whether its create takes an
idempotency token, how to find a resource it made by ownership tags or natural key — and the
engine (deployer/apply.py) owns the decisions: adoption, retries after lost answers, rollback.
A handler knows nothing of graphs or plans.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import ClientError

from deployer.aws import Aws, error_code
from deployer.schemas_loader import resource_schema

OWNER_STACK = "deployer:stack"
OWNER_ID = "deployer:logical-id"
T = TypeVar("T")


@dataclass
class Live:
    """What a read found: properties in spec shape, attributes for ${X.Attr}, and who owns it."""

    properties: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    owner: tuple[str, str] | None = None  # (stack, logical id) from the ownership tags


@dataclass(frozen=True)
class Settings:
    """How a delete treats what the resource holds (from the spec's lifecycle and deletion policy)."""

    force_destroy: bool = False  # empty a bucket that holds objects instead of refusing
    final_snapshot: str | None = None  # take this final snapshot before deleting a database
    # the delete undoes a create of this same command (a rollback): the resource held nothing before
    # it, so a recovery window would only keep its name taken for the next apply
    undoing_create: bool = False
    # a create whose absence this same command's plan read moments ago (not a saved plan's read of
    # long ago): a handler that would ask AWS again before creating need not
    absence_fresh: bool = False


@dataclass(frozen=True)
class Stake:
    """What deleting a resource destroys, as read at plan time (SPEC §5 `destroys`)."""

    summary: str  # one line, e.g. "3 objects, 12.0 KiB"
    refuse_without_force: bool = False  # SPEC §7: refuse unless lifecycle.force_destroy (a non-empty bucket)


@dataclass
class Context:
    """Everything a handler may use for one resource: clients for its region, and who it is."""

    aws: Aws
    region: str
    stack: str
    logical_id: str
    token: str = ""  # an idempotency token for this step (ClientToken), stable across retries of one plan
    settings: Settings = field(default_factory=Settings)

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


# --- tags -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TagApi:
    """How one service adds and removes a resource's tags, so one helper (sync_tags) serves all.

    shape: how tags are sent — "list" [{Key, Value}], "map" {key: value}, "kms" [{TagKey, TagValue}];
    remove=None means `add` replaces the whole tag set (S3); keys_shape "keys" sends removed keys as
    a list of names, "tags" as [{Key: name}] (EC2); id_as_list sends the id as a one-item list (EC2)."""

    service: str
    add: str
    remove: str | None
    id_param: str
    tags_param: str = "Tags"
    keys_param: str = "TagKeys"
    shape: str = "list"
    keys_shape: str = "keys"
    id_as_list: bool = False
    wrap: str | None = None  # the tags argument is {wrap: tags} (S3's Tagging={"TagSet": [...]})

    def _ident(self, resource_id: str) -> Any:
        return [resource_id] if self.id_as_list else resource_id

    def encode(self, mapping: dict[str, str]) -> Any:
        """A tag map in the shape this API sends tags."""
        if self.shape == "map":
            value: Any = dict(mapping)
        elif self.shape == "kms":
            value = [{"TagKey": k, "TagValue": v} for k, v in sorted(mapping.items())]
        else:
            value = map_to_tags(mapping)
        return {self.wrap: value} if self.wrap else value

    def sync(self, ctx: Context, resource_id: str, before: Any, after: Any) -> None:
        """Bring the tags from `before` to `after` (user tags), always re-asserting the ownership tags."""
        client = ctx.client(self.service)
        wanted = with_ownership(ctx, after)
        if self.remove is None:
            getattr(client, self.add)(**{self.id_param: self._ident(resource_id), self.tags_param: self.encode(wanted)})
            return
        to_set, to_remove = tag_changes(before, wanted)
        if to_remove:
            keys: Any = [{"Key": k} for k in to_remove] if self.keys_shape == "tags" else to_remove
            getattr(client, self.remove)(**{self.id_param: self._ident(resource_id), self.keys_param: keys})
        getattr(client, self.add)(**{self.id_param: self._ident(resource_id),
                                     self.tags_param: self.encode({**to_set, **ctx.ownership_tags()})})


def size_text(size: int) -> str:
    """Bytes for people: 0 B, 12.0 KiB, 3.4 GiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def tags_to_map(tags: Any) -> dict[str, str]:
    """CloudFormation tag lists ([{Key, Value}]) or maps -> a plain map."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for t in tags or []:
        if isinstance(t, dict) and "Key" in t:
            out[str(t["Key"])] = str(t.get("Value", ""))
        elif isinstance(t, dict) and "TagKey" in t:
            out[str(t["TagKey"])] = str(t.get("TagValue", ""))
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


# --- the handler ------------------------------------------------------------------------------------

def absent(call: Callable[[], T], codes: frozenset[str]) -> T | None:
    """call(), or None when it fails with one of `codes` (the service's "no such resource")."""
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in codes:
            return None
        raise


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
    default_deletion_policy: ClassVar[str] = "delete"  # SPEC §7: RDS databases default to "snapshot"

    # --- declarations the engine decides with -------------------------------------------------
    not_found_codes: ClassVar[frozenset[str]] = frozenset()  # "this resource does not exist"
    already_exists_codes: ClassVar[frozenset[str]] = frozenset()  # a create met one of that name
    tag_api: ClassVar[TagApi | None] = None
    create_takes_token: ClassVar[bool] = False  # create passes ctx.token as the API's idempotency token
    # the create is its own existence check: it fails with one of already_exists_codes when the name is
    # taken, and carries the ownership tags, so whatever it made is tagged from its first instant. An
    # apply that plans for itself then makes no read before the create, and what is found under the
    # name without this resource's tags is never taken for its own
    create_checks_existence: ClassVar[bool] = False
    # attributes a create does not return because reading them costs calls of their own (a VPC's
    # default security group): read() returns them, and the applier reads one when something refers to it
    lazy_attributes: ClassVar[frozenset[str]] = frozenset()

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
    def attribute_names(self) -> tuple[str, ...]:
        """Names usable as ${X.Attr}: CloudFormation's Fn::GetAtt names (nested ones dotted: Endpoint.Address)."""
        from deployer.schemas_loader import attribute_names

        return attribute_names(self.type_name)

    @property
    def replacement_strategy(self) -> str:
        """create_then_delete (CloudFormation's default) or delete_then_create: the schema's, unless a
        documented deviation of deployer's says otherwise."""
        for deviation in self.schema.get("deviations", []):
            if deviation.get("pointer") == "/replacementStrategy":
                return deviation["deployer"]
        return self.schema.get("replacementStrategy", "create_then_delete")

    @property
    def taggable(self) -> bool:
        return bool(self.schema.get("taggable")) and self.tags_property is not None

    # --- errors ---------------------------------------------------------------------------------
    def is_not_found(self, exc: BaseException) -> bool:
        return isinstance(exc, ClientError) and error_code(exc) in self.not_found_codes

    def is_already_exists(self, exc: BaseException) -> bool:
        return isinstance(exc, ClientError) and error_code(exc) in self.already_exists_codes

    def absent(self, call: Callable[[], T]) -> T | None:
        """call(), or None when it answers one of this type's not-found codes (a describe of what may be gone)."""
        return absent(call, self.not_found_codes)

    @contextmanager
    def missing_ok(self, *also: str) -> Iterator[None]:
        """Run a call for which "not found" (or one of `also`) is success: deleting what is already gone."""
        try:
            yield
        except ClientError as exc:
            if not (self.is_not_found(exc) or error_code(exc) in also):
                raise

    # --- naming -------------------------------------------------------------------------------
    def generate_name(self, stack: str, logical_id: str, props: dict[str, Any], suffix: str) -> str:
        """A unique name like CloudFormation's, stack-logicalid-SUFFIX, within the service's limits
        (the planner picks the suffix so that re-plans of one state agree)."""
        return self.generated_prefix(stack, logical_id, len(suffix)) + suffix

    def generated_prefix(self, stack: str, logical_id: str, suffix_length: int = 8) -> str:
        """What every name generate_name makes for this resource starts with (`stack-logicalid-`):
        how a lost state finds a resource whose name it generated."""
        room = self.name_max_length - suffix_length - 1
        prefix = f"{f'{stack}-{logical_id}'[:room]}-"
        return prefix.lower() if self.name_lowercase else prefix

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """The physical id a create with these props will produce, when it is known beforehand."""
        if self.name_property and isinstance(props.get(self.name_property), str):
            return props[self.name_property]
        return None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The physical id of the resource that already exists under the name props give, if the id
        follows from the name without a call; handlers whose id AWS assigns (a queue URL) override
        this with the one call that turns a name into an id."""
        return self.physical_id_for(props)

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        """What ${Name} gives (CloudFormation's Ref). Usually the physical id; a sub-resource whose
        physical id is composite (e.g. "API|RESOURCE") returns the part CloudFormation's Ref returns."""
        return physical_id

    # --- views ----------------------------------------------------------------------------------
    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """What desired_view needs from AWS at plan time, read here (declared, so desired_view does no I/O)."""
        return {}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Desired properties in the shape read() returns (e.g. a code path as its digest). Pure."""
        return props

    # --- the operations -----------------------------------------------------------------------
    @abstractmethod
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """Describe the resource; None when it does not exist. Read at least the properties in `wanted`
        (those the spec or the last apply set), in spec shape, and every attribute."""

    @abstractmethod
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create from resolved properties (tags merged with the stack's; add ctx.ownership_tags()),
        wait until usable, and return (physical id, attributes). Tag at creation where the API allows,
        so a create whose answer is lost can be found again (find_owned)."""

    @abstractmethod
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Change in place the top-level properties in `changed` (the engine's diff of before and after,
        an absent property meaning its default), with the right API for each; return the attributes
        afterwards."""

    @abstractmethod
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Delete and wait until gone; a resource that is already gone is success."""

    def read_many(self, requests: list[tuple[Context, str, set[str]]]) -> list[Live | None]:
        """Read several resources of this type at once; handlers whose API describes many ids in one
        call (EC2) override this so a plan costs a few calls per kind, not one per resource."""
        return [self.read(ctx, pid, wanted) for ctx, pid, wanted in requests]

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Physical ids of resources that carry this stack's ownership tags for ctx.logical_id (or, for a
        type without tags, match props' natural key): what a create whose answer was lost, or a run
        killed mid-create, may have made. The engine adopts one and deletes the rest."""
        return []

    def refuse_update(self, before: dict[str, Any], after: dict[str, Any], changed: frozenset[str]) -> str | None:
        """Why this in-place update cannot be made (AWS cannot do it, and CloudFormation would not
        replace for it either), checked when planning so nothing changes; None: it can."""
        return None

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """What a delete of this resource destroys, read now (None: nothing worth saying)."""
        return None

    # --- tags -----------------------------------------------------------------------------------
    def tag_target(self, ctx: Context, physical_id: str) -> str:
        """The identifier the tag API takes for this resource (its ARN, name or id)."""
        return physical_id

    def sync_tags(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
                  changed: frozenset[str]) -> None:
        """Tag changes with the declared tag API (the ownership tags ride along in the same call)."""
        if self.tag_api is None or self.tags_property is None or self.tags_property not in changed:
            return
        self.tag_api.sync(ctx, self.tag_target(ctx, physical_id), before.get(self.tags_property),
                          after.get(self.tags_property))

    def tag_for_ownership(self, ctx: Context, physical_id: str) -> None:
        """Add the ownership tags to an existing resource (import, rebuild), keeping its own tags."""
        if self.tag_api is None or not self.taggable:
            return
        live = self.read(ctx, physical_id, {self.tags_property})
        tags = (live.properties.get(self.tags_property) if live else None) or []
        self.tag_api.sync(ctx, self.tag_target(ctx, physical_id), tags, tags)

    def with_stack_tags(self, props: dict[str, Any], stack_tags: dict[str, str]) -> dict[str, Any]:
        """Stack-level tags added to a taggable resource's own (the resource's win), in the shape the
        spec wrote them (a list of Key/Value or a map)."""
        if not self.taggable or not stack_tags:
            return props
        own = props.get(self.tags_property)
        if isinstance(own, str):  # a reference producing the whole tag list; leave it alone
            return props
        merged = {**stack_tags, **tags_to_map(own)}
        return {**props, self.tags_property: merged if isinstance(own, dict) else map_to_tags(merged)}

    # --- helpers for subclasses ---------------------------------------------------------------------
    def differs(self, before: dict[str, Any], after: dict[str, Any], *keys: str) -> bool:
        """Whether any of keys differs by canonical value (absent = default): for a create deciding what
        to set beyond what a new resource has anyway (an update is told what changed)."""
        from deployer.normalize import canon

        return any(canon(before.get(k, self.defaults.get(k))) != canon(after.get(k, self.defaults.get(k)))
                   for k in keys)

    def trim(self, props: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
        """What read() returns: set properties, minus defaults nobody asked for (absent = default)."""
        from deployer.normalize import canon

        return {k: v for k, v in props.items() if v is not None and
                (k in wanted or k not in self.defaults or canon(v) != canon(self.defaults[k]))}

    def owned_by_tags(self, ctx: Context, resource_type: str) -> list[str]:
        """ARNs of resources of the tagging API's `resource_type` carrying this stack's ownership tags."""
        pages = ctx.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate(
            TagFilters=[{"Key": k, "Values": [v]} for k, v in ctx.ownership_tags().items()],
            ResourceTypeFilters=[resource_type])
        return [m["ResourceARN"] for page in pages for m in page.get("ResourceTagMappingList", [])]

