"""SPEC §7 against the moto server, through the CLI: nothing that holds data is destroyed by surprise.

Changes CloudFormation will neither update nor replace fail the plan and change nothing; replacing a
data-bearing resource whose name the spec fixes needs lifecycle.allow_replace; a generated name
replaces create-first; a bucket holding objects is not deleted without lifecycle.force_destroy; an
RDS instance leaves a final snapshot unless deletion_policy: delete."""

from __future__ import annotations

from tests.conftest import boto
from tests.faults.injector import Injector, injected

KEY = {"type": "AWS::KMS::Key", "properties": {"Description": "data key", "PendingWindowInDays": 7}}


def table(name: str | None, key: str = "pk", lsi: bool = False, **lifecycle) -> dict:
    """A pay-per-request table keyed (key, sk); with lsi, a local index sorted by `alt`."""
    used = [key, "sk"] + (["alt"] if lsi else [])
    props = {"BillingMode": "PAY_PER_REQUEST",
             "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in used],
             "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}
    if name:
        props["TableName"] = name
    if lsi:
        props["LocalSecondaryIndexes"] = [{"IndexName": "by-alt", "Projection": {"ProjectionType": "ALL"},
                                           "KeySchema": [{"AttributeName": key, "KeyType": "HASH"},
                                                         {"AttributeName": "alt", "KeyType": "RANGE"}]}]
    return {"type": "AWS::DynamoDB::Table", "properties": props, **({"lifecycle": lifecycle} if lifecycle else {})}


def test_an_immutable_key_property_fails_the_plan_and_changes_nothing(project, aws_endpoint):
    project.write({"Key": KEY})
    project.apply()
    key_id = project.physical_id("Key")
    project.write({"Key": {**KEY, "properties": {**KEY["properties"], "MultiRegion": True}}})
    res = project.run("plan", str(project.spec_dir))
    assert res.code == 1
    assert "Key: MultiRegion of an existing AWS::KMS::Key cannot be changed" in res.err
    assert "another logical id" in res.err  # how to proceed
    assert project.run("apply", str(project.spec_dir), "--auto-approve").code == 1
    meta = boto("kms", aws_endpoint).describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and not meta.get("MultiRegion")


def test_a_local_secondary_index_change_fails_the_plan(project, aws_endpoint):
    project.write({"T": table("lsi-table", lsi=True)})
    project.apply()
    changed = table("lsi-table", lsi=True)
    changed["properties"]["LocalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    project.write({"T": changed})
    res = project.run("plan", str(project.spec_dir))
    assert res.code == 1 and "LocalSecondaryIndexes of an existing AWS::DynamoDB::Table cannot be changed" in res.err
    assert boto("dynamodb", aws_endpoint).describe_table(TableName="lsi-table")["Table"]["TableStatus"] == "ACTIVE"


def test_a_named_table_is_replaced_only_with_allow_replace(project, aws_endpoint):
    project.write({"T": table("named-table")})
    project.apply()
    project.write({"T": table("named-table", key="id")})
    res = project.run("plan", str(project.spec_dir))
    assert res.code == 1
    assert "T: changing KeySchema replaces this AWS::DynamoDB::Table" in res.err
    assert "lifecycle.allow_replace" in res.err

    project.write({"T": table("named-table", key="id", allow_replace=True)})
    doc = project.plan()
    step = next(a for a in doc["actions"] if a["name"] == "T")
    assert step["action"] == "replace" and step["replace_order"] == "delete_before_create"
    project.apply()
    schema = boto("dynamodb", aws_endpoint).describe_table(TableName="named-table")["Table"]["KeySchema"]
    assert schema[0]["AttributeName"] == "id"
    project.assert_clean()


def test_a_generated_name_replaces_create_first(project, aws_endpoint):
    project.write({"T": table(None)})
    project.apply()
    old = project.physical_id("T")
    project.write({"T": table(None, key="id")})
    assert next(a for a in project.plan()["actions"] if a["name"] == "T")["replace_order"] == "create_before_destroy"
    with injected(Injector()) as probe:
        project.apply()
    calls = [c for c in probe.mutations if c in ("dynamodb.CreateTable", "dynamodb.DeleteTable")]
    assert calls == ["dynamodb.CreateTable", "dynamodb.DeleteTable"]  # the new table exists before the old goes
    new = project.physical_id("T")
    assert new != old and boto("dynamodb", aws_endpoint).list_tables()["TableNames"] == [new]


def test_a_bucket_holding_objects_is_not_deleted_without_force_destroy(project, aws_endpoint):
    s3 = boto("s3", aws_endpoint)
    project.write({"B": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "keep-my-objects"}}})
    project.apply()
    for i in range(3):
        s3.put_object(Bucket="keep-my-objects", Key=f"k{i}", Body=b"x" * 100)
    res = project.run("destroy", str(project.spec_dir), "--auto-approve")
    assert res.code == 1
    assert "holds 3 objects, 300 B" in res.err and "lifecycle.force_destroy" in res.err
    assert len(s3.list_objects_v2(Bucket="keep-my-objects")["Contents"]) == 3

    project.write({"B": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "keep-my-objects"},
                         "lifecycle": {"force_destroy": True}}})
    project.destroy()
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []


DB = {"type": "AWS::RDS::DBInstance",
      "properties": {"DBInstanceIdentifier": "safe-db", "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
                     "AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "a-long-password"}}


def test_deleting_a_database_takes_a_final_snapshot_by_default(project, aws_endpoint):
    project.write({"Db": DB})
    project.apply()
    project.destroy()
    snapshots = boto("rds", aws_endpoint).describe_db_snapshots()["DBSnapshots"]
    assert [s["DBInstanceIdentifier"] for s in snapshots] == ["safe-db"]
    assert snapshots[0]["DBSnapshotIdentifier"].startswith("safe-db-final-")


def test_deletion_policy_delete_takes_no_snapshot(project, aws_endpoint):
    project.write({"Db": {**DB, "deletion_policy": "delete"}})
    project.apply()
    project.destroy()
    assert boto("rds", aws_endpoint).describe_db_snapshots()["DBSnapshots"] == []
