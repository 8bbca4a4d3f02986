"""CloudFormation's scalar conversion (SPEC §3), through the CLI against the moto server: strings where
the schema says integer or boolean, and an unquoted YAML date, validate, apply and re-plan clean."""

from __future__ import annotations

from tests.conftest import boto

SPEC = """\
stack: itest
region: us-east-1
resources:
  Vpc:
    type: AWS::EC2::VPC
    properties:
      CidrBlock: 10.40.0.0/16
      EnableDnsSupport: "true"
      EnableDnsHostnames: "false"
  Ssh:
    type: AWS::EC2::SecurityGroup
    properties:
      GroupDescription: ssh
      VpcId: ${Vpc}
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: "22", ToPort: "22", CidrIp: 10.0.0.0/8}
  Role:
    type: AWS::IAM::Role
    properties:
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: 2012-10-17
            Statement:
              - {Effect: Allow, Action: s3:GetObject, Resource: "*"}
  Fn:
    type: AWS::Lambda::Function
    properties:
      Runtime: python3.12
      Handler: index.handler
      Role: ${Role.Arn}
      MemorySize: "256"
      Timeout: "9"
      Code: {ZipFile: "def handler(event, context):\\n    return 1\\n"}
"""


def test_string_scalars_and_yaml_dates_apply_and_replan_clean(project, aws_endpoint):
    (project.spec_dir / "stack.yaml").write_text(SPEC)
    res = project.run("validate", str(project.spec_dir))
    assert res.code == 0, res.err
    project.apply()
    project.assert_clean()
    ec2 = boto("ec2", aws_endpoint)
    group = ec2.describe_security_groups(GroupIds=[project.physical_id("Ssh")])["SecurityGroups"][0]
    assert group["IpPermissions"][0]["FromPort"] == 22
    conf = boto("lambda", aws_endpoint).get_function(FunctionName=project.physical_id("Fn"))["Configuration"]
    assert (conf["MemorySize"], conf["Timeout"]) == (256, 9)
    role = boto("iam", aws_endpoint).get_role(RoleName=project.physical_id("Role"))["Role"]
    assert role["AssumeRolePolicyDocument"]["Version"] == "2012-10-17"
