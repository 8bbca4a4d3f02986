"""A template's NoEcho parameter and a secret it reads through a dynamic reference to a secret of the same
template reach no output of any command, no plan file and no file under the state directory."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.conftest import boto
from tests.integration.harness import Project
from tests.integration.test_secret_never_leaks import Recorder, assert_nowhere

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  PartnerToken:
    Type: String
    NoEcho: true
    MinLength: 8
Resources:
  Given:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: cfn-leak-given
      SecretString: !Ref PartnerToken
  Generated:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: cfn-leak-generated
      GenerateSecretString:
        SecretStringTemplate: '{"user": "app"}'
        GenerateStringKey: password
        PasswordLength: 32
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(e, c):\\n    return 1\\n"}
      Environment:
        Variables:
          DB_PASSWORD: !Sub "{{resolve:secretsmanager:${Generated}:SecretString:password}}"
          TOKEN: !Ref PartnerToken
Outputs:
  Echo: {Value: !Ref PartnerToken}
  GivenArn: {Value: !Ref Given}
"""


def test_no_echo_and_same_stack_secret_values_never_leak(project: Project, aws_endpoint):
    token, other = f"tok-{uuid.uuid4().hex}", f"tok-{uuid.uuid4().hex}"
    project.stack = "leaky"  # the template's file name
    template = project.root / "leaky.yaml"
    template.write_text(TEMPLATE.lstrip())
    path, plan_file = str(template), str(project.root / "plan.json")
    run = Recorder(project, token)

    def cmd(*args: str, value: str = token, ok: tuple[int, ...] = (0,)):
        return run(*args, "--var", f"PartnerToken={value}", var=False, ok=ok)

    for fmt in ("text", "json", "markdown"):
        cmd("plan", path, "--format", fmt)
    created = cmd("plan", path, "--format", "json", "-o", plan_file).json()
    given = next(a for a in created["actions"] if a["name"] == "Given")
    assert {"path": "SecretString", "before": None, "after": "(sensitive)", "replace": False} in given["changes"]
    cmd("apply", plan_file)

    sm = boto("secretsmanager", aws_endpoint)
    assert sm.get_secret_value(SecretId="cfn-leak-given")["SecretString"] == token
    password = json.loads(sm.get_secret_value(SecretId="cfn-leak-generated")["SecretString"])["password"]
    env = boto("lambda", aws_endpoint).get_function(FunctionName=project.physical_id("Fn"))
    assert env["Configuration"]["Environment"]["Variables"] == {"DB_PASSWORD": password, "TOKEN": token}

    clean = cmd("plan", path, "--format", "json", "--detailed-exitcode").json()
    assert {a["action"] for a in clean["actions"]} == {"noop"}
    assert clean["outputs"]["Echo"] == "(sensitive)"
    cmd("plan", path, "--debug")
    cmd("drift", path, "--detailed-exitcode")
    cmd("outputs", path, "--json")
    cmd("state", "show", "Fn", "--path", path, "--state-dir", str(project.state_dir))
    changed = cmd("plan", path, "--format", "json", value=other, ok=(0,)).json()
    assert next(a for a in changed["actions"] if a["name"] == "Given")["changes"] == [
        {"path": "SecretString", "before": "(sensitive)", "after": "(sensitive)", "replace": False}]
    res = cmd("plan", path, value="short", ok=(1,))  # a NoEcho value that breaks a constraint is not echoed
    assert "(sensitive)" in res.err and "short" not in res.err
    cmd("destroy", path, "--auto-approve")
    assert_nowhere([token, other, password], run.outputs, [project.root, Path(plan_file).parent])


ENCODED_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Token: {Type: String, NoEcho: true}
  Hosts: {Type: CommaDelimitedList, NoEcho: true}
  Pin: {Type: Number, NoEcho: true}
  Retention: {Type: Number, NoEcho: true, Default: 7}
Resources:
  Encoded:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: cfn-enc-b64, Description: !Base64 {Ref: Token}}
  Joined:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: cfn-enc-join, Description: !Join ["|", !Ref Hosts]}
  Subbed:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: cfn-enc-sub
      Description: !Sub '{"pin": ${Pin}, "token": "${Token}"}'
Outputs:
  TokenB64: {Value: !Base64 {Ref: Token}}
  SecondHost: {Value: !Select [1, !Ref Hosts]}
  PinText: {Value: !Sub "pin-${Pin}"}
"""


def test_no_echo_lists_numbers_and_encodings_never_leak(project: Project, aws_endpoint):
    """Each item of a NoEcho list and a NoEcho number are masked, also through Fn::Base64, Fn::Join and
    Fn::Sub, in every output and file, --debug included; a NoEcho value too short to hide is refused."""
    from tests.integration.test_secret_never_leaks import assert_no_form_anywhere

    token, pin = f"tok-{uuid.uuid4().hex}", str(10_000_000 + uuid.uuid4().int % 80_000_000)
    hosts = [f"h{i}-{uuid.uuid4().hex[:12]}.internal" for i in range(3)]
    project.stack = "encoded"
    template = project.root / "encoded.yaml"
    template.write_text(ENCODED_TEMPLATE.lstrip())
    path, plan_file = str(template), str(project.root / "plan.json")
    run = Recorder(project, token)

    def cmd(*args: str, retention: str = "7", ok: tuple[int, ...] = (0,)):
        return run(*args, "--var", f"Token={token}", "--var", f"Hosts={','.join(hosts)}", "--var", f"Pin={pin}",
                   "--var", f"Retention={retention}", var=False, ok=ok)

    for fmt in ("text", "json", "markdown"):
        cmd("plan", path, "--format", fmt, "--debug")
    planned = cmd("plan", path, "--format", "json", "-o", plan_file).json()
    assert set(planned["outputs"].values()) == {"(sensitive)"}
    cmd("apply", plan_file, "--debug")
    sm = boto("secretsmanager", aws_endpoint)
    assert sm.describe_secret(SecretId="cfn-enc-join")["Description"] == "|".join(hosts)
    assert cmd("plan", path, "--format", "json", "--detailed-exitcode").json()["summary"]["noop"] == 3
    cmd("drift", path, "--detailed-exitcode")
    cmd("outputs", path, "--json")
    cmd("state", "show", "Subbed", "--path", path, "--state-dir", str(project.state_dir))
    assert "Traceback" not in cmd("plan", path, "--debug").err  # a short value equal to the default is public
    refused = cmd("validate", path, retention="30", ok=(1,))
    assert refused.err.strip().endswith("Parameters.Retention: a sensitive value is shorter than 4 characters, "
                                        "too short to be hidden in output")
    cmd("destroy", path, "--auto-approve", "--debug")
    assert_no_form_anywhere([token, pin, *hosts], run.outputs, [project.root])
