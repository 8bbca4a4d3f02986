"""AWS::CloudWatch::Dashboard: a dashboard's JSON body under its name.

A dashboard's physical id (and Ref) is its DashboardName. PutDashboard creates and replaces alike,
so a create under a name that is taken would silently overwrite another's dashboard: the plan sees
it first (the default `lookup` gives the name, and read() finds it), and refuses to take it over.

DashboardBody is JSON text in CloudFormation and in the API; the engine compares JSON text as the
data it holds, so the body AWS returns (re-serialised, keys in another order) is no change. The body
is sent as the text the spec gives; a body written as a mapping is sent as its JSON.

Dashboards are global per account (their ARN names no region). Tags go with PutDashboard at create
(so the ownership tags are set with the dashboard) and through TagResource/UntagResource later.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from deployer.resources.base import (
    Context,
    Handler,
    Live,
    TagApi,
    map_to_tags,
    owner_of,
    user_tags,
    with_ownership,
)

NOT_FOUND = frozenset({"ResourceNotFound"})


def body_text(body: Any) -> str:
    """The body as PutDashboard takes it: the spec's text, or a mapping's JSON."""
    return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))


def dashboard_arn(ctx: Context, name: str) -> str:
    """A dashboard's ARN (global: no region), without a call."""
    return f"arn:{ctx.partition}:cloudwatch::{ctx.account_id}:dashboard/{name}"


class Dashboard(Handler):
    """A CloudWatch dashboard; its physical id is the DashboardName."""

    type_name = "AWS::CloudWatch::Dashboard"
    name_property = "DashboardName"
    name_max_length = 255
    defaults: ClassVar[dict[str, Any]] = {"Tags": []}
    not_found_codes = NOT_FOUND
    tag_api = TagApi("cloudwatch", add="tag_resource", remove="untag_resource", id_param="ResourceARN")

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        return dashboard_arn(ctx, physical_id)

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetDashboard, plus ListTagsForResource when Tags are wanted."""
        cw = ctx.client("cloudwatch")
        found = self.absent(lambda: cw.get_dashboard(DashboardName=physical_id))
        if found is None:
            return None
        props: dict[str, Any] = {"DashboardName": found.get("DashboardName", physical_id),
                                 "DashboardBody": found.get("DashboardBody", "")}
        raw_tags = None
        if "Tags" in wanted:
            arn = found.get("DashboardArn") or dashboard_arn(ctx, physical_id)
            raw_tags = self.absent(lambda: cw.list_tags_for_resource(ResourceARN=arn).get("Tags", [])) or []
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes={},
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """PutDashboard with the body and every tag (the ownership tags with it)."""
        name = props["DashboardName"]
        ctx.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body_text(props["DashboardBody"]),
                                               Tags=map_to_tags(with_ownership(ctx, props.get("Tags"))))
        return name, {}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """PutDashboard with the new body (it replaces the whole dashboard, tags aside); then the tags."""
        if "DashboardBody" in changed:
            ctx.client("cloudwatch").put_dashboard(DashboardName=physical_id,
                                                   DashboardBody=body_text(after["DashboardBody"]))
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteDashboards of this one; a dashboard already gone is success."""
        with self.missing_ok():
            ctx.client("cloudwatch").delete_dashboards(DashboardNames=[physical_id])
