"""RDS handlers: AWS::RDS::DBSubnetGroup and AWS::RDS::DBInstance.

Both are named resources whose physical id is their name (CloudFormation's Ref), which RDS stores in
lowercase: names are lowercased before any call, and generated names are lowercase too.

DBInstance
- Create-only (replacement): DBInstanceIdentifier, DBName, DBSubnetGroupName, KmsKeyId,
  MasterUsername, StorageEncrypted (CloudFormation's schema), and Engine (RDS converts engines in
  place only between editions of one engine, so deployer replaces; see tools/schema_subsets/rds.json).
- Create-only too: Timezone (CloudFormation's schema).
- Everything else changes with one ModifyDBInstance, with ApplyImmediately from the spec (default
  true, CloudFormation's default). Changes RDS defers to the maintenance window are read back from
  PendingModifiedValues, so a plan right after the apply is clean while they wait. A new
  DBParameterGroupName that leaves the instance pending-reboot reboots it, as CloudFormation does.
- Read replicas: SourceDBInstanceIdentifier makes the create a CreateDBInstanceReadReplica (with the
  settings that call takes), followed by one ModifyDBInstance for the settings it does not take
  (backup retention and window, maintenance window, engine version, license model). Removing
  SourceDBInstanceIdentifier promotes the replica (PromoteReadReplica), as CloudFormation does.
  CloudFormation replaces the instance for any other change of it (a new source, or a standalone
  instance made a replica); the engine decides replacement per property, not per change, so deployer
  refuses those changes before calling anything, saying what to do. A replica is deleted without a
  final snapshot: RDS takes none of a replica.
- MasterUserPassword is sensitive and write-only: the state keeps only its digest. RDS cannot say
  whether it changed, so every update of the instance re-sends it (harmless: the same password),
  unless the engine hands update() the digest the last apply stored, which is then compared. With
  ManageMasterUserPassword, RDS generates the password and keeps it in Secrets Manager
  (attribute MasterUserSecret.SecretArn), encrypted with MasterUserSecret.KmsKeyId.
- KMS keys are compared by key id: RDS answers ARNs, a spec usually gives ${Key} (a key id), an
  ARN or an alias (resolved with DescribeKey).
- Deleting (or replacing) takes a final snapshot, because deletion_policy defaults to snapshot for
  this type (SPEC §7): the plan names the snapshot (ctx.settings.final_snapshot). deletion_policy:
  delete, or the deployer extension SkipFinalSnapshot: true, deletes without one;
  DeleteAutomatedBackups (default true) is passed through. Those two extension settings live on the
  instance as tags in deployer's own namespace (deployer:skip-final-snapshot,
  deployer:retain-automated-backups), set only when they differ from the default; they are read back
  as properties and never shown among Tags.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import secrets
from deployer.aws import error_code
from deployer.errors import DeployerError
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    Stake,
    TagApi,
    absent,
    map_to_tags,
    owner_of,
    tags_to_map,
    user_tags,
    with_ownership,
)

SKIP_SNAPSHOT_TAG = "deployer:skip-final-snapshot"
RETAIN_BACKUPS_TAG = "deployer:retain-automated-backups"
DB_FILTER_VALUES = 100  # identifiers per DescribeDBInstances filter
ENGINE_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "oracle": 1521, "sqlserver": 1433, "db2": 50000}
CONTEXT_DEFAULTED = {"Port": "DBPortNumber", "VPCSecurityGroups": "VpcSecurityGroupIds",
                     "PubliclyAccessible": "PubliclyAccessible"}  # defaults that depend on engine or network
PENDING_KEYS = ("DBInstanceClass", "AllocatedStorage", "MultiAZ", "EngineVersion", "BackupRetentionPeriod",
                "StorageType", "Iops", "LicenseModel")
# settings ModifyDBInstance takes as the spec writes them; a removed one is left as it is (its default
# depends on the engine, the storage or a window RDS picked)
PLAIN_SETTINGS = ("OptionGroupName", "LicenseModel", "PreferredBackupWindow", "PreferredMaintenanceWindow",
                  "MonitoringRoleArn")
# CreateDBInstanceReadReplica's own arguments; the rest of a replica's spec is modified after it exists
REPLICA_TAKES = ("DBInstanceClass", "Port", "MultiAZ", "AutoMinorVersionUpgrade", "Iops", "OptionGroupName",
                 "DBParameterGroupName", "PubliclyAccessible", "DBSubnetGroupName", "VPCSecurityGroups", "StorageType",
                 "CopyTagsToSnapshot", "MonitoringInterval", "MonitoringRoleArn", "KmsKeyId", "DeletionProtection",
                 "MaxAllocatedStorage", "AllocatedStorage")
WANTED_ONLY = ("DBParameterGroupName", "OptionGroupName", "StorageType", "Iops", "MaxAllocatedStorage",
               "MonitoringRoleArn", "LicenseModel", "Timezone", "PreferredBackupWindow", "PreferredMaintenanceWindow")
REPLICA_MODIFIES = ("BackupRetentionPeriod", "PreferredBackupWindow", "PreferredMaintenanceWindow", "EngineVersion",
                    "LicenseModel")
WAIT = {"Delay": 30, "MaxAttempts": 120}  # up to an hour: a Multi-AZ create or a class change is slow
NOT_FOUND = frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault", "DBSubnetGroupNotFoundFault",
                       "DBSubnetGroupNotFound"})
RDS_TAGS = TagApi("rds", add="add_tags_to_resource", remove="remove_tags_from_resource", id_param="ResourceName")


def rds_name(value: Any) -> Any:
    """A name as RDS stores it (lowercase); anything else unchanged."""
    return value.lower() if isinstance(value, str) else value


def _whole(value: Any) -> Any:
    """A number given as text (CloudFormation types AllocatedStorage and Port as strings) as an int."""
    number = canon(value)
    return number if type(number) is int else value


def _flag(value: Any) -> bool:
    return canon(value) is True


def _tagged(tags: Any, key: str) -> bool:
    return tags_to_map(tags).get(key) == "true"


def _arn_tags(client: Any, arn: str) -> list[dict[str, str]]:
    return client.list_tags_for_resource(ResourceName=arn).get("TagList", [])




# --- DB subnet group ------------------------------------------------------------------------------

class DBSubnetGroup(Handler):
    """AWS::RDS::DBSubnetGroup; physical id = the (lowercase) group name."""

    type_name = "AWS::RDS::DBSubnetGroup"
    name_property = "DBSubnetGroupName"
    name_max_length = 255
    name_lowercase = True
    defaults: ClassVar[dict[str, Any]] = {"Tags": []}
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"DBSubnetGroupAlreadyExists", "DBSubnetGroupAlreadyExistsFault"})
    create_checks_existence = True
    tag_api = RDS_TAGS

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        name = props.get(self.name_property)
        return name.lower() if isinstance(name, str) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The name in lowercase and the subnets as a sorted set, as read() returns them."""
        view = dict(props)
        if self.name_property in view:
            view[self.name_property] = rds_name(view[self.name_property])
        if isinstance(view.get("SubnetIds"), list):
            view["SubnetIds"] = sorted(set(view["SubnetIds"]), key=str)
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """DescribeDBSubnetGroups, plus ListTagsForResource when Tags are wanted."""
        client = ctx.client("rds")
        groups = self.absent(lambda: client.describe_db_subnet_groups(DBSubnetGroupName=physical_id)["DBSubnetGroups"])
        if not groups:
            return None
        group = groups[0]
        raw_tags = _arn_tags(client, group["DBSubnetGroupArn"]) if "Tags" in wanted else None
        props = {
            "DBSubnetGroupName": group["DBSubnetGroupName"],
            "DBSubnetGroupDescription": group.get("DBSubnetGroupDescription", ""),
            "SubnetIds": sorted(s["SubnetIdentifier"] for s in group.get("Subnets", [])),
        }
        if raw_tags is not None:
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes={"DBSubnetGroupArn": group["DBSubnetGroupArn"]},
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateDBSubnetGroup with the ownership tags."""
        name = props["DBSubnetGroupName"].lower()
        group = ctx.client("rds").create_db_subnet_group(
            DBSubnetGroupName=name, DBSubnetGroupDescription=props["DBSubnetGroupDescription"],
            SubnetIds=sorted(set(props["SubnetIds"])),
            Tags=map_to_tags(with_ownership(ctx, props.get("Tags"))))["DBSubnetGroup"]
        return name, {"DBSubnetGroupArn": group["DBSubnetGroupArn"]}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Description and subnets in one ModifyDBSubnetGroup (it needs both); then tags."""
        after = self.desired_view(after)
        if changed & {"DBSubnetGroupDescription", "SubnetIds"}:
            ctx.client("rds").modify_db_subnet_group(DBSubnetGroupName=physical_id,
                                                     DBSubnetGroupDescription=after["DBSubnetGroupDescription"],
                                                     SubnetIds=after["SubnetIds"])
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {"DBSubnetGroupArn": self.tag_target(ctx, physical_id)}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteDBSubnetGroup; a group already gone is success."""
        with self.missing_ok():
            ctx.client("rds").delete_db_subnet_group(DBSubnetGroupName=physical_id)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        return [arn.rsplit(":", 1)[-1] for arn in self.owned_by_tags(ctx, "rds:subgrp")]

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        return f"arn:{ctx.partition}:rds:{ctx.region}:{ctx.account_id}:subgrp:{physical_id}"


# --- DB instance ----------------------------------------------------------------------------------

class DBInstance(Handler):
    """AWS::RDS::DBInstance; physical id = the (lowercase) DB instance identifier."""

    type_name = "AWS::RDS::DBInstance"
    name_property = "DBInstanceIdentifier"
    name_max_length = 63
    name_lowercase = True
    sensitive_properties = frozenset({"MasterUserPassword"})
    # kept as a tag on the instance; a replica's source is in DescribeDBInstances
    readable_write_only = frozenset({"DeleteAutomatedBackups", "SourceDBInstanceIdentifier"})
    default_deletion_policy = "snapshot"
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"})
    create_checks_existence = True
    tag_api = RDS_TAGS
    defaults: ClassVar[dict[str, Any]] = {
        "MultiAZ": False,
        "BackupRetentionPeriod": 1,
        "DeletionProtection": False,
        "StorageEncrypted": False,
        "ManageMasterUserPassword": False,
        "AutoMinorVersionUpgrade": True,
        "MonitoringInterval": 0,
        "CopyTagsToSnapshot": False,
        "SourceDBInstanceIdentifier": None,  # a standalone instance
        "ApplyImmediately": True,
        "DeleteAutomatedBackups": True,
        "SkipFinalSnapshot": False,
        "Tags": [],
    }

    # --- naming and comparison view ---------------------------------------------------------------
    def generate_name(self, stack: str, logical_id: str, props: dict[str, Any], suffix: str) -> str:
        """As the base, within RDS's identifier rules: lowercase, a leading letter, no double hyphens."""
        name = re.sub(r"-{2,}", "-", super().generate_name(stack, logical_id, props, suffix).lower())
        return name if name[:1].isalpha() else f"db-{name}"[:self.name_max_length]

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        name = props.get(self.name_property)
        return name.lower() if isinstance(name, str) else None

    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The key ids of KMS aliases the spec names (RDS reports key ARNs)."""
        keys = [props.get("KmsKeyId"), (props.get("MasterUserSecret") or {}).get("KmsKeyId")
                if isinstance(props.get("MasterUserSecret"), dict) else None]
        aliases = [k for k in keys if isinstance(k, str) and (k.startswith("alias/") or ":alias/" in k)]
        kms = ctx.client("kms")
        found = {a: absent(lambda a=a: kms.describe_key(KeyId=a)["KeyMetadata"]["KeyId"],
                           frozenset({"NotFoundException"})) for a in aliases}
        return {"key_ids": {a: k for a, k in found.items() if k}} if found else {}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec as read() shows it: names lowercase, groups sorted, KMS keys as key ids."""
        view = dict(props)
        aliases = (reads or {}).get("key_ids", {})
        for key in ("DBInstanceIdentifier", "DBSubnetGroupName", "Engine"):
            if key in view:
                view[key] = rds_name(view[key])
        if isinstance(view.get("VPCSecurityGroups"), list):
            view["VPCSecurityGroups"] = sorted(set(view["VPCSecurityGroups"]), key=str)
        if "KmsKeyId" in view:
            view["KmsKeyId"] = key_id(view["KmsKeyId"], aliases)
        if isinstance(view.get("MasterUserSecret"), dict) and "KmsKeyId" in view["MasterUserSecret"]:
            view["MasterUserSecret"] = {**view["MasterUserSecret"],
                                        "KmsKeyId": key_id(view["MasterUserSecret"]["KmsKeyId"], aliases)}
        return view

    # --- read -------------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        return self.read_many([(ctx, physical_id, wanted)])[0]

    def read_many(self, requests: list[tuple[Context, str, set[str]]]) -> list[Live | None]:
        """One filtered DescribeDBInstances per 100 identifiers (its answer carries the tags too)."""
        if not requests:
            return []
        found = _describe(requests[0][0], [pid for _, pid, _ in requests])
        return [self._live(found[pid], wanted) if pid in found else None for _, pid, wanted in requests]

    def _live(self, db: dict[str, Any], wanted: set[str]) -> Live:
        """Settings whose defaults depend on the engine, the storage or RDS's choice are shown only when
        wanted (what the spec or the last apply set), so nothing else reads as a change to undo."""
        props = {k: v for k, v in _db_properties(db).items() if k not in WANTED_ONLY or k in wanted}
        return Live(properties=self.trim(props, wanted), attributes=_db_attributes(db),
                    owner=owner_of(db.get("TagList")))

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        return [arn.rsplit(":", 1)[-1] for arn in self.owned_by_tags(ctx, "rds:db")]

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        return f"arn:{ctx.partition}:rds:{ctx.region}:{ctx.account_id}:db:{physical_id}"

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """The database: its storage, and the final snapshot a delete takes (or that none is taken)."""
        db = _describe(ctx, [physical_id]).get(physical_id)
        if db is None:
            return None
        source = db.get("ReadReplicaSourceDBInstanceIdentifier")
        if source:  # its data is its source's: nothing is lost but the copy
            return Stake(f"read replica of {source}, {db.get('AllocatedStorage')} GiB; no final snapshot (RDS takes "
                         "none of a replica)")
        snapshot = _final_snapshot(ctx, props)
        tail = f"final snapshot {snapshot}" if snapshot else "no final snapshot"
        return Stake(f"database, {db.get('AllocatedStorage')} GiB; {tail}")

    # --- create -----------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateDBInstance (CreateDBInstanceReadReplica for a replica) with the ownership (and
        deletion-setting) tags; wait until available unless the answer already says so."""
        client = ctx.client("rds")
        name = props["DBInstanceIdentifier"].lower()
        if props.get("SourceDBInstanceIdentifier"):
            return name, self._create_replica(ctx, name, props)
        db = client.create_db_instance(**_create_args(ctx, name, props))["DBInstance"]
        if db.get("DBInstanceStatus") != "available":  # AWS answers creating: wait, then describe it again
            client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=name, WaiterConfig=WAIT)
            db = _describe(ctx, [name])[name]
        return name, _db_attributes(db)

    def _create_replica(self, ctx: Context, name: str, props: dict[str, Any]) -> dict[str, Any]:
        """CreateDBInstanceReadReplica with what it takes, then one ModifyDBInstance for what it does not."""
        client = ctx.client("rds")
        client.create_db_instance_read_replica(**_replica_args(ctx, name, props))
        client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=name, WaiterConfig=WAIT)
        db = _describe(ctx, [name])[name]
        later = {k: props[k] for k in REPLICA_MODIFIES if props.get(k) not in (None, "")}
        live = _db_properties(db)
        changes = self._modifications(ctx, db, live, self.desired_view({**live, **later}),
                                      frozenset(k for k in later if self.differs(live, later, k)))
        if changes:
            client.modify_db_instance(DBInstanceIdentifier=name, ApplyImmediately=True, **changes)
            client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=name, WaiterConfig=WAIT)
            db = _describe(ctx, [name])[name]
        return _db_attributes(db)

    # --- update -----------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Every changed setting in one ModifyDBInstance (then wait until available again), then tags."""
        client = ctx.client("rds")
        after = self.desired_view(after, self.plan_reads(ctx, after))
        db = _describe(ctx, [physical_id])[physical_id]
        if "SourceDBInstanceIdentifier" in changed:
            db = self._promote(ctx, physical_id, db, after)
        changes = self._modifications(ctx, db, before, after, changed)
        if changes:
            immediately = _flag(after.get("ApplyImmediately", self.defaults["ApplyImmediately"]))
            client.modify_db_instance(DBInstanceIdentifier=physical_id, ApplyImmediately=immediately, **changes)
            client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=physical_id, WaiterConfig=WAIT)
            if "DBParameterGroupName" in changes and immediately:
                _reboot_if_pending(ctx, physical_id)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _db_attributes(_describe(ctx, [physical_id])[physical_id])

    def refuse_update(self, before: dict[str, Any], after: dict[str, Any], changed: frozenset[str]) -> str | None:
        """Making an instance a replica of another source is a new instance (CloudFormation replaces it)."""
        wanted = after.get("SourceDBInstanceIdentifier")
        if "SourceDBInstanceIdentifier" not in changed or not wanted:
            return None
        source = before.get("SourceDBInstanceIdentifier")
        now = f"a read replica of {source}" if source else "a standalone instance"
        return (f"the DB instance is {now}; making it a read replica of {wanted} means a new instance "
                "(CloudFormation replaces it), which deployer does not do in place: add the replica as a new "
                "resource under another logical id, move what uses this one to it, then remove this one")

    def _promote(self, ctx: Context, physical_id: str, db: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """SourceDBInstanceIdentifier removed: PromoteReadReplica (with the spec's backup settings). Any
        other change of it CloudFormation makes by replacing the instance: refused here, before any call."""
        source = db.get("ReadReplicaSourceDBInstanceIdentifier")
        wanted = after.get("SourceDBInstanceIdentifier")
        if wanted:
            now = f"a read replica of {source}" if source else "a standalone instance"
            raise DeployerError(
                f"{ctx.logical_id}: DB instance {physical_id} is {now}; making it a read replica of {wanted} means a "
                "new instance (CloudFormation replaces it), which deployer does not do in place: add the replica "
                "as a new resource under another logical id, move what uses this one to it, then remove this one")
        if not source:
            return db
        args = {"DBInstanceIdentifier": physical_id}
        if after.get("BackupRetentionPeriod") is not None:
            args["BackupRetentionPeriod"] = _whole(after["BackupRetentionPeriod"])
        if after.get("PreferredBackupWindow"):
            args["PreferredBackupWindow"] = after["PreferredBackupWindow"]
        client = ctx.client("rds")
        client.promote_read_replica(**args)
        client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=physical_id, WaiterConfig=WAIT)
        return _describe(ctx, [physical_id])[physical_id]

    def _modifications(self, ctx: Context, db: dict[str, Any], before: dict[str, Any],
                       after: dict[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        """ModifyDBInstance arguments for what differs; a removed setting goes back to RDS's default
        (sizes, class and version, which cannot go back, are left as they are)."""
        args: dict[str, Any] = {}
        for key in ("MultiAZ", "BackupRetentionPeriod", "DeletionProtection", "AutoMinorVersionUpgrade",
                    "CopyTagsToSnapshot", "MonitoringInterval"):
            if key in changed:
                value = after.get(key, self.defaults[key])
                args[key] = _whole(value) if key in ("BackupRetentionPeriod", "MonitoringInterval") else _flag(value)
        for key in ("DBInstanceClass", "AllocatedStorage", "EngineVersion", "Iops", *PLAIN_SETTINGS):
            if key in after and key in changed:
                args[key] = _whole(after[key]) if key in ("AllocatedStorage", "Iops") else after[key]
        if "EngineVersion" in args:  # the spec names the version: a major upgrade is what it asks for,
            args["AllowMajorVersionUpgrade"] = _flag(after.get("AllowMajorVersionUpgrade", True))  # unless it says no
        if "StorageType" in changed:  # RDS's default: io1 with provisioned IOPS, gp3 otherwise
            args["StorageType"] = after.get("StorageType") or ("io1" if after.get("Iops") else "gp3")
        if "MaxAllocatedStorage" in changed:  # none: autoscaling off, which RDS takes as the allocated size
            args["MaxAllocatedStorage"] = _whole(after.get("MaxAllocatedStorage") or
                                                 after.get("AllocatedStorage") or db.get("AllocatedStorage"))
        if "DBParameterGroupName" in changed:
            group = after.get("DBParameterGroupName") or _default_parameter_group(ctx, db)
            if group:
                args["DBParameterGroupName"] = group
        for key, argument in CONTEXT_DEFAULTED.items():
            target = after[key] if key in after else _service_default(ctx, db, key) if key in before else None
            if target is not None and self.differs(before, {key: target}, key):
                args[argument] = _api_value(key, target)
        args.update(self._password_changes(before, after, changed))
        return args

    def _password_changes(self, before: dict[str, Any], after: dict[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        """Master password settings: managed by RDS (and with which key), or the spec's own password."""
        args: dict[str, Any] = {}
        managed = _flag(after.get("ManageMasterUserPassword"))
        if "ManageMasterUserPassword" in changed:
            args["ManageMasterUserPassword"] = managed
        secret_key = (after.get("MasterUserSecret") or {}).get("KmsKeyId")
        if managed and secret_key and "MasterUserSecret" in changed:
            args["MasterUserSecretKmsKeyId"] = secret_key
        password = after.get("MasterUserPassword")
        if not managed and password and not _same_secret(before.get("MasterUserPassword"), password):
            args["MasterUserPassword"] = password
        return args

    def sync_tags(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
                  changed: frozenset[str]) -> None:
        """User tags and the deletion-setting tags (dropped ones removed); ownership tags ride along."""
        if not changed & {"Tags", "SkipFinalSnapshot", "DeleteAutomatedBackups"}:
            return
        arn = self.tag_target(ctx, physical_id)
        wanted, had = _deletion_tags(after), _deletion_tags(before)
        dropped = [k for k in had if k not in wanted]
        if dropped:
            ctx.client("rds").remove_tags_from_resource(ResourceName=arn, TagKeys=dropped)
        self.tag_api.sync(ctx, arn, before.get("Tags"), {**tags_to_map(after.get("Tags")), **wanted})

    # --- delete -----------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteDBInstance with the final snapshot the plan named (none for deletion_policy: delete or
        SkipFinalSnapshot); wait until it is gone."""
        client = ctx.client("rds")
        db = _describe(ctx, [physical_id]).get(physical_id) or {}
        snapshot = None if db.get("ReadReplicaSourceDBInstanceIdentifier") else _final_snapshot(ctx, props)
        try:
            client.delete_db_instance(**_delete_args(physical_id, props, snapshot))
        except ClientError as exc:
            if self.is_not_found(exc):
                return
            if error_code(exc) != "InvalidDBInstanceState":  # already being deleted: wait for it
                raise
        client.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=physical_id, WaiterConfig=WAIT)


# --- DB instance helpers --------------------------------------------------------------------------

def key_id(value: Any, aliases: dict[str, str] | None = None) -> Any:
    """A KMS key reference as its key id: from a key ARN directly, from an alias as plan_reads found it."""
    if not isinstance(value, str):
        return value
    if ":key/" in value:
        return value.rsplit("/", 1)[-1]
    return (aliases or {}).get(value, value)


def _final_snapshot(ctx: Context, props: dict[str, Any]) -> str | None:
    """The final snapshot a delete takes: the plan's name (deletion_policy snapshot), none when the
    extension SkipFinalSnapshot says so."""
    return None if _flag(props.get("SkipFinalSnapshot")) else ctx.settings.final_snapshot


def _same_secret(before: Any, after: Any) -> bool:
    """Whether a write-only secret is unchanged: only knowable when `before` is the digest the state
    keeps (a live read never has the value itself)."""
    return isinstance(before, str) and before.startswith("sha256:") and before == secrets.digest(canon(after))


def _describe(ctx: Context, identifiers: list[str]) -> dict[str, dict[str, Any]]:
    """The DB instances among these identifiers, by identifier (absent ones left out)."""
    client = ctx.client("rds")
    unique = sorted(set(identifiers))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), DB_FILTER_VALUES):
        part = unique[start:start + DB_FILTER_VALUES]
        pages = client.get_paginator("describe_db_instances").paginate(
            Filters=[{"Name": "db-instance-id", "Values": part}])
        for page in pages:
            found.update({db["DBInstanceIdentifier"]: db for db in page.get("DBInstances", [])})
    return found


def _db_properties(db: dict[str, Any]) -> dict[str, Any]:
    """DescribeDBInstances' answer in spec shape, with changes pending for the maintenance window."""
    secret = db.get("MasterUserSecret") or {}
    props: dict[str, Any] = {
        "DBInstanceIdentifier": db["DBInstanceIdentifier"],
        "Engine": db.get("Engine"),
        "EngineVersion": db.get("EngineVersion"),
        "DBInstanceClass": db.get("DBInstanceClass"),
        "AllocatedStorage": db.get("AllocatedStorage"),
        "MultiAZ": db.get("MultiAZ"),
        "BackupRetentionPeriod": db.get("BackupRetentionPeriod"),
        "PubliclyAccessible": db.get("PubliclyAccessible"),
        "VPCSecurityGroups": sorted(g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])
                                    if g.get("Status") != "removing"),
        "DBSubnetGroupName": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "StorageEncrypted": db.get("StorageEncrypted"),
        "KmsKeyId": key_id(db.get("KmsKeyId")),
        "DeletionProtection": db.get("DeletionProtection"),
        "MasterUsername": db.get("MasterUsername"),
        "ManageMasterUserPassword": bool(secret),
        "MasterUserSecret": {"KmsKeyId": key_id(secret["KmsKeyId"])} if secret.get("KmsKeyId") else None,
        "Port": (db.get("Endpoint") or {}).get("Port"),
        "DBName": db.get("DBName"),
        "DBParameterGroupName": _first(db.get("DBParameterGroups"), "DBParameterGroupName"),
        "OptionGroupName": _first(db.get("OptionGroupMemberships"), "OptionGroupName"),
        "StorageType": db.get("StorageType"),
        "Iops": db.get("Iops"),
        "MaxAllocatedStorage": db.get("MaxAllocatedStorage"),
        "AutoMinorVersionUpgrade": db.get("AutoMinorVersionUpgrade"),
        "MonitoringInterval": db.get("MonitoringInterval"),
        "MonitoringRoleArn": db.get("MonitoringRoleArn") or None,
        "SourceDBInstanceIdentifier": db.get("ReadReplicaSourceDBInstanceIdentifier") or None,
        "LicenseModel": db.get("LicenseModel"),
        "Timezone": db.get("Timezone"),
        "PreferredBackupWindow": db.get("PreferredBackupWindow"),
        "PreferredMaintenanceWindow": db.get("PreferredMaintenanceWindow"),
        "CopyTagsToSnapshot": db.get("CopyTagsToSnapshot"),
        "Tags": user_tags(db.get("TagList")),
        "SkipFinalSnapshot": _tagged(db.get("TagList"), SKIP_SNAPSHOT_TAG),
        "DeleteAutomatedBackups": not _tagged(db.get("TagList"), RETAIN_BACKUPS_TAG),
    }
    pending = db.get("PendingModifiedValues") or {}
    props.update({k: pending[k] for k in PENDING_KEYS if pending.get(k) is not None})
    if pending.get("Port") is not None:
        props["Port"] = pending["Port"]
    return props


def _db_attributes(db: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Fn::GetAtt names (Endpoint.Port is text there)."""
    endpoint = db.get("Endpoint") or {}
    attrs: dict[str, Any] = {"DBInstanceArn": db["DBInstanceArn"], "DbiResourceId": db.get("DbiResourceId", ""),
                             "Endpoint.Address": endpoint.get("Address", ""),
                             "Endpoint.Port": str(endpoint["Port"]) if endpoint.get("Port") else ""}
    secret_arn = (db.get("MasterUserSecret") or {}).get("SecretArn")
    if secret_arn:
        attrs["MasterUserSecret.SecretArn"] = secret_arn
    return attrs


def _deletion_tags(props: dict[str, Any]) -> dict[str, str]:
    """The tags recording SkipFinalSnapshot and DeleteAutomatedBackups on the instance (only when not default)."""
    on = {SKIP_SNAPSHOT_TAG: _flag(props.get("SkipFinalSnapshot")),
          RETAIN_BACKUPS_TAG: not _flag(props.get("DeleteAutomatedBackups", True))}
    return {k: "true" for k, value in on.items() if value}


def _create_args(ctx: Context, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """CreateDBInstance's arguments from the spec (CloudFormation names mapped to the API's)."""
    args: dict[str, Any] = {"DBInstanceIdentifier": name}
    for key in ("Engine", "EngineVersion", "DBInstanceClass", "DBName", "MasterUsername", "MasterUserPassword",
                "KmsKeyId", "Timezone", *STRING_ARGS):
        if props.get(key) not in (None, ""):
            args[key] = props[key]
    for key in ("AllocatedStorage", "BackupRetentionPeriod", "Port", *WHOLE_ARGS):
        if props.get(key) not in (None, ""):
            args[key] = _whole(props[key])
    for key in ("MultiAZ", "PubliclyAccessible", "StorageEncrypted", "DeletionProtection", "ManageMasterUserPassword",
                *FLAG_ARGS):
        if props.get(key) is not None:
            args[key] = _flag(props[key])
    if props.get("DBSubnetGroupName"):
        args["DBSubnetGroupName"] = props["DBSubnetGroupName"].lower()
    if props.get("VPCSecurityGroups"):
        args["VpcSecurityGroupIds"] = sorted(set(props["VPCSecurityGroups"]))
    if (props.get("MasterUserSecret") or {}).get("KmsKeyId"):
        args["MasterUserSecretKmsKeyId"] = props["MasterUserSecret"]["KmsKeyId"]
    args["Tags"] = map_to_tags({**with_ownership(ctx, props.get("Tags")), **_deletion_tags(props)})
    return args


STRING_ARGS = ("DBParameterGroupName", "StorageType", "OptionGroupName", "LicenseModel", "PreferredBackupWindow",
               "PreferredMaintenanceWindow", "MonitoringRoleArn")  # taken by both creates as the spec writes them
WHOLE_ARGS = ("Iops", "MaxAllocatedStorage", "MonitoringInterval")
FLAG_ARGS = ("AutoMinorVersionUpgrade", "CopyTagsToSnapshot")


def _replica_args(ctx: Context, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """CreateDBInstanceReadReplica's arguments: what the call takes of the spec (the source gives the rest)."""
    full = _create_args(ctx, name, props)
    api_names = {"VPCSecurityGroups": "VpcSecurityGroupIds"}
    args = {"DBInstanceIdentifier": name, "SourceDBInstanceIdentifier": props["SourceDBInstanceIdentifier"],
            "Tags": full["Tags"]}
    for key in REPLICA_TAKES:
        if api_names.get(key, key) in full:
            args[api_names.get(key, key)] = full[api_names.get(key, key)]
    return args


def _first(items: Any, key: str) -> Any:
    """The named field of the first member of a list that is not being removed (groups an instance is in)."""
    for item in items or []:
        if item.get("Status") != "removing" and item.get(key):
            return item[key]
    return None


def _default_parameter_group(ctx: Context, db: dict[str, Any]) -> str | None:
    """The engine's default DB parameter group: default.<family of the group the instance has now>
    (None when RDS names no group, as for an Aurora member)."""
    current = _first(db.get("DBParameterGroups"), "DBParameterGroupName")
    if not current:
        return None
    groups = ctx.client("rds").describe_db_parameter_groups(DBParameterGroupName=current)["DBParameterGroups"]
    return f"default.{groups[0]['DBParameterGroupFamily']}"


def _reboot_if_pending(ctx: Context, identifier: str) -> None:
    """A new parameter group's static parameters apply at a reboot: reboot when RDS says one is pending."""
    db = _describe(ctx, [identifier])[identifier]
    if any(g.get("ParameterApplyStatus") == "pending-reboot" for g in db.get("DBParameterGroups") or []):
        client = ctx.client("rds")
        client.reboot_db_instance(DBInstanceIdentifier=identifier)
        client.get_waiter("db_instance_available").wait(DBInstanceIdentifier=identifier, WaiterConfig=WAIT)


def _delete_args(identifier: str, props: dict[str, Any], snapshot: str | None) -> dict[str, Any]:
    """DeleteDBInstance's arguments: the final snapshot, or none."""
    args: dict[str, Any] = {"DBInstanceIdentifier": identifier,
                            "DeleteAutomatedBackups": _flag(props.get("DeleteAutomatedBackups", True))}
    if snapshot:
        args["SkipFinalSnapshot"] = False
        args["FinalDBSnapshotIdentifier"] = snapshot
    else:
        args["SkipFinalSnapshot"] = True
    return args


def _api_value(key: str, value: Any) -> Any:
    """A context-defaulted setting as ModifyDBInstance takes it."""
    if key == "Port":
        return _whole(value)
    if key == "PubliclyAccessible":
        return _flag(value)
    return sorted(set(value))


def _vpc_of(ctx: Context, db: dict[str, Any]) -> str:
    """The instance's VPC: its subnet group's, or the account's default VPC when it has none."""
    vpc_id = (db.get("DBSubnetGroup") or {}).get("VpcId")
    if vpc_id:
        return vpc_id
    vpcs = ctx.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return vpcs[0]["VpcId"]


def _service_default(ctx: Context, db: dict[str, Any], key: str) -> Any:
    """What RDS gives an instance that does not set `key`: the engine's port, the VPC's default
    security group, public exactly when the VPC has an internet gateway (CreateDBInstance's rules)."""
    if key == "Port":
        return ENGINE_PORTS.get(str(db.get("Engine", "")).split("-")[0])
    ec2 = ctx.client("ec2")
    vpc_id = _vpc_of(ctx, db)
    if key == "PubliclyAccessible":
        gateways = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
        return bool(gateways)
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                   {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return [groups[0]["GroupId"]]
