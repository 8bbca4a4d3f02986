"""CloudWatch Logs handler: AWS::Logs::LogGroup.

A log group's physical id (and Ref) is its name. Each setting has its own API: retention
(put/delete_retention_policy; no retention means events never expire), the KMS key
(associate/disassociate_kms_key) and tags (tag/untag_resource on the ARN without the ":*" suffix).

LogGroupClass (STANDARD, INFREQUENT_ACCESS, DELIVERY) is given to create_log_group and read back
from describe_log_groups. CloudFormation's schema lists it as updatable, but the service has no call
that changes a class: deployer replaces the log group (a documented deviation, see
tools/schema_subsets/logs.json), which a fixed LogGroupName turns into SPEC §7's allow_replace refusal.
"""

from __future__ import annotations

from typing import Any, ClassVar

from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    Stake,
    TagApi,
    owner_of,
    size_text,
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
    if group.get("logGroupClass"):
        props["LogGroupClass"] = group["logGroupClass"]
    return props


class LogGroup(Handler):
    """A CloudWatch Logs log group; its physical id is its name."""

    type_name = "AWS::Logs::LogGroup"
    name_property = "LogGroupName"
    name_max_length = 512
    # no RetentionInDays and no KmsKeyId: the service's own; STANDARD is the class of a group created without one
    defaults: ClassVar[dict[str, Any]] = {"Tags": [], "LogGroupClass": "STANDARD"}
    not_found_codes = frozenset({"ResourceNotFoundException"})
    already_exists_codes = frozenset({"ResourceAlreadyExistsException"})
    create_checks_existence = True
    tag_api = TagApi("logs", add="tag_resource", remove="untag_resource", id_param="resourceArn",
                     tags_param="tags", keys_param="tagKeys", shape="map")

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One describe_log_groups, plus list_tags_for_resource when Tags are wanted."""
        logs = ctx.client("logs")
        group = _describe(logs, physical_id)
        if group is None:
            return None
        props = _group_props(group)
        raw_tags = None
        if "Tags" in wanted:
            raw_tags = self.absent(lambda: logs.list_tags_for_resource(resourceArn=_group_arn(group)).get("tags", {}))
            if raw_tags is None:  # deleted between the two calls
                return None
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes={"Arn": group["arn"]},
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_log_group with the key, the class and the ownership tags, then the retention."""
        name = props["LogGroupName"]  # the planner always supplies one (generated when the spec has none)
        logs = ctx.client("logs")
        args: dict[str, Any] = {"logGroupName": name, "tags": with_ownership(ctx, props.get("Tags"))}
        if props.get("KmsKeyId"):
            args["kmsKeyId"] = props["KmsKeyId"]
        if props.get("LogGroupClass"):
            args["logGroupClass"] = props["LogGroupClass"]
        logs.create_log_group(**args)
        if props.get("RetentionInDays") is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(canon(props["RetentionInDays"])))
        return name, self._attributes(ctx, name)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Retention, key and tags, each with its own calls; a removed setting goes back to the default."""
        logs = ctx.client("logs")
        if "RetentionInDays" in changed:
            if after.get("RetentionInDays") is None:
                logs.delete_retention_policy(logGroupName=physical_id)
            else:
                logs.put_retention_policy(logGroupName=physical_id,
                                          retentionInDays=int(canon(after["RetentionInDays"])))
        if "KmsKeyId" in changed:
            if after.get("KmsKeyId"):
                logs.associate_kms_key(logGroupName=physical_id, kmsKeyId=after["KmsKeyId"])
            else:
                logs.disassociate_kms_key(logGroupName=physical_id)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return self._attributes(ctx, physical_id)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_log_group (its streams and events go with it); a group already gone is success."""
        with self.missing_ok():
            ctx.client("logs").delete_log_group(logGroupName=physical_id)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Log groups tagged as this stack's logical id (after a create whose answer was lost)."""
        return [arn.split(ARN_MARKER, 1)[1].removesuffix(STREAMS_SUFFIX)
                for arn in self.owned_by_tags(ctx, "logs") if ARN_MARKER in arn]

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """The stored log events (the group's storedBytes)."""
        group = _describe(ctx.client("logs"), physical_id)
        if group is None:
            return None
        return Stake(f"log events, {size_text(int(group.get('storedBytes') or 0))} stored")

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        """The tagging APIs take the group ARN without the ":*" suffix."""
        return f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}{ARN_MARKER}{physical_id}"

    def _attributes(self, ctx: Context, name: str) -> dict[str, Any]:
        """CloudFormation's Arn: the group ARN with the ":*" suffix."""
        return {"Arn": self.tag_target(ctx, name) + STREAMS_SUFFIX}

