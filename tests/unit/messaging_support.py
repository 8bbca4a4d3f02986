"""Helpers shared by the unit tests of the SNS, Logs and policy handlers (driven with in-process moto)."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

from deployer.diff import Change, compare
from deployer.resources.base import Context, Handler
from tests.unit.handler_support import apply_update, view  # noqa: F401 - apply_update re-exported
from tests.unit.recording import Calls  # noqa: F401 - re-exported for the messaging tests

OWNER = ("teststack", "LogicalId")
POLICY_BASE = {"Version": "2012-10-17"}


class Stub:
    """Answers chosen operations with an empty success before they reach moto (a before-call hook), for
    APIs moto does not implement; the Calls hook still records what the handler sent."""

    def __init__(self, *operations: str) -> None:
        self.operations = set(operations)

    def __call__(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name not in self.operations:
            return None
        return AWSResponse("https://stub.invalid", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}


def changes(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], removed: Any = ()) -> list[Change]:
    """What a plan would show for this spec against the live resource (removed properties at their default)."""
    live = handler.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = view(handler, ctx, props)
    return compare(set(desired) | set(removed), desired, live.properties, handler.defaults, handler.create_only, set())


def assert_matches(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], removed: Any = ()):
    """read() shows exactly what was set, and the default for each removed property: a plan right
    after would find no change."""
    assert changes(handler, ctx, pid, props, removed) == []
    return handler.read(ctx, pid, set(props) | set(removed))


def policy(*statements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**POLICY_BASE, **extra, "Statement": list(statements)}
