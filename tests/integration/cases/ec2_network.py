"""Cases for the EC2 networking types: VPC, subnet, internet gateway and attachment, route table,
route, subnet-route-table association, security group."""

from __future__ import annotations

from typing import Any

from tests.integration.cases import Case

NET = {"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.0.0.0/16"}}
NET2 = {"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.1.0.0/16"}}
GATEWAY: dict[str, Any] = {"type": "AWS::EC2::InternetGateway", "properties": {}}
TABLE = {"type": "AWS::EC2::RouteTable", "properties": {"VpcId": "${Net}"}}


def _found(c, operation: str, key: str, filter_name: str, value: str) -> list[dict[str, Any]]:
    return getattr(c("ec2"), operation)(Filters=[{"Name": filter_name, "Values": [value]}])[key]


def vpc_exists(c, pid: str) -> bool:
    return bool(_found(c, "describe_vpcs", "Vpcs", "vpc-id", pid))


def subnet_exists(c, pid: str) -> bool:
    return bool(_found(c, "describe_subnets", "Subnets", "subnet-id", pid))


def gateway_exists(c, pid: str) -> bool:
    return bool(_found(c, "describe_internet_gateways", "InternetGateways", "internet-gateway-id", pid))


def attachment_exists(c, pid: str) -> bool:
    gateway, _, vpc = pid.partition("|")
    found = _found(c, "describe_internet_gateways", "InternetGateways", "internet-gateway-id", gateway)
    return any(a["VpcId"] == vpc for g in found for a in g.get("Attachments", []))


def table_exists(c, pid: str) -> bool:
    return bool(_found(c, "describe_route_tables", "RouteTables", "route-table-id", pid))


def route_exists(c, pid: str) -> bool:
    table, _, cidr = pid.partition("|")
    found = _found(c, "describe_route_tables", "RouteTables", "route-table-id", table)
    return any(r.get("DestinationCidrBlock") == cidr for t in found for r in t["Routes"])


def association_exists(c, pid: str) -> bool:
    return bool(_found(c, "describe_route_tables", "RouteTables", "association.subnet-id", pid))


def group_exists(c, pid: str) -> bool:
    return bool(_found(c, "describe_security_groups", "SecurityGroups", "group-id", pid))


def move_subnet_to_main_table(c, subnet: str) -> None:
    """Out of band: the subnet's association is pointed at its VPC's main route table."""
    table = _found(c, "describe_route_tables", "RouteTables", "association.subnet-id", subnet)[0]
    association = next(a for a in table["Associations"] if a.get("SubnetId") == subnet)
    main = c("ec2").describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [table["VpcId"]]},
                                                   {"Name": "association.main", "Values": ["true"]}])
    c("ec2").replace_route_table_association(AssociationId=association["RouteTableAssociationId"],
                                             RouteTableId=main["RouteTables"][0]["RouteTableId"])


def delete_route(c, pid: str) -> None:
    table, _, cidr = pid.partition("|")
    c("ec2").delete_route(RouteTableId=table, DestinationCidrBlock=cidr)


def detach_gateway(c, pid: str) -> None:
    gateway, _, vpc = pid.partition("|")
    c("ec2").detach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)


CASES = [
    Case(
        id="ec2-vpc",
        type="AWS::EC2::VPC",
        props={"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": True, "Tags": [{"Key": "team", "Value": "net"}]},
        updates=[
            {"EnableDnsHostnames": True},
            {"Tags": [{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "7"}]},
        ],
        replace={"CidrBlock": "10.1.0.0/16"},
        remove=["EnableDnsHostnames", "Tags"],
        drift=lambda c, pid: c("ec2").modify_vpc_attribute(VpcId=pid, EnableDnsHostnames={"Value": False}),
        exists=vpc_exists,
    ),
    Case(
        id="ec2-subnet",
        type="AWS::EC2::Subnet",
        support={"Net": NET},
        props={"VpcId": "${Net}", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"},
        updates=[
            {"MapPublicIpOnLaunch": True},
            {"Tags": [{"Key": "tier", "Value": "public"}]},
        ],
        replace={"CidrBlock": "10.0.2.0/24"},
        remove=["MapPublicIpOnLaunch", "Tags"],
        drift=lambda c, pid: c("ec2").modify_subnet_attribute(SubnetId=pid, MapPublicIpOnLaunch={"Value": False}),
        exists=subnet_exists,
    ),
    Case(
        id="ec2-internet-gateway",
        type="AWS::EC2::InternetGateway",
        props={"Tags": [{"Key": "team", "Value": "net"}]},
        updates=[{"Tags": [{"Key": "team", "Value": "edge"}]}],
        replace=None,  # nothing about a gateway is create-only
        remove=["Tags"],
        drift=lambda c, pid: c("ec2").create_tags(Resources=[pid], Tags=[{"Key": "team", "Value": "by-hand"}]),
        exists=gateway_exists,
    ),
    Case(
        id="ec2-vpc-gateway-attachment",
        type="AWS::EC2::VPCGatewayAttachment",
        support={"Net": NET, "Gw": GATEWAY, "Gw2": GATEWAY},
        props={"VpcId": "${Net}", "InternetGatewayId": "${Gw}"},
        updates=[],  # both properties are create-only
        replace={"InternetGatewayId": "${Gw2}"},
        drift=detach_gateway,
        drift_gone=True,
        exists=attachment_exists,
    ),
    Case(
        id="ec2-route-table",
        type="AWS::EC2::RouteTable",
        support={"Net": NET, "Net2": NET2},
        props={"VpcId": "${Net}", "Tags": [{"Key": "scope", "Value": "public"}]},
        updates=[{"Tags": [{"Key": "scope", "Value": "private"}]}],
        replace={"VpcId": "${Net2}"},
        remove=["Tags"],
        drift=lambda c, pid: c("ec2").create_tags(Resources=[pid], Tags=[{"Key": "scope", "Value": "by-hand"}]),
        exists=table_exists,
    ),
    Case(
        id="ec2-route",
        type="AWS::EC2::Route",
        # moto does not check that a route's gateway is attached to the table's VPC (AWS does); the case
        # moves the route between two gateways to exercise ReplaceRoute
        support={"Net": NET, "Rt": TABLE, "Gw": GATEWAY, "Gw2": GATEWAY},
        props={"RouteTableId": "${Rt}", "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "${Gw}"},
        updates=[{"GatewayId": "${Gw2}"}],
        replace={"DestinationCidrBlock": "10.50.0.0/16"},
        drift=delete_route,
        drift_gone=True,
        exists=route_exists,
    ),
    Case(
        id="ec2-subnet-route-table-association",
        type="AWS::EC2::SubnetRouteTableAssociation",
        support={"Net": NET, "Rt": TABLE, "Rt2": TABLE,
                 "Sub": {"type": "AWS::EC2::Subnet", "properties": {"VpcId": "${Net}", "CidrBlock": "10.0.1.0/24"}},
                 "Sub2": {"type": "AWS::EC2::Subnet", "properties": {"VpcId": "${Net}", "CidrBlock": "10.0.2.0/24"}}},
        props={"SubnetId": "${Sub}", "RouteTableId": "${Rt}"},
        updates=[{"RouteTableId": "${Rt2}"}],  # in place, with ReplaceRouteTableAssociation
        replace={"SubnetId": "${Sub2}"},
        drift=move_subnet_to_main_table,
        exists=association_exists,
    ),
    Case(
        id="ec2-security-group",
        type="AWS::EC2::SecurityGroup",
        support={"Net": NET, "Peer": {"type": "AWS::EC2::SecurityGroup",
                                      "properties": {"GroupDescription": "peer", "VpcId": "${Net}"}}},
        props={"GroupDescription": "app", "VpcId": "${Net}",
               "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]},
        updates=[
            {"SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
                {"IpProtocol": "6", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8", "Description": "ssh"},
                {"IpProtocol": "-1", "SourceSecurityGroupId": "${Peer}"}]},
            {"SecurityGroupEgress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "DestinationSecurityGroupId": "${Peer}"}]},
            {"Tags": [{"Key": "tier", "Value": "app"}]},
        ],
        replace={"GroupDescription": "app, second edition"},
        remove=["SecurityGroupEgress", "SecurityGroupIngress", "Tags"],
        drift=lambda c, pid: c("ec2").authorize_security_group_ingress(GroupId=pid, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "1.1.1.1/32"}]}]),
        exists=group_exists,
    ),
]
