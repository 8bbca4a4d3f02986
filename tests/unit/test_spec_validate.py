"""Validation: schema problems, references, cycles — each at its FILE:LINE:COL with a suggestion."""

from __future__ import annotations

import pytest

from deployer.errors import SpecError
from deployer.spec import load_and_check
from deployer.spec.refs import UNKNOWN, Ref, RefSyntaxError, parse, substitute

BASE = "stack: demo\nresources:\n"


def errors_of(tmp_path, body: str) -> list[str]:
    f = tmp_path / "s.yaml"
    f.write_text(BASE + body)
    with pytest.raises(SpecError) as e:
        load_and_check(str(f))
    return [str(p) for p in e.value.problems]


def test_misspelt_property(tmp_path):
    (err,) = errors_of(tmp_path, "  B:\n    type: AWS::S3::Bucket\n    properties:\n      BucketNam: x\n")
    assert err.endswith("s.yaml:6:7: resources.B.properties.BucketNam: unknown property 'BucketNam' "
                        "(did you mean 'BucketName'?)")


def test_wrong_enum_value(tmp_path):
    (err,) = errors_of(tmp_path, "  B:\n    type: AWS::S3::Bucket\n    properties:\n"
                                 "      VersioningConfiguration: {Status: Enabld}\n")
    assert ":6:" in err and "VersioningConfiguration.Status" in err and "did you mean 'Enabled'" in err


def test_missing_required_property(tmp_path):
    (err,) = errors_of(tmp_path, "  T:\n    type: AWS::DynamoDB::Table\n"
                                 "    properties: {TableName: t, BillingMode: PAY_PER_REQUEST}\n")
    assert ":5:5:" in err and "'KeySchema' is a required property" in err


def test_unknown_type_with_suggestion(tmp_path):
    (err,) = errors_of(tmp_path, "  B:\n    type: AWS::S3::Buckets\n")
    assert ":5:" in err and "did you mean 'AWS::S3::Bucket'" in err


def test_unknown_reference_and_attribute(tmp_path):
    errs = errors_of(tmp_path, "  Queue:\n    type: AWS::SQS::Queue\n"
                               "  B:\n    type: AWS::SQS::Queue\n    properties:\n"
                               "      QueueName: ${Queu}\n      RedrivePolicy: {deadLetterTargetArn: '${Queue.Arnn}'}\n")
    assert any(":8:" in e and "unknown resource 'Queu' (did you mean 'Queue'?)" in e for e in errs)
    assert any(":9:" in e and "no attribute 'Arnn' (did you mean 'Arn'?)" in e for e in errs)


def test_cycle_names_every_member(tmp_path):
    errs = errors_of(tmp_path, "  A:\n    type: AWS::SQS::Queue\n    depends_on: [C]\n"
                               "  B:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${A}'}\n"
                               "  C:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${B.Arn}'}\n")
    (err,) = errors_of(tmp_path, "  A:\n    type: AWS::SQS::Queue\n    depends_on: [C]\n"
                                 "  B:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${A}'}\n"
                                 "  C:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${B.Arn}'}\n")
    assert errs == [err]
    assert "dependency cycle" in err and all(n in err for n in ("A", "B", "C"))
    assert "depends_on" in err and "QueueName" in err


def test_all_problems_reported_sorted(tmp_path):
    errs = errors_of(tmp_path, "  B:\n    type: AWS::S3::Bucket\n    properties: {Nope: 1}\n"
                               "  C:\n    type: AWS::Nope::Thing\n")
    assert len(errs) == 2
    lines = [int(e.split(":")[1]) for e in errs]
    assert lines == sorted(lines)


def test_references_with_a_type_keep_their_type_and_escape():
    assert parse("a$${b}") == ["a${b}"]
    assert parse("${X.Arn}") == [Ref("resource", "X", "Arn")]
    assert substitute({"n": "${X}", "s": "p-${X}"}, lambda r: 5) == {"n": 5, "s": "p-5"}
    assert substitute("p-${X}", lambda r: UNKNOWN) == UNKNOWN
    with pytest.raises(RefSyntaxError):
        parse("${a b}")
    assert parse("${secret:db:password}") == [Ref("secret", "db", key="password")]
    assert parse("${ssm:/app/key}") == [Ref("ssm", "/app/key")]


def test_reference_inside_typed_property_is_not_a_type_error(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE + "  Q:\n    type: AWS::SQS::Queue\n  R:\n    type: AWS::SQS::Queue\n"
                        "    properties: {DelaySeconds: '${Q.Arn}'}\n")
    load_and_check(str(f))


# --- CloudFormation's cross-property rules, each at the line of the resource's properties or key ---

def test_vpc_without_cidr_block(tmp_path):
    (err,) = errors_of(tmp_path, "  Vpc:\n    type: AWS::EC2::VPC\n    properties:\n      EnableDnsSupport: true\n")
    assert err.endswith("s.yaml:5:5: resources.Vpc.properties: AWS::EC2::VPC needs CidrBlock")


def test_vpc_without_any_property_points_at_the_resource(tmp_path):
    (err,) = errors_of(tmp_path, "  Vpc:\n    type: AWS::EC2::VPC\n")
    assert ":3:3: resources.Vpc" in err and "AWS::EC2::VPC needs CidrBlock" in err


def test_db_instance_without_engine(tmp_path):
    (err,) = errors_of(tmp_path, "  Db:\n    type: AWS::RDS::DBInstance\n    properties:\n"
                                 "      DBInstanceClass: db.t4g.micro\n      AllocatedStorage: 20\n")
    assert ":5:5: resources.Db.properties: AWS::RDS::DBInstance: Engine is required (unless" in err


def test_iam_policy_without_a_principal_list(tmp_path):
    (err,) = errors_of(tmp_path, "  P:\n    type: AWS::IAM::Policy\n    properties:\n      PolicyName: p\n"
                                 "      PolicyDocument: {Version: 2012-10-17, Statement: []}\n")
    assert err.endswith(":5:5: resources.P.properties: AWS::IAM::Policy needs at least one of Users, Groups, Roles")


TABLE = ("  T:\n    type: AWS::DynamoDB::Table\n    properties:\n      BillingMode: PAY_PER_REQUEST\n"
         "      AttributeDefinitions:\n        - {AttributeName: pk, AttributeType: S}\n"
         "        - {AttributeName: sk, AttributeType: S}\n"
         "      KeySchema:\n        - {AttributeName: pk, KeyType: HASH}\n        - {AttributeName: sk, KeyType: RANGE}\n")


def test_local_index_key_without_its_attribute_definition(tmp_path):
    (err,) = errors_of(tmp_path, TABLE + "      LocalSecondaryIndexes:\n        - IndexName: by-date\n"
                                         "          KeySchema:\n            - {AttributeName: pk, KeyType: HASH}\n"
                                         "            - {AttributeName: created, KeyType: RANGE}\n"
                                         "          Projection: {ProjectionType: ALL}\n")
    assert ":17:16: resources.T.properties.LocalSecondaryIndexes[0].KeySchema[1].AttributeName: " in err
    assert "'created' is not one of pk, sk: an index key attribute must be declared in AttributeDefinitions" in err


def test_table_and_global_index_keys_and_unused_definitions(tmp_path):
    errs = errors_of(tmp_path, "  T:\n    type: AWS::DynamoDB::Table\n    properties:\n"
                               "      BillingMode: PAY_PER_REQUEST\n"
                               "      AttributeDefinitions: [{AttributeName: id, AttributeType: S},"
                               " {AttributeName: spare, AttributeType: N}]\n"
                               "      KeySchema: [{AttributeName: ID, KeyType: HASH}]\n"
                               "      GlobalSecondaryIndexes:\n        - IndexName: by-email\n"
                               "          KeySchema: [{AttributeName: email, KeyType: HASH}]\n"
                               "          Projection: {ProjectionType: KEYS_ONLY}\n")
    assert [e.split("s.yaml:")[1].split(" is not")[0] for e in errs] == [
        "7:31: resources.T.properties.AttributeDefinitions[0].AttributeName: 'id'",
        "7:70: resources.T.properties.AttributeDefinitions[1].AttributeName: 'spare'",
        "8:20: resources.T.properties.KeySchema[0].AttributeName: 'ID'",
        "11:24: resources.T.properties.GlobalSecondaryIndexes[0].KeySchema[0].AttributeName: 'email'"]
    assert errs[2].endswith("'ID' is not one of id, spare: a key attribute must be declared in AttributeDefinitions")
    assert errs[0].endswith("'id' is not one of ID, email: DynamoDB accepts only attribute definitions that a table "
                            "or index key uses")


def test_a_table_whose_keys_are_references_is_checked_at_apply_time(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE + "  Q:\n    type: AWS::SQS::Queue\n" + TABLE.replace("AttributeName: sk, KeyType", "AttributeName: '${Q}', KeyType"))
    load_and_check(str(f))


def test_provisioned_table_needs_throughput_and_pay_per_request_takes_none(tmp_path):
    base = TABLE.replace("      BillingMode: PAY_PER_REQUEST\n", "")
    (err,) = errors_of(tmp_path, base)
    assert ":5:5: resources.T.properties: AWS::DynamoDB::Table: with BillingMode PROVISIONED (the default)" in err
    (err,) = errors_of(tmp_path, TABLE + "      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 0}\n")
    assert ":13:31: resources.T.properties.ProvisionedThroughput.ReadCapacityUnits: AWS::DynamoDB::Table: with " \
           "BillingMode PAY_PER_REQUEST" in err


def test_security_group_rules(tmp_path):
    errs = errors_of(tmp_path, "  Sg:\n    type: AWS::EC2::SecurityGroup\n    properties:\n"
                               "      GroupDescription: web\n      SecurityGroupIngress:\n"
                               "        - {IpProtocol: tcp, FromPort: 22, CidrIp: 0.0.0.0/0}\n"
                               "        - {IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0, CidrIpv6: '::/0'}\n"
                               "        - {IpProtocol: '-1'}\n")
    assert any(":8:11: resources.Sg.properties.SecurityGroupIngress[0]: AWS::EC2::SecurityGroup: a tcp, udp or icmp"
               " rule needs FromPort and ToPort" in e for e in errs)
    assert any(":9:74: resources.Sg.properties.SecurityGroupIngress[1].CidrIpv6: 'CidrIpv6' cannot be set together with 'CidrIp'" in e for e in errs)
    assert any(":10:11: resources.Sg.properties.SecurityGroupIngress[2]: needs exactly one of CidrIp, CidrIpv6, "
               "SourceSecurityGroupId" in e for e in errs)
    assert len(errs) == 3


def test_fifo_only_properties_point_at_the_key(tmp_path):
    (err,) = errors_of(tmp_path, "  Q:\n    type: AWS::SQS::Queue\n    properties:\n      DelaySeconds: 1\n"
                                 "      ContentBasedDeduplication: true\n")
    assert ":7:7: resources.Q.properties.ContentBasedDeduplication: AWS::SQS::Queue: " in err and "FIFO" in err


def test_reserved_lambda_variable_points_at_the_name(tmp_path):
    (err,) = errors_of(tmp_path, "  F:\n    type: AWS::Lambda::Function\n    properties:\n"
                                 "      Role: arn:aws:iam::123456789012:role/r\n      Code: {S3Bucket: code-bucket, S3Key: k}\n"
                                 "      Environment:\n        Variables: {OK: '1', AWS_REGION: x}\n")
    assert ":9:30: resources.F.properties.Environment.Variables.AWS_REGION: AWS::Lambda::Function: Lambda reserves" in err


def test_aurora_exclusions_point_at_each_key(tmp_path):
    errs = errors_of(tmp_path, "  Db:\n    type: AWS::RDS::DBInstance\n    properties:\n"
                               "      Engine: aurora-postgresql\n      DBInstanceClass: db.r6g.large\n"
                               "      AllocatedStorage: 20\n      DeletionProtection: true\n")
    assert [e.split(": ")[1] for e in errs] == ["resources.Db.properties.AllocatedStorage",
                                                 "resources.Db.properties.DeletionProtection"]
    assert all("an Aurora instance takes its storage" in e for e in errs)


# --- CloudFormation's scalar conversion and YAML dates ---

def test_string_scalars_convert_where_the_schema_says_so(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE + "  Vpc:\n    type: AWS::EC2::VPC\n    properties: {CidrBlock: 10.0.0.0/16, EnableDnsSupport: 'true'}\n"
                        "  Sg:\n    type: AWS::EC2::SecurityGroup\n    properties:\n      GroupDescription: ssh\n"
                        "      VpcId: ${Vpc}\n      SecurityGroupIngress:\n"
                        "        - {IpProtocol: tcp, FromPort: '22', ToPort: '22', CidrIp: 10.0.0.0/8}\n"
                        "  F:\n    type: AWS::Lambda::Function\n    properties:\n"
                        "      Role: arn:aws:iam::123456789012:role/r\n      Code: {S3Bucket: code-bucket, S3Key: k}\n"
                        "      MemorySize: '256'\n      Timeout: '30'\n"
                        "  Db:\n    type: AWS::RDS::DBInstance\n    properties:\n"
                        "      Engine: postgres\n      DBInstanceClass: db.t4g.micro\n      AllocatedStorage: 20\n"
                        "      Port: 5432\n")
    load_and_check(str(f))


def test_what_does_not_convert_still_fails(tmp_path):
    (err,) = errors_of(tmp_path, "  F:\n    type: AWS::Lambda::Function\n    properties:\n"
                                 "      Role: arn:aws:iam::123456789012:role/r\n      Code: {S3Bucket: code-bucket, S3Key: k}\n"
                                 "      MemorySize: lots\n")
    assert ":8:7: resources.F.properties.MemorySize: 'lots' is not of type 'integer'" in err


def test_unquoted_policy_version_validates(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE + "  R:\n    type: AWS::IAM::Role\n    properties:\n      AssumeRolePolicyDocument:\n"
                        "        Version: 2012-10-17\n        Statement: [{Effect: Allow, Principal: {Service: x},"
                        " Action: 'sts:AssumeRole'}]\n")
    stack = load_and_check(str(f))
    assert stack.resources["R"].properties["AssumeRolePolicyDocument"]["Version"] == "2012-10-17"


# --- attributes: exactly CloudFormation's Fn::GetAtt names ---

def test_getatt_names_that_are_plain_properties_are_accepted(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE + "  Q:\n    type: AWS::SQS::Queue\n  T:\n    type: AWS::SNS::Topic\n"
                        "outputs:\n  A: ${Q.QueueName}\n  B: ${T.TopicName}\n  C: ${Q.Arn}\n")
    load_and_check(str(f))


@pytest.mark.parametrize(("type_name", "attr"), [
    ("AWS::DynamoDB::Table", "TableName"), ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"), ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Role", "RoleName"), ("AWS::Lambda::Function", "FunctionName"), ("AWS::S3::Bucket", "BucketName"),
])
def test_identifiers_that_are_not_getatt_names_are_refused(tmp_path, type_name, attr):
    errs = errors_of(tmp_path, f"  X:\n    type: {type_name}\noutputs:\n  A: ${{X.{attr}}}\n")
    assert any(f"outputs.A: {type_name} has no attribute '{attr}'" in e for e in errs)


def test_a_whole_object_names_its_leaves(tmp_path):
    (err,) = errors_of(tmp_path, "  Db:\n    type: AWS::RDS::DBInstance\n    properties: {Engine: postgres,"
                                 " DBInstanceClass: db.t4g.micro}\noutputs:\n  E: ${Db.Endpoint}\n")
    assert err.endswith(":7:3: outputs.E: AWS::RDS::DBInstance attribute 'Endpoint' is an object: refer to one of "
                        "its values: Endpoint.Address, Endpoint.HostedZoneId, Endpoint.Port")


def test_a_type_without_attributes_says_so(tmp_path):
    (err,) = errors_of(tmp_path, "  A:\n    type: AWS::KMS::Alias\n    properties: {AliasName: alias/a, TargetKeyId: k}\n"
                                 "outputs:\n  X: ${A.AliasName}\n")
    assert "AWS::KMS::Alias has no attribute 'AliasName' (it has no attributes)" in err


def test_read_only_properties_cannot_be_set_nested_either(tmp_path):
    errs = errors_of(tmp_path, "  Db:\n    type: AWS::RDS::DBInstance\n    properties:\n      Engine: postgres\n"
                               "      DBInstanceClass: db.t4g.micro\n      Endpoint: {Address: a}\n"
                               "      MasterUserSecret: {SecretArn: arn}\n")
    assert any(":8:7: resources.Db.properties.Endpoint: 'Endpoint' is read-only" in e
               and "${Db.Endpoint.Address}" in e for e in errs)
    assert len(errs) == 2  # Endpoint.Address is inside the Endpoint already reported
    assert any(":9:26: resources.Db.properties.MasterUserSecret.SecretArn: 'MasterUserSecret.SecretArn' is read-only"
               in e and "refer to ${Db.MasterUserSecret.SecretArn}" in e for e in errs)


def test_attributes_of_lists_getatt_names():
    from deployer.spec.validate import attributes_of

    assert attributes_of("AWS::SQS::Queue") == ["QueueUrl", "Arn", "QueueName"]
    assert attributes_of("AWS::EC2::Subnet") == ["NetworkAclAssociationId", "SubnetId", "AvailabilityZone",
                                                 "AvailabilityZoneId", "VpcId", "CidrBlock"]
    assert "Endpoint" not in attributes_of("AWS::RDS::DBInstance")
