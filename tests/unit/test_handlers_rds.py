"""The RDS handlers against in-process moto: subnet groups and DB instances created and read back in spec
shape, updatable settings changed with one modify call, removed ones reset, the master password sent but
never read, RDS-managed passwords, the deletion settings kept on the instance, final snapshots, batched
reads, and what the engine needs after a retried create: the already-exists error, find_owned by tags.

moto loses a DB subnet group on ModifyDBSubnetGroup (it pops the group and never puts it back) and
applies every DB modification at once whatever ApplyImmediately says, and ignores DBPortNumber: the
subnet group tests run against a moto fixed to keep the group, the others check the calls made. moto
also ignores Timezone, keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica (the
promotion test patches moto to clear it, as AWS does), creates no option group for postgres after 13 and no
default parameter group of a family no instance was created with, and never leaves a new parameter
group pending-reboot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.rds.models import RDSBackend

from deployer import secrets
from deployer.aws import Aws
from deployer.diff import compare
from deployer.errors import DeployerError
from deployer.resources import handler_for, rds
from deployer.resources.base import Context, Handler, Settings, Stake
from tests.unit.handler_support import apply_update, create_meets_existing, ref_property, update, view
from tests.unit.validating import resource_errors

GROUP = rds.DBSubnetGroup()
DB = rds.DBInstance()
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def env() -> Iterator[dict[str, str]]:
    """One moto account for the module: a VPC with three subnets in two zones, two security groups and
    a KMS key. Each test names its own resources after itself, so tests never see each other's."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_DEFAULT_REGION": "us-east-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
            mp.setenv(key, value)
        with mock_aws():
            yield _environment()


def _environment() -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(("us-east-1a", "us-east-1b", "us-east-1b"))]
    groups = [ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"] for n in ("db", "admin")]
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                    {"Name": "group-name", "Values": ["default"]}])
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]
    return {"vpc": vpc, "a": subnets[0], "b": subnets[1], "c": subnets[2], "sg": groups[0], "sg2": groups[1],
            "default": default["SecurityGroups"][0]["GroupId"], "key": key["KeyId"], "key_arn": key["Arn"]}


@pytest.fixture
def ctx(env, calls, request) -> Context:
    aws = Aws()
    aws.hooks.append(("provide-client-params.*.*", calls))
    logical_id = "".join(part.title() for part in request.node.name.split("_"))[:50]
    return Context(aws, "us-east-1", "teststack", logical_id, token="t" * 32)


@pytest.fixture
def group_keeping_moto(monkeypatch):
    """moto's ModifyDBSubnetGroup removes the group from its backend; AWS keeps it (with the changes)."""
    original = RDSBackend.modify_db_subnet_group

    def modify(self, subnet_name, description, subnets):
        group = original(self, subnet_name, description, subnets)
        self.subnet_groups[subnet_name] = group
        return group

    monkeypatch.setattr(RDSBackend, "modify_db_subnet_group", modify)


def rds_client() -> Any:
    return boto3.client("rds", region_name="us-east-1")


def name_for(ctx: Context, suffix: str = "") -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{ctx.logical_id}{suffix}".lower())[:60].strip("-")


def assert_matches(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], removed: tuple[str, ...] = ()):
    """read() shows what was set (write-only properties aside) and defaults for removed keys."""
    live = handler.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = view(handler, ctx, props)
    keys = (set(desired) | set(removed)) - handler.write_only
    assert compare(keys, desired, live.properties, handler.defaults, handler.create_only, set()) == []
    return live


def with_settings(ctx: Context, **settings: Any) -> Context:
    """The same resource deleted with these lifecycle settings (what the plan puts in the step)."""
    return Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id, token=ctx.token, settings=Settings(**settings))


# --- DB subnet group ------------------------------------------------------------------------------

def group_spec(ctx: Context, env: dict[str, str], **extra: Any) -> dict[str, Any]:
    props = {"DBSubnetGroupName": name_for(ctx).upper(), "DBSubnetGroupDescription": "database subnets",
             "SubnetIds": [env["b"], env["a"]], "Tags": [{"Key": "team", "Value": "data"}]}
    props.update(extra)
    return props


def test_subnet_group_schema_and_naming():
    assert handler_for("AWS::RDS::DBSubnetGroup") is GROUP or handler_for("AWS::RDS::DBSubnetGroup") is not None
    assert GROUP.create_only == {"DBSubnetGroupName"}
    assert ref_property(GROUP) == "DBSubnetGroupName"
    assert GROUP.generate_name("shop", "DbSubnets", {}, "ab12cd34") == "shop-dbsubnets-ab12cd34"
    assert GROUP.physical_id_for({"DBSubnetGroupName": "Mixed"}) == "mixed"


def test_subnet_group_created_lowercase_with_ownership_and_read_back(ctx, env, calls):
    props = group_spec(ctx, env)
    pid, attrs = GROUP.create(ctx, props)
    assert pid == name_for(ctx)
    assert attrs["DBSubnetGroupArn"].endswith(f":subgrp:{pid}")
    created = calls.of("CreateDBSubnetGroup")[0]
    assert {"Key": "deployer:logical-id", "Value": ctx.logical_id} in created["Tags"]
    live = assert_matches(GROUP, ctx, pid, props)
    assert live.owner == (ctx.stack, ctx.logical_id)
    assert live.properties["SubnetIds"] == sorted([env["a"], env["b"]])


def test_subnet_group_description_and_subnets_in_one_modify(ctx, env, calls, group_keeping_moto):
    props = group_spec(ctx, env)
    pid, _ = GROUP.create(ctx, props)
    new = {**props, "DBSubnetGroupDescription": "moved", "SubnetIds": [env["a"], env["c"]]}
    calls.clear()
    apply_update(GROUP, ctx, pid, props, new)
    assert calls.of("ModifyDBSubnetGroup") == [{"DBSubnetGroupName": pid, "DBSubnetGroupDescription": "moved",
                                                "SubnetIds": sorted([env["a"], env["c"]])}]
    assert "AddTagsToResource" not in calls.names()
    assert_matches(GROUP, ctx, pid, new)


def test_subnet_group_tags_change_and_reset(ctx, env):
    props = group_spec(ctx, env)
    pid, _ = GROUP.create(ctx, props)
    new = {**props, "Tags": [{"Key": "cost", "Value": "7"}]}
    apply_update(GROUP, ctx, pid, props, new)
    assert assert_matches(GROUP, ctx, pid, new).owner == (ctx.stack, ctx.logical_id)
    removed = {k: v for k, v in new.items() if k != "Tags"}
    apply_update(GROUP, ctx, pid, new, removed)
    assert assert_matches(GROUP, ctx, pid, removed, removed=("Tags",)).owner == (ctx.stack, ctx.logical_id)


def test_subnet_group_retried_create_answers_already_exists_and_finds_only_its_own(ctx, env, calls):
    """A create whose first answer was lost meets DBSubnetGroupAlreadyExists on its retry (injected here:
    moto silently overwrites an existing group); find_owned says whether the group carries its tags.
    moto's tagging API does not cover subnet groups: its answer is played here, the request checked."""
    props = group_spec(ctx, env)
    pid, attrs = GROUP.create(ctx, props)
    tagged = {("teststack", ctx.logical_id): [attrs["DBSubnetGroupArn"]]}

    def tagging_api(**_: Any) -> tuple[Any, dict[str, Any]]:
        params = calls.of("GetResources")[-1]  # as the handler sent them
        owner = tuple(f["Values"][0] for f in params["TagFilters"])
        assert params["ResourceTypeFilters"] == ["rds:subgrp"]
        found = [{"ResourceARN": arn} for arn in tagged.get(owner, [])]
        return SimpleNamespace(status_code=200), {"ResourceTagMappingList": found}

    ctx.aws.client("resourcegroupstaggingapi", ctx.region).meta.events.register(
        "before-call.resource-groups-tagging-api.GetResources", tagging_api)

    def exists(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "DBSubnetGroupAlreadyExists", "Message": "exists"}},
                          "CreateDBSubnetGroup")

    ctx.aws.client("rds", ctx.region).meta.events.register("before-call.rds.CreateDBSubnetGroup", exists)
    assert create_meets_existing(GROUP, ctx, props) == "DBSubnetGroupAlreadyExists"
    assert GROUP.find_owned(ctx, props) == [pid]
    assert GROUP.find_owned(Context(ctx.aws, ctx.region, "otherstack", ctx.logical_id), props) == []
    assert GROUP.lookup(ctx, props) == pid  # the lowercase name


def test_subnet_group_delete_and_already_gone(ctx, env):
    pid, _ = GROUP.create(ctx, group_spec(ctx, env))
    GROUP.delete(ctx, pid, {})
    assert GROUP.read(ctx, pid, {"Tags"}) is None
    GROUP.delete(ctx, pid, {})


def test_subnet_group_tag_for_ownership(ctx, env):
    name = name_for(ctx)
    rds_client().create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="d", SubnetIds=[env["a"]])
    assert GROUP.read(ctx, name, {"Tags"}).owner is None
    GROUP.tag_for_ownership(ctx, name)
    assert GROUP.read(ctx, name, {"Tags"}).owner == (ctx.stack, ctx.logical_id)


# --- DB instance: schema, naming, views -------------------------------------------------------------

def db_spec(ctx: Context, env: dict[str, str], **extra: Any) -> dict[str, Any]:
    props = {"DBInstanceIdentifier": name_for(ctx), "Engine": "postgres", "EngineVersion": "16.3",
             "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "MasterUsername": "app_admin",
             "MasterUserPassword": PASSWORD, "VPCSecurityGroups": [env["sg"]], "BackupRetentionPeriod": 3,
             "Tags": [{"Key": "team", "Value": "data"}]}
    props.update(extra)
    return props


def test_db_instance_schema_metadata():
    assert handler_for("AWS::RDS::DBInstance") is not None
    assert DB.create_only == {"DBInstanceIdentifier", "Engine", "DBName", "DBSubnetGroupName", "KmsKeyId",
                              "MasterUsername", "StorageEncrypted", "Timezone"}
    # DeleteAutomatedBackups is read from a tag, SourceDBInstanceIdentifier from DescribeDBInstances
    assert DB.write_only == {"MasterUserPassword", "ApplyImmediately", "AllowMajorVersionUpgrade"}
    assert DB.sensitive_properties == {"MasterUserPassword"}
    assert ref_property(DB) == "DBInstanceIdentifier"
    assert "SkipFinalSnapshot" in DB.schema["properties"]


def test_generated_identifiers_follow_rds_rules():
    name = DB.generate_name("shop-eu", "Orders--Db", {}, "ab12cd34")
    assert name == "shop-eu-orders-db-ab12cd34"
    assert len(DB.generate_name("s" * 60, "Database", {}, "ab12cd34")) <= 63


def test_key_ids_compare_whatever_form_the_key_takes(ctx, env, calls):
    alias = f"alias/{name_for(ctx)}"
    boto3.client("kms", region_name="us-east-1").create_alias(AliasName=alias, TargetKeyId=env["key"])
    assert rds.key_id(env["key_arn"]) == env["key"]
    reads = DB.plan_reads(ctx, {"KmsKeyId": alias, "MasterUserSecret": {"KmsKeyId": "alias/does-not-exist"}})
    assert reads == {"key_ids": {alias: env["key"]}}  # an alias that resolves to nothing stays as written
    assert rds.key_id(alias, reads["key_ids"]) == env["key"]
    assert rds.key_id(alias) == alias  # without the plan reads: as written
    assert rds.key_id("alias/does-not-exist", reads["key_ids"]) == "alias/does-not-exist"
    assert DB.desired_view({"KmsKeyId": alias, "MasterUserSecret": {"KmsKeyId": alias}}, reads) == {
        "KmsKeyId": env["key"], "MasterUserSecret": {"KmsKeyId": env["key"]}}
    calls.clear()
    props = {"KmsKeyId": env["key_arn"], "MasterUserSecret": {"KmsKeyId": env["key_arn"]},
             "DBInstanceIdentifier": "Mixed", "Engine": "Postgres", "VPCSecurityGroups": ["sg-b", "sg-a"]}
    assert DB.plan_reads(ctx, props) == {} and calls.names() == []  # ARNs and ids need no call
    assert DB.desired_view(props) == {"KmsKeyId": env["key"], "MasterUserSecret": {"KmsKeyId": env["key"]},
                                      "DBInstanceIdentifier": "mixed", "Engine": "postgres",
                                      "VPCSecurityGroups": ["sg-a", "sg-b"]}


def test_pending_modifications_read_as_applied():
    """With ApplyImmediately false RDS reports the changes as pending: a re-plan must not repeat them."""
    db = {"DBInstanceIdentifier": "x", "DBInstanceArn": "arn:aws:rds:us-east-1:1:db:x", "DBInstanceClass": "db.t3.micro",
          "AllocatedStorage": 20, "Endpoint": {"Address": "x.rds", "Port": 5432},
          "PendingModifiedValues": {"DBInstanceClass": "db.t3.large", "AllocatedStorage": 50, "Port": 6000}}
    props = rds._db_properties(db)
    assert (props["DBInstanceClass"], props["AllocatedStorage"], props["Port"]) == ("db.t3.large", 50, 6000)


# --- DB instance: create and read -----------------------------------------------------------------

def test_db_instance_created_with_everything_and_read_back(ctx, env, calls):
    group, _ = GROUP.create(ctx, group_spec(ctx, env))
    props = db_spec(ctx, env, DBSubnetGroupName=group.upper(), StorageEncrypted=True, KmsKeyId=env["key"],
                    MultiAZ=False, PubliclyAccessible=False, DeletionProtection=False, Port="5433", DBName="app")
    pid, attrs = DB.create(ctx, props)
    assert pid == name_for(ctx)
    created = calls.of("CreateDBInstance")[0]
    assert created["MasterUserPassword"] == PASSWORD
    assert created["AllocatedStorage"] == 20 and created["Port"] == 5433
    assert created["VpcSecurityGroupIds"] == [env["sg"]] and created["DBSubnetGroupName"] == group
    assert not any(t["Key"].startswith("deployer:skip") for t in created["Tags"])
    assert attrs["DBInstanceArn"].endswith(f":db:{pid}")
    assert attrs["Endpoint.Port"] == "5433" and attrs["Endpoint.Address"].startswith(pid)
    live = assert_matches(DB, ctx, pid, props)
    assert "MasterUserPassword" not in live.properties
    assert live.owner == (ctx.stack, ctx.logical_id)


def test_db_instance_create_waits_only_while_rds_answers_creating(ctx, env, calls):
    """AWS answers CreateDBInstance with "creating" (then the waiter, and a describe for the endpoint);
    an instance already available in the answer (moto) is not read again."""
    props = db_spec(ctx, env)
    DB.create(ctx, props)
    assert [n for n in calls.names() if n.startswith(("CreateDB", "DescribeDB"))] == ["CreateDBInstance"]

    def creating(parsed, **_):
        parsed["DBInstance"]["DBInstanceStatus"] = "creating"

    ctx.client("rds").meta.events.register("after-call.rds.CreateDBInstance", creating)
    calls.clear()
    other = Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id + "2")
    pid, attrs = DB.create(other, db_spec(other, env))
    assert [n for n in calls.names() if n.startswith(("CreateDB", "DescribeDB"))] == \
        ["CreateDBInstance", "DescribeDBInstances", "DescribeDBInstances"]
    assert attrs["Endpoint.Address"].startswith(pid)


def test_read_many_is_one_describe(ctx, env, calls):
    ids = [DB.create(Context(ctx.aws, ctx.region, ctx.stack, f"{ctx.logical_id}{i}"),
                     db_spec(ctx, env, DBInstanceIdentifier=name_for(ctx, str(i))))[0] for i in range(3)]
    calls.clear()
    lives = DB.read_many([(ctx, pid, {"Tags"}) for pid in ids] + [(ctx, "not-there", {"Tags"})])
    assert [live is not None for live in lives] == [True, True, True, False]
    assert calls.names() == ["DescribeDBInstances"]


def test_retried_create_answers_already_exists_and_finds_only_its_own_instance(ctx, env):
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    assert create_meets_existing(DB, ctx, props) in DB.already_exists_codes
    assert DB.find_owned(ctx, props) == [pid] and DB.lookup(ctx, props) == pid
    stranger = Context(ctx.aws, ctx.region, "otherstack", ctx.logical_id)
    create_meets_existing(DB, stranger, props)
    assert DB.find_owned(stranger, props) == []


def test_find_owned_and_tag_for_ownership(ctx, env):
    pid, _ = DB.create(ctx, db_spec(ctx, env))
    assert DB.find_owned(ctx, {}) == [pid]
    name = name_for(ctx, "x")
    rds_client().create_db_instance(DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro",
                                    AllocatedStorage=20, MasterUsername="u", MasterUserPassword=PASSWORD)
    other = Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id + "X")
    assert DB.read(other, name, {"Tags"}).owner is None
    DB.tag_for_ownership(other, name)
    assert DB.read(other, name, {"Tags"}).owner == (other.stack, other.logical_id)


# --- DB instance: updates -------------------------------------------------------------------------

def test_settings_change_in_one_modify_and_reset_when_removed(ctx, env, calls):
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    new = {**props, "DBInstanceClass": "db.t3.small", "AllocatedStorage": 40, "MultiAZ": True,
           "BackupRetentionPeriod": 7, "PubliclyAccessible": True, "DeletionProtection": True}
    calls.clear()
    apply_update(DB, ctx, pid, props, new)
    modify = calls.of("ModifyDBInstance")
    assert len(modify) == 1 and modify[0]["ApplyImmediately"] is True
    assert {k: modify[0][k] for k in ("DBInstanceClass", "AllocatedStorage", "MultiAZ", "BackupRetentionPeriod",
                                      "PubliclyAccessible", "DeletionProtection")} == {
        "DBInstanceClass": "db.t3.small", "AllocatedStorage": 40, "MultiAZ": True, "BackupRetentionPeriod": 7,
        "PubliclyAccessible": True, "DeletionProtection": True}
    assert_matches(DB, ctx, pid, new)
    keys = ("MultiAZ", "BackupRetentionPeriod", "DeletionProtection")
    removed = {k: v for k, v in new.items() if k not in (*keys, "PubliclyAccessible")}
    apply_update(DB, ctx, pid, new, removed)
    live = assert_matches(DB, ctx, pid, removed, removed=keys)
    assert live.properties["PubliclyAccessible"] is False  # RDS's default in a VPC without an internet gateway
    calls.clear()
    apply_update(DB, ctx, pid, removed, {**removed, "DBInstanceClass": "db.t3.medium"})
    assert set(calls.of("ModifyDBInstance")[0]) == {"DBInstanceIdentifier", "ApplyImmediately", "DBInstanceClass",
                                                    "MasterUserPassword"}  # nothing unasked-for is reset


def test_apply_immediately_false_is_passed(ctx, env, calls):
    props = db_spec(ctx, env, ApplyImmediately=False)
    pid, _ = DB.create(ctx, props)
    calls.clear()
    apply_update(DB, ctx, pid, props, {**props, "DBInstanceClass": "db.t3.medium"})
    assert calls.of("ModifyDBInstance")[0]["ApplyImmediately"] is False


def test_engine_version_and_port(ctx, env, calls):
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    calls.clear()
    new = {**props, "EngineVersion": "17.1", "Port": 6543}
    apply_update(DB, ctx, pid, props, new)
    modify = calls.of("ModifyDBInstance")[0]
    assert modify["EngineVersion"] == "17.1" and modify["AllowMajorVersionUpgrade"] is True
    assert modify["DBPortNumber"] == 6543  # moto ignores the port change; AWS moves the endpoint
    live = DB.read(ctx, pid, set(new)).properties
    calls.clear()
    update(DB, ctx, pid, {**live, "Port": 6543}, {k: v for k, v in new.items() if k != "Port"})
    assert calls.of("ModifyDBInstance")[0]["DBPortNumber"] == 5432  # removed: the engine's default port
    calls.clear()
    update(DB, ctx, pid, {**live, "Port": 5432}, {k: v for k, v in new.items() if k != "Port"})
    assert "DBPortNumber" not in calls.of("ModifyDBInstance")[0]  # never set: already the default


def test_security_groups_change_and_reset_to_the_vpc_default(ctx, env, calls):
    group, _ = GROUP.create(ctx, group_spec(ctx, env))
    props = db_spec(ctx, env, DBSubnetGroupName=group)
    pid, _ = DB.create(ctx, props)
    new = {**props, "VPCSecurityGroups": [env["sg2"], env["sg"]]}
    apply_update(DB, ctx, pid, props, new)
    assert_matches(DB, ctx, pid, new)
    removed = {k: v for k, v in new.items() if k != "VPCSecurityGroups"}
    calls.clear()
    apply_update(DB, ctx, pid, new, removed)
    assert calls.of("ModifyDBInstance")[0]["VpcSecurityGroupIds"] == [env["default"]]


def test_password_is_sent_unless_the_stored_digest_says_it_is_unchanged(ctx, env, calls):
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    live = DB.read(ctx, pid, set(props)).properties
    calls.clear()
    update(DB, ctx, pid, live, {**props, "MasterUserPassword": "another-password"})
    assert calls.of("ModifyDBInstance")[0]["MasterUserPassword"] == "another-password"
    calls.clear()
    stored = {**live, "MasterUserPassword": secrets.digest("another-password")}
    update(DB, ctx, pid, stored, {**props, "MasterUserPassword": "another-password", "MultiAZ": True})
    assert "MasterUserPassword" not in calls.of("ModifyDBInstance")[0]


def test_rds_managed_password_with_our_key(ctx, env, calls):
    props = db_spec(ctx, env, ManageMasterUserPassword=True, MasterUserSecret={"KmsKeyId": env["key"]})
    del props["MasterUserPassword"]
    pid, attrs = DB.create(ctx, props)
    assert calls.of("CreateDBInstance")[0]["MasterUserSecretKmsKeyId"] == env["key"]
    assert attrs["MasterUserSecret.SecretArn"].startswith("arn:aws:secretsmanager:")
    assert_matches(DB, ctx, pid, props)
    calls.clear()
    apply_update(DB, ctx, pid, props, {**props, "BackupRetentionPeriod": 5})
    assert "MasterUserPassword" not in calls.of("ModifyDBInstance")[0]
    unmanaged = {**{k: v for k, v in props.items() if k not in ("ManageMasterUserPassword", "MasterUserSecret")},
                 "MasterUserPassword": PASSWORD}
    calls.clear()
    apply_update(DB, ctx, pid, props, unmanaged)
    modify = calls.of("ModifyDBInstance")[0]
    assert modify["ManageMasterUserPassword"] is False and modify["MasterUserPassword"] == PASSWORD
    assert_matches(DB, ctx, pid, unmanaged, removed=("ManageMasterUserPassword",))


def test_tags_and_deletion_settings_live_on_the_instance(ctx, env, calls):
    props = db_spec(ctx, env, SkipFinalSnapshot=True, DeleteAutomatedBackups=False)
    pid, _ = DB.create(ctx, props)
    live = assert_matches(DB, ctx, pid, props)
    assert live.properties["Tags"] == [{"Key": "team", "Value": "data"}]
    new = {**props, "SkipFinalSnapshot": False, "Tags": [{"Key": "cost", "Value": "9"}]}
    del new["DeleteAutomatedBackups"]
    calls.clear()
    apply_update(DB, ctx, pid, props, new)
    modified = {k for m in calls.of("ModifyDBInstance") for k in m}  # only the re-sent password, if anything
    assert modified <= {"DBInstanceIdentifier", "ApplyImmediately", "MasterUserPassword"}
    removed = sorted(k for c in calls.of("RemoveTagsFromResource") for k in c["TagKeys"])
    assert removed == ["deployer:retain-automated-backups", "deployer:skip-final-snapshot", "team"]
    live = assert_matches(DB, ctx, pid, new, removed=("DeleteAutomatedBackups",))
    assert live.owner == (ctx.stack, ctx.logical_id)


# --- DB instance: delete --------------------------------------------------------------------------

def snapshots_of(pid: str) -> list[str]:
    answer = rds_client().describe_db_snapshots(DBInstanceIdentifier=pid, SnapshotType="manual")
    return [s["DBSnapshotIdentifier"] for s in answer["DBSnapshots"]]


def test_delete_takes_the_final_snapshot_the_plan_names(ctx, env, calls):
    """deletion_policy snapshot (RDS's default, SPEC 7): the plan names the snapshot in ctx.settings."""
    assert DB.default_deletion_policy == "snapshot"
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    snapshot = f"{pid}-final"
    DB.delete(with_settings(ctx, final_snapshot=snapshot), pid, DB.read(ctx, pid, set(props)).properties)
    args = calls.of("DeleteDBInstance")[0]
    assert args["SkipFinalSnapshot"] is False and args["DeleteAutomatedBackups"] is True
    assert args["FinalDBSnapshotIdentifier"] == snapshot
    assert snapshots_of(pid) == [snapshot]
    assert DB.read(ctx, pid, set()) is None
    DB.delete(with_settings(ctx, final_snapshot=snapshot), pid, {})  # already gone: success


def test_delete_without_a_named_snapshot_takes_none(ctx, env, calls):
    """deletion_policy delete: the plan names no snapshot."""
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    DB.delete(ctx, pid, DB.read(ctx, pid, set(props)).properties)
    args = calls.of("DeleteDBInstance")[0]
    assert args["SkipFinalSnapshot"] is True and "FinalDBSnapshotIdentifier" not in args
    assert snapshots_of(pid) == []


def test_skip_final_snapshot_read_from_the_instance_at_delete(ctx, env, calls):
    """The engine deletes with the properties read from AWS: the settings must come back from the tags,
    and SkipFinalSnapshot wins over the snapshot the plan names."""
    props = db_spec(ctx, env, SkipFinalSnapshot=True, DeleteAutomatedBackups=False)
    pid, _ = DB.create(ctx, props)
    DB.delete(with_settings(ctx, final_snapshot=f"{pid}-final"), pid, DB.read(ctx, pid, {"Tags"}).properties)
    args = calls.of("DeleteDBInstance")[0]
    assert args["SkipFinalSnapshot"] is True and "FinalDBSnapshotIdentifier" not in args
    assert args["DeleteAutomatedBackups"] is False
    assert snapshots_of(pid) == []


def test_deletion_protection_refuses_delete(ctx, env):
    pid, _ = DB.create(ctx, db_spec(ctx, env, DeletionProtection=True, SkipFinalSnapshot=True))
    with pytest.raises(Exception, match="protect"):
        DB.delete(ctx, pid, {"SkipFinalSnapshot": True})
    assert DB.read(ctx, pid, set()) is not None


def test_at_stake_names_the_storage_and_the_final_snapshot(ctx, env):
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    snapshot = f"{pid}-final"
    stake = DB.at_stake(with_settings(ctx, final_snapshot=snapshot), pid, props)
    assert stake == Stake(f"database, 20 GiB; final snapshot {snapshot}") and not stake.refuse_without_force
    assert DB.at_stake(ctx, pid, props) == Stake("database, 20 GiB; no final snapshot")
    skipping = {**props, "SkipFinalSnapshot": True}
    assert DB.at_stake(with_settings(ctx, final_snapshot=snapshot), pid, skipping) == Stake(
        "database, 20 GiB; no final snapshot")
    assert DB.at_stake(ctx, "not-there", props) is None


# --- DB instance: storage, monitoring, maintenance, parameter and option groups -------------------------

def parameter_group(name: str, family: str = "postgres16") -> str:
    rds_client().create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name)
    return name


SETTINGS = {"StorageType": "io1", "Iops": "1000", "AllocatedStorage": "100", "MaxAllocatedStorage": 200,
            "AutoMinorVersionUpgrade": "false", "MonitoringInterval": 60,
            "MonitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring", "LicenseModel": "postgresql-license",
            "PreferredBackupWindow": "03:00-03:30", "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
            "CopyTagsToSnapshot": True}


def test_settings_are_created_and_read_back(ctx, env, calls):
    props = db_spec(ctx, env, DBParameterGroupName=parameter_group(name_for(ctx, "-pg")), **SETTINGS)
    pid, _ = DB.create(ctx, props)
    sent = calls.of("CreateDBInstance")[0]
    assert {k: sent[k] for k in ("StorageType", "Iops", "MaxAllocatedStorage", "AutoMinorVersionUpgrade",
                                 "MonitoringInterval", "CopyTagsToSnapshot", "DBParameterGroupName")} == {
        "StorageType": "io1", "Iops": 1000, "MaxAllocatedStorage": 200, "AutoMinorVersionUpgrade": False,
        "MonitoringInterval": 60, "CopyTagsToSnapshot": True, "DBParameterGroupName": name_for(ctx, "-pg")}
    live = assert_matches(DB, ctx, pid, props)
    assert live.properties["DBParameterGroupName"] == name_for(ctx, "-pg")
    # settings whose default depends on the engine or on RDS's choice are read only when wanted
    assert "PreferredBackupWindow" not in DB.read(ctx, pid, {"DBInstanceIdentifier"}).properties


def test_settings_change_in_one_modify(ctx, env, calls):
    props = db_spec(ctx, env, DBParameterGroupName=parameter_group(name_for(ctx, "-pg")), **SETTINGS)
    pid, _ = DB.create(ctx, props)
    new = {**props, "StorageType": "gp3", "Iops": 3000, "MaxAllocatedStorage": 300, "AutoMinorVersionUpgrade": True,
           "MonitoringInterval": 30, "PreferredBackupWindow": "04:00-04:30",
           "PreferredMaintenanceWindow": "mon:06:00-mon:06:30", "CopyTagsToSnapshot": False,
           "DBParameterGroupName": parameter_group(name_for(ctx, "-pg2"))}
    calls.clear()
    apply_update(DB, ctx, pid, props, new)
    (modify,) = calls.of("ModifyDBInstance")
    assert {k: modify[k] for k in ("StorageType", "Iops", "MaxAllocatedStorage", "AutoMinorVersionUpgrade",
                                   "MonitoringInterval", "PreferredBackupWindow", "PreferredMaintenanceWindow",
                                   "CopyTagsToSnapshot", "DBParameterGroupName")} == {
        "StorageType": "gp3", "Iops": 3000, "MaxAllocatedStorage": 300, "AutoMinorVersionUpgrade": True,
        "MonitoringInterval": 30, "PreferredBackupWindow": "04:00-04:30",
        "PreferredMaintenanceWindow": "mon:06:00-mon:06:30", "CopyTagsToSnapshot": False,
        "DBParameterGroupName": name_for(ctx, "-pg2")}
    assert_matches(DB, ctx, pid, new)


def test_removed_settings_reset_to_rds_defaults_or_stay_where_there_is_none(ctx, env, calls):
    props = db_spec(ctx, env, DBParameterGroupName=parameter_group(name_for(ctx, "-pg")), **SETTINGS)
    pid, _ = DB.create(ctx, props)
    gone = ("StorageType", "Iops", "MaxAllocatedStorage", "AutoMinorVersionUpgrade", "MonitoringInterval",
            "MonitoringRoleArn", "CopyTagsToSnapshot", "DBParameterGroupName", "PreferredBackupWindow",
            "PreferredMaintenanceWindow", "LicenseModel")
    bare = {k: v for k, v in props.items() if k not in gone}
    calls.clear()
    update(DB, ctx, pid, DB.read(ctx, pid, set(props)).properties, bare)
    (modify,) = calls.of("ModifyDBInstance")
    assert {k: modify[k] for k in ("StorageType", "MaxAllocatedStorage", "AutoMinorVersionUpgrade",
                                   "MonitoringInterval", "CopyTagsToSnapshot", "DBParameterGroupName")} == {
        "StorageType": "gp3",  # no provisioned IOPS in the spec any more: RDS's default type
        "MaxAllocatedStorage": 100,  # autoscaling off: RDS takes the allocated size for that
        "AutoMinorVersionUpgrade": True, "MonitoringInterval": 0, "CopyTagsToSnapshot": False,
        "DBParameterGroupName": "default.postgres16"}  # the default of the family of the group it had
    # no default to go back to: RDS keeps the windows it has, the license, the IOPS and the monitoring role
    assert not {"Iops", "PreferredBackupWindow", "PreferredMaintenanceWindow", "LicenseModel",
                "MonitoringRoleArn"} & set(modify)
    live = DB.read(ctx, pid, set(gone)).properties
    assert live["AutoMinorVersionUpgrade"] is True and live["MonitoringInterval"] == 0
    assert live["DBParameterGroupName"] == "default.postgres16" and "MaxAllocatedStorage" not in live


def test_storage_type_without_a_spec_goes_back_to_rds_default(ctx, env, calls):
    props = db_spec(ctx, env, StorageType="io1", Iops=1000, AllocatedStorage=100)
    pid, _ = DB.create(ctx, props)
    calls.clear()
    update(DB, ctx, pid, DB.read(ctx, pid, set(props)).properties, {k: v for k, v in props.items() if k != "StorageType"})
    assert calls.of("ModifyDBInstance")[0]["StorageType"] == "io1"  # provisioned IOPS still set: io1


def test_a_new_parameter_group_pending_reboot_reboots_the_instance(ctx, env, calls):
    props = db_spec(ctx, env)
    pid, _ = DB.create(ctx, props)
    group = parameter_group(name_for(ctx, "-pg"))

    def pending(parsed: dict[str, Any], **_: Any) -> None:  # AWS: static parameters wait for a reboot
        for db in parsed.get("DBInstances", []):
            if not any(n == "RebootDBInstance" for n in calls.names()):
                for g in db.get("DBParameterGroups", []):
                    g["ParameterApplyStatus"] = "pending-reboot"

    ctx.aws.client("rds", "us-east-1").meta.events.register("after-call.rds.DescribeDBInstances", pending)
    calls.clear()
    apply_update(DB, ctx, pid, props, {**props, "DBParameterGroupName": group})
    assert [n for n in calls.names() if n in ("ModifyDBInstance", "RebootDBInstance")] == [
        "ModifyDBInstance", "RebootDBInstance"]
    calls.clear()
    apply_update(DB, ctx, pid, props, {**props, "CopyTagsToSnapshot": True})
    assert "RebootDBInstance" not in calls.names()  # only a parameter group change reboots


def test_major_upgrade_is_allowed_unless_the_spec_says_no(ctx, env, calls):
    props = db_spec(ctx, env, EngineVersion="15.4")
    pid, _ = DB.create(ctx, props)
    calls.clear()
    apply_update(DB, ctx, pid, props, {**props, "EngineVersion": "16.3", "AllowMajorVersionUpgrade": False})
    assert calls.of("ModifyDBInstance")[0]["AllowMajorVersionUpgrade"] is False
    calls.clear()
    apply_update(DB, ctx, pid, props, {**props, "EngineVersion": "16.4"})
    assert calls.of("ModifyDBInstance")[0]["AllowMajorVersionUpgrade"] is True
    calls.clear()
    update(DB, ctx, pid, {**props, "EngineVersion": "16.4"}, {**props, "EngineVersion": "16.4",
                                                             "AllowMajorVersionUpgrade": True})
    assert calls.of("ModifyDBInstance") == [] or "AllowMajorVersionUpgrade" not in calls.of("ModifyDBInstance")[0]


def test_sql_server_settings_from_the_template_reach_create(ctx, env, calls):
    """LicenseModel, Timezone and an option group, as SQL Server templates set them (moto keeps no
    Timezone: what was sent is checked)."""
    rds_client().create_option_group(OptionGroupName=name_for(ctx, "-og"), EngineName="sqlserver-se",
                                     MajorEngineVersion="15.00", OptionGroupDescription="sql")
    props = {"DBInstanceIdentifier": name_for(ctx), "Engine": "sqlserver-se", "EngineVersion": "15.00.4335.1.v1",
             "DBInstanceClass": "db.m5.large", "AllocatedStorage": "200", "MasterUsername": "admin",
             "MasterUserPassword": PASSWORD, "LicenseModel": "license-included", "Timezone": "UTC",
             "OptionGroupName": name_for(ctx, "-og"), "StorageType": "gp2", "Port": 1433}
    pid, _ = DB.create(ctx, props)
    sent = calls.of("CreateDBInstance")[0]
    assert (sent["LicenseModel"], sent["Timezone"], sent["OptionGroupName"]) == (
        "license-included", "UTC", name_for(ctx, "-og"))
    live = DB.read(ctx, pid, set(props)).properties
    assert live["LicenseModel"] == "license-included" and live["OptionGroupName"] == name_for(ctx, "-og")
    found = compare({"Timezone"}, {"Timezone": "Pacific Standard Time"}, {"Timezone": "UTC"}, DB.defaults,
                    DB.create_only, set())
    assert [c.replace for c in found] == [True]  # create-only in CloudFormation's schema


# --- DB instance: read replicas ----------------------------------------------------------------------

@pytest.fixture
def source(ctx, env) -> str:
    return DB.create(Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id + "Src"),
                     db_spec(ctx, env, DBInstanceIdentifier=name_for(ctx, "-src")))[0]


@pytest.fixture
def promoting_moto(monkeypatch):
    """moto's PromoteReadReplica leaves the instance naming its source; AWS makes it standalone."""
    original = RDSBackend.promote_read_replica

    def promote(self, *args, **kwargs):
        db = original(self, *args, **kwargs)
        db.source_db_instance_identifier = None
        return db

    monkeypatch.setattr(RDSBackend, "promote_read_replica", promote)


def replica_spec(ctx: Context, source: str, **extra: Any) -> dict[str, Any]:
    return {"DBInstanceIdentifier": name_for(ctx, "-rep"), "SourceDBInstanceIdentifier": source,
            "DBInstanceClass": "db.t3.small", "VPCSecurityGroups": [], **extra}


def test_a_replica_is_created_with_what_the_replica_call_takes_then_modified(ctx, env, calls, source):
    props = replica_spec(ctx, source, VPCSecurityGroups=[env["sg2"]], CopyTagsToSnapshot=True,
                         BackupRetentionPeriod=5, PreferredMaintenanceWindow="tue:01:00-tue:01:30",
                         Tags=[{"Key": "role", "Value": "reader"}])
    calls.clear()
    pid, attrs = DB.create(ctx, props)
    assert "CreateDBInstance" not in calls.names()
    (sent,) = calls.of("CreateDBInstanceReadReplica")
    assert {k: sent[k] for k in ("DBInstanceIdentifier", "SourceDBInstanceIdentifier", "DBInstanceClass",
                                 "VpcSecurityGroupIds", "CopyTagsToSnapshot")} == {
        "DBInstanceIdentifier": pid, "SourceDBInstanceIdentifier": source, "DBInstanceClass": "db.t3.small",
        "VpcSecurityGroupIds": [env["sg2"]], "CopyTagsToSnapshot": True}
    assert {"Key": "deployer:stack", "Value": "teststack"} in sent["Tags"]
    assert not {"BackupRetentionPeriod", "PreferredMaintenanceWindow", "Engine", "MasterUsername"} & set(sent)
    (modify,) = calls.of("ModifyDBInstance")  # what CreateDBInstanceReadReplica does not take
    assert (modify["BackupRetentionPeriod"], modify["PreferredMaintenanceWindow"]) == (5, "tue:01:00-tue:01:30")
    live = assert_matches(DB, ctx, pid, props)
    assert live.properties["SourceDBInstanceIdentifier"] == source and attrs["DBInstanceArn"]


def test_removing_the_source_promotes_the_replica(ctx, env, calls, source, promoting_moto):
    props = replica_spec(ctx, source)
    pid, _ = DB.create(ctx, props)
    standalone = {k: v for k, v in props.items() if k != "SourceDBInstanceIdentifier"}
    calls.clear()
    apply_update(DB, ctx, pid, props, {**standalone, "BackupRetentionPeriod": 7})
    assert calls.of("PromoteReadReplica") == [{"DBInstanceIdentifier": pid, "BackupRetentionPeriod": 7}]
    assert_matches(DB, ctx, pid, standalone, removed=("SourceDBInstanceIdentifier",))


def test_a_new_source_or_a_standalone_made_replica_is_refused_before_any_call(ctx, env, calls, source):
    props = replica_spec(ctx, source)
    pid, _ = DB.create(ctx, props)
    other = DB.create(Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id + "Other"),
                      db_spec(ctx, env, DBInstanceIdentifier=name_for(ctx, "-other")))[0]
    calls.clear()
    with pytest.raises(DeployerError, match="is a read replica of .*another logical id"):
        apply_update(DB, ctx, pid, props, {**props, "SourceDBInstanceIdentifier": other})
    with pytest.raises(DeployerError, match="is a standalone instance"):
        apply_update(DB, ctx, other, db_spec(ctx, env, DBInstanceIdentifier=other),
                     {**db_spec(ctx, env, DBInstanceIdentifier=other), "SourceDBInstanceIdentifier": source})
    assert not [n for n in calls.names() if not n.startswith(("Describe", "List"))]


def test_a_replica_is_deleted_without_a_final_snapshot(ctx, env, calls, source):
    pid, _ = DB.create(ctx, replica_spec(ctx, source))
    assert DB.at_stake(with_settings(ctx, final_snapshot="never"), pid, {}) == Stake(
        f"read replica of {source}, 20 GiB; no final snapshot (RDS takes none of a replica)")
    DB.delete(with_settings(ctx, final_snapshot=f"{pid}-final"), pid, {})
    (sent,) = calls.of("DeleteDBInstance")
    assert sent["SkipFinalSnapshot"] is True and "FinalDBSnapshotIdentifier" not in sent


def instance_errors(tmp_path, props: dict[str, Any]) -> list[str]:
    return resource_errors(tmp_path, "AWS::RDS::DBInstance", props, "Db")


@pytest.mark.parametrize("extra, message", [
    ({"MasterUsername": "admin"}, "MasterUsername"),
    ({"StorageEncrypted": True}, "StorageEncrypted"),
    ({"DBName": "orders"}, "takes its database"),
    ({"Timezone": "UTC"}, "takes its database"),
])
def test_what_a_replica_cannot_set_is_refused_at_validate(tmp_path, extra, message):
    errors = instance_errors(tmp_path, {"SourceDBInstanceIdentifier": "src", "DBInstanceClass": "db.t3.micro", **extra})
    assert len(errors) == 1 and message in errors[0], errors


@pytest.mark.parametrize("extra, message", [
    ({"MonitoringRoleArn": "arn:aws:iam::123456789012:role/m"}, "MonitoringRoleArn needs"),
    ({"MonitoringRoleArn": "arn:aws:iam::123456789012:role/m", "MonitoringInterval": 0}, "MonitoringRoleArn needs"),
    ({"MonitoringInterval": 60}, "needs a MonitoringRoleArn"),
    ({"StorageType": "io1"}, "needs Iops"),
])
def test_monitoring_and_storage_rules_at_validate(tmp_path, extra, message):
    base = {"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "100"}
    errors = instance_errors(tmp_path, {**base, **extra})
    assert len(errors) == 1 and message in errors[0], errors


def test_a_replica_and_a_sql_server_instance_pass_validate(tmp_path):
    assert instance_errors(tmp_path, {"SourceDBInstanceIdentifier": "src", "DBInstanceClass": "db.t3.micro",
                                      "MonitoringInterval": 30, "MonitoringRoleArn": "arn:aws:iam::1:role/m"}) == []
    assert instance_errors(tmp_path, {"Engine": "sqlserver-se", "DBInstanceClass": "db.m5.large", "AllocatedStorage": "200",
                                      "LicenseModel": "license-included", "Timezone": "UTC", "StorageType": "io1",
                                      "Iops": 1000, "MasterUsername": "admin", "MasterUserPassword": "x" * 12,
                                      "AllowMajorVersionUpgrade": False, "AutoMinorVersionUpgrade": True,
                                      "CopyTagsToSnapshot": True, "PreferredBackupWindow": "00:00-02:00",
                                      "PreferredMaintenanceWindow": "Sat:06:00-Sat:07:00"}) == []


def test_a_new_replica_source_is_refused_when_planning():
    changed = frozenset({"SourceDBInstanceIdentifier"})
    assert "is a standalone instance" in DB.refuse_update({}, {"SourceDBInstanceIdentifier": "a"}, changed)
    assert "is a read replica of a" in DB.refuse_update({"SourceDBInstanceIdentifier": "a"},
                                                        {"SourceDBInstanceIdentifier": "b"}, changed)
    assert DB.refuse_update({"SourceDBInstanceIdentifier": "a"}, {}, changed) is None  # a promotion
