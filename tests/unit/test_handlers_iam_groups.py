"""The IAM UserToGroupAddition handler against in-process moto: users added to a group that has other
members, read back as exactly the memberships its id names (never the others'), the id known before
create, deletes that remove only those memberships, and recovery after a lost create answer."""

from __future__ import annotations

import boto3
import pytest

from deployer.errors import PlanError
from deployer.resources import handler_for, iam_groups
from tests.unit.handler_support import ref_property, update
from tests.unit.messaging_support import assert_matches

ADDITION = iam_groups.UserToGroupAddition()


def iam():
    return boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def group(aws) -> str:
    iam().create_group(GroupName="admins")
    for user in ("ana", "bo", "cy", "someone-else"):
        iam().create_user(UserName=user)
    iam().add_user_to_group(GroupName="admins", UserName="someone-else")  # a member this stack never added
    return "admins"


def members(group: str) -> set[str]:
    return {u["UserName"] for u in iam().get_group(GroupName=group)["Users"]}


def test_addition_metadata():
    assert isinstance(handler_for("AWS::IAM::UserToGroupAddition"), iam_groups.UserToGroupAddition)
    assert ADDITION.create_only == {"GroupName", "Users"}  # both name the id (listed deviations)
    assert ADDITION.replacement_strategy == "delete_then_create"
    assert ADDITION.attribute_names == ("Id",) and ref_property(ADDITION) == "Id" and not ADDITION.taggable


def test_the_id_is_known_before_create():
    assert ADDITION.physical_id_for({"GroupName": "admins", "Users": ["bo", "ana", "bo"]}) == "admins|ana|bo"
    assert ADDITION.physical_id_for({"GroupName": "admins", "Users": ["${Bo}"]}) is None
    assert ADDITION.physical_id_for({"GroupName": "admins", "Users": []}) is None
    assert ADDITION.desired_view({"GroupName": "admins", "Users": ["bo", "ana", "bo"]})["Users"] == ["ana", "bo"]


def test_create_adds_each_user_and_reads_back_only_its_own(ctx, group, calls):
    props = {"GroupName": group, "Users": ["bo", "ana"]}
    pid, attrs = ADDITION.create(ctx, props)
    assert pid == "admins|ana|bo" and attrs == {"Id": pid}
    assert calls.of("AddUserToGroup") == [{"GroupName": group, "UserName": "ana"}, {"GroupName": group, "UserName": "bo"}]
    assert members(group) == {"ana", "bo", "someone-else"}
    live = assert_matches(ADDITION, ctx, pid, props)
    assert live.properties == {"GroupName": group, "Users": ["ana", "bo"]}  # someone-else is not this resource's


def test_a_user_removed_out_of_band_shows_as_a_change(ctx, group):
    pid, _ = ADDITION.create(ctx, {"GroupName": group, "Users": ["ana", "bo"]})
    iam().remove_user_from_group(GroupName=group, UserName="bo")
    assert ADDITION.read(ctx, pid, set()).properties["Users"] == ["ana"]
    iam().remove_user_from_group(GroupName=group, UserName="ana")
    assert ADDITION.read(ctx, pid, set()) is None  # none of its memberships left


def test_converging_an_existing_membership_puts_back_the_missing_users(ctx, group, calls):
    """What the engine does after a lost create answer: read under the id the journal recorded, then update."""
    props = {"GroupName": group, "Users": ["ana", "bo"]}
    iam().add_user_to_group(GroupName=group, UserName="ana")  # the lost create got this far
    pid = ADDITION.physical_id_for(props)
    live = ADDITION.read(ctx, pid, set(props))
    calls.clear()
    update(ADDITION, ctx, pid, live.properties, props)
    assert calls.of("AddUserToGroup") == [{"GroupName": group, "UserName": "bo"}]
    assert_matches(ADDITION, ctx, pid, props)


def test_delete_removes_only_its_memberships(ctx, group):
    pid, _ = ADDITION.create(ctx, {"GroupName": group, "Users": ["ana", "bo"]})
    ADDITION.delete(ctx, pid, {})
    assert members(group) == {"someone-else"} and ADDITION.read(ctx, pid, set()) is None
    ADDITION.delete(ctx, pid, {})  # already gone is success


def test_delete_after_a_user_or_the_group_is_gone(ctx, group):
    pid, _ = ADDITION.create(ctx, {"GroupName": group, "Users": ["ana", "cy"]})
    iam().remove_user_from_group(GroupName=group, UserName="cy")
    iam().delete_user(UserName="cy")
    ADDITION.delete(ctx, pid, {})
    assert members(group) == {"someone-else"}
    iam().remove_user_from_group(GroupName=group, UserName="someone-else")
    iam().delete_group(GroupName=group)
    assert ADDITION.read(ctx, pid, set()) is None
    ADDITION.delete(ctx, pid, {})


def test_adding_a_user_already_in_the_group_succeeds(ctx, group):
    pid, _ = ADDITION.create(ctx, {"GroupName": group, "Users": ["someone-else"]})
    assert ADDITION.read(ctx, pid, set()).properties["Users"] == ["someone-else"]


@pytest.mark.parametrize("physical_id", ["mystack-AddUsers-1ABC2DEF", "admins|", "|ana"])
def test_an_id_of_another_form_is_a_clear_error(ctx, physical_id):
    """CloudFormation's generated id (given to an import) names neither group nor users."""
    with pytest.raises(PlanError, match="expected GROUPNAME"):
        ADDITION.read(ctx, physical_id, set())
