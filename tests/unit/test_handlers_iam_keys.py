"""The IAM access key handler against in-process moto: a key created for its user (Active, or deactivated at
once when the spec says Inactive), its secret handed to the engine as an attribute and registered as
sensitive before anything can print it, Status updated in place, Serial compared with the last apply,
a composite physical id whose Ref is the key id, and deletes that tolerate what is already gone."""

from __future__ import annotations

import json

import boto3
import pytest
from moto.iam.models import iam_backends

from deployer import secrets
from deployer.diff import compare
from deployer.errors import PlanError
from deployer.planner import stored_properties
from deployer.resources import handler_for, iam_keys
from deployer.state.model import ResourceState, State
from tests.unit.handler_support import apply_update, ref_property
from tests.unit.messaging_support import assert_matches

KEY = iam_keys.AccessKey()


def iam():
    return boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def user(aws) -> str:
    iam().create_user(UserName="deploy-bot")
    return "deploy-bot"


def keys_of(user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam().list_access_keys(UserName=user)["AccessKeyMetadata"]}


def test_access_key_metadata():
    assert isinstance(handler_for("AWS::IAM::AccessKey"), iam_keys.AccessKey)
    assert KEY.create_only == {"UserName", "Serial"}
    assert KEY.write_only == {"Serial"}  # CloudFormation's rotation counter: never readable
    assert KEY.attribute_names == ("SecretAccessKey", "Id") and ref_property(KEY) == "Id"
    assert not KEY.taggable and KEY.physical_id_for({"UserName": "u"}) is None
    assert KEY.ref_value("deploy-bot|AKIAIOSFODNN7EXAMPLE", {}) == "AKIAIOSFODNN7EXAMPLE"


def test_create_returns_the_secret_already_registered_as_sensitive(ctx, user):
    pid, attrs = KEY.create(ctx, {"UserName": user, "Serial": 1})
    key_id = attrs["Id"]
    assert pid == f"{user}|{key_id}" and keys_of(user) == {key_id: "Active"}
    secret = attrs["SecretAccessKey"]
    assert secret == iam_backends["123456789012"]["global"].access_keys[key_id].secret_access_key
    assert secrets.is_sensitive(secret)
    assert secrets.redact(f"SecretString: {secret}") == "SecretString: (sensitive)"
    state = State(stack="teststack", resources={"Key": ResourceState(
        type=KEY.type_name, physical_id=pid, region="us-east-1",
        properties=stored_properties({"UserName": user, "Serial": 1}, set()), attributes=attrs)})
    on_disk = state.dumps()
    assert secret not in on_disk and json.loads(on_disk)["resources"]["Key"]["attributes"]["SecretAccessKey"] == "(sensitive)"


def test_read_never_gives_the_secret(ctx, user, calls):
    pid, attrs = KEY.create(ctx, {"UserName": user})
    calls.clear()
    live = KEY.read(ctx, pid, {"UserName", "Status"})
    assert calls.names() == ["ListAccessKeys"]
    assert live.properties == {"UserName": user, "Status": "Active"}
    assert live.attributes == {"Id": attrs["Id"]}
    assert attrs["SecretAccessKey"] not in repr(live)


def test_a_key_wanted_inactive_is_deactivated_at_once(ctx, user, calls):
    pid, attrs = KEY.create(ctx, {"UserName": user, "Status": "Inactive"})
    assert calls.of("UpdateAccessKey") == [{"UserName": user, "AccessKeyId": attrs["Id"], "Status": "Inactive"}]
    assert_matches(KEY, ctx, pid, {"UserName": user, "Status": "Inactive"})


def test_status_is_updated_in_place_and_a_removed_status_is_active(ctx, user):
    props = {"UserName": user, "Status": "Active"}
    pid, attrs = KEY.create(ctx, props)
    apply_update(KEY, ctx, pid, props, {"UserName": user, "Status": "Inactive"})
    assert keys_of(user) == {attrs["Id"]: "Inactive"}
    apply_update(KEY, ctx, pid, {"UserName": user, "Status": "Inactive"}, {"UserName": user})
    assert keys_of(user) == {attrs["Id"]: "Active"}
    assert_matches(KEY, ctx, pid, {"UserName": user}, removed=["Status"])


def test_serial_is_compared_with_the_last_apply_and_replaces():
    last = {"UserName": "u", "Serial": 1}
    found = compare({"UserName", "Serial"}, {"UserName": "u", "Serial": 2}, last, KEY.defaults, KEY.create_only, set())
    assert [(c.path, c.before, c.after, c.replace) for c in found] == [("Serial", 1, 2, True)]
    assert compare({"UserName", "Serial"}, {"UserName": "u", "Serial": "1"}, last, KEY.defaults,
                   KEY.create_only, set()) == []


def test_delete_and_what_is_already_gone(ctx, user):
    pid, attrs = KEY.create(ctx, {"UserName": user})
    KEY.delete(ctx, pid, {})
    assert keys_of(user) == {} and KEY.read(ctx, pid, set()) is None
    KEY.delete(ctx, pid, {})  # the key is gone
    iam().delete_user(UserName=user)
    assert KEY.read(ctx, pid, set()) is None  # so is its user
    KEY.delete(ctx, pid, {})


def test_a_key_deleted_out_of_band_reads_as_gone(ctx, user):
    pid, attrs = KEY.create(ctx, {"UserName": user})
    other, _ = KEY.create(ctx, {"UserName": user})
    iam().delete_access_key(UserName=user, AccessKeyId=attrs["Id"])
    assert KEY.read(ctx, pid, set()) is None and KEY.read(ctx, other, set()) is not None


def test_a_lost_create_is_never_adopted(ctx, user):
    """The user's keys may be anyone's, and no key's secret can be read again: nothing is adopted (or
    deleted as a duplicate) after a create whose answer was lost."""
    KEY.create(ctx, {"UserName": user})
    assert KEY.find_owned(ctx, {"UserName": user}) == []
    assert KEY.lookup(ctx, {"UserName": user}) is None


def test_a_key_known_by_its_access_key_id_alone(ctx, user, calls):
    """CloudFormation's PhysicalResourceId (what `deployer import --from-cloudformation` gives): the user
    is IAM's answer to whose key it is, for every read, update and delete."""
    _, attrs = KEY.create(ctx, {"UserName": user})
    bare = attrs["Id"]
    assert KEY.ref_value(bare, {}) == bare
    calls.clear()
    live = KEY.read(ctx, bare, {"UserName", "Status"})
    assert calls.names() == ["GetAccessKeyLastUsed", "ListAccessKeys"]
    assert live.properties == {"UserName": user, "Status": "Active"} and live.attributes == {"Id": bare}
    apply_update(KEY, ctx, bare, {"UserName": user}, {"UserName": user, "Status": "Inactive"})
    assert keys_of(user) == {bare: "Inactive"}
    KEY.delete(ctx, bare, {})
    assert keys_of(user) == {} and KEY.read(ctx, bare, set()) is None
    KEY.delete(ctx, bare, {})  # gone: nothing to ask IAM about
    with pytest.raises(PlanError, match="no longer exists"):
        KEY.update(ctx, bare, {"Status": "Inactive"}, {"Status": "Active"}, frozenset({"Status"}))


@pytest.mark.parametrize("physical_id", ["admins-AccessKey-1ABC", "|AKIAIOSFODNN7EXAMPLE", "user|"])
def test_a_malformed_id_is_a_clear_error(ctx, physical_id):
    with pytest.raises(PlanError, match="expected ACCESSKEYID or USERNAME"):
        KEY.read(ctx, physical_id, set())
