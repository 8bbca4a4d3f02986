"""AWS::IAM::UserToGroupAddition: users added to a group, beside whatever else the group holds.

IAM models no membership object, and a group may have members this resource did not add (other
stacks', someone's by hand): read() must know which members are this resource's. So the physical id
names them — "GROUPNAME|USER1|USER2..." (users sorted, each once; IAM names never contain "|") — and
`${Name}` (CloudFormation's Ref, the `Id` attribute) gives it. read() asks the group for its members
and shows those of the id that are still in it; none left means the resource does not exist.

Because the id names the group and its users, a change of either replaces the resource
(CloudFormation updates both in place; the engine keeps a physical id across updates): the old
memberships are removed first, then the new ones added (a user in both is out of the group for
that moment; the other order would leave it out for good, as the old resource's delete comes last).
A user removed from the group out of band shows as a change of Users, and the apply puts it back.

AddUserToGroup of a user already in the group succeeds, so a create never meets "already exists";
delete removes exactly the memberships the id names, even one that predated the stack (as
CloudFormation does).
"""

from __future__ import annotations

from typing import Any

from deployer.errors import PlanError
from deployer.resources.base import Context, Handler, Live

SEP = "|"
NOT_FOUND = frozenset({"NoSuchEntity"})


def _known(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) and v and "${" not in v for v in values)


def membership_id(group: str, users: list[str]) -> str:
    return SEP.join([group, *sorted(set(users))])


def split_membership_id(physical_id: str) -> tuple[str, list[str]]:
    """(group, users) of a physical id; anything else (a hand-edited state, CloudFormation's generated id
    given to an import) is a clear error."""
    group, *users = physical_id.split(SEP)
    if not group or not users or not all(users):
        raise PlanError(f"'{physical_id}' is not a group membership id: expected GROUPNAME{SEP}USER1[{SEP}USER2...]")
    return group, users


class UserToGroupAddition(Handler):
    """Users added to one IAM group; physical id "GROUP|USER1|USER2...". Untaggable."""

    type_name = "AWS::IAM::UserToGroupAddition"
    tags_property = None
    not_found_codes = NOT_FOUND

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Known before create (the journal records it, so a create whose answer was lost is read again)."""
        group, users = props.get("GroupName"), props.get("Users")
        if isinstance(group, str) and _known([group]) and _known(users) and users:
            return membership_id(group, users)
        return None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Users as a sorted set: their order and repeats mean nothing."""
        if _known(props.get("Users")):
            return {**props, "Users": sorted(set(props["Users"]))}
        return props

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """GetGroup's members (every page); the id's users among them."""
        group, users = split_membership_id(physical_id)
        members = self.absent(lambda: self._members(ctx, group))
        present = sorted(u for u in users if u in (members or set()))
        if not present:
            return None
        return Live(properties={"GroupName": group, "Users": present}, attributes={"Id": physical_id})

    @staticmethod
    def _members(ctx: Context, group: str) -> set[str]:
        pages = ctx.client("iam").get_paginator("get_group").paginate(GroupName=group)
        return {u["UserName"] for page in pages for u in page.get("Users", [])}

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """AddUserToGroup for each user."""
        group, users = props["GroupName"], sorted(set(props["Users"]))
        iam = ctx.client("iam")
        for user in users:
            iam.add_user_to_group(GroupName=group, UserName=user)
        physical_id = membership_id(group, users)
        return physical_id, {"Id": physical_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Nothing changes in place (both properties are part of the id); a rollback or a recovery
        that converges an existing membership puts back any of its users missing from the group."""
        group, users = split_membership_id(physical_id)
        missing = sorted(set(users) - set(before.get("Users") or []))
        iam = ctx.client("iam")
        for user in missing:
            iam.add_user_to_group(GroupName=group, UserName=user)
        return {"Id": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """RemoveUserFromGroup for each user of the id; a user or group already gone is success."""
        group, users = split_membership_id(physical_id)
        iam = ctx.client("iam")
        for user in users:
            with self.missing_ok():
                iam.remove_user_from_group(GroupName=group, UserName=user)
