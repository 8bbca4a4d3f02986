"""KMS handlers: AWS::KMS::Key and AWS::KMS::Alias.

A key's physical id is its KeyId (CloudFormation's Ref). KeySpec, KeyUsage, MultiRegion and Origin
cannot change after creation, and CloudFormation refuses such an update rather than replace the key
(the schema lists them as immutable: the plan fails). A key is never deleted at once: delete
schedules its deletion after PendingWindowInDays (default 30, minimum 7), and a key pending
deletion reads as absent.

The key policy costs a call to read, so it is read only when the spec or the last apply set it.
A key created without one gets the policy AWS installs (the account root may use the key). That
policy depends on the account, so `defaults` holds it with ${AWS::Partition} and ${AWS::AccountId}
placeholders, and both read() and desired_view() show this account's default policy in that same
form: an unset, a removed (reset to the default) and an explicitly written default policy all
compare equal. desired_view learns the account from its declared plan read (`plan_reads`).

An alias's physical id is its name; it is untaggable and found through DescribeKey, which accepts an
alias name and answers the target key. TargetKeyId may be written as a key id or a key ARN; both
read as the key id.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.aws import error_code
from deployer.normalize import canon, parse_policy
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    Stake,
    TagApi,
    absent,
    owner_of,
    user_tags,
    with_ownership,
)
from deployer.spec.refs import contains_unknown

PENDING_WINDOW_DAYS = 30
GONE_STATES = ("PendingDeletion", "PendingReplicaDeletion")
POLICY_NAME = "default"
NOT_FOUND = frozenset({"NotFoundException"})
DEFAULT_KEY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [{
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }],
}


class Key(Handler):
    """A customer managed KMS key; its physical id is the KeyId."""

    type_name = "AWS::KMS::Key"
    defaults: ClassVar[dict[str, Any]] = {
        "Description": "", "Enabled": True, "EnableKeyRotation": False, "KeyPolicy": DEFAULT_KEY_POLICY,
        "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "MultiRegion": False,
        "PendingWindowInDays": PENDING_WINDOW_DAYS, "Tags": [],
    }
    not_found_codes = NOT_FOUND
    tag_api = TagApi("kms", add="tag_resource", remove="untag_resource", id_param="KeyId", shape="kms")

    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The account and partition the default key policy names."""
        return {"account": ctx.account_id, "partition": ctx.partition}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec's KeyPolicy as read() shows it: the account's default policy in its placeholder form
        (a policy with values known only after apply is left as it is)."""
        if props.get("KeyPolicy") is None or not reads or contains_unknown(props["KeyPolicy"]):
            return props
        return {**props, "KeyPolicy": _shown_policy(reads["partition"], reads["account"], props["KeyPolicy"])}

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """describe_key, plus the rotation status, policy and tags only when wanted."""
        kms = ctx.client("kms")
        meta = self.absent(lambda: kms.describe_key(KeyId=physical_id)["KeyMetadata"])
        if meta is None or meta.get("KeyState") in GONE_STATES:
            return None
        props = _key_properties(meta)
        if "EnableKeyRotation" in wanted:
            props["EnableKeyRotation"] = _rotation_enabled(kms, meta["KeyId"])
        if "KeyPolicy" in wanted:
            policy = kms.get_key_policy(KeyId=meta["KeyId"], PolicyName=POLICY_NAME)["Policy"]
            props["KeyPolicy"] = _shown_policy(ctx.partition, ctx.account_id, policy)
        raw_tags = _tags(kms, meta["KeyId"]) if "Tags" in wanted else None
        if raw_tags is not None:
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes=_attributes(meta),
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_key with its tags, then rotation, then (last, as AWS requires) disabling."""
        kms = ctx.client("kms")
        meta = kms.create_key(**_create_args(ctx, props))["KeyMetadata"]
        key_id = meta["KeyId"]
        if canon(props.get("EnableKeyRotation")) is True:
            kms.enable_key_rotation(KeyId=key_id)
        if canon(props.get("Enabled")) is False:
            kms.disable_key(KeyId=key_id)
        return key_id, _attributes(meta)

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Each changed setting with its own call. A disabled key refuses rotation changes, so a key
        being enabled is enabled first and a key being disabled is disabled last."""
        kms = ctx.client("kms")
        after = self.desired_view(after, self.plan_reads(ctx, after))
        if "Description" in changed:
            kms.update_key_description(KeyId=physical_id, Description=after.get("Description") or "")
        if "KeyPolicy" in changed:
            policy = after.get("KeyPolicy", DEFAULT_KEY_POLICY)
            if canon(policy) == canon(DEFAULT_KEY_POLICY):
                policy = default_key_policy(ctx)
            kms.put_key_policy(KeyId=physical_id, PolicyName=POLICY_NAME, Policy=_policy_text(policy))
        enabled = canon(after.get("Enabled", True)) is not False
        toggle = "Enabled" in changed
        if toggle and enabled:
            kms.enable_key(KeyId=physical_id)
        if "EnableKeyRotation" in changed:
            if canon(after.get("EnableKeyRotation")) is True:
                kms.enable_key_rotation(KeyId=physical_id)
            else:
                kms.disable_key_rotation(KeyId=physical_id)
        if toggle and not enabled:
            kms.disable_key(KeyId=physical_id)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _attributes(kms.describe_key(KeyId=physical_id)["KeyMetadata"])

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Schedule deletion after PendingWindowInDays; a key gone or already pending deletion is success."""
        kms = ctx.client("kms")
        window = int(canon(props.get("PendingWindowInDays") or PENDING_WINDOW_DAYS))
        try:
            kms.schedule_key_deletion(KeyId=physical_id, PendingWindowInDays=window)
        except ClientError as exc:
            if self.is_not_found(exc):
                return
            if error_code(exc) == "KMSInvalidStateException" and _state(kms, physical_id) in GONE_STATES:
                return
            raise

    # --- ownership ------------------------------------------------------------------------------
    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """KeyIds of the keys tagged as this stack's logical id and not pending deletion (after a create
        whose answer was lost, or a run killed right after it)."""
        ids = [arn.rsplit("/", 1)[-1] for arn in self.owned_by_tags(ctx, "kms:key")]
        return [k for k in ids if _state(ctx.client("kms"), k) not in (None, *GONE_STATES)]

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """Everything encrypted under the key becomes unreadable once its deletion window ends."""
        window = int(canon(props.get("PendingWindowInDays") or PENDING_WINDOW_DAYS))
        return Stake(f"the key: everything encrypted under it becomes unreadable after {window} days")


class Alias(Handler):
    """A KMS alias; its physical id is the AliasName. Untaggable."""

    type_name = "AWS::KMS::Alias"
    name_property = "AliasName"
    name_max_length = 256
    tags_property = None
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"AlreadyExistsException"})

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """TargetKeyId as read() shows it: a key ARN becomes its key id."""
        view = dict(props)
        if isinstance(view.get("TargetKeyId"), str):
            view["TargetKeyId"] = key_id_of(view["TargetKeyId"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One describe_key by alias name: it answers the target key, or NotFound for no such alias."""
        meta = self.absent(lambda: ctx.client("kms").describe_key(KeyId=physical_id)["KeyMetadata"])
        if meta is None:
            return None
        return Live(properties={"AliasName": physical_id, "TargetKeyId": meta["KeyId"]})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_alias (an alias of that name already there: the engine decides whose it is)."""
        name = props["AliasName"]
        ctx.client("kms").create_alias(AliasName=name, TargetKeyId=key_id_of(props["TargetKeyId"]))
        return name, {}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Point the alias at another key (update_alias)."""
        if "TargetKeyId" in changed:
            ctx.client("kms").update_alias(AliasName=physical_id, TargetKeyId=key_id_of(after["TargetKeyId"]))
        return {}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_alias; an alias already gone is success."""
        with self.missing_ok():
            ctx.client("kms").delete_alias(AliasName=physical_id)


# --- helpers ------------------------------------------------------------------------------------

def key_id_of(value: str) -> str:
    """A key id from a key id or a key ARN (arn:...:key/ID); anything else is returned as is."""
    head, sep, tail = value.rpartition(":key/")
    return tail if sep and head.startswith("arn:") else value


def default_key_policy(ctx: Context) -> dict[str, Any]:
    """The policy AWS gives a key created without one, for this account and partition."""
    return _default_policy(ctx.partition, ctx.account_id)


def _default_policy(partition: str, account: str) -> dict[str, Any]:
    text = json.dumps(DEFAULT_KEY_POLICY)
    return json.loads(text.replace("${AWS::Partition}", partition).replace("${AWS::AccountId}", account))


def _shown_policy(partition: str, account: str, policy: Any) -> Any:
    """A key policy as data; this account's default policy as DEFAULT_KEY_POLICY (with placeholders)."""
    document = parse_policy(policy)
    return DEFAULT_KEY_POLICY if canon(document) == canon(_default_policy(partition, account)) else document


def _policy_text(policy: Any) -> str:
    """Key policies may be written as data or as JSON text; KMS takes text."""
    return policy if isinstance(policy, str) else json.dumps(policy)


def _tags(kms: Any, key_id: str) -> list[dict[str, str]]:
    """Every tag of a key, as a CloudFormation tag list."""
    tags: list[dict[str, str]] = []
    for page in kms.get_paginator("list_resource_tags").paginate(KeyId=key_id):
        tags += [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in page.get("Tags", [])]
    return tags


def _rotation_enabled(kms: Any, key_id: str) -> bool:
    """Automatic rotation; keys that cannot rotate (asymmetric, HMAC) answer UnsupportedOperation: off."""
    try:
        return bool(kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"])
    except ClientError as exc:
        if error_code(exc) == "UnsupportedOperationException":
            return False
        raise


def _state(kms: Any, key_id: str) -> str | None:
    """A key's KeyState; None when there is no such key."""
    meta = absent(lambda: kms.describe_key(KeyId=key_id)["KeyMetadata"], NOT_FOUND)
    return meta.get("KeyState") if meta else None


def _key_properties(meta: dict[str, Any]) -> dict[str, Any]:
    """DescribeKey's answer in spec shape (everything but rotation, policy and tags)."""
    return {
        "Description": meta.get("Description", ""),
        "Enabled": bool(meta.get("Enabled")),
        "KeySpec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec"),
        "KeyUsage": meta.get("KeyUsage"),
        "MultiRegion": bool(meta.get("MultiRegion", False)),
    }


def _attributes(meta: dict[str, Any]) -> dict[str, Any]:
    return {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}


def _create_args(ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {"Tags": Key.tag_api.encode(with_ownership(ctx, props.get("Tags")))}
    for key in ("Description", "KeySpec", "KeyUsage"):
        if props.get(key) is not None:
            args[key] = str(props[key])
    if props.get("MultiRegion") is not None:
        args["MultiRegion"] = canon(props["MultiRegion"]) is True
    if props.get("KeyPolicy"):
        args["Policy"] = _policy_text(props["KeyPolicy"])
    return args
