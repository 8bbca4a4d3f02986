"""The case for AWS::IAM::UserToGroupAddition: stack users added to a group that also has a member the
stack never added (it must never be touched). Both properties name the physical id, so nothing is
updated in place: a user removed out of band is drift the apply repairs (by a replacement), and a
change of Users replaces the resource."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tests.integration.cases import Case

SUPPORT = {
    "Team": {"type": "AWS::IAM::Group", "properties": {"GroupName": "itest-team"}},
    **{name: {"type": "AWS::IAM::User", "properties": {"UserName": f"itest-{name.lower()}"}} for name in ("Ana", "Bo", "Cy")},
    # a user the stack adds to the group through its own Groups property: the addition must leave it be
    "Dee": {"type": "AWS::IAM::User", "properties": {"UserName": "itest-dee", "Groups": ["${Team}"]}},
}


def additions_exist(c, pid: str) -> bool:
    group, *users = pid.split("|")
    try:
        members = {u["UserName"] for u in c("iam").get_group(GroupName=group)["Users"]}
    except ClientError:
        return False
    return bool(members & set(users))


def remove_one(c, pid: str) -> None:
    group, *users = pid.split("|")
    c("iam").remove_user_from_group(GroupName=group, UserName=users[-1])


CASES = [
    Case(
        id="iam-user-to-group-addition",
        type="AWS::IAM::UserToGroupAddition",
        support=SUPPORT,
        props={"GroupName": "${Team}", "Users": ["${Bo}", "${Ana}"]},
        updates=[],  # GroupName and Users both name the id
        replace={"Users": ["${Cy}"]},
        drift=remove_one,
        exists=additions_exist,
    ),
]
