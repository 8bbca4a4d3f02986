"""The template envelope: sections, resource attributes, policies, Transform, outputs, marks, naming,
and that the model it builds validates like a deployer spec's."""

from __future__ import annotations

import json

import pytest

from deployer.cfn import default_stack_name, is_template
from deployer.spec.load import load_stack
from deployer.spec.validate import validate_stack
from tests.unit.cfn.support import errors, load, resource, write


def test_resource_attributes_and_policies(tmp_path):
    stack = load(tmp_path, """
        Resources:
          A:
            Type: AWS::SQS::Queue
            DeletionPolicy: Retain
            UpdateReplacePolicy: Snapshot
            Metadata: {anything: [1, 2]}
          B:
            Type: AWS::SQS::Queue
            DependsOn: A
            DeletionPolicy: RetainExceptOnCreate
          C:
            Type: AWS::SQS::Queue
            DependsOn: [A, B]
          Db:
            Type: AWS::RDS::DBInstance
            Properties: {Engine: postgres, DBInstanceClass: db.t3.micro}
        """)
    a, b, c, db = (stack.resources[n] for n in ("A", "B", "C", "Db"))
    assert (a.deletion_policy, a.update_replace_policy) == ("retain", "snapshot")
    assert (b.deletion_policy, b.depends_on) == ("retain_except_on_create", ["A"])
    assert (c.deletion_policy, c.update_replace_policy, c.depends_on) == (None, None, ["A", "B"])
    assert db.deletion_policy is None  # the type's default: snapshot for a DB instance, as in CloudFormation
    assert stack.raw["resources"]["A"] == {"type": "AWS::SQS::Queue", "properties": {}, "deletion_policy": "retain",
                                           "update_replace_policy": "snapshot"}
    assert validate_stack(stack) == []


def test_policy_and_attribute_errors(tmp_path):
    got = errors(tmp_path, """
        Resources:
          A:
            Type: AWS::SQS::Queue
            DeletionPolicy: Retian
            UpdateReplacePolicy: RetainExceptOnCreate
            DependsOn: {a: 1}
            Propertys: {}
          B:
            Properties: {}
        """)
    assert got[0] == ("template.yaml:4:5: Resources.A.DeletionPolicy: DeletionPolicy must be one of Delete, Retain, "
                      "Snapshot, RetainExceptOnCreate, not 'Retian' (did you mean 'Retain'?)")
    assert "template.yaml:5:5: Resources.A.UpdateReplacePolicy: UpdateReplacePolicy must be one of Delete, Retain, " \
           "Snapshot" in got[1]
    assert "template.yaml:6:5: Resources.A.DependsOn: DependsOn must be a resource name" in got[2]
    assert "template.yaml:7:5: Resources.A.Propertys: unknown resource attribute 'Propertys' (did you mean " \
           "'Properties'?)" == got[3]
    assert "template.yaml:8:3: Resources.B.Type: a resource needs a Type" in got[4]


def test_creation_and_update_policies_are_ignored_with_a_warning(tmp_path):
    stack = load(tmp_path, """
        Resources:
          A:
            Type: AWS::SQS::Queue
            CreationPolicy: {ResourceSignal: {Count: 1}}
            UpdatePolicy: {AutoScalingRollingUpdate: {}}
        """)
    assert [w.replace(str(tmp_path) + "/", "") for w in stack.warnings] == [
        "template.yaml:4:5: Resources.A.CreationPolicy: CreationPolicy ignored (deployer waits for each resource in "
        "its own way, and updates in place)",
        "template.yaml:5:5: Resources.A.UpdatePolicy: UpdatePolicy ignored (deployer waits for each resource in its "
        "own way, and updates in place)"]


def test_transform_without_its_types_is_ignored_with_a_warning(tmp_path):
    stack = load(tmp_path, "Transform: AWS::Serverless-2016-10-31\n" + resource("A: x"))
    assert len(stack.warnings) == 1 and "transform AWS::Serverless-2016-10-31 ignored" in stack.warnings[0]


def test_transform_with_its_types_or_a_macro_is_refused_at_its_line(tmp_path):
    (msg,) = errors(tmp_path, "Transform: [AWS::Serverless-2016-10-31, MyMacro]\nResources:\n"
                              "  F: {Type: AWS::Serverless::Function}\n", )[:1]
    assert msg.startswith("template.yaml:1:13: Transform[0]: transform AWS::Serverless-2016-10-31 is not supported, "
                          "and this template uses its types (AWS::Serverless::Function)")
    got = errors(tmp_path, "Transform: MyMacro\n" + resource("A: x"))
    assert got == ["template.yaml:1:1: Transform: transform MyMacro is not supported (deployer runs no macros)"]


def test_envelope_errors(tmp_path):
    got = errors(tmp_path, "AWSTemplateFormatVersion: '2010-09-09'\nResource: {}\n" + resource("A: x"))
    assert "template.yaml:2:1: Resource: unknown top-level key 'Resource' (did you mean 'Resources'?)" in got


def test_rules_are_ignored_with_a_warning(tmp_path):
    stack = load(tmp_path, "Rules: {R: {Assertions: []}}\n" + resource("A: x"))
    assert "Rules are not checked" in stack.warnings[0]


def test_outputs_with_description_condition_and_export(tmp_path):
    stack = load(tmp_path, resource("DelaySeconds: 1") + """
Outputs:
  Url:
    Description: the queue
    Value: !Ref Q
    Export:
      Name: !Sub "${AWS::StackName}-url"
""")
    assert stack.outputs == {"Url": {"value": "${Q}", "description": "the queue", "export": "${AWS::StackName}-url"}}
    assert validate_stack(stack) == []
    got = errors(tmp_path, resource("A: x") + "Outputs:\n  A: {Description: x}\n  B: {Value: x, Export: x}\n")
    assert got == ["template.yaml:7:3: Outputs.A: an output needs a Value",
                   "template.yaml:8:17: Outputs.B.Export: Export takes {Name: ...}"]


def test_unsupported_types_are_all_listed_at_their_lines_by_validate(tmp_path):
    path = write(tmp_path, """
        Resources:
          Topic: {Type: AWS::SNS::Topic}
          Logs:
            Type: AWS::EC2::FlowLog
            Properties: {ResourceId: !Ref Vpc}
          Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
          Alarm:
            Type: AWS::CloudWatch::Alarm
        """)
    stack = load_stack(path, environ={})
    got = [str(p).replace(str(tmp_path) + "/", "") for p in validate_stack(stack)]
    assert [g.split(": ")[0] for g in got] == ["template.yaml:4:5", "template.yaml:8:5"]
    assert "unknown resource type 'AWS::EC2::FlowLog'" in got[0]
    assert "unknown resource type 'AWS::CloudWatch::Alarm'" in got[1]


def test_schema_errors_point_at_the_template_line(tmp_path):
    path = write(tmp_path, resource("VisibilityTimeout: [1]\nDelaySecond: 3"))
    stack = load_stack(path, environ={})
    got = sorted(str(p).replace(str(tmp_path) + "/", "") for p in validate_stack(stack))
    assert got[0].startswith("template.yaml:5:7: Resources.Q.Properties.VisibilityTimeout")
    assert got[1].startswith("template.yaml:6:7: Resources.Q.Properties.DelaySecond: unknown property 'DelaySecond'")
    assert stack.display_path(("resources", "Q", "properties", "DelaySecond")) == "Resources.Q.Properties.DelaySecond"
    assert stack.display_path(("outputs", "O", "value")) == "Outputs.O.Value"
    assert stack.display_path(("variables", "P")) == "Parameters.P"


def test_functions_kept_for_apply_time_pass_validation(tmp_path):
    stack = load(tmp_path, """
        Resources:
          Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
          Subnet:
            Type: AWS::EC2::Subnet
            Properties:
              VpcId: !Ref Vpc
              CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
              AvailabilityZone: !Select [0, !GetAZs ""]
        """)
    assert validate_stack(stack) == []
    from deployer.graph import build_graph

    assert list(build_graph(stack).edges) == [("Vpc", "Subnet")]


def test_json_template_with_tabs_keeps_columns(tmp_path):
    text = '{\n\t"Resources": {\n\t\t"Q": {\n\t\t\t"Type": "AWS::SQS::Queue",\n\t\t\t"Properties": ' \
           '{"QueueName": {"Ref": "Nope"}, "Tab": "a\\tb"}\n\t\t}\n\t}\n}\n'
    got = errors(tmp_path, text, name="t.json")
    assert got == ["t.json:5:33: Resources.Q.Properties.QueueName.Ref: Ref to 'Nope': no parameter, resource or "
                   "pseudo parameter has that name"]
    stack = load(tmp_path, text.replace('{"Ref": "Nope"}', '"q"'), name="t.json")
    assert stack.resources["Q"].properties == {"QueueName": "q", "Tab": "a\tb"}


def test_dates_stay_the_text_written(tmp_path):
    stack = load(tmp_path, resource("Policy: {Version: 2012-10-17, When: 2001-12-14t21:59:43.10-05:00}"))
    assert stack.resources["Q"].properties["Policy"] == {"Version": "2012-10-17", "When": "2001-12-14t21:59:43.10-05:00"}


def test_is_template(tmp_path):
    assert is_template(write(tmp_path, resource("A: x")))
    assert is_template(write(tmp_path, '{"Resources": {}}', name="t.json"))
    assert is_template(write(tmp_path, "Resources:\n  A: !Ref [\n", name="broken.yaml"))
    assert not is_template(write(tmp_path, "stack: s\nresources: {}\n", name="spec.yaml"))
    assert not is_template(str(tmp_path))


@pytest.mark.parametrize("file,name", [
    ("My_Template.yaml", "my-template"), ("web.app.json", "web-app"), ("3tier.yaml", "stack-3tier"),
    ("x" * 80 + ".yaml", "x" * 63),
])
def test_default_stack_name(file, name):
    assert default_stack_name(f"/some/dir/{file}") == name


def test_stack_name_from_the_option_and_stack_name_pseudo(tmp_path):
    stack = load(tmp_path, resource("A: !Ref AWS::StackName"), name="My Stack.yaml", stack_name="prod-queue")
    assert stack.name == "prod-queue" and stack.raw["stack"] == "prod-queue"
    (msg,) = errors(tmp_path, resource("A: x"), stack_name="Bad_Name")
    assert "invalid stack name 'Bad_Name'" in msg


def test_dynamic_references(tmp_path):
    stack = load(tmp_path, resource("""
        A: '{{resolve:ssm:/app/url}}'
        B: 'x-{{resolve:ssm-secure:/app/pw:3}}-y'
        C: '{{resolve:secretsmanager:db-creds:SecretString:password}}'
        D: '{{resolve:secretsmanager:db-creds}}'
        E: '{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCd:SecretString:user}}'
        F: !Sub '{{resolve:secretsmanager:${Secret}:SecretString:password}}'
        G: !Sub 'pw={{resolve:secretsmanager:${Secret}::}}!'
    """) + "  Secret: {Type: AWS::SecretsManager::Secret}\n")
    p = stack.resources["Q"].properties
    assert p["A"] == "${ssm:/app/url}" and p["B"] == "x-${ssm:/app/pw:3}-y"
    assert p["C"] == "${secret:db-creds:password}" and p["D"] == "${secret:db-creds}"
    assert p["E"] == {"Fn::ResolveSecret": {
        "SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCd", "JsonKey": "user"}}
    assert p["F"] == {"Fn::ResolveSecret": {"SecretId": "${Secret}", "JsonKey": "password"}}
    assert p["G"] == {"Fn::Join": ["", ["pw=", {"Fn::ResolveSecret": {"SecretId": "${Secret}"}}, "!"]]}
    from deployer.graph import build_graph

    assert ("Secret", "Q") in build_graph(stack).edges
    got = errors(tmp_path, resource("A: '{{resolve:secretsmanager:s:SecretString:k:AWSPREVIOUS}}'\n"
                                    "B: '{{resolve:kms:x}}'\nC: '{{resolve:ssm:}}'"))
    assert "version stages and version ids are not supported" in got[0]
    assert "unsupported dynamic reference" in got[1]
    assert "needs a parameter name" in got[2]


def test_raw_is_deployer_shaped_and_valid_against_the_envelope(tmp_path):
    stack = load(tmp_path, "Parameters:\n  P: {Type: String, Default: a, AllowedValues: [a, b]}\n"
                 + resource("A: !Ref P") + "Outputs:\n  O: {Value: !Ref Q}\n")
    assert json.loads(json.dumps(stack.raw)) == {
        "stack": "template", "resources": {"Q": {"type": "AWS::SQS::Queue", "properties": {"A": "a"}}},
        "variables": {"P": {"type": "string", "default": "a", "enum": ["a", "b"]}},
        "outputs": {"O": {"value": "${Q}"}}}
    assert stack.source_format == "cloudformation"


def test_validate_reports_unknown_depends_on_and_attributes_at_the_template_line(tmp_path):
    stack = load(tmp_path, """
        Resources:
          A:
            Type: AWS::SQS::Queue
            DependsOn: [Nope]
          B:
            Type: AWS::SQS::Queue
            Properties:
              RedrivePolicy: {deadLetterTargetArn: !GetAtt A.Arnn, maxReceiveCount: 3}
        """)
    got = [str(p).replace(str(tmp_path) + "/", "") for p in validate_stack(stack)]
    assert got[0].startswith("template.yaml:4:17: Resources.A.DependsOn[0]: unknown resource 'Nope'")
    assert got[1].startswith("template.yaml:8:23: Resources.B.Properties.RedrivePolicy.deadLetterTargetArn: "
                             "AWS::SQS::Queue has no attribute 'Arnn' (did you mean 'Arn'?)")


def test_hostile_templates_end_in_one_error(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)) + "Resources: {Q: {Type: AWS::SQS::Queue}}\n"
    (msg,) = errors(tmp_path, bomb)
    assert "alias expansion too deep" in msg
    (msg,) = errors(tmp_path, "Resources:\n  Q: {Type: AWS::SQS::Queue}\n---\nResources: {}\n")
    assert "found a second one" in msg
    (msg,) = errors(tmp_path, "Resources:\n\tQ: {Type: AWS::SQS::Queue}\n")
    assert msg.startswith("template.yaml:2:1: <root>: tab character in indentation")
    (msg,) = errors(tmp_path, "Resources:\n  Q: {Type: AWS::SQS::Queue}\n  Q: {Type: AWS::SQS::Queue}\n")
    assert "duplicate key 'Q'" in msg


def test_functions_in_a_deployer_spec_validate_and_make_edges(tmp_path):
    from deployer.graph import build_graph

    spec = tmp_path / "stack.yaml"
    spec.write_text("stack: fns\nresources:\n  Vpc: {type: AWS::EC2::VPC, properties: {CidrBlock: 10.0.0.0/16}}\n"
                    "  Subnet:\n    type: AWS::EC2::Subnet\n    properties:\n      VpcId: ${Vpc}\n"
                    "      CidrBlock: {\"Fn::Select\": [0, {\"Fn::Cidr\": [\"${Vpc.CidrBlock}\", 2, 8]}]}\n"
                    "      AvailabilityZone: {\"Fn::Select\": [0, {\"Fn::GetAZs\": \"\"}]}\n")
    stack = load_stack(str(spec), environ={})
    assert validate_stack(stack) == []
    assert ("Vpc", "Subnet") in build_graph(stack).edges


def test_language_extensions_and_rules_functions(tmp_path):
    got = errors(tmp_path, "Resources:\n  Fn::ForEach::Queues: [Name, [A, B], {Q: {Type: AWS::SQS::Queue}}]\n"
                           "  Q: {Type: AWS::SQS::Queue}\n")
    assert got[0].startswith("template.yaml:2:3: Resources.Fn::ForEach::Queues: Fn::ForEach is not supported")
    stack = load(tmp_path, "Rules:\n  R:\n    Assertions:\n      - Assert: !Contains [[a], !ValueOf [P, Tag]]\n"
                 + resource("DelaySeconds: 1"))
    assert "Rules are not checked" in stack.warnings[0]


def test_custom_and_third_party_types_are_one_unknown_type_error_each(tmp_path):
    stack = load(tmp_path, "Resources:\n  C: {Type: Custom::Thing, Properties: {ServiceToken: x}}\n"
                           "  M: {Type: MongoDB::Atlas::Cluster}\n")
    got = [p.message for p in validate_stack(stack)]
    assert len(got) == 2 and all(m.startswith("unknown resource type") for m in got)
