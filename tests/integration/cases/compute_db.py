"""Cases for an EC2 instance, an RDS DB subnet group and an RDS DB instance.

Left out where moto ignores or mishandles an update (each covered by the handler's unit tests):
- instance UserData changes: moto wants ModifyInstanceAttribute's UserData base64-encoded twice
  where AWS decodes the SDK's single encoding (UserData is still set at create and read back);
- instance DisableApiTermination at launch: moto ignores it there (it is set here by an update);
- BlockDeviceMappings and NetworkInterfaces are compared with the last apply, so drift is made elsewhere;
- DB subnet group description and subnet changes: moto's ModifyDBSubnetGroup drops the group;
- DB instance Port: moto ignores DBPortNumber; ApplyImmediately false: moto applies at once;
- DB instance Timezone: moto ignores it (it is sent at create: the unit tests check it);
- removing a replica's SourceDBInstanceIdentifier (a promotion): moto's PromoteReadReplica leaves the
  instance naming its source, so the promoted instance would read as a replica still;
"""

from __future__ import annotations

import base64
from typing import Any

from tests.integration.cases import Case

ACCOUNT = "123456789012"  # moto's account
VPC = {"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.30.0.0/16"}}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
USER_DATA = base64.b64encode(b"#!/bin/sh\necho hello from deployer > /tmp/hello\n").decode("ascii")


def subnet(cidr: str, zone: str) -> dict[str, Any]:
    return {"type": "AWS::EC2::Subnet", "properties": {"VpcId": "${Vpc}", "CidrBlock": cidr, "AvailabilityZone": zone}}


def group(description: str) -> dict[str, Any]:
    return {"type": "AWS::EC2::SecurityGroup", "properties": {"GroupDescription": description, "VpcId": "${Vpc}"}}


def profile(name: str) -> dict[str, Any]:
    return {"type": "AWS::IAM::InstanceProfile", "properties": {"InstanceProfileName": name, "Roles": ["${Role}"]}}


def _missing(call, *codes: str) -> bool:
    try:
        call()
        return False
    except Exception as exc:  # botocore ClientError
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return any(c in code for c in codes) or "NotFound" in code


def instance_exists(c, pid: str) -> bool:
    reservations = c("ec2").describe_instances(Filters=[{"Name": "instance-id", "Values": [pid]}])["Reservations"]
    states = [i["State"]["Name"] for r in reservations for i in r["Instances"]]
    return any(s not in ("shutting-down", "terminated") for s in states)


def volume(size: int, delete_on_termination: bool) -> list[dict[str, Any]]:
    return [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": size, "VolumeType": "gp3",
                                               "DeleteOnTermination": delete_on_termination}}]


def nic(group: str) -> list[dict[str, Any]]:
    return [{"DeviceIndex": "0", "SubnetId": "${Subnet}", "GroupSet": [group], "AssociatePublicIpAddress": True,
             "DeleteOnTermination": True}]


def retype(c, pid: str) -> None:
    """Out of band: the instance type changed by hand."""
    c("ec2").modify_instance_attribute(InstanceId=pid, InstanceType={"Value": "m5.large"})


def subnet_group_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("rds").describe_db_subnet_groups(DBSubnetGroupName=pid), "DBSubnetGroupNotFound")


def db_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("rds").describe_db_instances(DBInstanceIdentifier=pid), "DBInstanceNotFound")


def parameter_and_option_groups(c) -> None:
    """Two parameter groups and two option groups for postgres 13 (deployer has no type for either;
    moto knows option groups for postgres up to 13)."""
    for suffix in ("a", "b"):
        c("rds").create_db_parameter_group(DBParameterGroupName=f"itest-pg13-{suffix}", DBParameterGroupFamily="postgres13",
                                           Description="itest")
        c("rds").create_option_group(OptionGroupName=f"itest-og13-{suffix}", EngineName="postgres",
                                     MajorEngineVersion="13", OptionGroupDescription="itest")


def database(identifier: str, version: str = "15.4") -> dict[str, Any]:
    """A plain postgres instance (its creation also gives moto the family's default parameter group)."""
    return {"type": "AWS::RDS::DBInstance", "deletion_policy": "delete", "properties": {
        "DBInstanceIdentifier": identifier, "Engine": "postgres", "EngineVersion": version,
        "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "MasterUsername": "app_admin",
        "MasterUserPassword": "first-password-1", "BackupRetentionPeriod": 1}}


MONITORING_ROLE = {"type": "AWS::IAM::Role", "properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                                            "Action": "sts:AssumeRole"}]}}}


def retag_subnet_group(c, pid: str) -> None:
    """Out of band: a user tag's value changed by hand."""
    c("rds").add_tags_to_resource(ResourceName=f"arn:aws:rds:us-east-1:{ACCOUNT}:subgrp:{pid}",
                                  Tags=[{"Key": "team", "Value": "changed-by-hand"}])


CASES = [
    Case(
        id="ec2-instance",
        type="AWS::EC2::Instance",
        support={"Vpc": VPC, "Subnet": subnet("10.30.1.0/24", "us-east-1a"),
                 "Web": group("web"), "Admin": group("admin"),
                 "Role": {"type": "AWS::IAM::Role", "properties": {"AssumeRolePolicyDocument": TRUST}},
                 "Profile": profile("itest-web-profile"), "OtherProfile": profile("itest-other-profile")},
        props={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SubnetId": "${Subnet}",
               "SecurityGroupIds": ["${Web}"], "UserData": USER_DATA, "Tags": [{"Key": "team", "Value": "web"}],
               "BlockDeviceMappings": volume(8, True)},
        updates=[
            {"InstanceType": "t3.small"},  # stop, modify, start
            {"SecurityGroupIds": ["${Web}", "${Admin}"]},
            {"IamInstanceProfile": "${Profile}"},
            {"IamInstanceProfile": "${OtherProfile}"},
            {"BlockDeviceMappings": volume(8, False)},  # a volume's DeleteOnTermination: in place
            {"BlockDeviceMappings": volume(8, True)},
            {"DisableApiTermination": True},
            {"Tags": [{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "42"}]},
        ],
        # any other block device change replaces the instance, as in CloudFormation
        replace={"ImageId": "ami-1e749f67", "BlockDeviceMappings": volume(16, True)},
        remove=["IamInstanceProfile", "SecurityGroupIds", "DisableApiTermination", "Tags"],
        drift=retype,
        exists=instance_exists,
    ),
    Case(
        id="ec2-instance-default-vpc",
        type="AWS::EC2::Instance",
        # SecurityGroups are names, for the default VPC (no SubnetId); a change replaces the instance
        support={"Named": {"type": "AWS::EC2::SecurityGroup",
                           "properties": {"GroupName": "itest-named", "GroupDescription": "named"}}},
        depends_on=["Named"],
        props={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SecurityGroups": ["default"]},
        updates=[{"DisableApiTermination": True}],
        replace={"SecurityGroups": ["itest-named"]},
        remove=["DisableApiTermination"],
        drift=retype,
        exists=instance_exists,
    ),
    Case(
        id="ec2-instance-network-interfaces",
        type="AWS::EC2::Instance",
        support={"Vpc": VPC, "Subnet": subnet("10.30.1.0/24", "us-east-1a"), "Web": group("web"),
                 "Admin": group("admin")},
        props={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "NetworkInterfaces": nic("${Web}")},
        updates=[{"InstanceType": "t3.small"}],
        replace={"NetworkInterfaces": nic("${Admin}")},  # create-only, as in CloudFormation
        remove=["InstanceType"],
        drift=retype,
        exists=instance_exists,
    ),
    Case(
        id="rds-db-subnet-group",
        type="AWS::RDS::DBSubnetGroup",
        support={"Vpc": VPC, "SubnetA": subnet("10.30.1.0/24", "us-east-1a"),
                 "SubnetB": subnet("10.30.2.0/24", "us-east-1b")},
        props={"DBSubnetGroupName": "ITest-Subnets", "DBSubnetGroupDescription": "two zones",
               "SubnetIds": ["${SubnetA}", "${SubnetB}"], "Tags": [{"Key": "team", "Value": "data"}]},
        updates=[{"Tags": [{"Key": "team", "Value": "dba"}, {"Key": "cost", "Value": "7"}]}],
        replace={"DBSubnetGroupName": "itest-subnets-two"},
        remove=["Tags"],
        drift=retag_subnet_group,
        exists=subnet_group_exists,
    ),
    Case(
        id="rds-db-instance",
        type="AWS::RDS::DBInstance",
        support={"Vpc": VPC, "SubnetA": subnet("10.30.1.0/24", "us-east-1a"),
                 "SubnetB": subnet("10.30.2.0/24", "us-east-1b"),
                 "Subnets": {"type": "AWS::RDS::DBSubnetGroup", "properties": {
                     "DBSubnetGroupDescription": "db", "SubnetIds": ["${SubnetA}", "${SubnetB}"]}},
                 "Db": group("db"), "Ops": group("ops")},
        props={"DBInstanceIdentifier": "itest-db", "Engine": "postgres", "EngineVersion": "15.4",
               "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "MasterUsername": "app_admin",
               "MasterUserPassword": "first-password-1", "DBSubnetGroupName": "${Subnets}",
               "VPCSecurityGroups": ["${Db}"], "SkipFinalSnapshot": True},
        updates=[
            {"DBInstanceClass": "db.t3.small", "AllocatedStorage": "30"},
            {"MultiAZ": True, "BackupRetentionPeriod": 7, "PubliclyAccessible": True},
            {"EngineVersion": "16.3"},
            {"VPCSecurityGroups": ["${Db}", "${Ops}"]},
            {"DeletionProtection": True},
            {"MasterUserPassword": "second-password-2"},
            {"DeleteAutomatedBackups": False},
            {"Tags": [{"Key": "team", "Value": "data"}]},
        ],
        replace={"DBName": "orders"},
        remove=["MultiAZ", "BackupRetentionPeriod", "PubliclyAccessible", "VPCSecurityGroups", "DeletionProtection",
                "DeleteAutomatedBackups", "Tags"],
        drift=lambda c, pid: c("rds").modify_db_instance(DBInstanceIdentifier=pid, BackupRetentionPeriod=2,
                                                         ApplyImmediately=True),
        exists=db_exists,
    ),
    Case(
        id="rds-db-instance-settings",
        type="AWS::RDS::DBInstance",
        setup=parameter_and_option_groups,
        support={"Plain": database("itest-db-plain", "13.4"), "MonitoringRole": MONITORING_ROLE},
        props={"DBInstanceIdentifier": "itest-db-settings", "Engine": "postgres", "EngineVersion": "13.4",
               "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "100", "MasterUsername": "app_admin",
               "MasterUserPassword": "first-password-1", "SkipFinalSnapshot": True,
               "DBParameterGroupName": "itest-pg13-a", "OptionGroupName": "itest-og13-a",
               "StorageType": "gp3", "MaxAllocatedStorage": 200,
               "AutoMinorVersionUpgrade": True, "CopyTagsToSnapshot": False, "LicenseModel": "postgresql-license",
               "PreferredBackupWindow": "03:00-03:30", "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
               "MonitoringInterval": 60, "MonitoringRoleArn": "${MonitoringRole.Arn}"},
        updates=[
            {"DBParameterGroupName": "itest-pg13-b"},
            {"OptionGroupName": "itest-og13-b"},
            {"StorageType": "io1", "Iops": 1000},
            {"MaxAllocatedStorage": 300},
            {"AutoMinorVersionUpgrade": False, "CopyTagsToSnapshot": True},
            {"MonitoringInterval": 30},
            {"PreferredBackupWindow": "04:00-04:30", "PreferredMaintenanceWindow": "mon:06:00-mon:06:30"},
            {"EngineVersion": "13.5", "AllowMajorVersionUpgrade": False},  # a minor upgrade needs no permission
        ],
        replace={"DBName": "orders"},
        remove=["DBParameterGroupName", "OptionGroupName", "MaxAllocatedStorage", "AutoMinorVersionUpgrade", "CopyTagsToSnapshot",
                "PreferredBackupWindow", "PreferredMaintenanceWindow", "LicenseModel", "StorageType", "Iops",
                "AllowMajorVersionUpgrade",
                ("MonitoringInterval", "MonitoringRoleArn")],  # together: validate refuses either alone
        drift=lambda c, pid: c("rds").modify_db_instance(DBInstanceIdentifier=pid, CopyTagsToSnapshot=False,
                                                         ApplyImmediately=True),
        exists=db_exists,
    ),
    Case(
        id="rds-db-instance-replica",
        type="AWS::RDS::DBInstance",
        support={"Source": database("itest-db-source")},
        # CreateDBInstanceReadReplica, then ModifyDBInstance for what it does not take (BackupRetentionPeriod)
        props={"DBInstanceIdentifier": "itest-db-replica", "SourceDBInstanceIdentifier": "${Source}",
               "DBInstanceClass": "db.t3.micro", "BackupRetentionPeriod": 2},
        updates=[
            {"DBInstanceClass": "db.t3.small"},
            {"BackupRetentionPeriod": 3},
            {"Tags": [{"Key": "role", "Value": "reader"}]},
        ],
        replace={"DBInstanceIdentifier": "itest-db-replica-two"},
        remove=["Tags"],
        drift=lambda c, pid: c("rds").modify_db_instance(DBInstanceIdentifier=pid, DBInstanceClass="db.t3.large",
                                                         ApplyImmediately=True),
        exists=db_exists,
    ),
]
