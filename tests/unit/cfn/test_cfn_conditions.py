"""Conditions: Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition, Fn::If; on resources and outputs; errors."""

from __future__ import annotations

import pytest

from tests.unit.cfn.support import errors, load, props, resource

HEAD = """
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Count: {Type: Number, Default: 3}
Mappings:
  Flags:
    dev: {Big: "false"}
    prod: {Big: "true"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Three: !Equals [!Ref Count, "3"]
  Big: !Equals [!FindInMap [Flags, !Ref Env, Big], "true"]
  Both: !And [!Condition IsDev, !Condition Three]
  Either: !Or [!Condition IsProd, !Condition Big, !Equals [a, b]]
  InRegion: !Equals [!Ref AWS::Region, us-east-1]
"""


@pytest.mark.parametrize("cond,dev,prod", [
    ("IsProd", "no", "yes"), ("IsDev", "yes", "no"), ("Three", "yes", "yes"), ("Big", "no", "yes"),
    ("Both", "yes", "no"), ("Either", "no", "yes"), ("InRegion", "yes", "yes"),
])
def test_condition_functions_pick_the_branch(tmp_path, cond, dev, prod):
    text = f"A: !If [{cond}, yes-v, no-v]\n"
    assert props(tmp_path, text, HEAD)["A"] == f"{dev}-v"
    assert props(tmp_path, text, HEAD, cli_vars=["Env=prod"])["A"] == f"{prod}-v"


def test_resource_and_output_conditions(tmp_path):
    text = HEAD.lstrip() + resource("A: x") + """  Extra:
    Type: AWS::SQS::Queue
    Condition: IsProd
Outputs:
  ExtraUrl:
    Condition: IsProd
    Value: !Ref Extra
  Always:
    Value: !If [IsProd, !GetAtt Extra.Arn, none]
"""
    dev = load(tmp_path, text)
    assert set(dev.resources) == {"Q"} and dev.outputs == {"Always": {"value": "none"}}
    prod = load(tmp_path, text, cli_vars=["Env=prod"])
    assert set(prod.resources) == {"Q", "Extra"}
    assert prod.outputs == {"ExtraUrl": {"value": "${Extra}"}, "Always": {"value": "${Extra.Arn}"}}


def test_reference_to_a_resource_whose_condition_is_false(tmp_path):
    text = HEAD.lstrip() + resource("A: !Ref Extra") + "  Extra:\n    Type: AWS::SQS::Queue\n    Condition: IsProd\n"
    (msg,) = errors(tmp_path, text)
    assert "Resources.Q.Properties.A.Ref: 'Extra' is not created: its condition 'IsProd' is false" in msg


def test_depends_on_a_resource_whose_condition_is_false(tmp_path):
    text = HEAD.lstrip() + "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    DependsOn: Extra\n" \
        "  Extra:\n    Type: AWS::SQS::Queue\n    Condition: IsProd\n"
    (msg,) = errors(tmp_path, text)
    assert msg.startswith("template.yaml:19:5: Resources.Q.DependsOn: DependsOn 'Extra', which is not created")


def test_unknown_condition_at_its_line(tmp_path):
    got = errors(tmp_path, HEAD.lstrip() + resource("A: !If [IsProdd, a, b]") + "  R:\n    Type: AWS::SQS::Queue\n"
                 "    Condition: Nope\n")
    assert got[0].startswith("template.yaml:20:15: Resources.Q.Properties.A.Fn::If[0]: unknown condition 'IsProdd' "
                             "(did you mean 'IsProd'?)")
    assert got[1].startswith("template.yaml:23:5: Resources.R.Condition: unknown condition 'Nope'")


@pytest.mark.parametrize("body,message", [
    ("!Equals [a]", "Fn::Equals takes a list of 2 values, got a list of 1"),
    ("!And [!Condition A]", "Fn::And takes a list of 2 to 10 conditions, got a list of 1"),
    ("!Or x", "Fn::Or takes a list of 2 to 10 conditions"),
    ("!Not [!Condition A, !Condition A]", "Fn::Not takes a list of 1 condition, got a list of 2"),
    ("!Ref Env", "'Ref' is not a condition function"),
    ("plain", "a condition must be one of Fn::Equals"),
    ("!Equals [!GetAtt Q.Arn, x]", "must be known before the apply"),
    ("!Condition B", "condition cycle: B -> B"),
])
def test_condition_errors(tmp_path, body, message):
    text = f"Parameters:\n  Env: {{Type: String, Default: x}}\nConditions:\n  A: !Equals [a, a]\n  B: {body}\n" \
        + resource("A: !If [B, a, b]")
    got = errors(tmp_path, text)
    assert any(message in m and m.startswith("template.yaml:5:") for m in got), got


def test_if_errors(tmp_path):
    got = errors(tmp_path, "Conditions:\n  C: !Equals [a, a]\n" + resource("A: !If [C, a]\nB: !If [[C], a, b]"))
    assert "template.yaml:7:10: Resources.Q.Properties.A.Fn::If: Fn::If takes [ConditionName, ValueIfTrue, " \
           "ValueIfFalse], got a list of 2" == got[0]
    assert "Fn::If's first argument must be a condition name" in got[1]


def test_if_branch_not_taken_may_refer_to_a_dropped_resource_but_is_still_checked(tmp_path):
    head = "Conditions:\n  Never: !Equals [a, b]\n"
    extra = "  Extra:\n    Type: AWS::SQS::Queue\n    Condition: Never\n"
    assert props(tmp_path, "A: !If [Never, !GetAtt Extra.Arn, !Ref AWS::NoValue]\nB: 1", head, extra=extra) == {"B": 1}
    (msg,) = errors(tmp_path, head + resource("A: !If [Never, !Ref Missing, x]") + extra)
    assert "Ref to 'Missing'" in msg


def test_conditions_must_be_a_mapping_of_known_values(tmp_path):
    (msg,) = errors(tmp_path, "Conditions:\n  A: !Equals [!Ref AWS::AccountId, '1']\n" + resource("A: !If [A, a, b]"))
    assert "template.yaml:2:" in msg and "must be known before the apply" in msg
