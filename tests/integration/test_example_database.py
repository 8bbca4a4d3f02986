"""specs/examples/database through the CLI against the moto server: it validates, applies (an encrypted
PostgreSQL instance whose master password RDS manages with the stack's key), plans clean right after,
and destroys to nothing: no instance, subnet group, secret, snapshot or VPC left, the key pending
deletion and an empty state."""

from __future__ import annotations

from tests.conftest import EXAMPLES, boto

EXAMPLE = str(EXAMPLES / "database")


def leftovers(endpoint: str) -> dict[str, list]:
    """What the stack could leave in the account (secrets and keys pending deletion do not count)."""
    rds, ec2, keys = boto("rds", endpoint), boto("ec2", endpoint), boto("kms", endpoint)
    return {
        "instances": [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]],
        "subnet groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "snapshots": [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]],
        "secrets": [s["Name"] for s in boto("secretsmanager", endpoint).list_secrets()["SecretList"]],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"]],
        "keys": [k["KeyId"] for k in keys.list_keys()["Keys"]
                 if keys.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"],
    }


def test_database_example_applies_replans_clean_and_destroys_to_nothing(project, aws_endpoint):
    project.stack = "database"
    res = project.run("validate", EXAMPLE)
    assert res.code == 0, res.err

    res = project.run("apply", EXAMPLE, "--auto-approve")
    assert res.code == 0, res.out + res.err
    resources = project.state()["resources"]
    assert set(resources) == {"Vpc", "PrivateSubnetA", "PrivateSubnetB", "DbSecurityGroup", "DbSubnetGroup",
                              "DataKey", "DataKeyAlias", "Database", "AppUserSecret"}
    db = boto("rds", aws_endpoint).describe_db_instances(
        DBInstanceIdentifier=resources["Database"]["physical_id"])["DBInstances"][0]
    key = resources["DataKey"]["physical_id"]
    assert db["StorageEncrypted"] and db["KmsKeyId"].endswith(key)
    assert db["MasterUserSecret"]["KmsKeyId"].endswith(key)  # RDS keeps the password, under our key
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == resources["DbSubnetGroup"]["physical_id"]
    assert "MasterUserPassword" not in resources["Database"]["properties"]
    assert len(leftovers(aws_endpoint)["secrets"]) == 2  # the application's and the one RDS manages

    plan = project.run("plan", EXAMPLE, "--format", "json", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # no changes right after apply
    assert plan.json()["outputs"]["DatabaseId"] == resources["Database"]["physical_id"]

    res = project.run("destroy", EXAMPLE, "--auto-approve")
    assert res.code == 0, res.out + res.err
    assert project.state()["resources"] == {}
    assert leftovers(aws_endpoint) == {"instances": [], "subnet groups": [], "snapshots": [], "secrets": [],
                                       "vpcs": [], "keys": []}
