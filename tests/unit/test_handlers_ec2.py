"""The EC2 networking handlers against in-process moto: each type created and read back in spec shape,
updatable properties changed in place with the right calls, removed ones reset, reads batched into
a few filtered describes, resources found by their ownership tags, deletes that leave nothing and
tolerate what is already gone, and a bounded retry of DependencyViolation only."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deployer.diff import compare
from deployer.errors import AwsError
from deployer.resources import ec2, ec2_common, handler_for
from deployer.resources.base import Context, Handler
from deployer.spec.refs import UNKNOWN
from tests.unit.handler_support import apply_update, create_meets_existing, update, view

VPC = ec2.Vpc()
SUBNET = ec2.Subnet()
IGW = ec2.InternetGateway()
ATTACH = ec2.GatewayAttachment()
TABLE = ec2.RouteTable()
ROUTE = ec2.Route()
ASSOC = ec2.SubnetRouteTableAssociation()
GROUP = ec2.SecurityGroup()
OWNER = ("teststack", "LogicalId")


@pytest.fixture
def ctx(aws):
    """Waits are instant (the `pauses` fixture replaces deployer.waiting's sleep)."""
    return Context(aws, "us-east-1", "teststack", "LogicalId", token="a" * 32)


def raw() -> Any:
    return boto3.client("ec2", region_name="us-east-1")


def other(ctx: Context, logical_id: str) -> Context:
    return Context(ctx.aws, ctx.region, ctx.stack, logical_id, token=logical_id)


def assert_matches(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], removed: Any = ()):
    """read() shows exactly what was set (and the default for each removed property): a plan right
    after would find no change."""
    live = handler.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = view(handler, ctx, props)
    keys = set(desired) | set(removed)
    assert compare(keys, desired, live.properties, handler.defaults, handler.create_only, set()) == []
    return live


def unordered(rules: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in rules)


def raw_tags(resource_id: str) -> dict[str, str]:
    tags = raw().describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def make_vpc(ctx: Context, cidr: str = "10.0.0.0/16") -> str:
    return VPC.create(other(ctx, "Net"), {"CidrBlock": cidr})[0]


# --- registry and schema metadata -----------------------------------------------------------------

def test_handlers_are_registered_with_the_right_replacement_rules():
    assert isinstance(handler_for("AWS::EC2::VPC"), ec2.Vpc)
    assert VPC.create_only == {"CidrBlock", "InstanceTenancy"}
    assert SUBNET.create_only == {"VpcId", "CidrBlock", "AvailabilityZone"}
    assert ATTACH.create_only == {"VpcId", "InternetGatewayId"}
    assert ROUTE.create_only == {"RouteTableId", "DestinationCidrBlock"}
    assert ASSOC.create_only == {"SubnetId"}
    assert GROUP.create_only == {"GroupDescription", "GroupName", "VpcId"}
    assert not (ATTACH.taggable or ROUTE.taggable or ASSOC.taggable)
    assert VPC.taggable and SUBNET.taggable and IGW.taggable and TABLE.taggable and GROUP.taggable


def test_views_tolerate_values_known_only_after_apply():
    assert VPC.desired_view({"CidrBlock": UNKNOWN}) == {"CidrBlock": UNKNOWN}
    assert ROUTE.desired_view({"DestinationCidrBlock": "10.1.2.3/16", "GatewayId": UNKNOWN}) == {
        "DestinationCidrBlock": "10.1.0.0/16", "GatewayId": UNKNOWN}
    view = GROUP.desired_view({"SecurityGroupIngress": [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "SourceSecurityGroupId": UNKNOWN}]})
    assert view["SecurityGroupIngress"] == [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "SourceSecurityGroupId": UNKNOWN}]


# --- VPC ------------------------------------------------------------------------------------------

def test_vpc_create_tags_atomically_and_reads_back(ctx, calls):
    props = {"CidrBlock": "10.0.0.7/16", "EnableDnsHostnames": True, "EnableDnsSupport": "true",
             "InstanceTenancy": "default", "Tags": [{"Key": "team", "Value": "net"}]}
    pid, attrs = VPC.create(ctx, props)
    spec = calls.of("CreateVpc")[0]
    assert {"Key": "deployer:stack", "Value": "teststack"} in spec["TagSpecifications"][0]["Tags"]
    assert calls.of("CreateTags") == []  # tagged by the create itself
    assert raw_tags(pid) == {"team": "net", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}
    live = assert_matches(VPC, ctx, pid, props)
    assert live.owner == OWNER
    assert live.properties["CidrBlock"] == "10.0.0.0/16"  # canonical, as AWS stores it
    assert live.properties["Tags"] == [{"Key": "team", "Value": "net"}]
    assert set(attrs) == {"VpcId", "CidrBlock", "CidrBlockAssociations"}  # the lazy ones cost reads of their own
    assert attrs["CidrBlockAssociations"] and all(a.startswith("vpc-cidr-assoc-") for a in attrs["CidrBlockAssociations"])
    assert set(VPC.lazy_attributes) == {"DefaultSecurityGroup", "DefaultNetworkAcl"}
    assert live.attributes["DefaultSecurityGroup"].startswith("sg-") and live.attributes["DefaultNetworkAcl"].startswith("acl-")
    assert {k: v for k, v in live.attributes.items() if k not in VPC.lazy_attributes} == attrs


def test_vpc_reads_dns_settings_only_when_wanted(ctx):
    pid, _ = VPC.create(ctx, {"CidrBlock": "10.0.0.0/16"})
    ctx.aws.log.calls.clear()
    live = VPC.read(ctx, pid, {"CidrBlock", "Tags"})
    assert dict(ctx.aws.log.counts()) == {"ec2.DescribeVpcs": 1, "ec2.DescribeSecurityGroups": 1,
                                          "ec2.DescribeNetworkAcls": 1}
    assert "EnableDnsHostnames" not in live.properties and "InstanceTenancy" not in live.properties
    ctx.aws.log.calls.clear()
    live = VPC.read(ctx, pid, {"EnableDnsHostnames"})
    assert ctx.aws.log.counts()["ec2.DescribeVpcAttribute"] == 1
    assert live.properties["EnableDnsHostnames"] is False


def test_vpc_dns_settings_change_in_order_and_reset_when_removed(ctx, calls):
    old = {"CidrBlock": "10.0.0.0/16"}
    pid, _ = VPC.create(ctx, old)
    new = {**old, "EnableDnsHostnames": True, "Tags": [{"Key": "a", "Value": "1"}]}
    apply_update(VPC, ctx, pid, old, new)
    assert_matches(VPC, ctx, pid, new)
    calls.clear()
    off = {**old, "EnableDnsSupport": False}
    apply_update(VPC, ctx, pid, new, off)
    modified = [next(iter(set(p) - {"VpcId"})) for p in calls.of("ModifyVpcAttribute")]
    assert modified == ["EnableDnsHostnames", "EnableDnsSupport"]  # hostnames off before support off
    assert_matches(VPC, ctx, pid, off, removed=["Tags", "EnableDnsHostnames"])
    assert raw_tags(pid) == {"deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}
    calls.clear()
    on = {**old, "EnableDnsSupport": True, "EnableDnsHostnames": True}
    apply_update(VPC, ctx, pid, off, on)
    modified = [next(iter(set(p) - {"VpcId"})) for p in calls.of("ModifyVpcAttribute")]
    assert modified == ["EnableDnsSupport", "EnableDnsHostnames"]  # support on before hostnames on
    assert_matches(VPC, ctx, pid, on)


def dependency_violation() -> ClientError:
    return ClientError({"Error": {"Code": "DependencyViolation", "Message": "has dependencies"}}, "DeleteVpc")


def test_retry_dependency_waits_out_a_passing_dependency(pauses):
    tries = []

    def settles_on_third_try() -> str:  # a dependent's delete still landing
        tries.append(1)
        if len(tries) < 3:
            raise dependency_violation()
        return "deleted"

    assert ec2_common.retry_dependency(settles_on_third_try) == "deleted"
    assert len(tries) == 3
    assert pauses == [ec2_common.DEPENDENCY_RETRY_DELAY] * 2  # through deployer.waiting, a fixed pause


def test_vpc_delete_tolerates_gone(ctx):
    pid, _ = VPC.create(ctx, {"CidrBlock": "10.0.0.0/16"})
    VPC.delete(ctx, pid, {})
    assert VPC.read(ctx, pid, set()) is None
    VPC.delete(ctx, pid, {})


def test_vpc_delete_with_a_real_dependency_fails_after_bounded_tries(ctx, monkeypatch, pauses):
    monkeypatch.setattr(ec2_common, "DEPENDENCY_RETRY_ATTEMPTS", 3)
    pid, _ = VPC.create(ctx, {"CidrBlock": "10.0.0.0/16"})
    SUBNET.create(ctx, {"VpcId": pid, "CidrBlock": "10.0.1.0/24"})
    ctx.aws.log.calls.clear()
    with pytest.raises(ClientError, match="DependencyViolation"):
        VPC.delete(ctx, pid, {})
    assert ctx.aws.log.counts()["ec2.DeleteVpc"] == 3
    assert len(pauses) == 2


def test_retry_dependency_retries_nothing_else(pauses):
    tries = []

    def refused() -> None:
        tries.append(1)
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DeleteVpc")

    with pytest.raises(ClientError):
        ec2_common.retry_dependency(refused)
    assert len(tries) == 1 and pauses == []


# --- subnet -------------------------------------------------------------------------------------

def test_subnet_create_read_update_reset_delete(ctx, calls):
    vpc = make_vpc(ctx)
    props = {"VpcId": vpc, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1b", "MapPublicIpOnLaunch": True,
             "Tags": [{"Key": "tier", "Value": "public"}]}
    pid, attrs = SUBNET.create(ctx, props)
    assert {k: attrs[k] for k in ("SubnetId", "AvailabilityZone", "VpcId", "CidrBlock")} == \
        {"SubnetId": pid, "AvailabilityZone": "us-east-1b", "VpcId": vpc, "CidrBlock": "10.0.1.0/24"}
    assert attrs["AvailabilityZoneId"] and "NetworkAclAssociationId" not in attrs  # read when referred to
    live = assert_matches(SUBNET, ctx, pid, props)
    assert live.owner == OWNER and live.attributes["NetworkAclAssociationId"].startswith("aclassoc-")
    assert {k: v for k, v in live.attributes.items() if k not in SUBNET.lazy_attributes} == attrs
    calls.clear()
    new = {**props, "MapPublicIpOnLaunch": False}
    new.pop("Tags")
    apply_update(SUBNET, ctx, pid, props, new)
    assert calls.of("ModifySubnetAttribute") == [{"SubnetId": pid, "MapPublicIpOnLaunch": {"Value": False}}]
    assert calls.of("DeleteTags") == [{"Resources": [pid], "Tags": [{"Key": "tier"}]}]
    assert_matches(SUBNET, ctx, pid, new, removed=["Tags"])
    SUBNET.delete(ctx, pid, new)
    assert SUBNET.read(ctx, pid, set()) is None
    SUBNET.delete(ctx, pid, new)


def test_subnet_reads_are_batched_in_chunks_of_200_filtered_by_id(ctx):
    vpc = make_vpc(ctx)
    client = raw()
    ids = [client.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
           for i in range(250)]
    ctx.aws.log.calls.clear()
    lives = SUBNET.read_many([(ctx, pid, {"Tags"}) for pid in [*ids, "subnet-0000000000000dead"]])
    assert dict(ctx.aws.log.counts()) == {"ec2.DescribeSubnets": 2, "ec2.DescribeNetworkAcls": 2}
    assert [live.attributes["SubnetId"] for live in lives[:-1]] == ids
    assert lives[-1] is None


# --- internet gateway and attachment ----------------------------------------------------------------

def test_gateway_and_attachment_lifecycle(ctx):
    vpc = make_vpc(ctx)
    gateway, attrs = IGW.create(ctx, {"Tags": [{"Key": "a", "Value": "1"}]})
    assert attrs == {"InternetGatewayId": gateway}
    assert_matches(IGW, ctx, gateway, {"Tags": [{"Key": "a", "Value": "1"}]})
    update(IGW, ctx, gateway, {"Tags": [{"Key": "a", "Value": "1"}]}, {"Tags": [{"Key": "b", "Value": "2"}]})
    assert raw_tags(gateway) == {"b": "2", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}

    props = {"VpcId": vpc, "InternetGatewayId": gateway}
    assert ATTACH.lookup(ctx, props) is None
    pid, attrs = ATTACH.create(ctx, props)
    assert pid == f"{gateway}|{vpc}" == ATTACH.physical_id_for(props)
    assert attrs == {"AttachmentType": "IGW", "VpcId": vpc}
    live = assert_matches(ATTACH, ctx, pid, props)
    assert live.owner is None
    # a retried create meets already-exists; the engine finds the attachment under its id (lookup)
    assert create_meets_existing(ATTACH, ctx, props) == "Resource.AlreadyAssociated"
    assert ATTACH.lookup(ctx, props) == pid

    ATTACH.delete(ctx, pid, {})
    assert ATTACH.read(ctx, pid, set()) is None
    assert ATTACH.lookup(ctx, props) is None
    ATTACH.delete(ctx, pid, {})  # not attached any more: success
    IGW.delete(ctx, gateway, {})
    assert IGW.read(ctx, gateway, set()) is None
    assert ATTACH.read(ctx, "not-a-composite-id", set()) is None


def test_attaching_a_gateway_that_is_attached_elsewhere_fails(ctx):
    gateway, _ = IGW.create(ctx, {})
    ATTACH.create(ctx, {"VpcId": make_vpc(ctx), "InternetGatewayId": gateway})
    elsewhere = {"VpcId": make_vpc(ctx, "10.1.0.0/16"), "InternetGatewayId": gateway}
    create_meets_existing(ATTACH, ctx, elsewhere)
    assert ATTACH.lookup(ctx, elsewhere) is None  # nothing of this step's to adopt: the engine refuses
    with pytest.raises(AwsError, match="InternetGatewayId is required"):
        ATTACH.create(ctx, {"VpcId": make_vpc(ctx, "10.2.0.0/16")})


# --- route table, route, association --------------------------------------------------------------

def test_route_table_uses_the_step_token_and_tags(ctx, calls):
    vpc = make_vpc(ctx)
    pid, attrs = TABLE.create(ctx, {"VpcId": vpc, "Tags": [{"Key": "t", "Value": "public"}]})
    assert calls.of("CreateRouteTable")[0]["ClientToken"] == ctx.token
    assert attrs == {"RouteTableId": pid}
    live = assert_matches(TABLE, ctx, pid, {"VpcId": vpc, "Tags": [{"Key": "t", "Value": "public"}]})
    assert live.owner == OWNER
    TABLE.delete(ctx, pid, {})
    assert TABLE.read(ctx, pid, set()) is None


def test_route_target_changes_in_place_with_replace_route(ctx, calls):
    vpc = make_vpc(ctx)
    table, _ = TABLE.create(ctx, {"VpcId": vpc})
    first, _ = IGW.create(ctx, {})
    second, _ = IGW.create(ctx, {})
    props = {"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": first}
    pid, attrs = ROUTE.create(ctx, props)
    assert pid == f"{table}|0.0.0.0/0"
    assert attrs == {"RouteTableId": table, "CidrBlock": "0.0.0.0/0"}
    assert_matches(ROUTE, ctx, pid, props)
    calls.clear()
    new = {**props, "GatewayId": second}
    apply_update(ROUTE, ctx, pid, props, new)
    assert calls.mutating() == ["ReplaceRoute"]
    assert calls.of("ReplaceRoute") == [{"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0",
                                         "GatewayId": second}]
    assert_matches(ROUTE, ctx, pid, new)
    ROUTE.delete(ctx, pid, {})
    assert ROUTE.read(ctx, pid, set()) is None
    ROUTE.delete(ctx, pid, {})


def test_route_create_over_an_existing_route_answers_already_exists_and_lookup_finds_it(ctx):
    vpc = make_vpc(ctx)
    table, _ = TABLE.create(ctx, {"VpcId": vpc})
    gateway, _ = IGW.create(ctx, {})
    props = {"RouteTableId": table, "DestinationCidrBlock": "10.9.1.2/16", "GatewayId": gateway}
    assert ROUTE.lookup(ctx, props) is None
    raw().create_route(RouteTableId=table, DestinationCidrBlock="10.9.0.0/16", GatewayId=gateway)
    assert ROUTE.lookup(ctx, props) == f"{table}|10.9.0.0/16"  # the destination in canonical form
    assert create_meets_existing(ROUTE, ctx, props) == "RouteAlreadyExists"
    other_gateway, _ = IGW.create(ctx, {})
    create_meets_existing(ROUTE, ctx, {**props, "GatewayId": other_gateway})
    assert ROUTE.lookup(ctx, {**props, "DestinationCidrBlock": "10.8.0.0/16"}) is None
    assert ROUTE.lookup(ctx, {**props, "RouteTableId": UNKNOWN}) is None


def test_association_moves_the_subnet_in_place(ctx, calls):
    vpc = make_vpc(ctx)
    subnet, _ = SUBNET.create(ctx, {"VpcId": vpc, "CidrBlock": "10.0.1.0/24"})
    first, _ = TABLE.create(ctx, {"VpcId": vpc})
    second, _ = TABLE.create(other(ctx, "Other"), {"VpcId": vpc})
    props = {"SubnetId": subnet, "RouteTableId": first}
    assert ASSOC.lookup(ctx, props) is None  # only the main table's implicit association
    pid, attrs = ASSOC.create(ctx, props)
    assert ASSOC.lookup(ctx, props) == subnet
    assert ASSOC.lookup(ctx, {"SubnetId": subnet, "RouteTableId": second}) == subnet  # by the subnet alone
    assert pid == subnet and attrs["Id"].startswith("rtbassoc-")
    assert ASSOC.ref_value(pid, attrs) == attrs["Id"]  # ${Assoc} is the association id, as in CloudFormation
    assert_matches(ASSOC, ctx, pid, props)
    calls.clear()
    new = {**props, "RouteTableId": second}
    attrs2 = apply_update(ASSOC, ctx, pid, props, new)
    assert calls.mutating() == ["ReplaceRouteTableAssociation"]
    assert attrs2["Id"] != attrs["Id"]  # AWS gives the moved association a new id
    live = assert_matches(ASSOC, ctx, pid, new)
    assert live.attributes == attrs2
    assert ASSOC.read(ctx, attrs2["Id"], set()).properties == new  # an association id (import) reads too
    ASSOC.delete(ctx, pid, {})
    assert ASSOC.read(ctx, pid, set()) is None
    ASSOC.delete(ctx, pid, {})
    assert ASSOC.lookup(ctx, props) is None
    with pytest.raises(AwsError, match="no route table association"):
        update(ASSOC, ctx, pid, new, props)


# --- security group ---------------------------------------------------------------------------------

WEB_RULES = [
    {"IpProtocol": "6", "FromPort": "443", "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"},
    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "10.1.2.3/16"},
    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv6": "2001:DB8::/32", "Description": ""},
    {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "CidrIp": "10.0.0.0/8"},
]


def test_group_rules_read_back_in_spec_shape(ctx, calls):
    vpc = make_vpc(ctx)
    props = {"GroupName": "web", "GroupDescription": "web tier", "VpcId": vpc, "SecurityGroupIngress": WEB_RULES,
             "Tags": [{"Key": "tier", "Value": "web"}]}
    pid, attrs = GROUP.create(ctx, props)
    assert attrs == {"GroupId": pid, "Id": pid, "VpcId": vpc}
    assert len(calls.of("AuthorizeSecurityGroupIngress")) == 1
    assert calls.of("AuthorizeSecurityGroupEgress") == calls.of("RevokeSecurityGroupEgress") == []
    live = assert_matches(GROUP, ctx, pid, props)
    assert live.owner == OWNER
    assert unordered(live.properties["SecurityGroupIngress"]) == unordered([
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "CidrIp": "10.0.0.0/8"},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "10.1.0.0/16"},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv6": "2001:db8::/32"},
    ])
    # the default egress rule exists but is no change for a spec that does not mention egress
    live = GROUP.read(ctx, pid, set(props))
    assert "SecurityGroupEgress" not in live.properties
    full = GROUP.read(ctx, pid, {"SecurityGroupEgress"})
    assert full.properties["SecurityGroupEgress"] == [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]


def test_one_changed_rule_is_one_revoke_and_one_authorize(ctx, calls):
    vpc = make_vpc(ctx)
    props = {"GroupName": "web", "GroupDescription": "web", "VpcId": vpc, "SecurityGroupIngress": WEB_RULES}
    pid, _ = GROUP.create(ctx, props)
    new = copy.deepcopy(props)
    new["SecurityGroupIngress"][1]["CidrIp"] = "192.168.0.0/16"
    new["SecurityGroupIngress"].reverse()  # order is no change
    calls.clear()
    apply_update(GROUP, ctx, pid, props, new)
    assert calls.mutating() == ["RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"]
    revoked = calls.of("RevokeSecurityGroupIngress")[0]["IpPermissions"]
    added = calls.of("AuthorizeSecurityGroupIngress")[0]["IpPermissions"]
    assert revoked == [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]
    assert added == [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]}]
    assert_matches(GROUP, ctx, pid, new)
    calls.clear()
    apply_update(GROUP, ctx, pid, new, new)
    assert calls.mutating() == []


def test_egress_rules_replace_the_default_and_removing_them_restores_it(ctx, calls):
    vpc = make_vpc(ctx)
    web, _ = GROUP.create(other(ctx, "Web"), {"GroupName": "web", "GroupDescription": "web", "VpcId": vpc})
    props = {"GroupName": "db", "GroupDescription": "db", "VpcId": vpc,
             "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                       "SourceSecurityGroupId": web, "Description": "from web"}],
             "SecurityGroupEgress": [{"IpProtocol": -1, "FromPort": -1, "ToPort": -1, "CidrIp": "10.0.0.0/16"},
                                     {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                      "DestinationSecurityGroupId": web}]}
    calls.clear()
    pid, _ = GROUP.create(ctx, props)
    assert len(calls.of("RevokeSecurityGroupEgress")) == 1  # the default allow-all went
    live = assert_matches(GROUP, ctx, pid, props)
    assert {"IpProtocol": "-1", "CidrIp": "10.0.0.0/16"} in live.properties["SecurityGroupEgress"]
    removed = {k: v for k, v in props.items() if k != "SecurityGroupEgress"}
    apply_update(GROUP, ctx, pid, props, removed)
    live = assert_matches(GROUP, ctx, pid, removed, removed=["SecurityGroupEgress"])
    assert GROUP.read(ctx, pid, {"SecurityGroupEgress"}).properties["SecurityGroupEgress"] == [
        {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]
    # an empty list means the default too, as in CloudFormation
    assert_matches(GROUP, ctx, pid, {**removed, "SecurityGroupEgress": []})


def test_out_of_band_rule_shows_as_a_change_and_is_revoked(ctx, calls):
    vpc = make_vpc(ctx)
    props = {"GroupName": "g", "GroupDescription": "g", "VpcId": vpc, "SecurityGroupIngress": WEB_RULES[:1]}
    pid, _ = GROUP.create(ctx, props)
    raw().authorize_security_group_ingress(GroupId=pid, IpPermissions=[
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "1.1.1.1/32"}]}])
    live = GROUP.read(ctx, pid, set(props))
    view = GROUP.desired_view(props)
    changes = compare(set(view), view, live.properties, GROUP.defaults, GROUP.create_only, set())
    assert [c.path for c in changes] == ["SecurityGroupIngress[udp 53-53 1.1.1.1/32]"]  # the rule by its tuple
    calls.clear()
    update(GROUP, ctx, pid, live.properties, props)
    assert calls.mutating() == ["RevokeSecurityGroupIngress"]
    assert_matches(GROUP, ctx, pid, props)


def test_group_name_is_generated_never_as_a_group_id(ctx):
    assert GROUP.generate_name("web", "Sg", {}, "abcd1234") == "web-Sg-abcd1234"
    assert GROUP.generate_name("sg-prod", "Web", {}, "abcd1234") == "group-sg-prod-Web-abcd1234"
    assert GROUP.physical_id_for({"GroupName": "named"}) is None


def test_group_create_of_a_taken_name_answers_already_exists(ctx):
    vpc = make_vpc(ctx)
    props = {"GroupName": "g", "GroupDescription": "g", "VpcId": vpc}
    theirs, _ = GROUP.create(other(ctx, "Theirs"), props)
    assert create_meets_existing(GROUP, ctx, props) == "InvalidGroup.Duplicate"
    assert GROUP.find_owned(ctx, props) == []
    assert GROUP.find_owned(other(ctx, "Theirs"), props) == [theirs]


def test_group_delete_tolerates_gone(ctx):
    pid, _ = GROUP.create(ctx, {"GroupName": "g", "GroupDescription": "g", "VpcId": make_vpc(ctx)})
    GROUP.delete(ctx, pid, {})
    assert GROUP.read(ctx, pid, set()) is None
    GROUP.delete(ctx, pid, {})


# --- ownership lookups ----------------------------------------------------------------------------

def test_find_owned_finds_each_taggable_type_by_its_ownership_tags(ctx):
    vpc, _ = VPC.create(ctx, {"CidrBlock": "10.0.0.0/16"})
    made = {
        VPC: vpc,
        SUBNET: SUBNET.create(ctx, {"VpcId": vpc, "CidrBlock": "10.0.1.0/24"})[0],
        IGW: IGW.create(ctx, {})[0],
        TABLE: TABLE.create(ctx, {"VpcId": vpc})[0],
        GROUP: GROUP.create(ctx, {"GroupName": "g", "GroupDescription": "g", "VpcId": vpc})[0],
    }
    for handler, pid in made.items():
        assert handler.find_owned(ctx, {}) == [pid], handler.type_name
        assert handler.find_owned(other(ctx, "Somebody"), {}) == []
    assert ROUTE.find_owned(ctx, {}) == []  # untaggable: found by lookup (its table and destination)
    again = SUBNET.create(ctx, {"VpcId": vpc, "CidrBlock": "10.0.2.0/24"})[0]  # a create repeated
    assert SUBNET.find_owned(ctx, {}) == sorted([made[SUBNET], again])  # every copy, for the engine


def test_tag_for_ownership_adds_only_the_ownership_tags(ctx, calls):
    vpc = raw().create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "keep", "Value": "me"}]}])["Vpc"]["VpcId"]
    calls.clear()
    VPC.tag_for_ownership(ctx, vpc)
    assert calls.mutating() == ["CreateTags"]
    assert raw_tags(vpc) == {"keep": "me", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}
    assert VPC.read(ctx, vpc, set()).owner == OWNER


def _counts_during(ctx: Context, action) -> dict[str, int]:
    before = ctx.aws.log.counts()
    action()
    return dict(ctx.aws.log.counts() - before)


def test_creates_reuse_what_the_create_answers(ctx):
    """An available VPC or subnet is not waited for nor described again; a security group's read
    (needed for its default rules) is its existence check."""
    vpc = {}
    counts = _counts_during(ctx, lambda: vpc.update(pid=VPC.create(ctx, {"CidrBlock": "10.3.0.0/16"})[0]))
    assert counts == {"ec2.CreateVpc": 1}
    counts = _counts_during(ctx, lambda: SUBNET.create(ctx, {"VpcId": vpc["pid"], "CidrBlock": "10.3.1.0/24"}))
    assert counts == {"ec2.CreateSubnet": 1}
    counts = _counts_during(ctx, lambda: GROUP.create(ctx, {"GroupName": "g", "GroupDescription": "d",
                                                            "VpcId": vpc["pid"]}))
    assert counts == {"ec2.CreateSecurityGroup": 1, "ec2.DescribeSecurityGroups": 1}


def test_a_pending_vpc_or_subnet_is_waited_for_and_described(ctx):
    client = ctx.client("ec2")

    def pending(parsed, **_):
        for key in ("Vpc", "Subnet"):
            if key in parsed:
                parsed[key]["State"] = "pending"

    client.meta.events.register("after-call.ec2.CreateVpc", pending)
    client.meta.events.register("after-call.ec2.CreateSubnet", pending)
    made = {}
    counts = _counts_during(ctx, lambda: made.update(vpc=VPC.create(ctx, {"CidrBlock": "10.4.0.0/16"})))
    assert counts["ec2.DescribeVpcs"] == 2  # the waiter, then the attributes
    assert made["vpc"][1]["CidrBlockAssociations"]
    counts = _counts_during(ctx, lambda: made.update(
        subnet=SUBNET.create(ctx, {"VpcId": made["vpc"][0], "CidrBlock": "10.4.1.0/24"})))
    assert counts["ec2.DescribeSubnets"] == 2 and made["subnet"][1]["AvailabilityZoneId"]
