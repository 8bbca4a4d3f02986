"""AWS::EC2::VPCEndpoint: Gateway, Interface and GatewayLoadBalancer endpoints to a service.

The physical id (and Ref, `Id`) is the VpcEndpointId. ServiceName, VpcEndpointType and VpcId are
create-only; route tables, subnets, security groups, the policy, private DNS and tags change in
place with one ModifyVpcEndpoint (each list as the ids to add and to remove) plus the tag calls.

Defaults, as CloudFormation has them:
- VpcEndpointType is Gateway; it is always sent (it is also what AWS assumes).
- PolicyDocument: AWS gives an endpoint of a service that takes policies a full-access policy; a
  removed PolicyDocument is reset to it (ModifyVpcEndpoint ResetPolicy).
- PrivateDnsEnabled is false (CloudFormation's default, where the API's is true): it is sent for every
  Interface endpoint, and read for Interface endpoints only (the others have no private DNS).
- SecurityGroupIds of an Interface endpoint: the VPC's default security group. It is read at plan time
  (`plan_reads`), sent explicitly when the spec names none, and is what a removed SecurityGroupIds
  goes back to.

Attributes: `Id`, `CreationTimestamp` (ISO 8601), `DnsEntries` (CloudFormation's form,
"HOSTEDZONEID:DNSNAME"), `NetworkInterfaceIds` (the last two are empty for Gateway endpoints).

Reads describe by VpcEndpointIds, up to 200 at a time; AWS fails such a call whole when one id does
not exist, and the batch is then described one id at a time. (The `vpc-endpoint-id` filter the other
EC2 reads use would not fail, but the local emulator does not implement it.) An endpoint in state
deleting, deleted, rejected, failed or expired counts as gone. A create waits until the endpoint is
available (or pendingAcceptance, for a service that accepts endpoints by hand); a delete waits until
it is gone, so the subnets and security groups it used can be deleted next.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import waiting
from deployer.errors import AwsError
from deployer.normalize import canon, parse_policy
from deployer.resources.base import Context, Live, owner_of, user_tags
from deployer.resources.ec2_common import NOT_FOUND, TaggedEc2, chunks
from deployer.spec.refs import contains_unknown

GATEWAY, INTERFACE = "Gateway", "Interface"
FULL_ACCESS = {"Version": "2008-10-17",
               "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
GONE_STATES = ("deleting", "deleted", "rejected", "failed", "expired")
READY_STATES = ("available", "pendingacceptance")
# which id lists apply to which endpoint types, and the ModifyVpcEndpoint parameters that change them
ID_LISTS = {"RouteTableIds": ((GATEWAY,), "AddRouteTableIds", "RemoveRouteTableIds"),
            "SubnetIds": ((INTERFACE, "GatewayLoadBalancer"), "AddSubnetIds", "RemoveSubnetIds"),
            "SecurityGroupIds": ((INTERFACE,), "AddSecurityGroupIds", "RemoveSecurityGroupIds")}
DEFAULT_GROUP = "default_group"
WAIT_SECONDS = 600.0  # an Interface endpoint takes minutes to become available, or to go


def endpoint_type(props: dict[str, Any]) -> Any:
    return props.get("VpcEndpointType") or GATEWAY


def _policy_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _ids(value: Any) -> list[str]:
    return sorted(set(value or []))


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


class VpcEndpoint(TaggedEc2):
    """AWS::EC2::VPCEndpoint; physical id the VpcEndpointId."""

    type_name = "AWS::EC2::VPCEndpoint"
    describe_operation = "describe_vpc_endpoints"
    result_key = "VpcEndpoints"
    id_key = "VpcEndpointId"
    id_filter = "vpc-endpoint-id"
    resource_type = "vpc-endpoint"
    create_takes_token = True
    defaults: ClassVar[dict[str, Any]] = {"VpcEndpointType": GATEWAY, "PolicyDocument": FULL_ACCESS,
                                          "PrivateDnsEnabled": False, "RouteTableIds": [], "SubnetIds": [],
                                          "Tags": []}

    # --- plan-time reads and the view ---------------------------------------------------------------
    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The VPC's default security group, for an Interface endpoint whose spec names none."""
        vpc = props.get("VpcId")
        if endpoint_type(props) != INTERFACE or "SecurityGroupIds" in props or not isinstance(vpc, str) \
                or contains_unknown(vpc):
            return {}
        group = default_group(ctx, vpc)
        return {DEFAULT_GROUP: group} if group else {}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec as read() shows it: id lists as sorted sets, the policy as data, the type and (for an
        Interface endpoint) private DNS and the default security group made explicit."""
        view = dict(props)
        view["VpcEndpointType"] = endpoint_type(props)
        for key in ID_LISTS:
            if isinstance(view.get(key), list) and not contains_unknown(view[key]):
                view[key] = _ids(view[key])
        if "PolicyDocument" in view and not contains_unknown(view["PolicyDocument"]):
            view["PolicyDocument"] = parse_policy(view["PolicyDocument"])
        if view["VpcEndpointType"] == INTERFACE:
            view.setdefault("PrivateDnsEnabled", False)
            if "SecurityGroupIds" not in view and reads and reads.get(DEFAULT_GROUP):
                view["SecurityGroupIds"] = [reads[DEFAULT_GROUP]]
        else:
            view.pop("PrivateDnsEnabled", None)
        return view

    # --- read ---------------------------------------------------------------------------------------
    def describe(self, ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The described endpoints, by id (those that do not exist left out)."""
        ec2 = ctx.client("ec2")
        items: list[dict[str, Any]] = []
        for part in chunks(sorted(set(ids))):
            try:
                items += ec2.describe_vpc_endpoints(VpcEndpointIds=part).get("VpcEndpoints", [])
            except ClientError as exc:
                if not self.is_not_found(exc):
                    raise
                for one in part:  # one id is gone and failed the whole call: ask for each alone
                    items += self.absent(lambda one=one: ec2.describe_vpc_endpoints(
                        VpcEndpointIds=[one]).get("VpcEndpoints", [])) or []
        return {item[self.id_key]: item for item in items}

    def is_live_item(self, item: dict[str, Any]) -> bool:
        return str(item.get("State", "")).lower() not in GONE_STATES

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        kind = item.get("VpcEndpointType") or GATEWAY
        props: dict[str, Any] = {"VpcId": item.get("VpcId"), "ServiceName": item.get("ServiceName"),
                                 "VpcEndpointType": kind, "Tags": user_tags(item.get("Tags"))}
        if item.get("PolicyDocument"):
            props["PolicyDocument"] = parse_policy(item["PolicyDocument"])
        if kind == GATEWAY:
            props["RouteTableIds"] = _ids(item.get("RouteTableIds"))
        else:
            props["SubnetIds"] = _ids(item.get("SubnetIds"))
        if kind == INTERFACE:
            props["SecurityGroupIds"] = _ids(g["GroupId"] for g in item.get("Groups", []))
            props["PrivateDnsEnabled"] = bool(item.get("PrivateDnsEnabled"))
        return Live(self.trim(props, wanted | {"VpcEndpointType"}), _attributes(item), owner_of(item.get("Tags")))

    # --- create, update, delete ---------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateVpcEndpoint with the step's token and the tags; wait until it is available."""
        ec2 = ctx.client("ec2")
        kind = endpoint_type(props)
        args: dict[str, Any] = {"VpcId": props["VpcId"], "ServiceName": props["ServiceName"],
                                "VpcEndpointType": kind, "TagSpecifications": self.tag_specifications(ctx, props)}
        if ctx.token:
            args["ClientToken"] = ctx.token
        if props.get("PolicyDocument") is not None:
            args["PolicyDocument"] = _policy_text(props["PolicyDocument"])
        for key, (kinds, _, _) in ID_LISTS.items():
            if kind in kinds and props.get(key):
                args[key] = _ids(props[key])
        if kind == INTERFACE:
            args["PrivateDnsEnabled"] = canon(props.get("PrivateDnsEnabled")) is True
            if not props.get("SecurityGroupIds"):
                group = default_group(ctx, props["VpcId"])
                if group:
                    args["SecurityGroupIds"] = [group]
        endpoint_id = ec2.create_vpc_endpoint(**args)["VpcEndpoint"]["VpcEndpointId"]
        item = self._wait(ctx, endpoint_id, lambda found: found is not None and
                          str(found.get("State", "")).lower() in READY_STATES, "becoming available")
        return endpoint_id, _attributes(item)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """One ModifyVpcEndpoint for every changed list, the policy and private DNS; then the tags."""
        ec2 = ctx.client("ec2")
        view = self.desired_view(after, self.plan_reads(ctx, after))
        args: dict[str, Any] = {}
        for key, (kinds, add, remove) in ID_LISTS.items():
            if key in changed and view["VpcEndpointType"] in kinds:
                old, new = set(before.get(key) or []), set(view.get(key) or [])
                if new - old:
                    args[add] = sorted(new - old)
                if old - new:
                    args[remove] = sorted(old - new)
        if "PolicyDocument" in changed:
            policy = view.get("PolicyDocument")
            if policy is None or canon(policy) == canon(FULL_ACCESS):
                args["ResetPolicy"] = True
            else:
                args["PolicyDocument"] = _policy_text(policy)
        if "PrivateDnsEnabled" in changed and view["VpcEndpointType"] == INTERFACE:
            args["PrivateDnsEnabled"] = canon(view.get("PrivateDnsEnabled")) is True
        if args:
            ec2.modify_vpc_endpoint(VpcEndpointId=physical_id, **args)
        self.sync_tags(ctx, physical_id, before, view, changed)
        item = self.describe(ctx, [physical_id]).get(physical_id)
        return _attributes(item) if item else {}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteVpcEndpoints (it answers failures in a list, not as an error); wait until it is gone."""
        answer = ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[physical_id])
        for failed in answer.get("Unsuccessful", []):
            code = (failed.get("Error") or {}).get("Code", "")
            if code not in NOT_FOUND and code != "InvalidVpcEndpoint.NotFound":
                raise AwsError(ctx.logical_id, f"cannot delete {physical_id}: {code}: "
                               f"{(failed.get('Error') or {}).get('Message', '')}", code)
        self._wait(ctx, physical_id, lambda found: found is None or not self.is_live_item(found), "being deleted")

    def _wait(self, ctx: Context, endpoint_id: str, done: Callable[[dict[str, Any] | None], bool], what: str) -> dict[str, Any] | None:
        """Poll the endpoint until done(described item or None) holds; the last item seen."""
        seen: dict[str, Any] = {}

        def look() -> bool:
            seen["item"] = self.describe(ctx, [endpoint_id]).get(endpoint_id)
            return bool(done(seen["item"]))
        waiting.until(look, f"VPC endpoint {endpoint_id} {what}", budget=WAIT_SECONDS)
        return seen.get("item")


def default_group(ctx: Context, vpc_id: str) -> str | None:
    """The VPC's default security group (every VPC has one, named "default")."""
    groups = ctx.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])
    found = groups.get("SecurityGroups", [])
    return found[0]["GroupId"] if found else None


def _attributes(item: dict[str, Any] | None) -> dict[str, Any]:
    """CloudFormation's GetAtt values of a described endpoint."""
    if not item:
        return {}
    return {"Id": item["VpcEndpointId"], "CreationTimestamp": _iso(item.get("CreationTimestamp")),
            "DnsEntries": [f"{d.get('HostedZoneId', '')}:{d.get('DnsName', '')}" for d in item.get("DnsEntries", [])],
            "NetworkInterfaceIds": list(item.get("NetworkInterfaceIds", []))}
