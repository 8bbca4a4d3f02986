"""AWS::EC2::Instance: launch (idempotently), read in batches, change in place, terminate.

The physical id is the InstanceId (CloudFormation's Ref). What each property costs to change:
- ImageId, SubnetId, AvailabilityZone, KeyName, SecurityGroups, NetworkInterfaces: create-only
  (CloudFormation's schema): a replacement.
- BlockDeviceMappings: CloudFormation changes only a volume's DeleteOnTermination in place and
  replaces the instance for any other change. The engine decides replacement per top-level property,
  so the comparison view splits the flags out into a property of deployer's own,
  BlockDeviceDeleteOnTermination ({device name: flag}, changed with ModifyInstanceAttribute), and the
  rest of BlockDeviceMappings is create-only.
- DisableApiTermination: ModifyInstanceAttribute, while running; removed -> false.
- InstanceType and UserData: the instance is stopped, modified and started again (an update, not a
  replacement, as in CloudFormation); an instance found stopped is modified and left stopped.
- SecurityGroupIds: ModifyInstanceAttribute Groups, while running; removed -> the VPC's default group.
- IamInstanceProfile (a profile name, or an ARN): associate / replace / disassociate the profile.
- Tags: CreateTags / DeleteTags, the ownership tags always kept.

UserData is base64 text, as in CloudFormation (where it is usually written with Fn::Base64). It is
readable (DescribeInstanceAttribute userData, one call per instance, only when the spec or the last
apply sets it) and compared by its decoded bytes, so line breaks inside the base64 never show as a
change. The SDK base64-encodes UserData itself, so the handler hands it the decoded bytes.

CloudFormation has no property for an instance's run state, and neither has deployer: a stopped
instance is left stopped. A terminated (or shutting-down) instance reads as absent.

Reads are batched: one filtered DescribeInstances per 200 ids of a region, one filtered
DescribeIamInstanceProfileAssociations when any of them wants IamInstanceProfile (the association
is the truth; DescribeInstances may lag behind a replaced association), and DescribeInstanceAttribute
disableApiTermination only for instances that set DisableApiTermination.

BlockDeviceMappings and NetworkInterfaces are compared with what the last apply set: AWS describes
the volumes and interfaces an instance has (the AMI's root volume, volumes attached later, addresses
AWS chose), not the launch request, so no read-back could match a spec that names only some of them.

Launches carry a ClientToken derived from the step's token and the launch arguments, so a
run_instances retried after a lost answer returns the first instance instead of starting a second.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import waiting
from deployer.aws import error_code
from deployer.errors import DeployerError
from deployer.normalize import canon
from deployer.resources.base import Context, Live, owner_of, user_tags
from deployer.resources.ec2_common import (
    Request,
    TaggedEc2,
    by_region,
    describe_all,
    describe_by_ids,
    owner_filters,
)

GONE_STATES = ("shutting-down", "terminated")
RUNNING_STATES = ("pending", "running")
ACTIVE_ASSOCIATION = ("associating", "associated")
PROFILE_RETRY_DELAY = 3.0  # seconds between launches refused while a new instance profile propagates
PROFILE_RETRY_ATTEMPTS = 20  # about a minute, then AWS's own message goes to the user
STOP_START_KEYS = ("InstanceType", "UserData")
FLAGS = "BlockDeviceDeleteOnTermination"  # deployer's own: the DeleteOnTermination flags of BlockDeviceMappings


# --- UserData ---------------------------------------------------------------------------------------

def user_data_bytes(value: Any) -> bytes:
    """The raw bytes of a base64 UserData value; a clear error when the spec's value is not base64."""
    text = "".join(str(value or "").split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DeployerError("UserData must be base64 text, as in CloudFormation (Fn::Base64): "
                            "encode the script, e.g. `base64 -w0 script.sh`") from None


def canonical_user_data(value: Any) -> Any:
    """Base64 UserData without line breaks or spaces (the form AWS returns); other values unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return base64.b64encode(user_data_bytes(value)).decode("ascii")
    except DeployerError:
        return value


# --- naming helpers ---------------------------------------------------------------------------------

def profile_name(value: Any) -> Any:
    """An instance profile's name from its name or ARN (arn:...:instance-profile/PATH/NAME)."""
    if isinstance(value, str) and value.startswith("arn:") and ":instance-profile/" in value:
        return value.rsplit("/", 1)[-1]
    return value


def profile_argument(value: str) -> dict[str, str]:
    """The IamInstanceProfile argument of the EC2 API: by ARN when the spec gives one, else by name."""
    return {"Arn": value} if value.startswith("arn:") else {"Name": value}


def client_token(ctx: Context, args: dict[str, Any]) -> str:
    """A launch's idempotency token: the step's token and the launch arguments (so a rollback that
    re-creates an instance with other arguments in the same apply never gets the first one back)."""
    data = json.dumps({k: v for k, v in args.items() if k != "UserData"}, sort_keys=True, default=str)
    data += hashlib.sha256(args.get("UserData", b"")).hexdigest()
    return hashlib.sha256(f"{ctx.token}|{ctx.logical_id}|{data}".encode()).hexdigest()[:64]


# --- BlockDeviceMappings and NetworkInterfaces -----------------------------------------------------

def split_block_devices(mappings: Any) -> tuple[Any, dict[str, Any] | None]:
    """(the mappings without DeleteOnTermination, sorted by device; {device: DeleteOnTermination} for the
    mappings that set it). A value not known yet is returned as it is, with no flags."""
    if not isinstance(mappings, list) or any(not isinstance(m, dict) or not isinstance(m.get("DeviceName"), str)
                                             for m in mappings):
        return mappings, None
    rest, flags = [], {}
    for mapping in sorted(mappings, key=lambda m: m["DeviceName"]):
        ebs = mapping.get("Ebs")
        if isinstance(ebs, dict) and "DeleteOnTermination" in ebs:
            flags[mapping["DeviceName"]] = ebs["DeleteOnTermination"]
            mapping = {**mapping, "Ebs": {k: v for k, v in ebs.items() if k != "DeleteOnTermination"}}
        rest.append(mapping)
    return rest, flags


def _flag(value: Any) -> bool:
    return canon(value) is True


def block_device_argument(mapping: dict[str, Any]) -> dict[str, Any]:
    """One CloudFormation BlockDeviceMapping as RunInstances takes it (NoDevice {} is the API's "")."""
    out: dict[str, Any] = {"DeviceName": mapping["DeviceName"]}
    if mapping.get("VirtualName"):
        out["VirtualName"] = mapping["VirtualName"]
    if mapping.get("NoDevice") is not None:
        out["NoDevice"] = ""
    ebs = mapping.get("Ebs")
    if isinstance(ebs, dict):
        api: dict[str, Any] = {}
        for key in ("DeleteOnTermination", "Encrypted"):
            if ebs.get(key) is not None:
                api[key] = _flag(ebs[key])
        for key in ("Iops", "VolumeSize"):
            if ebs.get(key) is not None:
                api[key] = int(canon(ebs[key]))
        for key in ("KmsKeyId", "SnapshotId", "VolumeType"):
            if ebs.get(key):
                api[key] = ebs[key]
        out["Ebs"] = api
    return out


def network_interface_argument(nic: dict[str, Any]) -> dict[str, Any]:
    """One CloudFormation NetworkInterface as RunInstances takes it (DeviceIndex is text there, GroupSet
    is the API's Groups)."""
    out: dict[str, Any] = {"DeviceIndex": int(canon(nic["DeviceIndex"]))}
    for key in ("AssociatePublicIpAddress", "DeleteOnTermination"):
        if nic.get(key) is not None:
            out[key] = _flag(nic[key])
    for key in ("Description", "NetworkInterfaceId", "PrivateIpAddress", "SubnetId"):
        if nic.get(key):
            out[key] = nic[key]
    if nic.get("GroupSet"):
        out["Groups"] = sorted(set(nic["GroupSet"]))
    if nic.get("SecondaryPrivateIpAddressCount") is not None:
        out["SecondaryPrivateIpAddressCount"] = int(canon(nic["SecondaryPrivateIpAddressCount"]))
    if nic.get("PrivateIpAddresses"):
        out["PrivateIpAddresses"] = [{"PrivateIpAddress": a["PrivateIpAddress"], "Primary": _flag(a.get("Primary"))}
                                     for a in nic["PrivateIpAddresses"]]
    return out


# --- the handler ------------------------------------------------------------------------------------

class Instance(TaggedEc2):
    """An EC2 instance; its physical id is the InstanceId."""

    type_name = "AWS::EC2::Instance"
    describe_operation = "describe_instances"
    result_key = "Reservations"
    id_key = "InstanceId"
    id_filter = "instance-id"
    resource_type = "instance"
    defaults: ClassVar[dict[str, Any]] = {
        "InstanceType": "m1.small",  # EC2's (and CloudFormation's) default instance type
        "UserData": "",
        "IamInstanceProfile": None,
        "SecurityGroups": [],
        "BlockDeviceMappings": [],  # the AMI's own mappings
        FLAGS: {},  # each volume's DeleteOnTermination as the AMI or EC2 defaults it (true for new volumes)
        "NetworkInterfaces": [],
        "DisableApiTermination": False,
        "Tags": [],
    }
    create_takes_token = True
    # the view leaves DeleteOnTermination out of BlockDeviceMappings: a rollback recreating the
    # instance takes the mappings from the spec
    restore_from_spec = frozenset({"BlockDeviceMappings"})

    @property
    def create_only(self) -> set[str]:
        """CloudFormation's, and BlockDeviceMappings (conditional there: every change but a volume's
        DeleteOnTermination, which the view keeps apart, replaces the instance)."""
        return super().create_only | {"BlockDeviceMappings"}

    @property
    def write_only(self) -> set[str]:
        """What AWS cannot describe as the spec wrote it: compared with the last apply."""
        return super().write_only | {"BlockDeviceMappings", FLAGS, "NetworkInterfaces"}

    # --- comparison view ------------------------------------------------------------------------
    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec as read() shows it: group ids and names sorted, a profile by name, UserData without
        breaks; BlockDeviceMappings sorted by device, with their DeleteOnTermination flags apart."""
        view = dict(props)
        for key in ("SecurityGroupIds", "SecurityGroups"):
            if isinstance(view.get(key), list):
                view[key] = sorted(set(view[key]), key=str)
        if "BlockDeviceMappings" in view:
            view["BlockDeviceMappings"], flags = split_block_devices(view["BlockDeviceMappings"])
            if flags:
                view[FLAGS] = {device: _flag(value) for device, value in flags.items()}
        if "IamInstanceProfile" in view:
            view["IamInstanceProfile"] = profile_name(view["IamInstanceProfile"])
        if "UserData" in view:
            view["UserData"] = canonical_user_data(view["UserData"])
        return view

    # --- read -----------------------------------------------------------------------------------
    def is_live_item(self, item: dict[str, Any]) -> bool:
        return item.get("State", {}).get("Name") not in GONE_STATES

    def describe(self, ctx: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The instances among ids that still exist (terminated ones are absent), by id."""
        reservations = describe_by_ids(ctx.client("ec2"), "describe_instances", "Reservations", "instance-id", ids)
        return {i["InstanceId"]: i for r in reservations for i in r.get("Instances", []) if self.is_live_item(i)}

    def to_live(self, ctx: Context, item: dict[str, Any], wanted: set[str]) -> Live:
        """One described instance, with the profile and user data looked up when wanted."""
        profiles = _profiles(ctx, [item["InstanceId"]]) if "IamInstanceProfile" in wanted else {}
        return self._live(ctx, item, wanted, profiles)

    def read_many(self, requests: list[Request]) -> list[Live | None]:
        """One filtered describe per 200 instances of a region, one association lookup when a profile is
        wanted, and DescribeInstanceAttribute userData only for instances whose UserData is wanted."""
        out: list[Live | None] = [None] * len(requests)
        for positions in by_region(requests).values():
            ctx = requests[positions[0]][0]
            found = self.describe(ctx, [requests[i][1] for i in positions])
            profile_ids = [requests[i][1] for i in positions
                           if requests[i][1] in found and "IamInstanceProfile" in requests[i][2]]
            profiles = _profiles(ctx, profile_ids) if profile_ids else {}
            for i in positions:
                item_ctx, pid, wanted = requests[i]
                if pid in found:
                    out[i] = self._live(item_ctx, found[pid], wanted, profiles)
        return out

    def _live(self, ctx: Context, item: dict[str, Any], wanted: set[str], profiles: dict[str, str]) -> Live:
        props = _properties(item)
        if "IamInstanceProfile" in wanted:
            props["IamInstanceProfile"] = profiles.get(item["InstanceId"])
        if "UserData" in wanted:
            props["UserData"] = _user_data(ctx, item["InstanceId"])
        if "DisableApiTermination" in wanted:
            props["DisableApiTermination"] = _termination_protected(ctx, item["InstanceId"])
        return Live(properties=self.trim(props, wanted), attributes=_attributes(item),
                    owner=owner_of(item.get("Tags")))

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Ids of live instances tagged as this stack's logical id (a launch whose answer was lost)."""
        reservations = describe_all(ctx.client("ec2"), "describe_instances", "Reservations", owner_filters(ctx))
        return sorted(i["InstanceId"] for r in reservations for i in r.get("Instances", []) if self.is_live_item(i))

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """RunInstances with a ClientToken and the tags (ownership included) at launch; wait for running."""
        args = self._launch_args(ctx, props)
        args["ClientToken"] = client_token(ctx, args)
        instance = _retry_profile_propagation(lambda: ctx.client("ec2").run_instances(**args))["Instances"][0]
        instance_id = instance["InstanceId"]
        ctx.client("ec2").get_waiter("instance_running").wait(InstanceIds=[instance_id])
        return instance_id, self._current_attributes(ctx, instance_id)

    def _launch_args(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {"ImageId": props["ImageId"], "MinCount": 1, "MaxCount": 1,
                                "TagSpecifications": self.tag_specifications(ctx, props)}
        for key in ("InstanceType", "SubnetId", "KeyName"):
            if props.get(key):
                args[key] = props[key]
        for key in ("SecurityGroupIds", "SecurityGroups"):
            if props.get(key):
                args[key] = sorted(set(props[key]))
        if props.get("BlockDeviceMappings"):
            args["BlockDeviceMappings"] = [block_device_argument(m) for m in props["BlockDeviceMappings"]]
        if props.get("NetworkInterfaces"):
            args["NetworkInterfaces"] = [network_interface_argument(n) for n in props["NetworkInterfaces"]]
        if props.get("DisableApiTermination") is not None:
            args["DisableApiTermination"] = _flag(props["DisableApiTermination"])
        if props.get("AvailabilityZone"):
            args["Placement"] = {"AvailabilityZone": props["AvailabilityZone"]}
        if props.get("IamInstanceProfile"):
            args["IamInstanceProfile"] = profile_argument(props["IamInstanceProfile"])
        if props.get("UserData"):
            args["UserData"] = user_data_bytes(props["UserData"])
        return args

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Stop/modify/start for type and user data, then groups, profile and tags while running."""
        after = self.desired_view(after)
        stopped = changed & set(STOP_START_KEYS)
        if stopped:
            self._while_stopped(ctx, physical_id, lambda: self._modify_stopped(ctx, physical_id, after, stopped))
        if "SecurityGroupIds" in changed:
            self._set_groups(ctx, physical_id, after.get("SecurityGroupIds"))
        if "IamInstanceProfile" in changed:
            _set_profile(ctx, physical_id, after.get("IamInstanceProfile"))
        if FLAGS in changed:
            _set_delete_on_termination(ctx, physical_id, before.get(FLAGS) or {}, after.get(FLAGS) or {})
        if "DisableApiTermination" in changed:
            ctx.client("ec2").modify_instance_attribute(
                InstanceId=physical_id, DisableApiTermination={"Value": _flag(after.get("DisableApiTermination"))})
        self.sync_tags(ctx, physical_id, before, after, changed)
        return self._current_attributes(ctx, physical_id)

    def _modify_stopped(self, ctx: Context, instance_id: str, after: dict[str, Any], changed: frozenset[str]) -> None:
        """The attributes EC2 changes only on a stopped instance (one ModifyInstanceAttribute each)."""
        ec2 = ctx.client("ec2")
        if "InstanceType" in changed:
            value = after.get("InstanceType") or self.defaults["InstanceType"]
            ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": value})
        if "UserData" in changed:
            ec2.modify_instance_attribute(InstanceId=instance_id,
                                          UserData={"Value": user_data_bytes(after.get("UserData"))})

    def _while_stopped(self, ctx: Context, instance_id: str, change: Callable[[], None]) -> None:
        """Run change on the stopped instance: stop it first if it runs, and start it again afterwards."""
        ec2 = ctx.client("ec2")
        state = self.describe(ctx, [instance_id]).get(instance_id, {}).get("State", {}).get("Name")
        if state == "stopping":
            ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id])
        was_running = state in RUNNING_STATES
        if was_running:
            if state == "pending":
                ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id])
            ec2.stop_instances(InstanceIds=[instance_id])
            ec2.get_waiter("instance_stopped").wait(InstanceIds=[instance_id])
        change()
        if was_running:
            ec2.start_instances(InstanceIds=[instance_id])
            ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id])

    def _set_groups(self, ctx: Context, instance_id: str, group_ids: list[str] | None) -> None:
        """The spec's security groups; none in the spec means the VPC's default group (EC2's default),
        left alone when the instance has just that group already (the spec never set any)."""
        if group_ids:
            groups = sorted(set(group_ids))
        else:
            item = self.describe(ctx, [instance_id])[instance_id]
            if [g.get("GroupName") for g in item.get("SecurityGroups", [])] == ["default"]:
                return
            groups = [_default_group(ctx, item["VpcId"])]
        ctx.client("ec2").modify_instance_attribute(InstanceId=instance_id, Groups=groups)

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """TerminateInstances and wait until terminated; an instance already gone is success."""
        ec2 = ctx.client("ec2")
        try:
            ec2.terminate_instances(InstanceIds=[physical_id])
        except ClientError as exc:
            if error_code(exc) in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
                return
            raise
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[physical_id])

    # --- attributes -----------------------------------------------------------------------------
    def _current_attributes(self, ctx: Context, instance_id: str) -> dict[str, Any]:
        """Attributes as they are now (a public address is assigned, or changes, when the instance starts)."""
        item = self.describe(ctx, [instance_id]).get(instance_id)
        if item is None:
            raise DeployerError(f"instance {instance_id} is not running (terminated while being changed?)")
        return _attributes(item)


# --- helpers ----------------------------------------------------------------------------------------

def _properties(item: dict[str, Any]) -> dict[str, Any]:
    """DescribeInstances' answer in spec shape."""
    props: dict[str, Any] = {
        "ImageId": item.get("ImageId"),
        "InstanceType": item.get("InstanceType"),
        "SubnetId": item.get("SubnetId"),
        "AvailabilityZone": item.get("Placement", {}).get("AvailabilityZone"),
        "KeyName": item.get("KeyName"),
        "SecurityGroupIds": sorted({g["GroupId"] for g in item.get("SecurityGroups", [])}),
        "SecurityGroups": sorted({g["GroupName"] for g in item.get("SecurityGroups", []) if g.get("GroupName")}),
        "Tags": user_tags(item.get("Tags")),
    }
    return {k: v for k, v in props.items() if v is not None}


def _attributes(item: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Fn::GetAtt names; public ones are empty for an instance without a public address."""
    return {
        "InstanceId": item["InstanceId"],
        "PrivateIp": item.get("PrivateIpAddress") or "",
        "PublicIp": item.get("PublicIpAddress") or "",
        "PrivateDnsName": item.get("PrivateDnsName") or "",
        "PublicDnsName": item.get("PublicDnsName") or "",
        "VpcId": item.get("VpcId") or "",
        "AvailabilityZone": item.get("Placement", {}).get("AvailabilityZone") or "",
    }


def _default_group(ctx: Context, vpc_id: str) -> str:
    groups = ctx.client("ec2").describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return groups[0]["GroupId"]


def _termination_protected(ctx: Context, instance_id: str) -> bool:
    answer = ctx.client("ec2").describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")
    return bool((answer.get("DisableApiTermination") or {}).get("Value"))


def _set_delete_on_termination(ctx: Context, instance_id: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """The volumes whose DeleteOnTermination changed, in one ModifyInstanceAttribute; a flag no longer
    set goes back to true (EC2's default for a volume created at launch)."""
    changes = [{"DeviceName": device, "Ebs": {"DeleteOnTermination": _flag(after.get(device, True))}}
               for device in sorted(set(before) | set(after))
               if _flag(before.get(device, True)) != _flag(after.get(device, True))]
    if changes:
        ctx.client("ec2").modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=changes)


def _user_data(ctx: Context, instance_id: str) -> str:
    answer = ctx.client("ec2").describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    return canonical_user_data((answer.get("UserData") or {}).get("Value") or "")


def _associations(ctx: Context, instance_ids: list[str]) -> list[dict[str, Any]]:
    """The active profile associations of these instances (one filtered call per 200 ids)."""
    return describe_by_ids(ctx.client("ec2"), "describe_iam_instance_profile_associations",
                           "IamInstanceProfileAssociations", "instance-id", instance_ids,
                           [{"Name": "state", "Values": list(ACTIVE_ASSOCIATION)}])


def _profiles(ctx: Context, instance_ids: list[str]) -> dict[str, str]:
    """Each instance's associated instance profile name, by instance id."""
    return {a["InstanceId"]: profile_name(a["IamInstanceProfile"]["Arn"]) for a in _associations(ctx, instance_ids)}


def _set_profile(ctx: Context, instance_id: str, profile: str | None) -> None:
    """Associate, replace or disassociate the instance's profile to match the spec."""
    ec2 = ctx.client("ec2")
    current = _associations(ctx, [instance_id])
    if profile and current:
        _retry_profile_propagation(lambda: ec2.replace_iam_instance_profile_association(
            IamInstanceProfile=profile_argument(profile), AssociationId=current[0]["AssociationId"]))
    elif profile:
        _retry_profile_propagation(lambda: ec2.associate_iam_instance_profile(
            IamInstanceProfile=profile_argument(profile), InstanceId=instance_id))
    else:
        for association in current:
            ec2.disassociate_iam_instance_profile(AssociationId=association["AssociationId"])


def _is_profile_propagation(exc: ClientError) -> bool:
    """EC2 refuses an instance profile IAM has just created ("Invalid IAM Instance Profile") for a while."""
    message = str(exc.response.get("Error", {}).get("Message", "")).lower()
    return error_code(exc) == "InvalidParameterValue" and "instance profile" in message.replace("_", " ")


def _retry_profile_propagation(call: Callable[[], Any]) -> Any:
    """Run an EC2 call naming an instance profile, again while IAM propagates a new profile."""
    return waiting.retrying(call, lambda exc: isinstance(exc, ClientError) and _is_profile_propagation(exc),
                            budget=PROFILE_RETRY_DELAY * (PROFILE_RETRY_ATTEMPTS - 1), first=PROFILE_RETRY_DELAY,
                            longest=PROFILE_RETRY_DELAY)

