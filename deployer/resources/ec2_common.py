"""Helpers every EC2 handler shares: filtered, id-batched describes; ownership lookups by tag;
tags on create (TagSpecifications) and the EC2 tag API; a bounded wait for DependencyViolation on delete.

EC2 describes many resources in one call. An unfiltered describe costs more the more the account
holds, and a describe by ids (VpcIds=[...]) fails whole when one id is gone, so reads here always
filter by id (`vpc-id`, `subnet-id`, ...) in chunks of at most MAX_FILTER_VALUES ids: a plan costs a
few calls per resource kind, and a missing resource is simply absent from the answer.

`TaggedEc2` is the base of the taggable EC2 handlers (VPC, subnet, gateway, route table, security
group, instance): a subclass names its describe operation and id filter and turns one described
item into a `Live`; reading, finding by ownership tags and tagging come from here.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from deployer import waiting
from deployer.aws import error_code
from deployer.resources.base import (
    OWNER_ID,
    OWNER_STACK,
    Context,
    Handler,
    Live,
    TagApi,
    absent,
    map_to_tags,
    with_ownership,
)

T = TypeVar("T")
# EC2's "no such ..." codes for the types deployer manages
NOT_FOUND = frozenset({"InvalidVpcID.NotFound", "InvalidSubnetID.NotFound", "InvalidInternetGatewayID.NotFound",
                       "InvalidRouteTableID.NotFound", "InvalidRoute.NotFound", "InvalidAssociationID.NotFound",
                       "InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidInstanceID.NotFound",
                       "InvalidVpcEndpointId.NotFound", "InvalidPermission.NotFound"})
EC2_TAGS = TagApi("ec2", add="create_tags", remove="delete_tags", id_param="Resources", keys_param="Tags",
                  keys_shape="tags", id_as_list=True)

MAX_FILTER_VALUES = 200  # ids per describe call (EC2 accepts up to 200 values in one filter)
DEPENDENCY_RETRY_DELAY = 5.0  # seconds between tries of a delete refused with DependencyViolation
DEPENDENCY_RETRY_ATTEMPTS = 12  # about a minute in all, then the error goes to the user
VISIBLE_DELAY = 1.0  # seconds between looks for a just-created resource that has no botocore waiter
VISIBLE_ATTEMPTS = 30

Request = tuple[Context, str, set[str]]


# --- describing ---------------------------------------------------------------------------------

def chunks(items: list[T], size: int = MAX_FILTER_VALUES) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def describe_all(client: Any, operation: str, result_key: str, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item a filtered describe returns, across pages (one call per page)."""
    items: list[dict[str, Any]] = []
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(Filters=filters):
            items += page.get(result_key, [])
        return items
    return list(getattr(client, operation)(Filters=filters).get(result_key, []))


def describe_by_ids(client: Any, operation: str, result_key: str, filter_name: str, ids: Iterable[str],
                    extra_filters: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Items whose `filter_name` is one of ids: one filtered call per MAX_FILTER_VALUES ids (ids that
    do not exist are just absent, where describe-by-id would fail the whole call)."""
    unique = sorted(set(ids))
    items: list[dict[str, Any]] = []
    for part in chunks(unique):
        filters = [{"Name": filter_name, "Values": part}, *(extra_filters or [])]
        items += describe_all(client, operation, result_key, filters)
    return items


def by_region(requests: list[Request]) -> dict[str, list[int]]:
    """Request positions grouped by region (one batch of describes per region)."""
    groups: dict[str, list[int]] = {}
    for i, (ctx, _, _) in enumerate(requests):
        groups.setdefault(ctx.region, []).append(i)
    return groups


def owner_filters(ctx: Context) -> list[dict[str, Any]]:
    """Describe filters matching the ownership tags of ctx's stack and logical id."""
    return [{"Name": f"tag:{OWNER_STACK}", "Values": [ctx.stack]},
            {"Name": f"tag:{OWNER_ID}", "Values": [ctx.logical_id]}]


def tag_specifications(ctx: Context, resource_type: str, tags: Any) -> list[dict[str, Any]]:
    """TagSpecifications for a create call: the user's tags plus the ownership tags, set atomically
    with the resource so a create whose answer is lost can still be found by its tags."""
    return [{"ResourceType": resource_type, "Tags": map_to_tags(with_ownership(ctx, tags))}]


def wait_visible(look: Callable[[], bool], what: str) -> None:
    """Poll until `look` sees a just-created resource (EC2 reads are eventually consistent), for
    types that have no botocore waiter; TimeoutError if it never appears."""
    waiting.until(look, f"{what} becoming visible", budget=VISIBLE_DELAY * (VISIBLE_ATTEMPTS - 1),
                  first=VISIBLE_DELAY, longest=VISIBLE_DELAY)


# --- deleting -----------------------------------------------------------------------------------

def retry_dependency(call: Callable[[], T]) -> T:
    """Run a delete, retrying a DependencyViolation a bounded number of times.

    The engine deletes dependents before what they depend on, so a DependencyViolation here is one
    of two things: AWS still catching up with a dependent's delete that just finished (an instance's
    network interface being released, a gateway's mapped addresses), which clears within seconds; or
    a real dependency the stack does not know about (something created by hand, or a Lambda ENI that
    takes far longer), which does not clear. The first is retried for about a minute; the second
    then fails with AWS's own message, and the next apply tries again. Nothing else is retried.
    """
    return waiting.retrying(call, lambda exc: error_code(exc) == "DependencyViolation",
                            budget=DEPENDENCY_RETRY_DELAY * (DEPENDENCY_RETRY_ATTEMPTS - 1),
                            first=DEPENDENCY_RETRY_DELAY, longest=DEPENDENCY_RETRY_DELAY)


def ignore_missing(call: Callable[..., Any], *also: str, **kwargs: Any) -> None:
    """Call, treating "not found" (and any of the extra error codes) as done."""
    absent(lambda: call(**kwargs), NOT_FOUND | frozenset(also))


# --- the taggable EC2 handler -------------------------------------------------------------------

class TaggedEc2(Handler):
    """Reading, ownership lookup and tagging for a taggable EC2 resource whose physical id is its id.

    Subclasses set the ClassVars and implement `to_live` (and create/update/delete)."""

    describe_operation: ClassVar[str]  # e.g. "describe_vpcs"
    result_key: ClassVar[str]  # e.g. "Vpcs"
    id_key: ClassVar[str]  # e.g. "VpcId"
    id_filter: ClassVar[str]  # e.g. "vpc-id"
    resource_type: ClassVar[str]  # TagSpecifications' ResourceType, e.g. "vpc"
    not_found_codes = NOT_FOUND
    tag_api = EC2_TAGS

    def describe(self, ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The described items for ids (absent ones left out), by id."""
        items = describe_by_ids(ctx.client("ec2"), self.describe_operation, self.result_key, self.id_filter, ids)
        return {item[self.id_key]: item for item in items}

    @abstractmethod
    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        """One described item as properties in spec shape, attributes and owner."""

    def read_many(self, requests: list[Request]) -> list[Live | None]:
        """All requests of a region with one filtered describe per 200 ids; an item that no longer
        counts as existing (is_live_item) reads as gone."""
        out: list[Live | None] = [None] * len(requests)
        for positions in by_region(requests).values():
            ctx = requests[positions[0]][0]
            found = self.describe(ctx, [requests[i][1] for i in positions])
            for i in positions:
                item_ctx, pid, wanted = requests[i]
                if pid in found and self.is_live_item(found[pid]):
                    out[i] = self.to_live(item_ctx, found[pid], wanted)
        return out

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.read_many([(ctx, physical_id, wanted)])[0]

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Ids of the resources tagged as this stack's logical id (state lost, or a create's answer lost)."""
        items = describe_all(ctx.client("ec2"), self.describe_operation, self.result_key, owner_filters(ctx))
        return sorted(item[self.id_key] for item in items if self.is_live_item(item))

    def is_live_item(self, item: dict[str, Any]) -> bool:
        """Whether a described item still counts as existing (instances override: terminated ones do not)."""
        return True

    def tag_specifications(self, ctx: Context, props: dict[str, Any]) -> list[dict[str, Any]]:
        return tag_specifications(ctx, self.resource_type, props.get("Tags"))
