"""Templates through the real CLI: unsupported types all listed at their lines before any AWS call, a
missing parameter named with how to set it, outputs after an apply."""

from __future__ import annotations

from tests.integration.harness import Project

UNSUPPORTED = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.9.0.0/16}
  Logs:
    Type: AWS::EC2::FlowLog
    Properties: {ResourceId: !Ref Vpc, ResourceType: VPC, TrafficType: ALL, LogDestinationType: s3}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {Namespace: App, MetricName: Errors, Statistic: Sum, Period: 60, EvaluationPeriods: 1, Threshold: 1}
"""


def test_unsupported_types_are_listed_at_their_lines_before_any_aws_call(tmp_path):
    template = tmp_path / "net.yaml"
    template.write_text(UNSUPPORTED)
    project = Project(tmp_path)
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        res = project.run(*command, str(template), env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
        assert res.code == 1
        lines = res.err.splitlines()
        assert len(lines) == 2, res.err
        assert lines[0].startswith(f"{template}:7:5: ") and "unknown resource type 'AWS::EC2::FlowLog'" in lines[0]
        assert lines[1].startswith(f"{template}:10:5: ") and "unknown resource type 'AWS::CloudWatch::Alarm'" \
            in lines[1]


def test_a_parameter_without_default_fails_the_plan_naming_it(tmp_path, aws_endpoint):
    template = tmp_path / "q.yaml"
    template.write_text("Parameters:\n  QueueName: {Type: String}\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
                        "    Properties: {QueueName: !Ref QueueName}\n")
    project = Project(tmp_path, stack="q")
    res = project.run("plan", str(template))
    assert res.code == 1
    assert res.err.strip() == (f"{template}:2:3: Parameters.QueueName: variable 'QueueName' is required: pass --var "
                               "QueueName=VALUE, a --var-file or DEPLOYER_VAR_QueueName")
    res = project.run("apply", str(template), "--auto-approve", "--var", "QueueName=cfn-cli-q")
    assert res.code == 0, res.err
    assert project.physical_id("Q").endswith("/cfn-cli-q")
    res = project.run("outputs", str(template), "--var", "QueueName=cfn-cli-q")
    assert res.code == 0, res.err
    res = project.run("destroy", str(template), "--auto-approve", "--var", "QueueName=cfn-cli-q")
    assert res.code == 0 and project.state()["resources"] == {}


def test_an_existing_resource_is_adopted_into_a_template_stack_with_import(tmp_path, aws_endpoint):
    """A queue a CloudFormation stack made: `deployer import` per resource, then the template plans clean."""
    from tests.conftest import boto

    url = boto("sqs", aws_endpoint).create_queue(QueueName="adopted-q", Attributes={"DelaySeconds": "5"})["QueueUrl"]
    template = tmp_path / "adopt.yaml"
    template.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    DeletionPolicy: Retain\n"
                        "    Properties: {QueueName: adopted-q, DelaySeconds: 5}\n")
    project = Project(tmp_path, stack="adopt")
    res = project.run("import", str(template), "Q", url)
    assert res.code == 0, res.err
    res = project.run("plan", str(template), "--detailed-exitcode")
    assert res.code == 0, res.out + res.err
    assert project.run("destroy", str(template), "--auto-approve").code == 0
    assert boto("sqs", aws_endpoint).get_queue_url(QueueName="adopted-q")["QueueUrl"] == url  # retained


ADOPTED = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Prefix: {Type: String, Default: moved}
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    DeletionPolicy: Retain
    Properties: {QueueName: !Sub "${Prefix}-jobs", VisibilityTimeout: 60}
  Assets:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties: {BucketName: !Sub "${Prefix}-assets-bucket"}
  Orders:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    Properties:
      TableName: !Sub "${Prefix}-orders"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


def test_every_resource_of_a_cloudformation_stack_is_adopted_in_one_go(tmp_path, aws_endpoint):
    """The stack CloudFormation made (on the emulator) moves to deployer: one import, then the
    template plans clean, and deleting the CloudFormation stack keeps the retained resources."""
    from tests.conftest import boto

    cfn = boto("cloudformation", aws_endpoint)
    cfn.create_stack(StackName="legacy", TemplateBody=ADOPTED)
    held = {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName="legacy")["StackResources"]}
    assert held == {"Jobs", "Assets", "Orders"}
    template = tmp_path / "legacy.yaml"
    template.write_text(ADOPTED + "  Extra:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: moved-extra}\n")
    project = Project(tmp_path, stack="legacy")
    res = project.run("import", str(template), "--from-cloudformation", "legacy")
    assert res.code == 0, res.err
    imported = [line for line in res.out.splitlines() if line.startswith("Imported")]
    assert imported[0] == "Imported Assets (moved-assets-bucket)." and imported[2] == "Imported Orders (moved-orders)."
    assert imported[1].startswith("Imported Jobs (http") and imported[1].endswith("/moved-jobs).")  # the queue URL
    assert "Extra (AWS::SQS::Queue) will be created" in res.out  # only in the template: deployer creates it
    assert set(project.state()["resources"]) == {"Jobs", "Assets", "Orders"}
    res = project.run("plan", str(template), "--stack", "legacy", "--format", "json")
    assert res.code == 0, res.err
    plan = res.json()
    assert {a["name"]: a["action"] for a in plan["actions"]} == {
        "Jobs": "noop", "Assets": "noop", "Orders": "noop", "Extra": "create"}
    cfn.delete_stack(StackName="legacy")
    assert boto("dynamodb", aws_endpoint).describe_table(TableName="moved-orders")["Table"]["TableName"]
    res = project.run("import", str(template), "--from-cloudformation", "nope")
    assert res.code == 1 and "no CloudFormation stack 'nope'" in res.err


def test_import_takes_a_name_and_id_or_a_cloudformation_stack(tmp_path):
    template = tmp_path / "q.yaml"
    template.write_text(UNSUPPORTED.split("  Endpoint:")[0])
    project = Project(tmp_path)
    for args in (["Vpc"], [], ["Vpc", "vpc-1", "--from-cloudformation", "s"]):
        res = project.run("import", str(template), *args)
        assert res.code == 1 and "import takes NAME PHYSICAL_ID, or --from-cloudformation STACK" in res.err


def test_stack_names_convert_and_warnings_through_the_cli(tmp_path, aws_endpoint):
    template = tmp_path / "My_Queues.yaml"
    template.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
                        "    CreationPolicy: {ResourceSignal: {Timeout: PT5M}}\n    Properties: {DelaySeconds: 2}\n")
    project = Project(tmp_path)
    res = project.run("validate", str(template))
    assert res.code == 0 and res.out.startswith("my-queues: valid"), res.err
    assert res.err.count("warning: ") == 2 and "CreationPolicy" in res.err and "Transform" in res.err
    assert project.run("validate", str(template), "--stack", "orders").out.startswith("orders: valid")
    res = project.run("plan", str(template), "--stack", "orders")
    assert res.code == 0 and "Plan for stack 'orders'" in res.out and "warning: " in res.out
    converted = project.run("convert", str(template), "--stack", "orders")
    assert converted.code == 0 and "stack: orders" in converted.out
    spec = tmp_path / "orders.yaml"
    spec.write_text(converted.out)
    assert project.run("validate", str(spec)).out.startswith("orders: valid")
    res = project.run("plan", str(spec), "--stack", "other")
    assert res.code == 1 and "names its stack 'orders'" in res.err
    res = project.run("convert", str(spec))
    assert res.code == 1 and "not a CloudFormation template" in res.err
