"""Cases for AWS::EC2::VPCEndpoint: an Interface endpoint (subnets, security groups) and a Gateway
endpoint (route tables, policy).

Left out here (moto's ModifyVpcEndpoint ignores them; tests/unit/test_handlers_ec2_endpoints.py checks
the requests): a change of PrivateDnsEnabled, and removing PolicyDocument (ResetPolicy). The Interface
case comes first: its DnsEntries and NetworkInterfaceIds are not empty, so the attributes test sees them.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tests.integration.cases import Case

NET = {"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.20.0.0/16"}}


def _subnet(cidr: str, zone: str) -> dict[str, Any]:
    return {"type": "AWS::EC2::Subnet", "properties": {"VpcId": "${Net}", "CidrBlock": cidr, "AvailabilityZone": zone}}


def _group(name: str) -> dict[str, Any]:
    return {"type": "AWS::EC2::SecurityGroup",
            "properties": {"VpcId": "${Net}", "GroupName": name, "GroupDescription": name}}


TABLE = {"type": "AWS::EC2::RouteTable", "properties": {"VpcId": "${Net}"}}
INTERFACE_SUPPORT = {"Net": NET, "SubnetA": _subnet("10.20.1.0/24", "us-east-1a"),
                     "SubnetB": _subnet("10.20.2.0/24", "us-east-1b"),
                     "GroupA": _group("itest-vpce-a"), "GroupB": _group("itest-vpce-b")}
GATEWAY_SUPPORT = {"Net": NET, "TableA": TABLE, "TableB": TABLE}


def _policy(*actions: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": list(actions), "Resource": "*"}]}


def _described(c, pid: str) -> dict[str, Any] | None:
    try:
        found = c("ec2").describe_vpc_endpoints(VpcEndpointIds=[pid])["VpcEndpoints"]
    except ClientError:
        return None
    return found[0] if found else None


def endpoint_exists(c, pid: str) -> bool:
    item = _described(c, pid)
    return item is not None and item["State"].lower() not in ("deleting", "deleted")


def drop_a_subnet(c, pid: str) -> None:
    """Out of band: one of the endpoint's subnets is taken away."""
    subnet = sorted(_described(c, pid)["SubnetIds"])[0]
    c("ec2").modify_vpc_endpoint(VpcEndpointId=pid, RemoveSubnetIds=[subnet])


CASES = [
    Case(
        id="ec2-vpc-endpoint-interface",
        type="AWS::EC2::VPCEndpoint",
        support=INTERFACE_SUPPORT,
        props={"VpcId": "${Net}", "ServiceName": "com.amazonaws.us-east-1.sqs", "VpcEndpointType": "Interface",
               "SubnetIds": ["${SubnetA}"], "SecurityGroupIds": ["${GroupA}"],
               "Tags": [{"Key": "team", "Value": "net"}]},
        updates=[
            {"SubnetIds": ["${SubnetA}", "${SubnetB}"]},
            {"SecurityGroupIds": ["${GroupB}", "${GroupA}"]},
            {"PolicyDocument": _policy("sqs:SendMessage")},
            {"Tags": [{"Key": "team", "Value": "edge"}]},
        ],
        replace={"ServiceName": "com.amazonaws.us-east-1.sns"},
        remove=["SecurityGroupIds", "Tags"],  # the VPC's default security group, no user tags
        drift=drop_a_subnet,
        exists=endpoint_exists,
    ),
    Case(
        id="ec2-vpc-endpoint-gateway",
        type="AWS::EC2::VPCEndpoint",
        support=GATEWAY_SUPPORT,
        props={"VpcId": "${Net}", "ServiceName": "com.amazonaws.us-east-1.s3", "RouteTableIds": ["${TableA}"],
               "PolicyDocument": _policy("s3:GetObject")},
        updates=[
            {"RouteTableIds": ["${TableA}", "${TableB}"]},
            {"PolicyDocument": _policy("s3:GetObject", "s3:PutObject")},
            {"Tags": [{"Key": "team", "Value": "data"}]},
        ],
        replace={"ServiceName": "com.amazonaws.us-east-1.dynamodb", "PolicyDocument": _policy("dynamodb:GetItem")},
        remove=["RouteTableIds", "Tags"],
        drift=lambda c, pid: c("ec2").modify_vpc_endpoint(VpcEndpointId=pid, PolicyDocument=json.dumps(_policy("*"))),
        exists=endpoint_exists,
    ),
]
