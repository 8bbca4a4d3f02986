"""Driving a handler the way the engine does (deployer/apply.py), so handler tests call the real
interface: the plan reads feed desired_view, and an update is told exactly what changed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.aws import error_code
from deployer.diff import changed_keys
from deployer.resources.base import Context, Handler


def view(handler: Handler, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
    """The spec in the shape read() returns, with what the handler declares it reads at plan time."""
    return handler.desired_view(props, handler.plan_reads(ctx, props))


def changed(handler: Handler, ctx: Context, before: dict[str, Any], after: dict[str, Any]) -> frozenset[str]:
    """The top-level properties the engine tells update to change (as Applier._update_once computes
    them: every key either side names, plus the tags property of a taggable type)."""
    desired = view(handler, ctx, after)
    keys = set(desired) | set(before) | ({handler.tags_property} if handler.taggable else set())
    return changed_keys(before, desired, handler.defaults, handler.tags_property, keys=keys)


def update(handler: Handler, ctx: Context, pid: str, before: dict[str, Any], after: dict[str, Any]
           ) -> dict[str, Any]:
    """handler.update from `before` (live properties) to the spec `after`, told what changed."""
    return handler.update(ctx, pid, before, after, changed(handler, ctx, before, after))


def apply_update(handler: Handler, ctx: Context, pid: str, old: dict[str, Any], new: dict[str, Any]
                 ) -> dict[str, Any]:
    """What the engine does: read what either side names, then update from that to the new spec."""
    live = handler.read(ctx, pid, set(old) | set(new))
    assert live is not None
    return update(handler, ctx, pid, live.properties, new)


def create_meets_existing(handler: Handler, ctx: Context, props: dict[str, Any]) -> str:
    """A create under a name already taken fails with one of the handler's already-exists codes (so the
    engine looks for its own); returns the code."""
    with pytest.raises(ClientError) as caught:
        handler.create(ctx, props)
    assert handler.is_already_exists(caught.value), error_code(caught.value)
    return error_code(caught.value)


def ref_property(handler: Handler) -> str:
    """The property CloudFormation's Ref of this type returns (the schema's refValue)."""
    return handler.schema["refValue"].split("/")[2]
