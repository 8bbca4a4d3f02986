"""CloudWatch Logs handler: AWS::Logs::LogGroup.

A log group's physical id (and Ref) is its name. Each setting has its own API: retention
(put/delete_retention_policy; no retention means events never expire), the KMS key
(associate/disassociate_kms_key) and tags (tag/untag_resource on the ARN without the ":*" suffix).
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.aws import error_code
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    is_not_found,
    missing_ok,
    owned_arn,
    owner_of,
    tag_changes,
    user_tags,
    with_ownership,
)

ARN_MARKER = ":log-group:"
STREAMS_SUFFIX = ":*"  # CloudFormation's Arn (and describe's "arn") ends with it; the tagging APIs refuse it


def _describe(logs: Any, name: str) -> dict[str, Any] | None:
    """The log group with exactly this name: a prefix search (the API has no exact lookup), the exact name
    sorting first among the matches."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return group
    return None


def _group_arn(group: dict[str, Any]) -> str:
    return group.get("logGroupArn") or group["arn"].removesuffix(STREAMS_SUFFIX)


def _group_props(group: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"LogGroupName": group["logGroupName"]}
    if group.get("retentionInDays") is not None:
        props["RetentionInDays"] = group["retentionInDays"]
    if group.get("kmsKeyId"):
        props["KmsKeyId"] = group["kmsKeyId"]
    return props


class LogGroup(Handler):
    """A CloudWatch Logs log group; its physical id is its name."""

    type_name = "AWS::Logs::LogGroup"
    name_property = "LogGroupName"
    name_max_length = 512
    defaults: ClassVar[dict[str, Any]] = {"Tags": []}  # no RetentionInDays and no KmsKeyId: the service's own

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One describe_log_groups, plus list_tags_for_resource when Tags are wanted."""
        logs = ctx.client("logs")
        group = _describe(logs, physical_id)
        if group is None:
            return None
        props = _group_props(group)
        raw_tags = None
        if "Tags" in wanted:
            try:
                raw_tags = logs.list_tags_for_resource(resourceArn=_group_arn(group)).get("tags", {})
            except ClientError as exc:
                if is_not_found(exc):  # deleted between the two calls
                    return None
                raise
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes={"Arn": group["arn"]},
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_log_group with the key and the ownership tags, then the retention."""
        name = props["LogGroupName"]  # the planner always supplies one (generated when the spec has none)
        logs = ctx.client("logs")
        args: dict[str, Any] = {"logGroupName": name, "tags": with_ownership(ctx, props.get("Tags"))}
        if props.get("KmsKeyId"):
            args["kmsKeyId"] = props["KmsKeyId"]
        try:
            logs.create_log_group(**args)
        except ClientError as exc:
            if error_code(exc) != "ResourceAlreadyExistsException" or not self._ours(ctx, name):
                raise
        if props.get("RetentionInDays") is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(canon(props["RetentionInDays"])))
        return name, self._attributes(ctx, name)

    def _ours(self, ctx: Context, name: str) -> bool:
        """Whether an existing group carries this resource's ownership tags: a retried create whose first
        answer was lost finds the group it made itself."""
        live = self.read(ctx, name, {"Tags"})
        return live is not None and live.owner == (ctx.stack, ctx.logical_id)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Retention, key and tags, each with its own calls; a removed setting goes back to the default."""
        logs = ctx.client("logs")
        if self.differs(before, after, "RetentionInDays"):
            if after.get("RetentionInDays") is None:
                logs.delete_retention_policy(logGroupName=physical_id)
            else:
                logs.put_retention_policy(logGroupName=physical_id,
                                          retentionInDays=int(canon(after["RetentionInDays"])))
        if self.differs(before, after, "KmsKeyId"):
            if after.get("KmsKeyId"):
                logs.associate_kms_key(logGroupName=physical_id, kmsKeyId=after["KmsKeyId"])
            else:
                logs.disassociate_kms_key(logGroupName=physical_id)
        self._update_tags(ctx, physical_id, before, after)
        return self._attributes(ctx, physical_id)

    def _update_tags(self, ctx: Context, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Tag changes, re-asserting the ownership tags in the same call."""
        if not self.differs(before, after, "Tags"):
            return
        to_set, to_remove = tag_changes(before.get("Tags"), after.get("Tags"))
        logs = ctx.client("logs")
        arn = self._tagging_arn(ctx, name)
        if to_remove:
            logs.untag_resource(resourceArn=arn, tagKeys=to_remove)
        logs.tag_resource(resourceArn=arn, tags={**to_set, **ctx.ownership_tags()})

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_log_group (its streams and events go with it); a group already gone is success."""
        with missing_ok():
            ctx.client("logs").delete_log_group(logGroupName=physical_id)

    def find_owned(self, ctx: Context) -> str | None:
        """The log group tagged as this stack's logical id (after a create whose answer was lost)."""
        arn = owned_arn(ctx, "logs")
        return arn.split(ARN_MARKER, 1)[1].removesuffix(STREAMS_SUFFIX) if arn and ARN_MARKER in arn else None

    def tag_for_ownership(self, ctx: Context, physical_id: str) -> None:
        """Add the ownership tags with one call (update() only tags when the Tags property changes)."""
        ctx.client("logs").tag_resource(resourceArn=self._tagging_arn(ctx, physical_id), tags=ctx.ownership_tags())

    @staticmethod
    def _tagging_arn(ctx: Context, name: str) -> str:
        return f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}{ARN_MARKER}{name}"

    @classmethod
    def _attributes(cls, ctx: Context, name: str) -> dict[str, Any]:
        """CloudFormation's Arn: the group ARN with the ":*" suffix."""
        return {"Arn": cls._tagging_arn(ctx, name) + STREAMS_SUFFIX}
