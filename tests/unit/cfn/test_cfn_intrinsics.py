"""Each intrinsic function: computed at load time when its arguments are known, kept in its JSON form
(or as a reference) when they are known only at apply time, and its errors at FILE:LINE:COL."""

from __future__ import annotations

import base64

import pytest

from tests.unit.cfn.support import errors, load, props, resource

PARAMS = """
Parameters:
  Env: {Type: String, Default: dev}
  Subnets: {Type: CommaDelimitedList, Default: "a, b,c"}
  Count: {Type: Number, Default: "2"}
Mappings:
  Sizes:
    dev: {Retention: 60, Names: [x, y]}
    prod: {Retention: 120}
"""


# --- Ref and Fn::GetAtt ------------------------------------------------------------------------------
def test_ref_to_resource_attribute_and_pseudo_become_references(tmp_path):
    p = props(tmp_path, """
        QueueName: !Ref Other
        A: !GetAtt Other.Arn
        B: !GetAtt [Other, QueueUrl]
        C: !Ref AWS::Region
        D: !GetAtt Db.Endpoint.Address
    """, extra="  Other: {Type: AWS::SQS::Queue}\n  Db: {Type: AWS::RDS::DBInstance}\n")
    assert p == {"QueueName": "${Other}", "A": "${Other.Arn}", "B": "${Other.QueueUrl}", "C": "${AWS::Region}",
                 "D": "${Db.Endpoint.Address}"}


def test_ref_to_parameter_gives_its_typed_value(tmp_path):
    p = props(tmp_path, "A: !Ref Env\nB: !Ref Subnets\nC: !Ref Count\n", PARAMS)
    assert p == {"A": "dev", "B": ["a", "b", "c"], "C": 2}


def test_ref_to_nothing_is_an_error_at_its_line(tmp_path):
    assert errors(tmp_path, resource("DelaySeconds: !Ref Nope")) == [
        "template.yaml:5:21: Resources.Q.Properties.DelaySeconds.Ref: Ref to 'Nope': no parameter, resource or "
        "pseudo parameter has that name"]


def test_ref_suggests_a_close_name(tmp_path):
    (msg,) = errors(tmp_path, PARAMS.lstrip() + resource("QueueName: !Ref Envv"))
    assert "did you mean 'Env'?" in msg


def test_ref_of_a_list_is_an_error(tmp_path):
    (msg,) = errors(tmp_path, resource("QueueName: {Ref: [a, b]}"))
    assert ":5:19: Resources.Q.Properties.QueueName.Ref: Ref takes the name" in msg


def test_unknown_pseudo_parameter(tmp_path):
    (msg,) = errors(tmp_path, resource("QueueName: !Ref AWS::Regoin"))
    assert "unknown pseudo parameter 'AWS::Regoin' (did you mean 'AWS::Region'?)" in msg


def test_getatt_of_unknown_resource_and_bad_shape(tmp_path):
    got = errors(tmp_path, resource("A: !GetAtt Nope.Arn\nB: {Fn::GetAtt: [a, b, c]}\nC: !GetAtt NoDot"))
    assert got[0].startswith("template.yaml:5:10: Resources.Q.Properties.A.Fn::GetAtt: Fn::GetAtt of 'Nope': no resource")
    assert "template.yaml:6:11: Resources.Q.Properties.B.Fn::GetAtt: Fn::GetAtt takes [Resource, Attribute]" in got[1]
    assert "template.yaml:7:10" in got[2]


def test_pseudo_parameters(tmp_path):
    p = props(tmp_path, """
        A: !Ref AWS::AccountId
        B: !Ref AWS::StackName
        C: !Ref AWS::StackId
        D: !Ref AWS::Partition
        E: !Ref AWS::URLSuffix
        F: !Ref AWS::NotificationARNs
        G: !Ref AWS::NoValue
    """)
    assert p == {"A": "${AWS::AccountId}", "B": "${AWS::StackName}", "C": "${AWS::StackId}",
                 "D": "${AWS::Partition}", "E": "${AWS::URLSuffix}", "F": []}


# --- Fn::Sub -------------------------------------------------------------------------------------------
def test_sub_one_argument(tmp_path):
    p = props(tmp_path, """
        QueueName: !Sub "${AWS::StackName}-${Env}-${Other.Arn}-${Other}"
        Literal: !Sub "${!Literal}-${ Env }"
    """, PARAMS)
    assert p == {"QueueName": "${AWS::StackName}-dev-${Other.Arn}-${Other}", "Literal": "$${Literal}-dev"}


def test_sub_two_arguments_with_known_and_apply_time_variables(tmp_path):
    p = props(tmp_path, """
        A: !Sub ["${Prefix}-${Arn}-${Env}", {Prefix: !FindInMap [Sizes, !Ref Env, Retention], Arn: !GetAtt Other.Arn}]
        B: !Sub
          - "zone ${Zone}"
          - Zone: !Select [0, !GetAZs ""]
    """, PARAMS)
    assert p["A"] == "60-${Other.Arn}-dev"
    assert p["B"] == {"Fn::Join": ["", ["zone ", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]}


def test_sub_without_references_is_a_plain_string_escaped(tmp_path):
    p = props(tmp_path, "A: !Sub 'plain'\nB: 'arn:aws:s3:::${aws:username}/*'\n")
    assert p == {"A": "plain", "B": "arn:aws:s3:::$${aws:username}/*"}


def test_sub_undefined_variable_is_an_error_at_its_line(tmp_path):
    (msg,) = errors(tmp_path, PARAMS.lstrip() + resource('QueueName: !Sub "${Envv}-x"'))
    assert msg.startswith("template.yaml:13:18: Resources.Q.Properties.QueueName.Fn::Sub: Fn::Sub: '${Envv}' is not a "
                          "parameter, resource, attribute or pseudo parameter")
    assert "did you mean 'Env'?" in msg and "${!Envv}" in msg


def test_sub_wrong_shape(tmp_path):
    (msg,) = errors(tmp_path, resource("A: !Sub [a, b, c]"))
    assert ":5:10: Resources.Q.Properties.A.Fn::Sub: Fn::Sub takes a string or [string, {variables}], got a list of 3" in msg


def test_sub_of_list_parameter_is_an_error(tmp_path):
    (msg,) = errors(tmp_path, PARAMS.lstrip() + resource('A: !Sub "${Subnets}"'))
    assert "list parameter" in msg


# --- Fn::Join, Fn::Select, Fn::Split -------------------------------------------------------------------
def test_join_constant_and_with_references(tmp_path):
    p = props(tmp_path, """
        A: !Join [",", !Ref Subnets]
        B: !Join ["", ["arn:", !GetAtt Other.Arn, "/", !Ref Count]]
        C: !Join ["-", [a, !Ref AWS::NoValue, b]]
        D: !Join [",", !GetAZs ""]
    """, PARAMS)
    assert p["A"] == "a,b,c"
    assert p["B"] == "arn:${Other.Arn}/2"
    assert p["C"] == "a-b"
    assert p["D"] == {"Fn::Join": [",", {"Fn::GetAZs": ""}]}


def test_join_errors(tmp_path):
    got = errors(tmp_path, resource("A: !Join [',']\nB: !Join [[x], [a]]\nC: !Join [',', x]\nD: !Join [',', [[a]]]"))
    assert got[0].startswith("template.yaml:5:10: Resources.Q.Properties.A.Fn::Join: Fn::Join takes a list of 2 "
                             "arguments, got a list of 1")
    assert "template.yaml:6:" in got[1] and "delimiter must be a string" in got[1]
    assert "second argument must be a list" in got[2]
    assert "items must be strings" in got[3]


def test_select_constant_apply_time_and_errors(tmp_path):
    p = props(tmp_path, """
        A: !Select [1, !Ref Subnets]
        B: !Select ["0", [!GetAtt Other.Arn, x]]
        C: !Select [2, !GetAZs ""]
    """, PARAMS)
    assert p == {"A": "b", "B": "${Other.Arn}", "C": {"Fn::Select": [2, {"Fn::GetAZs": ""}]}}
    got = errors(tmp_path, resource("A: !Select [5, [a]]\nB: !Select [x, [a]]\nC: !Select [0]"))
    assert "template.yaml:5:10" in got[0] and "index 5 is out of range for a list of 1" in got[0]
    assert "index must be an integer" in got[1]
    assert "takes a list of 2 arguments" in got[2]


def test_split_constant_and_apply_time(tmp_path):
    p = props(tmp_path, """
        A: !Split [",", "a,b"]
        B: !Select [1, !Split ["/", !GetAtt Other.Arn]]
    """)
    assert p == {"A": ["a", "b"], "B": {"Fn::Select": [1, {"Fn::Split": ["/", "${Other.Arn}"]}]}}
    (msg,) = errors(tmp_path, resource('A: !Split ["", "a"]'))
    assert "delimiter must be a non-empty string" in msg


# --- Fn::FindInMap ---------------------------------------------------------------------------------------
def test_find_in_map(tmp_path):
    p = props(tmp_path, "A: !FindInMap [Sizes, !Ref Env, Retention]\nB: !FindInMap [Sizes, dev, Names]\n", PARAMS)
    assert p == {"A": 60, "B": ["x", "y"]}


@pytest.mark.parametrize("args,message", [
    ("[Nope, dev, Retention]", "unknown mapping 'Nope'"),
    ("[Sizes, test, Retention]", "mapping 'Sizes' has no key 'test'"),
    ("[Sizes, prod, Names]", "mapping 'Sizes' has no key 'Names' under 'prod'"),
    ("[Sizes, dev]", "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey], got a list of 2"),
    ("[Sizes, !GetAtt Other.Arn, x]", "must be known before the apply"),
])
def test_find_in_map_errors_at_their_line(tmp_path, args, message):
    (msg,) = errors(tmp_path, PARAMS.lstrip() + resource(f"A: !FindInMap {args}") + "  Other: {Type: AWS::SQS::Queue}\n")
    assert msg.startswith("template.yaml:13:") and message in msg


# --- Fn::Base64, Fn::Cidr, Fn::GetAZs ------------------------------------------------------------------
def test_base64(tmp_path):
    p = props(tmp_path, """
        A: !Base64 "hello"
        B: !Base64 {Fn::Sub: "echo ${Other.Arn}"}
    """)
    assert p == {"A": base64.b64encode(b"hello").decode(), "B": {"Fn::Base64": "echo ${Other.Arn}"}}
    (msg,) = errors(tmp_path, resource("A: !Base64 [a]"))
    assert "Fn::Base64 takes a string, got a list" in msg


def test_cidr(tmp_path):
    p = load(tmp_path, resource("""
        A: !Cidr ["10.0.0.0/16", 3, 8]
        B: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
    """) + "  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.1.0.0/16}}\n").resources["Q"].properties
    assert p["A"] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert p["B"] == {"Fn::Select": [0, {"Fn::Cidr": ["${Vpc.CidrBlock}", 2, 8]}]}
    got = errors(tmp_path, resource("A: !Cidr [10.0.0.0/16, 3]\nB: !Cidr [nonsense, 3, 8]\nC: !Cidr [10.0.0.0/24, 3, 30]"))
    assert "template.yaml:5:10" in got[0] and "takes a list of 3 arguments" in got[0]
    assert "'nonsense' is not a CIDR block" in got[1]
    assert "30 subnet bits do not fit" in got[2]


def test_get_azs_is_always_an_apply_time_function(tmp_path):
    p = props(tmp_path, 'A: !GetAZs ""\nB: !GetAZs {Ref: AWS::Region}\nC: !GetAZs eu-west-1\n')
    assert p == {"A": {"Fn::GetAZs": ""}, "B": {"Fn::GetAZs": ""}, "C": {"Fn::GetAZs": "eu-west-1"}}
    (msg,) = errors(tmp_path, resource("A: !GetAZs [a]"))
    assert "Fn::GetAZs takes a region name" in msg


# --- functions in general ------------------------------------------------------------------------------
def test_unknown_and_unsupported_functions(tmp_path):
    got = errors(tmp_path, resource("A: {Fn::Joinn: [',', [a]]}\nB: !ImportValue shared\nC: !Equals [a, b]\n"
                                    "D: {Fn::Join: [',', [a]], Other: 1}"))
    assert "unknown function 'Fn::Joinn' (did you mean 'Fn::Join'?)" in got[0]
    assert "Fn::ImportValue is not supported" in got[1]
    assert "Fn::Equals may be used only in Conditions" in got[2]
    assert "Fn::Join must be the only key of its mapping" in got[3]


def test_unknown_short_tag(tmp_path):
    (msg,) = errors(tmp_path, resource("A: !Reff x"))
    assert msg.startswith("template.yaml:5:10: Resources.Q.Properties.A: unknown tag '!Reff'")


def test_novalue_removes_a_property_and_a_list_item(tmp_path):
    p = props(tmp_path, "A: !Ref AWS::NoValue\nB: [a, !Ref AWS::NoValue, c]\nC: {D: !Ref AWS::NoValue, E: 1}\n")
    assert p == {"B": ["a", "c"], "C": {"E": 1}}


def test_every_broken_property_is_reported(tmp_path):
    got = errors(tmp_path, resource("A: !Ref X\nB: !Ref Y\nC: ok"))
    assert [m.split(":")[1] for m in got] == ["5", "6"]
