"""The EC2 instance handler against in-process moto: launched with a ClientToken and its tags, read back
in spec shape (in batches), type and user data changed by stop/modify/start, groups and profile changed
while running, removed settings reset, terminated instances absent, found by ownership tags.

moto ignores ClientToken (every RunInstances starts a new instance) and expects ModifyInstanceAttribute
UserData encoded twice where AWS decodes it once: the tests check the token the handler sends, and run
the user-data update against a moto patched to AWS's behaviour. moto also ignores RunInstances'
DisableApiTermination (ModifyInstanceAttribute sets it), defaults a launch volume's DeleteOnTermination
to false (AWS: true), refuses block device mappings without Ebs (NoDevice, VirtualName) and ignores a
network interface's Description: the tests check what was sent."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.types import Base64EncodedString
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.responses import instances as moto_instances

from deployer.aws import Aws
from deployer.diff import compare
from deployer.errors import DeployerError
from deployer.resources import ec2_instances, handler_for
from deployer.resources.base import Context
from deployer.resources.ec2_instances import block_device_argument, network_interface_argument
from tests.unit.handler_support import apply_update as engine_update
from tests.unit.handler_support import ref_property, view
from tests.unit.validating import resource_errors

INSTANCE = ec2_instances.Instance()
SCRIPT = b"#!/bin/sh\necho hello > /tmp/hello\n"


@pytest.fixture(scope="module")
def net() -> Iterator[dict[str, str]]:
    """One moto account for the module (an EC2 backend costs seconds to build), holding a VPC with a
    subnet, two security groups, a key pair and two instance profiles. Each test names its own
    resources (its context's logical id is the test's name), so tests never see each other's."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_DEFAULT_REGION": "us-east-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
            mp.setenv(key, value)
        with mock_aws():
            yield _network()


def _network() -> dict[str, str]:
    ec2, iam = boto3.client("ec2", region_name="us-east-1"), boto3.client("iam", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20", AvailabilityZone="us-east-1a")["Subnet"]
    groups = [ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"] for n in ("web", "ssh")]
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                    {"Name": "group-name", "Values": ["default"]}])
    ec2.create_key_pair(KeyName="deploy")
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument="{}")
    for name, path in (("web-profile", "/app/"), ("other-profile", "/")):
        iam.create_instance_profile(InstanceProfileName=name, Path=path)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName="web-role")
    return {"vpc": vpc, "subnet": subnet["SubnetId"], "web": groups[0], "ssh": groups[1],
            "default": default["SecurityGroups"][0]["GroupId"]}


@pytest.fixture
def ctx(net, calls, request):
    """Waits are instant (the `pauses` fixture replaces deployer.waiting's sleep)."""
    aws = Aws()
    aws.hooks.append(("provide-client-params.*.*", calls))
    logical_id = "".join(part.title() for part in request.node.name.split("_"))[:60]
    return Context(aws, "us-east-1", "teststack", logical_id, token="t" * 32)


@pytest.fixture
def aws_user_data(monkeypatch):
    """moto decodes ModifyInstanceAttribute's UserData blob and then wants base64 again, and keeps an
    empty blob as the text "b''"; AWS takes the SDK's single encoding and clears the user data on an
    empty one. Make moto store what AWS would."""
    original = moto_instances.parse_user_data
    modify = InstanceBackend.modify_instance_attribute

    def parse(value):
        if isinstance(value, bytes):
            return Base64EncodedString(base64.b64encode(value).decode("ascii"))
        return original(value)

    def modify_attribute(self, instance_id, key, value):
        return modify(self, instance_id, key, None if key == "user_data" and not value else value)

    monkeypatch.setattr(moto_instances, "parse_user_data", parse)
    monkeypatch.setattr(InstanceBackend, "modify_instance_attribute", modify_attribute)


def b64(data: bytes, wrap: int = 0) -> str:
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i:i + wrap] for i in range(0, len(text), wrap)) if wrap else text


def spec(net: dict[str, str], **extra: Any) -> dict[str, Any]:
    props = {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SubnetId": net["subnet"],
             "SecurityGroupIds": [net["web"]], "Tags": [{"Key": "team", "Value": "web"}]}
    props.update(extra)
    return props


def assert_matches(ctx: Context, pid: str, props: dict[str, Any], removed: tuple[str, ...] = ()):
    """read() shows exactly what was set (and defaults for removed keys): a re-plan is clean."""
    live = INSTANCE.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = view(INSTANCE, ctx, props)
    assert compare(set(desired) | set(removed), desired, live.properties, INSTANCE.defaults, INSTANCE.create_only,
                   set()) == []
    return live


def apply_update(ctx: Context, pid: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return engine_update(INSTANCE, ctx, pid, old, new)


def state_of(pid: str) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.describe_instances(InstanceIds=[pid])["Reservations"][0]["Instances"][0]["State"]["Name"]


# --- schema and registry ----------------------------------------------------------------------------

def test_registered_with_cloudformations_replacement_rules():
    assert handler_for("AWS::EC2::Instance") is not None
    assert INSTANCE.create_only == {"ImageId", "SubnetId", "KeyName", "AvailabilityZone", "SecurityGroups",
                                    "NetworkInterfaces", "BlockDeviceMappings"}
    assert {"BlockDeviceMappings", ec2_instances.FLAGS, "NetworkInterfaces"} <= INSTANCE.write_only
    assert ref_property(INSTANCE) == "InstanceId"
    assert INSTANCE.taggable
    assert {"InstanceId", "PrivateIp", "PublicIp", "PrivateDnsName"} <= set(INSTANCE.attribute_names)


def test_desired_view_sorts_groups_names_profiles_and_unwraps_user_data():
    view = INSTANCE.desired_view({"SecurityGroupIds": ["sg-b", "sg-a", "sg-b"],
                                  "IamInstanceProfile": "arn:aws:iam::123456789012:instance-profile/app/web",
                                  "UserData": b64(SCRIPT, wrap=12)})
    assert view == {"SecurityGroupIds": ["sg-a", "sg-b"], "IamInstanceProfile": "web", "UserData": b64(SCRIPT)}


# --- create and read --------------------------------------------------------------------------------

def test_create_launches_once_with_token_tags_and_everything_read_back(ctx, net, calls):
    props = spec(net, KeyName="deploy", IamInstanceProfile="web-profile", UserData=b64(SCRIPT, wrap=20),
                 SecurityGroupIds=[net["ssh"], net["web"]])
    pid, attrs = INSTANCE.create(ctx, props)
    run = calls.of("RunInstances")
    assert len(run) == 1
    assert run[0]["ClientToken"] == ec2_instances.client_token(ctx, {k: v for k, v in run[0].items()
                                                                     if k != "ClientToken"})
    assert {"Key": "deployer:stack", "Value": "teststack"} in run[0]["TagSpecifications"][0]["Tags"]
    assert run[0]["IamInstanceProfile"] == {"Name": "web-profile"}
    assert pid.startswith("i-") and attrs["InstanceId"] == pid
    assert attrs["PrivateIp"].startswith("10.0.") and attrs["AvailabilityZone"] == "us-east-1a"
    assert attrs["VpcId"] == net["vpc"] and attrs["PrivateDnsName"]
    live = assert_matches(ctx, pid, props)
    assert live.owner == (ctx.stack, ctx.logical_id)
    assert live.properties["UserData"] == b64(SCRIPT)
    assert state_of(pid) == "running"


def test_client_token_is_stable_per_step_and_arguments(ctx):
    args = {"ImageId": "ami-1", "UserData": b"x"}
    token = ec2_instances.client_token(ctx, args)
    assert token == ec2_instances.client_token(ctx, dict(args)) and len(token) <= 64
    assert token != ec2_instances.client_token(ctx, {**args, "UserData": b"y"})
    assert token != ec2_instances.client_token(Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id, token="u" * 32), args)


def test_user_data_must_be_base64(ctx, net):
    with pytest.raises(DeployerError, match="base64"):
        INSTANCE.create(ctx, spec(net, UserData="echo not encoded!"))


def test_profile_propagation_is_retried(ctx, net, calls, pauses):
    """EC2 refuses a just-created instance profile for a while: the launch is retried with the same token."""
    refusals = []

    def refuse_once(**_: Any) -> None:
        if not refusals:
            refusals.append(1)
            raise ClientError({"Error": {"Code": "InvalidParameterValue", "Message":
                                         "Value (web-profile) for parameter iamInstanceProfile.name is invalid. "
                                         "Invalid IAM Instance Profile name"}}, "RunInstances")

    ctx.aws.client("ec2", ctx.region).meta.events.register("before-call.ec2.RunInstances", refuse_once)
    pid, _ = INSTANCE.create(ctx, spec(net, IamInstanceProfile="web-profile"))
    tokens = {p["ClientToken"] for p in calls.of("RunInstances")}
    assert len(calls.of("RunInstances")) == 2 and len(tokens) == 1
    assert pauses == [ec2_instances.PROFILE_RETRY_DELAY]  # one pause, through deployer.waiting
    assert INSTANCE.read(ctx, pid, {"IamInstanceProfile"}).properties["IamInstanceProfile"] == "web-profile"


def test_other_launch_errors_are_not_retried(ctx, net, calls, pauses):
    with pytest.raises(ClientError):
        INSTANCE.create(ctx, spec(net, SubnetId="subnet-0000000000000000f"))
    assert len(calls.of("RunInstances")) == 1 and pauses == []


def test_read_many_batches_describes(ctx, net, calls):
    ids = [INSTANCE.create(Context(ctx.aws, ctx.region, ctx.stack, f"{ctx.logical_id}{i}", token=str(i)),
                           spec(net, IamInstanceProfile="web-profile", UserData=b64(SCRIPT)))[0] for i in range(3)]
    calls.clear()
    wanted = {"ImageId", "IamInstanceProfile"}
    lives = INSTANCE.read_many([(ctx, pid, wanted) for pid in ids] + [(ctx, "i-0123456789abcdef0", wanted)])
    assert [live is not None for live in lives] == [True, True, True, False]
    assert calls.names().count("DescribeInstances") == 1
    assert calls.names().count("DescribeIamInstanceProfileAssociations") == 1
    assert "DescribeInstanceAttribute" not in calls.names()
    assert {live.properties["IamInstanceProfile"] for live in lives[:3]} == {"web-profile"}
    calls.clear()
    INSTANCE.read_many([(ctx, ids[0], {"UserData"}), (ctx, ids[1], {"ImageId"})])
    assert calls.names().count("DescribeInstanceAttribute") == 1
    assert "DescribeIamInstanceProfileAssociations" not in calls.names()


def test_terminated_instance_reads_as_absent(ctx, net):
    pid, _ = INSTANCE.create(ctx, spec(net))
    INSTANCE.delete(ctx, pid, {})
    assert state_of(pid) == "terminated"
    assert INSTANCE.read(ctx, pid, {"ImageId"}) is None
    assert INSTANCE.find_owned(ctx, spec(net)) == []
    INSTANCE.delete(ctx, pid, {})  # already gone: success
    INSTANCE.delete(ctx, "i-0123456789abcdef0", {})


def test_find_owned_by_tags(ctx, net):
    pid, _ = INSTANCE.create(ctx, spec(net))
    assert INSTANCE.find_owned(ctx, spec(net)) == [pid]
    assert INSTANCE.find_owned(Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id + "Other"), spec(net)) == []
    # moto ignores ClientToken: a second launch stands for one whose first answer was lost
    again, _ = INSTANCE.create(ctx, spec(net))
    assert INSTANCE.find_owned(ctx, spec(net)) == sorted([pid, again])


def test_tag_for_ownership_adds_the_tags(ctx, net):
    iid = boto3.client("ec2", region_name="us-east-1").run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=net["subnet"])["Instances"][0]["InstanceId"]
    assert INSTANCE.read(ctx, iid, {"Tags"}).owner is None
    INSTANCE.tag_for_ownership(ctx, iid)
    assert INSTANCE.read(ctx, iid, {"Tags"}).owner == (ctx.stack, ctx.logical_id)


# --- update -----------------------------------------------------------------------------------------

def test_instance_type_change_stops_modifies_and_starts(ctx, net, calls):
    props = spec(net)
    pid, _ = INSTANCE.create(ctx, props)
    calls.clear()
    new = {**props, "InstanceType": "t3.large"}
    apply_update(ctx, pid, props, new)
    mutating = [n for n in calls.names() if not n.startswith("Describe")]
    assert mutating == ["StopInstances", "ModifyInstanceAttribute", "StartInstances"]
    assert calls.of("ModifyInstanceAttribute")[0]["InstanceType"] == {"Value": "t3.large"}
    assert state_of(pid) == "running"
    assert_matches(ctx, pid, new)


def test_a_stopped_instance_is_modified_and_left_stopped(ctx, net, calls):
    props = spec(net)
    pid, _ = INSTANCE.create(ctx, props)
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[pid])
    calls.clear()
    apply_update(ctx, pid, props, {**props, "InstanceType": "t3.small"})
    assert "StopInstances" not in calls.names() and "StartInstances" not in calls.names()
    assert state_of(pid) == "stopped"


def test_user_data_changes_and_removal(ctx, net, calls, aws_user_data):
    props = spec(net, UserData=b64(SCRIPT))
    pid, _ = INSTANCE.create(ctx, props)
    new = {**props, "UserData": b64(b"#!/bin/sh\necho bye\n", wrap=8)}
    calls.clear()
    apply_update(ctx, pid, props, new)
    assert calls.of("ModifyInstanceAttribute")[0]["UserData"] == {"Value": b"#!/bin/sh\necho bye\n"}
    assert "StopInstances" in calls.names() and state_of(pid) == "running"
    assert_matches(ctx, pid, new)
    removed = {k: v for k, v in new.items() if k != "UserData"}
    apply_update(ctx, pid, new, removed)
    assert_matches(ctx, pid, removed, removed=("UserData",))


def test_type_and_user_data_share_one_stop(ctx, net, calls, aws_user_data):
    props = spec(net, UserData=b64(SCRIPT))
    pid, _ = INSTANCE.create(ctx, props)
    calls.clear()
    apply_update(ctx, pid, props, {**props, "InstanceType": "t3.large", "UserData": b64(b"other")})
    assert calls.names().count("StopInstances") == 1 and calls.names().count("ModifyInstanceAttribute") == 2


def test_security_groups_change_in_place_and_reset_to_the_vpc_default(ctx, net, calls):
    props = spec(net)
    pid, _ = INSTANCE.create(ctx, props)
    new = {**props, "SecurityGroupIds": [net["ssh"], net["web"]]}
    calls.clear()
    apply_update(ctx, pid, props, new)
    assert calls.of("ModifyInstanceAttribute") == [{"InstanceId": pid, "Groups": sorted([net["ssh"], net["web"]])}]
    assert "StopInstances" not in calls.names()
    assert_matches(ctx, pid, new)
    removed = {k: v for k, v in new.items() if k != "SecurityGroupIds"}
    apply_update(ctx, pid, new, removed)
    assert INSTANCE.read(ctx, pid, {"SecurityGroupIds"}).properties["SecurityGroupIds"] == [net["default"]]
    calls.clear()
    apply_update(ctx, pid, removed, {**removed, "Tags": []})  # groups never set again: nothing to reset
    assert "ModifyInstanceAttribute" not in calls.names()


def test_profile_is_associated_replaced_and_disassociated(ctx, net, calls):
    props = spec(net)
    pid, _ = INSTANCE.create(ctx, props)
    steps = [("web-profile", "AssociateIamInstanceProfile"),
             ("arn:aws:iam::123456789012:instance-profile/other-profile", "ReplaceIamInstanceProfileAssociation"),
             (None, "DisassociateIamInstanceProfile")]
    old = props
    for profile, operation in steps:
        new = {**props, "IamInstanceProfile": profile} if profile else dict(props)
        calls.clear()
        apply_update(ctx, pid, {**old, "IamInstanceProfile": None}, new)
        assert operation in calls.names()
        assert "StopInstances" not in calls.names()
        assert_matches(ctx, pid, new, removed=("IamInstanceProfile",) if profile is None else ())
        old = new


def test_tags_change_and_ownership_stays(ctx, net):
    props = spec(net)
    pid, _ = INSTANCE.create(ctx, props)
    new = {**props, "Tags": [{"Key": "cost", "Value": "1"}]}
    apply_update(ctx, pid, props, new)
    live = assert_matches(ctx, pid, new)
    assert live.owner == (ctx.stack, ctx.logical_id)
    removed = {k: v for k, v in new.items() if k != "Tags"}
    apply_update(ctx, pid, new, removed)
    assert_matches(ctx, pid, removed, removed=("Tags",))


def test_update_returns_fresh_attributes(ctx, net):
    props = spec(net)
    pid, attrs = INSTANCE.create(ctx, props)
    after = apply_update(ctx, pid, props, {**props, "InstanceType": "t3.small"})
    assert after["InstanceId"] == pid and after["PrivateIp"] == attrs["PrivateIp"]


# --- BlockDeviceMappings, SecurityGroups, NetworkInterfaces, DisableApiTermination --------------------

DATA_VOLUME = {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Iops": 3000,
                                                "Encrypted": "true", "DeleteOnTermination": False}}
ROOT_VOLUME = {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": "30"}}


def test_block_devices_are_launched_with_the_api_shapes(ctx, net, calls):
    props = spec(net, BlockDeviceMappings=[DATA_VOLUME, ROOT_VOLUME])
    pid, _ = INSTANCE.create(ctx, props)
    assert calls.of("RunInstances")[0]["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/sdf", "Ebs": {"DeleteOnTermination": False, "Encrypted": True, "Iops": 3000,
                                           "VolumeSize": 20, "VolumeType": "gp3"}},
        {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 30}}]
    # moto refuses a mapping without Ebs ("must contain the parameter ebs"); AWS takes these two
    assert block_device_argument({"DeviceName": "/dev/sdg", "NoDevice": {}}) == {"DeviceName": "/dev/sdg", "NoDevice": ""}
    assert block_device_argument({"DeviceName": "/dev/sdh", "VirtualName": "ephemeral0"}) == {
        "DeviceName": "/dev/sdh", "VirtualName": "ephemeral0"}
    sizes = {v["Attachments"][0]["Device"]: v["Size"] for v in boto3.client("ec2", region_name="us-east-1")
             .describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [pid]}])["Volumes"]}
    assert sizes == {"/dev/sdf": 20, "/dev/sda1": 30}
    assert "BlockDeviceMappings" not in INSTANCE.read(ctx, pid, set(props)).properties  # the last apply's


def test_block_device_flags_change_in_place_anything_else_replaces(ctx, net, calls):
    view = INSTANCE.desired_view({"BlockDeviceMappings": [DATA_VOLUME, ROOT_VOLUME]})
    assert view["BlockDeviceMappings"] == [ROOT_VOLUME, {"DeviceName": "/dev/sdf", "Ebs": {
        "VolumeSize": 20, "VolumeType": "gp3", "Iops": 3000, "Encrypted": "true"}}]
    assert view[ec2_instances.FLAGS] == {"/dev/sdf": False}
    flipped = INSTANCE.desired_view({"BlockDeviceMappings": [
        {**DATA_VOLUME, "Ebs": {**DATA_VOLUME["Ebs"], "DeleteOnTermination": True}}, ROOT_VOLUME]})
    found = compare(set(view), flipped, view, INSTANCE.defaults, INSTANCE.create_only, set())
    assert [(c.path, c.replace) for c in found] == [(f"{ec2_instances.FLAGS}./dev/sdf", False)]
    bigger = INSTANCE.desired_view({"BlockDeviceMappings": [{**DATA_VOLUME, "Ebs": {**DATA_VOLUME["Ebs"],
                                                                                     "VolumeSize": 40}}, ROOT_VOLUME]})
    found = compare(set(view), bigger, view, INSTANCE.defaults, INSTANCE.create_only, set())
    assert {c.replace for c in found} == {True}
    assert {c.path.split(".")[0].split("[")[0] for c in found} == {"BlockDeviceMappings"}

    props = spec(net, BlockDeviceMappings=[DATA_VOLUME])
    pid, _ = INSTANCE.create(ctx, props)
    calls.clear()
    last = INSTANCE.desired_view(props)  # what the engine hands update(): the last apply's view
    INSTANCE.update(ctx, pid, last, {**props, "BlockDeviceMappings": [
        {**DATA_VOLUME, "Ebs": {**DATA_VOLUME["Ebs"], "DeleteOnTermination": True}}]},
        frozenset({ec2_instances.FLAGS}))
    assert calls.of("ModifyInstanceAttribute") == [
        {"InstanceId": pid, "BlockDeviceMappings": [{"DeviceName": "/dev/sdf", "Ebs": {"DeleteOnTermination": True}}]}]
    assert "StopInstances" not in calls.names()
    item = boto3.client("ec2", region_name="us-east-1").describe_instances(InstanceIds=[pid])
    assert item["Reservations"][0]["Instances"][0]["BlockDeviceMappings"][0]["Ebs"]["DeleteOnTermination"] is True


def test_a_block_device_flag_no_longer_set_goes_back_to_true(ctx, net, calls):
    props = spec(net, BlockDeviceMappings=[DATA_VOLUME])
    pid, _ = INSTANCE.create(ctx, props)
    calls.clear()
    unflagged = {**props, "BlockDeviceMappings": [{"DeviceName": "/dev/sdf", "Ebs": {
        k: v for k, v in DATA_VOLUME["Ebs"].items() if k != "DeleteOnTermination"}}]}
    INSTANCE.update(ctx, pid, INSTANCE.desired_view(props), unflagged, frozenset({ec2_instances.FLAGS}))
    assert calls.of("ModifyInstanceAttribute")[0]["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/sdf", "Ebs": {"DeleteOnTermination": True}}]


def test_security_group_names_launch_into_the_default_vpc_and_read_back(ctx, calls):
    """SecurityGroups (names) are for the default VPC (EC2-Classic style): no subnet, no group ids."""
    props = {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SecurityGroups": ["default"]}
    pid, _ = INSTANCE.create(ctx, props)
    assert calls.of("RunInstances")[0]["SecurityGroups"] == ["default"]
    assert "SecurityGroupIds" not in calls.of("RunInstances")[0]
    assert_matches(ctx, pid, props)
    found = compare({"SecurityGroups"}, {"SecurityGroups": ["other"]}, {"SecurityGroups": ["default"]},
                    INSTANCE.defaults, INSTANCE.create_only, set())
    assert [c.replace for c in found] == [True]


def test_network_interfaces_are_launched_as_the_api_wants_them(ctx, net, calls):
    nic = {"DeviceIndex": "0", "SubnetId": net["subnet"], "GroupSet": [net["web"], net["ssh"]],
           "AssociatePublicIpAddress": "true", "DeleteOnTermination": True, "Description": "primary",
           "SecondaryPrivateIpAddressCount": "1"}
    props = {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "NetworkInterfaces": [nic]}
    pid, attrs = INSTANCE.create(ctx, props)
    assert calls.of("RunInstances")[0]["NetworkInterfaces"] == [
        {"DeviceIndex": 0, "AssociatePublicIpAddress": True, "DeleteOnTermination": True, "Description": "primary",
         "SubnetId": net["subnet"], "Groups": sorted([net["web"], net["ssh"]]), "SecondaryPrivateIpAddressCount": 1}]
    assert "SubnetId" not in calls.of("RunInstances")[0]
    assert attrs["VpcId"] == net["vpc"] and attrs["PublicIp"]
    assert network_interface_argument({"DeviceIndex": 1, "NetworkInterfaceId": "eni-1",
                                       "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.9", "Primary": "true"}]}) == {
        "DeviceIndex": 1, "NetworkInterfaceId": "eni-1",
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.9", "Primary": True}]}
    assert "NetworkInterfaces" not in INSTANCE.read(ctx, pid, set(props)).properties  # the last apply's


def test_termination_protection_is_sent_set_read_and_removed(ctx, net, calls):
    protected = spec(net, DisableApiTermination="true")
    pid, _ = INSTANCE.create(ctx, protected)
    assert calls.of("RunInstances")[0]["DisableApiTermination"] is True  # moto ignores it at launch
    plain = spec(net)
    apply_update(ctx, pid, plain, protected)
    assert calls.of("ModifyInstanceAttribute")[-1] == {"InstanceId": pid, "DisableApiTermination": {"Value": True}}
    assert INSTANCE.read(ctx, pid, {"DisableApiTermination"}).properties["DisableApiTermination"] is True
    assert_matches(ctx, pid, protected)
    with pytest.raises(ClientError, match="OperationNotPermitted"):
        INSTANCE.delete(ctx, pid, protected)  # as on AWS: protection first has to go
    apply_update(ctx, pid, protected, plain)
    assert_matches(ctx, pid, plain, removed=("DisableApiTermination",))
    calls.clear()
    INSTANCE.read_many([(ctx, pid, {"ImageId"})])
    assert "DescribeInstanceAttribute" not in calls.names()  # read only when the spec sets it
    INSTANCE.delete(ctx, pid, plain)


def spec_errors(tmp_path, props: dict[str, Any]) -> list[str]:
    return resource_errors(tmp_path, "AWS::EC2::Instance", props, "Web")


@pytest.mark.parametrize("props, message", [
    ({"SecurityGroups": ["default"], "SecurityGroupIds": ["sg-1"]}, "SecurityGroups (names"),
    ({"NetworkInterfaces": [{"DeviceIndex": "0"}], "SecurityGroupIds": ["sg-1"]}, "GroupSet"),
    ({"NetworkInterfaces": [{"DeviceIndex": "0"}], "SubnetId": "subnet-1"}, "SubnetId"),
    ({"BlockDeviceMappings": [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeType": "io1", "VolumeSize": 10}}]}, "E3671"),
    ({"BlockDeviceMappings": [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 1}, "NoDevice": {}}]}, "NoDevice"),
    ({"NetworkInterfaces": [{"DeviceIndex": "0", "NetworkInterfaceId": "eni-1", "AssociatePublicIpAddress": True}]},
     "AssociatePublicIpAddress"),
])
def test_cloudformations_rules_are_checked_at_validate(tmp_path, props, message):
    errors = spec_errors(tmp_path, {"ImageId": "ami-1", **props})
    assert len(errors) == 1 and message in errors[0], errors


def test_valid_launch_shapes_pass_validate(tmp_path):
    assert spec_errors(tmp_path, {"ImageId": "ami-1", "SecurityGroups": ["default"], "DisableApiTermination": "true",
                                  "BlockDeviceMappings": [DATA_VOLUME, {"DeviceName": "/dev/sdg", "NoDevice": {}}]}) == []
    assert spec_errors(tmp_path, {"ImageId": "ami-1", "NetworkInterfaces": [
        {"DeviceIndex": "0", "SubnetId": "subnet-1", "GroupSet": ["sg-1"], "AssociatePublicIpAddress": True}]}) == []
