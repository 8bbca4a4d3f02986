"""deployer convert: the spec it writes loads into the same model as the template, for the parameter
values given; parameters stay variables, conditions on them stay Jinja."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from deployer.cfn.convert import convert
from deployer.errors import SpecError
from deployer.spec.load import load_stack
from deployer.spec.validate import validate_stack
from tests.unit.cfn.support import write

TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Delay: {Type: Number, Default: "5"}
  Zones: {Type: CommaDelimitedList, Default: "a,b"}
  Raw: {Type: String, Default: "true"}
  Ami: {Type: "AWS::SSM::Parameter::Value<String>", Default: /amis/web}
Mappings:
  Sizes:
    dev: {Retention: 60}
    prod: {Retention: 120}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  InEast: !Equals [!Ref "AWS::Region", us-east-1]
  Always: !Equals [a, a]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-${Env}-q"
      DelaySeconds: !Ref Delay
      MessageRetentionPeriod: !FindInMap [Sizes, !Ref Env, Retention]
      VisibilityTimeout: !If [IsProd, 60, !Ref "AWS::NoValue"]
      ReceiveMessageWaitTimeSeconds: !If [Always, 1, 2]
      Tags:
        - {Key: zone, Value: !Select [1, !Ref Zones]}
        - {Key: zones, Value: !Join [",", !Ref Zones]}
        - !If [InEast, {Key: east, Value: "yes"}, !Ref "AWS::NoValue"]
        - {Key: ami, Value: !Ref Ami}
        - {Key: code, Value: "{{ not jinja }} and {% neither %} ${aws:username}"}
        - {Key: multi, Value: "line one\\nline two\\n"}
  Topic:
    Type: AWS::SNS::Topic
  Sub:
    Type: AWS::SNS::Subscription
    Condition: IsProd
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Q.Arn
      RawMessageDelivery: !Ref Raw
Outputs:
  Url: {Value: !Ref Q, Export: {Name: !Sub "${AWS::StackName}-url"}}
  SubArn: {Condition: IsProd, Value: !Ref Sub}
"""


def model(stack):
    return ({n: (r.type, r.properties, r.depends_on, r.deletion_policy, r.update_replace_policy)
             for n, r in stack.resources.items()}, stack.outputs, stack.name)


@pytest.mark.parametrize("given", [[], ["Env=prod"], ["Env=prod", "Zones=[x, y, z]", "Delay=7", "Raw=false"]])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_converted_spec_loads_as_the_template_does(tmp_path, given, region):
    template = write(tmp_path, TEMPLATE)
    spec = tmp_path / "spec.yaml"
    spec.write_text(convert(template))
    a = load_stack(template, given, [], region, {})
    b = load_stack(str(spec), given, [], region, {})
    assert model(a) == model(b)
    assert validate_stack(b) == []


def test_parameters_become_variables_and_conditions_jinja(tmp_path):
    text = convert(write(tmp_path, TEMPLATE))
    assert "variables:\n  Env: {\"type\": \"string\", \"enum\": [\"dev\", \"prod\"], \"default\": \"dev\"}" in text
    assert 'QueueName: "${AWS::StackName}-${var.Env}-q"' in text
    assert 'DelaySeconds: "${var.Delay}"' in text
    assert '{% if (var.Env | string) == "prod" %}\n  Sub:' in text
    assert "{% if region == \"us-east-1\" %}" in text
    assert "ReceiveMessageWaitTimeSeconds: 1" in text  # a constant condition is evaluated
    assert "{{ '{{' }} not jinja }} and {{ '{%' }} neither %} $${aws:username}" in text
    assert 'Value: |\n            line one\n            line two\n' in text


def test_stack_name_and_notes(tmp_path):
    path = write(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n  Q: {Type: AWS::SQS::Queue}\n",
                 name="My_Queue.yaml")
    text = convert(path)
    assert "\nstack: my-queue\n" in text and "# note: " in text and "transform AWS::Serverless-2016-10-31" in text
    assert "\nstack: other\n" in convert(path, stack_name="other")
    assert yaml.safe_load(text)["resources"] == {"Q": {"type": "AWS::SQS::Queue"}}


def test_a_required_parameter_needs_no_value_to_convert(tmp_path):
    path = write(tmp_path, """
        Parameters:
          Name: {Type: String}
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Properties: {QueueName: !Sub "${Name}-q"}
        """)
    text = convert(path)
    assert 'QueueName: "${var.Name}-q"' in text
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    assert load_stack(str(spec), ["Name=x"], [], "us-east-1", {}).resources["Q"].properties == {"QueueName": "x-q"}


def test_errors_in_the_template_are_reported_as_for_loading(tmp_path):
    path = write(tmp_path, textwrap.dedent("""
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Properties: {QueueName: !Ref Nope}
        """))
    with pytest.raises(SpecError) as e:
        convert(path)
    assert "Ref to 'Nope'" in str(e.value)


def test_apply_time_functions_over_variables(tmp_path):
    path = write(tmp_path, """
        Parameters:
          Index: {Type: Number, Default: 1}
          Env: {Type: String, Default: dev}
        Conditions:
          Odd: !Equals [!Ref Env, !GetAtt Q.Arn]
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !Select [!Ref Index, !GetAZs ""]
        """)
    spec = tmp_path / "spec.yaml"
    spec.write_text(convert(path))
    props = load_stack(str(spec), ["Index=0"], [], "us-east-1", {}).resources["Q"].properties
    assert props == {"QueueName": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}
    bad = write(tmp_path, """
        Parameters:
          Env: {Type: String, Default: dev}
        Conditions:
          Odd: !Equals [!Ref Env, !GetAtt Q.Arn]
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Condition: Odd
        """, name="bad.yaml")
    with pytest.raises(SpecError) as e:
        convert(bad)
    assert "must be known before the apply" in str(e.value)


def test_functions_mixing_variables_and_apply_time_values(tmp_path):
    template = write(tmp_path, """
        Parameters:
          Name: {Type: String, Default: "web ${x}"}
          Type: {Type: String, Default: t3.micro}
          Tags: {Type: CommaDelimitedList, Default: "a,b"}
        Mappings:
          Arch: {t3.micro: {Bits: "64"}, t3.large: {Bits: "64"}}
          Ami: {us-east-1: {"64": ami-1}, eu-west-1: {"64": ami-2}}
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !Join ["", [!Ref Name, "-q-", !Select [0, !GetAZs ""]]]
              A: !Base64 {Fn::Sub: "${Name} in ${AWS::StackId}"}
              B: !Base64 {Fn::Sub: "${Name} in ${AWS::Region}"}
              C: !FindInMap [Ami, !Ref "AWS::Region", !FindInMap [Arch, !Ref Type, Bits]]
              D: !Join ["/", [!Ref Name, "${literal}", !Join [",", !Ref Tags]]]
              E: !Split [",", !Sub "${Name},x"]
        """)
    spec = tmp_path / "spec.yaml"
    spec.write_text(convert(template))
    for given in ([], ["Type=t3.large", "Name=other"]):
        for region in ("us-east-1", "eu-west-1"):
            a = load_stack(template, given, [], region, {})
            b = load_stack(str(spec), given, [], region, {})
            assert model(a) == model(b), (given, region)
    expressions = [line for line in spec.read_text().splitlines() if "{{ (" in line]
    assert expressions and all(line.count("}}") == 1 for line in expressions)  # nothing closes one early


def test_dynamic_references_built_from_parameters(tmp_path):
    template = write(tmp_path, """
        Parameters:
          ParamName: {Type: String, Default: /app/url}
          SecretName: {Type: String, Default: app-db}
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Properties:
              A: !Sub "{{resolve:ssm:${ParamName}}}"
              B: !Sub "{{resolve:secretsmanager:${SecretName}:SecretString:password}}"
        """)
    text = convert(template)
    assert 'A: "${ssm:{{ var.ParamName }}}"' in text and 'B: "${secret:{{ var.SecretName }}:password}"' in text
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    for given in ([], ["ParamName=/other", "SecretName=s2"]):
        a = load_stack(template, given, [], "us-east-1", {})
        assert model(a) == model(load_stack(str(spec), given, [], "us-east-1", {}))
