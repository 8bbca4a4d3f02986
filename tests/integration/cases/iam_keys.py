"""The case for AWS::IAM::AccessKey: a key of a stack user, deactivated and reactivated in place, rotated
by its Serial (a replacement: a new key, the old one deleted)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tests.integration.cases import Case

USERS = {"KeyUser": {"type": "AWS::IAM::User", "properties": {"UserName": "itest-key-user"}}}


def _split(pid: str) -> tuple[str, str]:
    user, _, key = pid.rpartition("|")
    return user, key


def key_exists(c, pid: str) -> bool:
    user, key = _split(pid)
    try:
        keys = c("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    except ClientError:
        return False
    return any(k["AccessKeyId"] == key for k in keys)


def set_status(c, pid: str, status: str) -> None:
    user, key = _split(pid)
    c("iam").update_access_key(UserName=user, AccessKeyId=key, Status=status)


CASES = [
    Case(
        id="iam-access-key",
        type="AWS::IAM::AccessKey",
        support=USERS,
        props={"UserName": "${KeyUser}", "Serial": 1},
        updates=[{"Status": "Inactive"}],
        replace={"Serial": 2},
        remove=["Status"],  # back to Active
        drift=lambda c, pid: set_status(c, pid, "Active"),
        exists=key_exists,
    ),
]
