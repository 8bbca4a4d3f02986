"""AWS::IAM::AccessKey: an access key of an IAM user, with its secret as a sensitive attribute.

Identity. IAM finds a key only through its user (ListAccessKeys, UpdateAccessKey and DeleteAccessKey
all take the user name), so the physical id of a key deployer creates is "USERNAME|ACCESSKEYID", and
`${Key}` (CloudFormation's Ref) gives the AccessKeyId, as does the `Id` attribute. A key imported by
CloudFormation's PhysicalResourceId, the AccessKeyId alone, keeps that id: its user is asked of IAM
(GetAccessKeyLastUsed answers whose key it is) each time it is read, changed or deleted.

The secret. AWS answers the SecretAccessKey once, in CreateAccessKey, and never again. deployer
registers it at once as a sensitive value (deployer/secrets.py): every writer — terminal, plan file,
state, logs — masks it as (sensitive), and an output that holds it is (sensitive). While the apply
that created the key runs, `${Key.SecretAccessKey}` resolves to the secret, so a resource created
or updated in that apply (a Secrets Manager secret's SecretString) gets the real value. The state
keeps it masked, so a later run cannot know it: read() cannot give it, and the plan shows what
refers to it as known only after apply. Rotate by changing `Serial` (a replacement: a new key
with a new secret, written to what refers to it in the same apply).

Serial and Status. `Serial` exists only in the spec (CloudFormation's rotation counter): it is
compared with the last apply, like a write-only property, and any change replaces the key.
`Status` (Active, Inactive) is updated in place; a key created Inactive is created, then deactivated.

A create whose answer was lost may have made a key whose secret nobody can know; keys carry no tags
and the user's other keys may be anyone's, so deployer never adopts or deletes a key it did not
record: the next create makes another (a user holds at most two), and the lost one is left for
`aws iam list-access-keys` to find.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from deployer import secrets
from deployer.errors import PlanError
from deployer.resources.base import Context, Handler, Live

SEP = "|"  # IAM user names and key ids never contain it
NOT_FOUND = frozenset({"NoSuchEntity"})
ACTIVE = "Active"
ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")  # IAM's pattern for an AccessKeyId


def key_id(user: str, access_key_id: str) -> str:
    return f"{user}{SEP}{access_key_id}"


def split_key_id(physical_id: str) -> tuple[str, str]:
    """(user name, access key id) of a physical id "USERNAME|ACCESSKEYID" ("" for the user of a bare
    AccessKeyId); anything else (a hand-edited state, a wrong import) is a clear error."""
    user, sep, access_key = physical_id.rpartition(SEP)
    if (sep and not user) or not ACCESS_KEY_ID.match(access_key):
        raise PlanError(f"'{physical_id}' is not an access key id: expected ACCESSKEYID or USERNAME{SEP}ACCESSKEYID")
    return user, access_key


class AccessKey(Handler):
    """An IAM user's access key; physical id "USERNAME|ACCESSKEYID". Untaggable."""

    type_name = "AWS::IAM::AccessKey"
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"Status": ACTIVE}
    not_found_codes = NOT_FOUND

    @property
    def write_only(self) -> set[str]:
        """Serial as well: it is CloudFormation's counter, not the key's, so it cannot be read back and
        is compared with what the last apply set."""
        return super().write_only | {"Serial"}

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        """CloudFormation's Ref: the AccessKeyId."""
        return split_key_id(physical_id)[1]

    def _locate(self, ctx: Context, physical_id: str) -> tuple[str, str] | None:
        """(user, access key id); for a bare AccessKeyId the user is IAM's answer; None when that key is gone."""
        user, access_key = split_key_id(physical_id)
        if user:
            return user, access_key
        used = self.absent(lambda: ctx.client("iam").get_access_key_last_used(AccessKeyId=access_key))
        return (used["UserName"], access_key) if used and used.get("UserName") else None

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """The user's keys (one ListAccessKeys page, two keys at most); None when the user or the key is gone."""
        located = self._locate(ctx, physical_id)
        if located is None:
            return None
        user, access_key = located
        keys = self.absent(lambda: ctx.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"])
        found = next((k for k in keys or [] if k["AccessKeyId"] == access_key), None)
        if found is None:
            return None
        props = {"UserName": user, "Status": found.get("Status", ACTIVE)}
        return Live(properties=self.trim(props, wanted), attributes={"Id": access_key})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateAccessKey; its secret is registered as sensitive before anything else sees it. A key
        wanted Inactive is deactivated right after (CreateAccessKey makes active keys only)."""
        iam, user = ctx.client("iam"), props["UserName"]
        made = iam.create_access_key(UserName=user)["AccessKey"]
        secret = made["SecretAccessKey"]
        secrets.register(secret)
        access_key = made["AccessKeyId"]
        if props.get("Status", ACTIVE) != made.get("Status", ACTIVE):
            iam.update_access_key(UserName=user, AccessKeyId=access_key, Status=props["Status"])
        return key_id(user, access_key), {"Id": access_key, "SecretAccessKey": secret}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Status is the one thing that changes in place (UpdateAccessKey); a removed Status is Active."""
        located = self._locate(ctx, physical_id)
        if located is None:
            raise PlanError(f"{ctx.logical_id}: access key {physical_id} no longer exists: run `deployer plan` again")
        user, access_key = located
        if "Status" in changed:
            ctx.client("iam").update_access_key(UserName=user, AccessKeyId=access_key,
                                                Status=after.get("Status") or ACTIVE)
        return {"Id": access_key}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteAccessKey; a key (or user) already gone is success."""
        located = self._locate(ctx, physical_id)
        if located is None:
            return
        user, access_key = located
        with self.missing_ok():
            ctx.client("iam").delete_access_key(UserName=user, AccessKeyId=access_key)
