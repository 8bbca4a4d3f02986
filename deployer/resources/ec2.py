"""EC2 networking handlers: VPC, subnet, internet gateway and its attachment, route table, route,
subnet-route-table association, security group.

Reads are batched: `read_many` describes every resource of a kind in a region with one filtered call
per 200 ids (see ec2_common), so a plan of a hundred subnets costs one DescribeSubnets. Taggable
types are tagged on create with TagSpecifications (user tags and ownership tags at once), so a
resource whose create answer was lost is found again by its tags (`find_owned`).

Three types are not objects AWS tags; their physical ids are derived from their parents:
- a VPCGatewayAttachment is "IGW_ID|VPC_ID";
- a Route is "ROUTE_TABLE_ID|DESTINATION_CIDR";
- a SubnetRouteTableAssociation is its subnet id (a subnet has at most one explicit association).
  The association id is what ${Name} gives (CloudFormation's Ref), but it cannot be the physical id:
  ReplaceRouteTableAssociation, which moves a subnet to another route table in place, gives the
  association a new id, and a physical id must survive an in-place update.

Creates of those three have no idempotency token in the API; their physical ids follow from their
properties, so after a lost answer the engine reads the id and adopts what it finds (and the plan
refuses to take over one that exists before the stack made it: `lookup`).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any, ClassVar

from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.resources.base import Context, Handler, Live, owner_of, user_tags
from deployer.resources.ec2_common import (
    NOT_FOUND,
    Request,
    TaggedEc2,
    by_region,
    describe_by_ids,
    ignore_missing,
    retry_dependency,
    wait_visible,
)
from deployer.spec.refs import Unknown

ALLOW_ALL_EGRESS = {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
ROUTE_TARGETS = ("GatewayId", "NatGatewayId", "InstanceId", "NetworkInterfaceId", "VpcPeeringConnectionId",
                 "TransitGatewayId", "VpcEndpointId")
DNS_ATTRIBUTES = {"EnableDnsSupport": "enableDnsSupport", "EnableDnsHostnames": "enableDnsHostnames"}
LIVE_ASSOCIATION_STATES = ("associating", "associated")
LIVE_ATTACHMENT_STATES = ("attaching", "attached", "available")
# attributes that cost a describe of another kind each: left out of a create's answer, read when referred to
VPC_LAZY = frozenset({"DefaultSecurityGroup", "DefaultNetworkAcl"})
SUBNET_LAZY = frozenset({"NetworkAclAssociationId"})


def canonical_cidr(value: Any) -> Any:
    """A CIDR in the form AWS stores it (host bits cleared, IPv6 compressed); anything else unchanged."""
    if not isinstance(value, str) or "/" not in value:
        return value
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return value


def _with_cidr(props: dict[str, Any], key: str) -> dict[str, Any]:
    if key not in props:
        return props
    return {**props, key: canonical_cidr(props[key])}


def _flag(value: Any) -> bool:
    return canon(value) is True


# --- VPC ----------------------------------------------------------------------------------------

class Vpc(TaggedEc2):
    """AWS::EC2::VPC; physical id the VPC id. The DNS settings cost one DescribeVpcAttribute each,
    made only when the spec or the last apply set them."""

    type_name = "AWS::EC2::VPC"
    lazy_attributes = VPC_LAZY
    describe_operation = "describe_vpcs"
    result_key = "Vpcs"
    id_key = "VpcId"
    id_filter = "vpc-id"
    resource_type = "vpc"
    defaults: ClassVar[dict[str, Any]] = {"EnableDnsSupport": True, "EnableDnsHostnames": False,
                                          "InstanceTenancy": "default", "Tags": []}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _with_cidr(props, "CidrBlock")

    def describe(self, ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The VPCs, each with its default security group and network ACL (two more batched calls)."""
        return self._with_defaults(ctx, super().describe(ctx, ids))

    @staticmethod
    def _with_defaults(ctx: Context, vpcs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Described VPCs with their default security group and network ACL added."""
        if not vpcs:
            return vpcs
        ec2 = ctx.client("ec2")
        groups = describe_by_ids(ec2, "describe_security_groups", "SecurityGroups", "vpc-id", list(vpcs),
                                 [{"Name": "group-name", "Values": ["default"]}])
        acls = describe_by_ids(ec2, "describe_network_acls", "NetworkAcls", "vpc-id", list(vpcs),
                               [{"Name": "default", "Values": ["true"]}])
        for group in groups:
            vpcs[group["VpcId"]]["DefaultSecurityGroup"] = group["GroupId"]
        for acl in acls:
            vpcs[acl["VpcId"]]["DefaultNetworkAcl"] = acl["NetworkAclId"]
        return vpcs

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        props = {"CidrBlock": canonical_cidr(item["CidrBlock"]), "InstanceTenancy": item.get("InstanceTenancy", "default"),
                 "Tags": user_tags(item.get("Tags"))}
        props.update(_dns_settings(ctx, item["VpcId"], wanted))
        return Live(self.trim(props, wanted), _vpc_attributes(item), owner_of(item.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        args: dict[str, Any] = {"CidrBlock": props["CidrBlock"],
                                "TagSpecifications": self.tag_specifications(ctx, props)}
        if props.get("InstanceTenancy"):
            args["InstanceTenancy"] = props["InstanceTenancy"]
        vpc = ec2.create_vpc(**args)["Vpc"]
        vpc_id = vpc["VpcId"]
        if vpc.get("State") != "available":  # AWS answers pending: wait, then describe it again
            ec2.get_waiter("vpc_available").wait(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
            vpc = None
        self._set_dns(ec2, vpc_id, props, {k for k in DNS_ATTRIBUTES if self.differs({}, props, k)})
        if vpc is None:
            vpc = super().describe(ctx, [vpc_id])[vpc_id]
        return vpc_id, _vpc_attributes(vpc)  # the default group and ACL are read when referred to

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        after = self.desired_view(after)
        self._set_dns(ctx.client("ec2"), physical_id, after, changed)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return self._attributes(ctx, physical_id)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        retry_dependency(lambda: ignore_missing(ec2.delete_vpc, VpcId=physical_id))

    def _set_dns(self, ec2: Any, vpc_id: str, after: dict[str, Any], keys: set[str] | frozenset[str]) -> None:
        """One ModifyVpcAttribute per changed setting. Hostnames need DNS support, so support is
        turned on before hostnames and off after them."""
        changed = {k: _flag(after.get(k, self.defaults[k])) for k in DNS_ATTRIBUTES if k in keys}
        order = list(DNS_ATTRIBUTES) if changed.get("EnableDnsSupport", True) else list(reversed(DNS_ATTRIBUTES))
        for key in order:
            if key in changed:
                ec2.modify_vpc_attribute(VpcId=vpc_id, **{key: {"Value": changed[key]}})

    def _attributes(self, ctx: Context, vpc_id: str) -> dict[str, Any]:
        return _vpc_attributes(self.describe(ctx, [vpc_id])[vpc_id])


def _dns_settings(ctx: Context, vpc_id: str, wanted: set[str]) -> dict[str, bool]:
    ec2 = ctx.client("ec2")
    out: dict[str, bool] = {}
    for key, attribute in DNS_ATTRIBUTES.items():
        if key in wanted:
            out[key] = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"]
    return out


def _vpc_attributes(item: dict[str, Any]) -> dict[str, Any]:
    associations = [a["AssociationId"] for a in item.get("CidrBlockAssociationSet", [])
                    if (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"]
    return {"VpcId": item["VpcId"], "CidrBlock": canonical_cidr(item["CidrBlock"]),
            "CidrBlockAssociations": associations, **{k: item[k] for k in VPC_LAZY if item.get(k)}}


# --- subnet -------------------------------------------------------------------------------------

class Subnet(TaggedEc2):
    """AWS::EC2::Subnet; physical id the subnet id. Only MapPublicIpOnLaunch and Tags change in place."""

    type_name = "AWS::EC2::Subnet"
    lazy_attributes = SUBNET_LAZY
    describe_operation = "describe_subnets"
    result_key = "Subnets"
    id_key = "SubnetId"
    id_filter = "subnet-id"
    resource_type = "subnet"
    defaults: ClassVar[dict[str, Any]] = {"MapPublicIpOnLaunch": False, "Tags": []}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _with_cidr(props, "CidrBlock")

    def describe(self, ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The subnets, each with its network ACL association (one more batched call)."""
        return self._with_acls(ctx, super().describe(ctx, ids))

    @staticmethod
    def _with_acls(ctx: Context, subnets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Described subnets with their network ACL association added."""
        if subnets:
            acls = describe_by_ids(ctx.client("ec2"), "describe_network_acls", "NetworkAcls",
                                   "association.subnet-id", list(subnets))
            for acl in acls:
                for association in acl.get("Associations", []):
                    if association.get("SubnetId") in subnets:
                        subnets[association["SubnetId"]]["NetworkAclAssociationId"] = \
                            association["NetworkAclAssociationId"]
        return subnets

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        props = {"VpcId": item["VpcId"], "CidrBlock": canonical_cidr(item["CidrBlock"]), "AvailabilityZone": item["AvailabilityZone"],
                 "MapPublicIpOnLaunch": bool(item.get("MapPublicIpOnLaunch")), "Tags": user_tags(item.get("Tags"))}
        return Live(self.trim(props, wanted), _subnet_attributes(item), owner_of(item.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        args: dict[str, Any] = {"VpcId": props["VpcId"], "CidrBlock": props["CidrBlock"],
                                "TagSpecifications": self.tag_specifications(ctx, props)}
        if props.get("AvailabilityZone"):
            args["AvailabilityZone"] = props["AvailabilityZone"]
        subnet = ec2.create_subnet(**args)["Subnet"]
        subnet_id = subnet["SubnetId"]
        if subnet.get("State") != "available":  # AWS may answer pending: wait, then describe it again
            ec2.get_waiter("subnet_available").wait(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])
            subnet = super().describe(ctx, [subnet_id])[subnet_id]
        if self.differs({}, props, "MapPublicIpOnLaunch"):
            self._set_public_ip(ec2, subnet_id, props)
        return subnet_id, _subnet_attributes(subnet)  # the ACL association is read when referred to

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        if "MapPublicIpOnLaunch" in changed:
            self._set_public_ip(ctx.client("ec2"), physical_id, after)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _subnet_attributes(self.describe(ctx, [physical_id])[physical_id])

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        ec2 = ctx.client("ec2")
        retry_dependency(lambda: ignore_missing(ec2.delete_subnet, SubnetId=physical_id))

    @staticmethod
    def _set_public_ip(ec2: Any, subnet_id: str, after: dict[str, Any]) -> None:
        value = _flag(after.get("MapPublicIpOnLaunch", False))
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": value})


def _subnet_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {"SubnetId": item["SubnetId"], "AvailabilityZone": item["AvailabilityZone"], "VpcId": item["VpcId"],
            "AvailabilityZoneId": item.get("AvailabilityZoneId", ""), "CidrBlock": canonical_cidr(item["CidrBlock"]),
            **{k: item[k] for k in SUBNET_LAZY if item.get(k)}}


# --- internet gateway ---------------------------------------------------------------------------

class InternetGateway(TaggedEc2):
    """AWS::EC2::InternetGateway; physical id the gateway id. Attached by a VPCGatewayAttachment."""

    type_name = "AWS::EC2::InternetGateway"
    describe_operation = "describe_internet_gateways"
    result_key = "InternetGateways"
    id_key = "InternetGatewayId"
    id_filter = "internet-gateway-id"
    resource_type = "internet-gateway"
    defaults: ClassVar[dict[str, Any]] = {"Tags": []}

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        props = {"Tags": user_tags(item.get("Tags"))}
        return Live(self.trim(props, wanted), {"InternetGatewayId": item["InternetGatewayId"]},
                    owner_of(item.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ec2 = ctx.client("ec2")
        gateway_id = ec2.create_internet_gateway(
            TagSpecifications=self.tag_specifications(ctx, props))["InternetGateway"]["InternetGatewayId"]
        ec2.get_waiter("internet_gateway_exists").wait(InternetGatewayIds=[gateway_id])
        return gateway_id, {"InternetGatewayId": gateway_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {"InternetGatewayId": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """An attached gateway refuses (DependencyViolation): its attachment is deleted first."""
        ec2 = ctx.client("ec2")
        retry_dependency(lambda: ignore_missing(ec2.delete_internet_gateway, InternetGatewayId=physical_id))


# --- VPC gateway attachment ---------------------------------------------------------------------

class GatewayAttachment(Handler):
    """AWS::EC2::VPCGatewayAttachment of an internet gateway; physical id "IGW_ID|VPC_ID".
    Both properties are create-only: a change detaches and attaches again."""

    type_name = "AWS::EC2::VPCGatewayAttachment"
    tags_property = None
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"Resource.AlreadyAssociated"})

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        gateway, vpc = props.get("InternetGatewayId"), props.get("VpcId")
        return f"{gateway}|{vpc}" if isinstance(gateway, str) and isinstance(vpc, str) else None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The attachment of that gateway to that VPC, if it is there already."""
        pid = self.physical_id_for(props)
        return pid if pid and self.read(ctx, pid, set()) else None

    def read_many(self, requests: list[Request]) -> list[Live | None]:
        """One filtered DescribeInternetGateways per region for every attachment asked about."""
        out: list[Live | None] = [None] * len(requests)
        for positions in by_region(requests).values():
            pairs = {i: _split(requests[i][1]) for i in positions}
            gateway_ids = [pair[0] for pair in pairs.values() if pair]
            found = _gateways(requests[positions[0]][0], gateway_ids)
            for i, pair in pairs.items():
                if pair and _attached(found.get(pair[0]), pair[1]):
                    out[i] = Live({"InternetGatewayId": pair[0], "VpcId": pair[1]}, _attachment_attributes(pair[1]))
        return out

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.read_many([(ctx, physical_id, wanted)])[0]

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        gateway, vpc = props.get("InternetGatewayId"), props["VpcId"]
        if not gateway:
            raise AwsError(ctx.logical_id, "InternetGatewayId is required (VPN gateways are not supported)")
        ctx.client("ec2").attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        return f"{gateway}|{vpc}", _attachment_attributes(vpc)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Nothing changes in place (both properties are create-only): the attributes as they are."""
        return _attachment_attributes(physical_id.partition("|")[2])

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Detach; a gateway already detached or gone is success. AWS refuses while the VPC still has
        public addresses mapped (DependencyViolation), which clear as their instances go."""
        pair = _split(physical_id)
        if pair is None:
            return
        ec2 = ctx.client("ec2")
        retry_dependency(lambda: ignore_missing(ec2.detach_internet_gateway, "Gateway.NotAttached",
                                                InternetGatewayId=pair[0], VpcId=pair[1]))


def _split(physical_id: str) -> tuple[str, str] | None:
    first, sep, second = physical_id.partition("|")
    return (first, second) if sep and first and second else None


def _gateways(ctx: Context, gateway_ids: list[str]) -> dict[str, dict[str, Any]]:
    items = describe_by_ids(ctx.client("ec2"), "describe_internet_gateways", "InternetGateways",
                            "internet-gateway-id", gateway_ids)
    return {item["InternetGatewayId"]: item for item in items}


def _attached(gateway: dict[str, Any] | None, vpc_id: str) -> bool:
    return gateway is not None and any(a.get("VpcId") == vpc_id and a.get("State") in LIVE_ATTACHMENT_STATES
                                       for a in gateway.get("Attachments", []))


def _attachment_attributes(vpc_id: str) -> dict[str, Any]:
    return {"AttachmentType": "IGW", "VpcId": vpc_id}


# --- route table --------------------------------------------------------------------------------

class RouteTable(TaggedEc2):
    """AWS::EC2::RouteTable; physical id the route table id. Routes and associations are their own
    resources; the table only has its VPC (create-only) and tags."""

    type_name = "AWS::EC2::RouteTable"
    describe_operation = "describe_route_tables"
    result_key = "RouteTables"
    id_key = "RouteTableId"
    id_filter = "route-table-id"
    resource_type = "route-table"
    defaults: ClassVar[dict[str, Any]] = {"Tags": []}

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        props = {"VpcId": item["VpcId"], "Tags": user_tags(item.get("Tags"))}
        return Live(self.trim(props, wanted), {"RouteTableId": item["RouteTableId"]}, owner_of(item.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateRouteTable with ctx.token as ClientToken (a retried call makes no second table)."""
        args: dict[str, Any] = {"VpcId": props["VpcId"], "TagSpecifications": self.tag_specifications(ctx, props)}
        if ctx.token:
            args["ClientToken"] = ctx.token
        table_id = ctx.client("ec2").create_route_table(**args)["RouteTable"]["RouteTableId"]
        wait_visible(lambda: bool(self.describe(ctx, [table_id])), f"route table {table_id}")
        return table_id, {"RouteTableId": table_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {"RouteTableId": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Associations (their own resources) go first; AWS refuses while one remains."""
        ec2 = ctx.client("ec2")
        retry_dependency(lambda: ignore_missing(ec2.delete_route_table, RouteTableId=physical_id))


# --- route --------------------------------------------------------------------------------------

class Route(Handler):
    """AWS::EC2::Route to an IPv4 destination; physical id "ROUTE_TABLE_ID|DESTINATION_CIDR".
    The target (GatewayId, NatGatewayId, InstanceId, ...) changes in place with ReplaceRoute."""

    type_name = "AWS::EC2::Route"
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = dict.fromkeys(ROUTE_TARGETS)
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"RouteAlreadyExists"})

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        table, cidr = props.get("RouteTableId"), props.get("DestinationCidrBlock")
        return f"{table}|{canonical_cidr(cidr)}" if isinstance(table, str) and isinstance(cidr, str) else None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The route to that destination in that table, if it is there already."""
        pid = self.physical_id_for(props)
        return pid if pid and self.read(ctx, pid, set()) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        return _with_cidr(props, "DestinationCidrBlock")

    def read_many(self, requests: list[Request]) -> list[Live | None]:
        """One filtered DescribeRouteTables per region for every route asked about."""
        out: list[Live | None] = [None] * len(requests)
        for positions in by_region(requests).values():
            pairs = {i: _split(requests[i][1]) for i in positions}
            tables = _route_tables(requests[positions[0]][0], [pair[0] for pair in pairs.values() if pair])
            for i, pair in pairs.items():
                route = _route_in(tables.get(pair[0]), pair[1]) if pair else None
                if route is not None:
                    out[i] = Live(self.trim(_route_properties(pair[0], route), requests[i][2]),
                                  {"RouteTableId": pair[0], "CidrBlock": pair[1]})
        return out

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.read_many([(ctx, physical_id, wanted)])[0]

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateRoute."""
        props = self.desired_view(props)
        table, cidr = props["RouteTableId"], props["DestinationCidrBlock"]
        ctx.client("ec2").create_route(RouteTableId=table, DestinationCidrBlock=cidr, **_targets(props))
        return f"{table}|{cidr}", {"RouteTableId": table, "CidrBlock": cidr}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """ReplaceRoute with the new target when it changed."""
        table, _, cidr = physical_id.partition("|")
        if changed & set(ROUTE_TARGETS):
            ctx.client("ec2").replace_route(RouteTableId=table, DestinationCidrBlock=cidr, **_targets(after))
        return {"RouteTableId": table, "CidrBlock": cidr}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        table, _, cidr = physical_id.partition("|")
        ignore_missing(ctx.client("ec2").delete_route, RouteTableId=table, DestinationCidrBlock=cidr)


def _route_tables(ctx: Context, table_ids: list[str]) -> dict[str, dict[str, Any]]:
    items = describe_by_ids(ctx.client("ec2"), "describe_route_tables", "RouteTables", "route-table-id", table_ids)
    return {item["RouteTableId"]: item for item in items}


def _route_in(table: dict[str, Any] | None, cidr: str) -> dict[str, Any] | None:
    for route in (table or {}).get("Routes", []):
        if canonical_cidr(route.get("DestinationCidrBlock")) == canonical_cidr(cidr):
            return route
    return None


def _route_properties(table_id: str, route: dict[str, Any]) -> dict[str, Any]:
    """A described route in spec shape. A route to an instance also names the instance's network
    interface; the instance is what a spec names, so the interface is left out then."""
    props = {"RouteTableId": table_id, "DestinationCidrBlock": canonical_cidr(route["DestinationCidrBlock"])}
    props.update({k: route[k] for k in ROUTE_TARGETS if route.get(k)})
    if "InstanceId" in props:
        props.pop("NetworkInterfaceId", None)
    return props


def _targets(props: dict[str, Any]) -> dict[str, Any]:
    return {k: props[k] for k in ROUTE_TARGETS if props.get(k)}


# --- subnet route table association -------------------------------------------------------------

class SubnetRouteTableAssociation(Handler):
    """AWS::EC2::SubnetRouteTableAssociation; physical id the subnet id (see the module docstring),
    ${Name} the association id. RouteTableId changes in place with ReplaceRouteTableAssociation."""

    type_name = "AWS::EC2::SubnetRouteTableAssociation"
    tags_property = None
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"Resource.AlreadyAssociated"})

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        subnet = props.get("SubnetId")
        return subnet if isinstance(subnet, str) else None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The subnet, when it already has an explicit route table association."""
        subnet = self.physical_id_for(props)
        return subnet if subnet and _associations(ctx, [subnet]).get(subnet) else None

    @property
    def create_only(self) -> set[str]:
        """CloudFormation marks RouteTableId create-only; it is updated in place here (the subnet is
        never left on the main route table in between)."""
        return super().create_only - {"RouteTableId"}

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        return attributes.get("Id") or physical_id

    def read_many(self, requests: list[Request]) -> list[Live | None]:
        """One filtered DescribeRouteTables per region (by subnet; by association id for an id given
        to `deployer import`)."""
        out: list[Live | None] = [None] * len(requests)
        for positions in by_region(requests).values():
            found = _associations(requests[positions[0]][0], [requests[i][1] for i in positions])
            for i in positions:
                association = found.get(requests[i][1])
                if association is not None:
                    props = {"SubnetId": association["SubnetId"], "RouteTableId": association["RouteTableId"]}
                    out[i] = Live(props, {"Id": association["RouteTableAssociationId"]})
        return out

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.read_many([(ctx, physical_id, wanted)])[0]

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """AssociateRouteTable."""
        subnet, table = props["SubnetId"], props["RouteTableId"]
        association_id = ctx.client("ec2").associate_route_table(SubnetId=subnet, RouteTableId=table)["AssociationId"]
        return subnet, {"Id": association_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """ReplaceRouteTableAssociation when RouteTableId changed: the subnet moves at once, and the
        association gets a new id (returned as the Id attribute)."""
        current = self._current(ctx, physical_id)
        if "RouteTableId" not in changed:
            return {"Id": current["RouteTableAssociationId"]}
        answer = ctx.client("ec2").replace_route_table_association(
            AssociationId=current["RouteTableAssociationId"], RouteTableId=after["RouteTableId"])
        return {"Id": answer["NewAssociationId"]}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        association = _associations(ctx, [physical_id]).get(physical_id)
        if association is not None:
            ignore_missing(ctx.client("ec2").disassociate_route_table,
                           AssociationId=association["RouteTableAssociationId"])

    @staticmethod
    def _current(ctx: Context, physical_id: str) -> dict[str, Any]:
        association = _associations(ctx, [physical_id]).get(physical_id)
        if association is None:
            raise AwsError(ctx.logical_id, f"subnet {physical_id} has no route table association to update",
                           "InvalidAssociationID.NotFound")
        return association


def _associations(ctx: Context, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Live explicit associations, indexed by subnet id and by association id, for keys of either kind."""
    ec2 = ctx.client("ec2")
    by_id = [k for k in keys if k.startswith("rtbassoc-")]
    subnets = [k for k in keys if not k.startswith("rtbassoc-")]
    tables: list[dict[str, Any]] = []
    if subnets:
        tables += describe_by_ids(ec2, "describe_route_tables", "RouteTables", "association.subnet-id", subnets)
    if by_id:
        tables += describe_by_ids(ec2, "describe_route_tables", "RouteTables",
                                  "association.route-table-association-id", by_id)
    found: dict[str, dict[str, Any]] = {}
    for table in tables:
        for association in table.get("Associations", []):
            state = (association.get("AssociationState") or {}).get("State", "associated")
            if association.get("Main") or not association.get("SubnetId") or state not in LIVE_ASSOCIATION_STATES:
                continue
            found[association["SubnetId"]] = association
            found[association["RouteTableAssociationId"]] = association
    return found


# --- security group -----------------------------------------------------------------------------

class SecurityGroup(TaggedEc2):
    """AWS::EC2::SecurityGroup; physical id the group id, GroupName generated when absent.

    Rules are CloudFormation's flat shape (one source or destination per rule), compared as sets: an
    update revokes the rules that went and authorizes the ones that came, so one changed rule is one
    revoke and one authorize. A spec without SecurityGroupEgress (or with an empty list, as in
    CloudFormation) means AWS's default allow-all egress rule, which is then never shown as a change."""

    type_name = "AWS::EC2::SecurityGroup"
    describe_operation = "describe_security_groups"
    result_key = "SecurityGroups"
    id_key = "GroupId"
    id_filter = "group-id"
    resource_type = "security-group"
    name_property = "GroupName"
    name_max_length = 255
    defaults: ClassVar[dict[str, Any]] = {"SecurityGroupIngress": [], "SecurityGroupEgress": [ALLOW_ALL_EGRESS],
                                          "Tags": []}
    already_exists_codes = frozenset({"InvalidGroup.Duplicate"})

    def generate_name(self, stack: str, logical_id: str, props: dict[str, Any], suffix: str) -> str:
        """As the base, but never "sg-...", which AWS reserves for group ids."""
        name = super().generate_name(stack, logical_id, props, suffix)
        return f"group-{name}"[:self.name_max_length] if name.lower().startswith("sg-") else name

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: the physical id is the group id AWS assigns, not the name."""
        return None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Rules as read() shows them: protocols by name, CIDRs canonical, ports as numbers, sorted,
        duplicates merged (as AWS merges them); an empty egress list is the default egress rule."""
        view = dict(props)
        for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
            if isinstance(view.get(key), list):
                view[key] = rule_set(view[key])
        if view.get("SecurityGroupEgress") == []:
            view["SecurityGroupEgress"] = [dict(ALLOW_ALL_EGRESS)]
        return view

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        props = {"GroupName": item["GroupName"], "GroupDescription": item.get("Description", ""),
                 "VpcId": item.get("VpcId"),
                 "SecurityGroupIngress": rules_from_permissions(item.get("IpPermissions", []), INGRESS),
                 "SecurityGroupEgress": rules_from_permissions(item.get("IpPermissionsEgress", []), EGRESS),
                 "Tags": user_tags(item.get("Tags"))}
        return Live(self.trim(props, wanted), _group_attributes(item), owner_of(item.get("Tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateSecurityGroup (AWS adds the allow-all egress rule), then the rules as an update from
        what the new group has."""
        ec2 = ctx.client("ec2")
        args: dict[str, Any] = {"GroupName": props["GroupName"], "Description": props["GroupDescription"],
                                "TagSpecifications": self.tag_specifications(ctx, props)}
        if props.get("VpcId"):
            args["VpcId"] = props["VpcId"]
        group_id = ec2.create_security_group(**args)["GroupId"]
        wanted = {"SecurityGroupIngress", "SecurityGroupEgress"}
        live = self.read(ctx, group_id, wanted)  # the read needed anyway is the existence check
        if live is None:  # not visible yet (EC2's eventual consistency): botocore's waiter, then again
            ec2.get_waiter("security_group_exists").wait(GroupIds=[group_id])
            live = self.read(ctx, group_id, wanted)
        if live is None:
            raise AwsError(ctx.logical_id, f"security group {group_id} was created but cannot be read back")
        self._sync_rules(ec2, group_id, live.properties, self.desired_view(props))
        return group_id, live.attributes

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        self._sync_rules(ctx.client("ec2"), physical_id, before, self.desired_view(after))
        self.sync_tags(ctx, physical_id, before, after, changed)
        found = self.describe(ctx, [physical_id])
        return _group_attributes(found[physical_id]) if physical_id in found else {"GroupId": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Groups whose rules name this one are deleted first (they depend on it); network interfaces
        of just-terminated instances release within seconds (retry_dependency)."""
        ec2 = ctx.client("ec2")
        retry_dependency(lambda: ignore_missing(ec2.delete_security_group, GroupId=physical_id))

    def _sync_rules(self, ec2: Any, group_id: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Per direction: one revoke of the rules that went, then one authorize of those that came
        (revoke first: a rule whose description alone changed is the same rule to AWS)."""
        for direction in (INGRESS, EGRESS):
            old = rule_set(before.get(direction.key, self.defaults[direction.key]))
            new = rule_set(after.get(direction.key, self.defaults[direction.key]))
            gone = [r for r in old if r not in new]
            came = [r for r in new if r not in old]
            if gone:
                getattr(ec2, direction.revoke)(GroupId=group_id, IpPermissions=[direction.permission(r) for r in gone])
            if came:
                getattr(ec2, direction.authorize)(GroupId=group_id, IpPermissions=[direction.permission(r) for r in came])


def _group_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {"GroupId": item["GroupId"], "Id": item["GroupId"], "VpcId": item.get("VpcId")}


class Direction:
    """Ingress or egress: its property, its peer keys and its API calls."""

    def __init__(self, key: str, peer: str, prefix_list: str, verb: str):
        self.key = key
        self.peer = peer  # SourceSecurityGroupId | DestinationSecurityGroupId
        self.prefix_list = prefix_list  # read only: shown as drift, revoked, never written by a spec
        self.authorize = f"authorize_security_group_{verb}"
        self.revoke = f"revoke_security_group_{verb}"

    def permission(self, rule: dict[str, Any]) -> dict[str, Any]:
        """One flat rule as an IpPermissions entry."""
        perm: dict[str, Any] = {"IpProtocol": str(rule["IpProtocol"])}
        for key in ("FromPort", "ToPort"):
            if key in rule:
                perm[key] = int(canon(rule[key]))
        described = {"Description": rule["Description"]} if rule.get("Description") else {}
        if "CidrIp" in rule:
            perm["IpRanges"] = [{"CidrIp": rule["CidrIp"], **described}]
        if "CidrIpv6" in rule:
            perm["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **described}]
        if self.peer in rule:
            perm["UserIdGroupPairs"] = [{"GroupId": rule[self.peer], **described}]
        if self.prefix_list in rule:
            perm["PrefixListIds"] = [{"PrefixListId": rule[self.prefix_list], **described}]
        return perm


INGRESS = Direction("SecurityGroupIngress", "SourceSecurityGroupId", "SourcePrefixListId", "ingress")
EGRESS = Direction("SecurityGroupEgress", "DestinationSecurityGroupId", "DestinationPrefixListId", "egress")


def normal_rule(rule: Any) -> Any:
    """One rule as AWS reads it back: protocol by name ("6" -> "tcp", "all" -> "-1"), no ports for
    all-protocol rules, ports as numbers, CIDRs canonical, no empty description."""
    if not isinstance(rule, dict):
        return rule
    out = {k: v for k, v in rule.items() if v is not None and not (k == "Description" and v == "")}
    protocol = out.get("IpProtocol")
    if isinstance(protocol, str | int) and not isinstance(protocol, bool):
        name = str(protocol).strip().lower()
        out["IpProtocol"] = PROTOCOL_NAMES.get(name, name)
    if out.get("IpProtocol") == "-1":
        out.pop("FromPort", None)
        out.pop("ToPort", None)
    for key in ("FromPort", "ToPort"):
        if key in out and not isinstance(out[key], Unknown):
            out[key] = canon(out[key])
    for key in ("CidrIp", "CidrIpv6"):
        if key in out:
            out[key] = canonical_cidr(out[key])
    return out


def _rule_key(rule: Any) -> str:
    return json.dumps(canon(rule), sort_keys=True, default=str)


def rule_set(rules: Any) -> Any:
    """Rules normalised, duplicates merged, in a stable order (a spec's order never shows as a change)."""
    if not isinstance(rules, list):
        return rules
    unique = {_rule_key(r): r for r in (normal_rule(r) for r in rules)}
    return [unique[k] for k in sorted(unique)]


def rules_from_permissions(permissions: list[dict[str, Any]], direction: Direction) -> list[dict[str, Any]]:
    """DescribeSecurityGroups' grouped IpPermissions as CloudFormation's flat rules."""
    rules: list[dict[str, Any]] = []
    for perm in permissions:
        base = {k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm}
        peers = [("CidrIp", "IpRanges", "CidrIp"), ("CidrIpv6", "Ipv6Ranges", "CidrIpv6"),
                 (direction.peer, "UserIdGroupPairs", "GroupId"), (direction.prefix_list, "PrefixListIds", "PrefixListId")]
        for rule_key, list_key, value_key in peers:
            for entry in perm.get(list_key) or []:
                rule = {**base, rule_key: entry[value_key]}
                if entry.get("Description"):
                    rule["Description"] = entry["Description"]
                rules.append(rule)
    return rule_set(rules)
