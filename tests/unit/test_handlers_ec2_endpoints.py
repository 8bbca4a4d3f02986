"""The VPC endpoint handler against in-process moto: Gateway and Interface endpoints created with every
property and read back in spec shape, CloudFormation's defaults made explicit (type Gateway, private
DNS off, the VPC's default security group), each list changed in place with one ModifyVpcEndpoint,
reads batched by id (one missing id does not hide the others), ownership by tags, waits on create and
delete, and deletes that tolerate what is already gone.

moto lacks some of what AWS does; those tests check the request the handler sends instead:
ModifyVpcEndpoint ignores ResetPolicy and PrivateDnsEnabled, and no `vpc-endpoint-id` filter exists
(reads describe by VpcEndpointIds, which AWS accepts too)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deployer.errors import AwsError
from deployer.resources import ec2_endpoints, handler_for
from deployer.resources.base import Context
from deployer.spec.refs import UNKNOWN
from tests.unit.handler_support import ref_property, view
from tests.unit.messaging_support import OWNER, apply_update, assert_matches, changes, policy

ENDPOINT = ec2_endpoints.VpcEndpoint()
S3 = "com.amazonaws.us-east-1.s3"
SQS = "com.amazonaws.us-east-1.sqs"


def ec2():
    return boto3.client("ec2", region_name="us-east-1")


@pytest.fixture
def net(aws, monkeypatch) -> dict[str, str]:
    """A VPC with two subnets, route tables and security groups (moto's default AMIs are not loaded:
    building them costs seconds per test, and no endpoint needs one)."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    vpc = ec2().create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    out = {"vpc": vpc}
    for i, zone in enumerate(("us-east-1a", "us-east-1b")):
        out[f"subnet{i}"] = ec2().create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        out[f"table{i}"] = ec2().create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        out[f"group{i}"] = ec2().create_security_group(VpcId=vpc, GroupName=f"g{i}", Description="g")["GroupId"]
    out["default_group"] = ec2().describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    return out


def gateway(net: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"VpcId": net["vpc"], "ServiceName": S3, "RouteTableIds": [net["table0"]], **extra}


def interface(net: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"VpcId": net["vpc"], "ServiceName": SQS, "VpcEndpointType": "Interface", "SubnetIds": [net["subnet0"]],
            **extra}


def s3_read_only(*statements: Any) -> dict[str, Any]:
    return policy({"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": "*"}, *statements)


def test_endpoint_metadata():
    assert isinstance(handler_for("AWS::EC2::VPCEndpoint"), ec2_endpoints.VpcEndpoint)
    assert ENDPOINT.create_only == {"VpcId", "ServiceName", "VpcEndpointType"}
    assert ENDPOINT.attribute_names == ("NetworkInterfaceIds", "CreationTimestamp", "DnsEntries", "Id")
    assert ref_property(ENDPOINT) == "Id" and ENDPOINT.taggable and ENDPOINT.create_takes_token


def test_gateway_endpoint_create_reads_back(ctx, net, calls):
    props = gateway(net, PolicyDocument=s3_read_only(), Tags=[{"Key": "team", "Value": "net"}])
    ctx.token = "token-of-this-step"
    pid, attrs = ENDPOINT.create(ctx, props)
    sent = calls.of("CreateVpcEndpoint")[0]
    assert sent["VpcEndpointType"] == "Gateway" and sent["ClientToken"] == "token-of-this-step"
    assert "PrivateDnsEnabled" not in sent and "SecurityGroupIds" not in sent
    assert json.loads(sent["PolicyDocument"]) == s3_read_only()
    assert attrs["Id"] == pid and attrs["DnsEntries"] == [] and attrs["NetworkInterfaceIds"] == []
    assert attrs["CreationTimestamp"][:4].isdigit()
    live = assert_matches(ENDPOINT, ctx, pid, props)
    assert live.owner == OWNER and live.properties["VpcEndpointType"] == "Gateway"
    assert "PrivateDnsEnabled" not in live.properties  # a Gateway endpoint has no private DNS
    assert live.attributes["Id"] == pid


def test_interface_endpoint_defaults_are_cloudformations(ctx, net, calls):
    props = interface(net)
    pid, attrs = ENDPOINT.create(ctx, props)
    sent = calls.of("CreateVpcEndpoint")[0]
    assert sent["PrivateDnsEnabled"] is False  # CloudFormation's default (the API's is true)
    assert sent["SecurityGroupIds"] == [net["default_group"]]  # what AWS uses when none is given
    assert attrs["NetworkInterfaceIds"] and all(":" in entry for entry in attrs["DnsEntries"])
    desired = view(ENDPOINT, ctx, props)
    assert desired["SecurityGroupIds"] == [net["default_group"]] and desired["PrivateDnsEnabled"] is False
    assert_matches(ENDPOINT, ctx, pid, props)


def test_the_default_group_is_read_at_plan_time_only_when_needed(ctx, net, calls):
    assert ENDPOINT.plan_reads(ctx, interface(net)) == {"default_group": net["default_group"]}
    calls.clear()
    assert ENDPOINT.plan_reads(ctx, interface(net, SecurityGroupIds=[net["group0"]])) == {}
    assert ENDPOINT.plan_reads(ctx, gateway(net)) == {}
    assert ENDPOINT.plan_reads(ctx, {**interface(net), "VpcId": UNKNOWN}) == {}  # the VPC is being made
    assert calls.names() == []
    assert "SecurityGroupIds" not in ENDPOINT.desired_view(interface(net), {})


def test_lists_change_in_place_with_one_modify(ctx, net, calls):
    props = interface(net, SecurityGroupIds=[net["group0"]])
    pid, _ = ENDPOINT.create(ctx, props)
    new = interface(net, SubnetIds=[net["subnet1"], net["subnet0"]], SecurityGroupIds=[net["group1"]])
    calls.clear()
    apply_update(ENDPOINT, ctx, pid, props, new)
    assert calls.of("ModifyVpcEndpoint") == [{"VpcEndpointId": pid, "AddSubnetIds": [net["subnet1"]],
                                              "AddSecurityGroupIds": [net["group1"]],
                                              "RemoveSecurityGroupIds": [net["group0"]]}]
    assert_matches(ENDPOINT, ctx, pid, new)


def test_removed_security_groups_go_back_to_the_vpc_default(ctx, net, calls):
    props = interface(net, SecurityGroupIds=[net["group0"]])
    pid, _ = ENDPOINT.create(ctx, props)
    calls.clear()
    apply_update(ENDPOINT, ctx, pid, props, interface(net))
    assert calls.of("ModifyVpcEndpoint") == [{"VpcEndpointId": pid, "AddSecurityGroupIds": [net["default_group"]],
                                              "RemoveSecurityGroupIds": [net["group0"]]}]
    assert_matches(ENDPOINT, ctx, pid, interface(net))


def test_route_tables_and_policy_of_a_gateway_endpoint(ctx, net, calls):
    props = gateway(net)
    pid, _ = ENDPOINT.create(ctx, props)
    new = gateway(net, RouteTableIds=[net["table1"]], PolicyDocument=s3_read_only())
    calls.clear()
    apply_update(ENDPOINT, ctx, pid, props, new)
    sent = calls.of("ModifyVpcEndpoint")[0]
    assert (sent["AddRouteTableIds"], sent["RemoveRouteTableIds"]) == ([net["table1"]], [net["table0"]])
    assert json.loads(sent["PolicyDocument"]) == s3_read_only()
    assert_matches(ENDPOINT, ctx, pid, new)


def test_a_removed_policy_is_reset(ctx, net, calls):
    """moto ignores ResetPolicy (AWS puts the full-access policy back): the request is what is checked."""
    props = gateway(net, PolicyDocument=s3_read_only())
    pid, _ = ENDPOINT.create(ctx, props)
    live = ENDPOINT.read(ctx, pid, set(props))
    calls.clear()
    ENDPOINT.update(ctx, pid, live.properties, gateway(net), frozenset({"PolicyDocument"}))
    assert calls.of("ModifyVpcEndpoint") == [{"VpcEndpointId": pid, "ResetPolicy": True}]
    written_default = gateway(net, PolicyDocument=ec2_endpoints.FULL_ACCESS)
    assert changes(ENDPOINT, ctx, pid, gateway(net), removed=["PolicyDocument"]) != []  # moto kept the old one
    assert view(ENDPOINT, ctx, written_default)["PolicyDocument"] == ec2_endpoints.FULL_ACCESS


def test_private_dns_is_modified_for_interface_endpoints(ctx, net, calls):
    """moto ignores ModifyVpcEndpoint's PrivateDnsEnabled: the request is what is checked."""
    props = interface(net)
    pid, _ = ENDPOINT.create(ctx, props)
    live = ENDPOINT.read(ctx, pid, set(props) | {"PrivateDnsEnabled"})
    calls.clear()
    ENDPOINT.update(ctx, pid, live.properties, interface(net, PrivateDnsEnabled=True), frozenset({"PrivateDnsEnabled"}))
    assert calls.of("ModifyVpcEndpoint") == [{"VpcEndpointId": pid, "PrivateDnsEnabled": True}]
    assert "PrivateDnsEnabled" not in view(ENDPOINT, ctx, gateway(net, PrivateDnsEnabled=True))


def test_tags_change_with_the_ec2_tag_calls(ctx, net, calls):
    props = gateway(net, Tags=[{"Key": "team", "Value": "net"}])
    pid, _ = ENDPOINT.create(ctx, props)
    new = gateway(net, Tags=[{"Key": "team", "Value": "edge"}])
    calls.clear()
    apply_update(ENDPOINT, ctx, pid, props, new)
    assert "ModifyVpcEndpoint" not in calls.names() and "CreateTags" in calls.names()
    assert_matches(ENDPOINT, ctx, pid, new)


def test_reads_are_batched_and_a_missing_id_hides_no_other(ctx, net, calls):
    first, _ = ENDPOINT.create(ctx, gateway(net))
    second, _ = ENDPOINT.create(ctx, interface(net))
    calls.clear()
    lives = ENDPOINT.read_many([(ctx, first, set()), (ctx, second, set())])
    assert [live.attributes["Id"] for live in lives] == [first, second]
    assert calls.names() == ["DescribeVpcEndpoints"]
    calls.clear()
    lives = ENDPOINT.read_many([(ctx, first, set()), (ctx, "vpce-0123456789abcdef0", set()), (ctx, second, set())])
    assert [live is not None for live in lives] == [True, False, True]
    assert calls.names() == ["DescribeVpcEndpoints"] * 4  # the whole batch failed, then one id at a time


def test_found_again_by_its_ownership_tags(ctx, net):
    pid, _ = ENDPOINT.create(ctx, gateway(net))
    other = Context(ctx.aws, "us-east-1", "teststack", "Other")
    assert ENDPOINT.find_owned(ctx, {}) == [pid] and ENDPOINT.find_owned(other, {}) == []
    ENDPOINT.delete(ctx, pid, {})
    assert ENDPOINT.find_owned(ctx, {}) == []  # a deleted endpoint does not count


def test_delete_waits_until_gone_and_tolerates_gone(ctx, net, calls):
    pid, _ = ENDPOINT.create(ctx, interface(net))
    calls.clear()
    ENDPOINT.delete(ctx, pid, {})
    assert calls.names()[0] == "DeleteVpcEndpoints" and "DescribeVpcEndpoints" in calls.names()
    assert ENDPOINT.read(ctx, pid, set()) is None  # moto keeps it as "deleted", which counts as gone
    ENDPOINT.delete(ctx, "vpce-0123456789abcdef0", {})


def test_a_refused_delete_is_an_error(ctx, net):
    def refuse(model: Any, **_: Any):
        if model.name == "DeleteVpcEndpoints":
            from botocore.awsrequest import AWSResponse
            return AWSResponse("https://stub.invalid", 200, {}, None), {"Unsuccessful": [
                {"ResourceId": "vpce-1", "Error": {"Code": "InvalidParameter", "Message": "in use"}}]}
        return None
    ctx.aws.hooks.append(("before-call.*.*", refuse))
    with pytest.raises(AwsError, match="InvalidParameter: in use"):
        ENDPOINT.delete(ctx, "vpce-1", {})


def test_create_waits_while_pending(ctx, net, pauses, monkeypatch):
    states = iter(["pending", "pending", "available"])
    real = ENDPOINT.describe

    def describe(c, ids):
        found = real(c, ids)
        return {k: {**v, "State": next(states)} for k, v in found.items()}
    monkeypatch.setattr(ENDPOINT, "describe", describe)
    ENDPOINT.create(ctx, interface(net))
    assert len(pauses) == 2


def test_describe_errors_other_than_not_found_are_raised(ctx, net):
    def fail(model: Any, **_: Any):
        if model.name == "DescribeVpcEndpoints":
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeVpcEndpoints")
    ctx.aws.hooks.append(("before-call.*.*", fail))
    with pytest.raises(ClientError):
        ENDPOINT.read(ctx, "vpce-0123456789abcdef0", set())
