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
