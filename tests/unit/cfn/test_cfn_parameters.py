"""Parameters are deployer variables: types, defaults, constraints, NoEcho, and the same value sources
(--var, --var-file, DEPLOYER_VAR_*) as a deployer spec."""

from __future__ import annotations

import pytest

from deployer import secrets
from deployer.cfn.parameters import declare
from deployer.spec.load import load_stack
from tests.unit.cfn.support import errors, load, resource, write

BODY = resource("A: x")


def stack_with(tmp_path, params: str, **kw):
    return load(tmp_path, "Parameters:\n" + params + BODY, **kw)


@pytest.mark.parametrize("decl,given,value", [
    ("{Type: String, Default: abc}", None, "abc"),
    ("{Type: String, Default: 5}", None, "5"),
    ("{Type: Number, Default: '5'}", None, 5),
    ("{Type: Number, Default: '1.5'}", None, 1.5),
    ("{Type: Number}", "7", 7),
    ("{Type: CommaDelimitedList, Default: 'a, b,c'}", None, ["a", "b", "c"]),
    ("{Type: CommaDelimitedList}", "x,y", ["x", "y"]),
    ("{Type: 'List<Number>', Default: '1,2'}", None, [1, 2]),
    ("{Type: 'AWS::EC2::VPC::Id', Default: vpc-123}", None, "vpc-123"),
    ("{Type: 'List<AWS::EC2::Subnet::Id>'}", "subnet-1,subnet-2", ["subnet-1", "subnet-2"]),
])
def test_types_and_values(tmp_path, decl, given, value):
    stack = stack_with(tmp_path, f"  P: {decl}\n", cli_vars=[f"P={given}"] if given else [])
    assert stack.variables["P"] == value


def test_declarations_carry_the_constraints():
    decls = declare({
        "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "MinLength": "2", "MaxLength": 8,
                 "Description": "d", "NoEcho": "true"},
        "Size": {"Type": "Number", "AllowedValues": ["1", "2"], "MinValue": "1", "MaxValue": 2},
        "Zones": {"Type": "CommaDelimitedList", "AllowedValues": ["a", "b"]},
    }, {}, "t.yaml")
    assert decls.declarations == {
        "Name": {"type": "string", "pattern": "^(?:[a-z]+)$", "minLength": 2, "maxLength": 8, "sensitive": True,
                 "description": "d"},
        "Size": {"type": "number", "enum": [1, 2], "minimum": 1, "maximum": 2},
        "Zones": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    }


@pytest.mark.parametrize("decl,given,message", [
    ("{Type: String, AllowedValues: [dev, prod]}", "test", "is not one of ['dev', 'prod']"),
    ("{Type: String, AllowedPattern: '[a-z]+'}", "abc1", "does not match"),
    ("{Type: String, MinLength: 3}", "ab", "is too short"),
    ("{Type: String, MaxLength: 2}", "abc", "is too long"),
    ("{Type: Number, MinValue: 10}", "5", "less than the minimum of 10"),
    ("{Type: Number, MaxValue: 10}", "50", "greater than the maximum of 10"),
    ("{Type: Number}", "abc", "is not of type 'number'"),
    ("{Type: CommaDelimitedList, AllowedValues: [a, b]}", "a,c", "is not one of ['a', 'b']"),
])
def test_constraints_are_checked_at_the_parameter(tmp_path, decl, given, message):
    (msg,) = errors(tmp_path, "Parameters:\n  P: " + decl + "\n" + BODY, cli_vars=[f"P={given}"])
    assert msg.startswith("template.yaml:2:3: Parameters.P: invalid value") and message in msg


def test_constraint_description_is_added_to_the_message(tmp_path):
    (msg,) = errors(tmp_path, "Parameters:\n  P: {Type: String, AllowedPattern: '[a-z]+', "
                              "ConstraintDescription: lower-case letters only}\n" + BODY, cli_vars=["P=A"])
    assert msg.endswith("(lower-case letters only)")


def test_a_missing_parameter_names_it_and_how_to_set_it(tmp_path):
    (msg,) = errors(tmp_path, "Parameters:\n  DbPassword: {Type: String, NoEcho: true}\n" + BODY)
    assert msg == ("template.yaml:2:3: Parameters.DbPassword: variable 'DbPassword' is required: pass --var "
                   "DbPassword=VALUE, a --var-file or DEPLOYER_VAR_DbPassword")


def test_values_from_var_file_and_environment(tmp_path):
    path = write(tmp_path, "Parameters:\n  A: {Type: String}\n  B: {Type: Number}\n  C: {Type: CommaDelimitedList}\n"
                 + BODY)
    var_file = tmp_path / "vars.yaml"
    var_file.write_text("A: from-file\nC: [x, y]\n")
    stack = load_stack(path, [], [str(var_file)], "us-east-1", {"DEPLOYER_VAR_B": "3"})
    assert stack.variables == {"A": "from-file", "B": 3, "C": ["x", "y"]}


def test_undeclared_var_is_an_error(tmp_path):
    (msg,) = errors(tmp_path, "Parameters:\n  Env: {Type: String, Default: a}\n" + BODY, cli_vars=["Evn=b"])
    assert "undeclared variable 'Evn' (did you mean 'Env'?)" in msg


def test_no_echo_values_are_registered_as_secrets_and_masked_in_errors(tmp_path):
    stack = stack_with(tmp_path, "  Pw: {Type: String, NoEcho: true}\n", cli_vars=["Pw=hunter2-secret"])
    assert stack.variables["Pw"] == "hunter2-secret"
    assert secrets.redact("pw is hunter2-secret") == "pw is (sensitive)"
    (msg,) = errors(tmp_path, "Parameters:\n  Pw: {Type: String, NoEcho: true, MinLength: 40}\n" + BODY,
                    cli_vars=["Pw=another-secret"])
    assert "another-secret" not in msg and "(sensitive)" in msg


def test_ssm_parameter_types_read_the_value_at_plan_time(tmp_path):
    text = "Parameters:\n  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: /amis/latest}\n" \
           "  Zones: {Type: 'AWS::SSM::Parameter::Value<CommaDelimitedList>', Default: /zones}\n" \
           + resource("A: !Ref Ami\nB: !Sub 'image ${Ami}'\nC: !Ref Zones")
    p = load(tmp_path, text).resources["Q"].properties
    assert p == {"A": "${ssm:/amis/latest}", "B": "image ${ssm:/amis/latest}",
                 "C": {"Fn::Split": [",", "${ssm:/zones}"]}}


@pytest.mark.parametrize("decl,message", [
    ("{Type: Strin}", "unsupported parameter type 'Strin'"),
    ("{Default: a}", "a parameter needs a Type"),
    ("{Type: String, Defualt: a}", "unknown parameter attribute 'Defualt' (did you mean 'Default'?)"),
    ("{Type: String, AllowedPattern: '[a-'}", "AllowedPattern is not a valid regular expression"),
    ("{Type: Number, Default: abc}", "'abc' is not of type 'number'"),
    ("{Type: String, AllowedValues: []}", "AllowedValues must be a non-empty list"),
])
def test_declaration_errors(tmp_path, decl, message):
    got = errors(tmp_path, "Parameters:\n  P: " + decl + "\n" + BODY)
    assert any(message in m and m.startswith("template.yaml:2:") for m in got), got


def test_java_style_allowed_pattern_is_accepted(tmp_path):
    stack = stack_with(tmp_path, "  Email: {Type: String, Default: a-b+c@x.org, AllowedPattern: '[\\w-\\+.]+@[\\w-.]+'}\n")
    assert stack.variables["Email"] == "a-b+c@x.org"
    (msg,) = errors(tmp_path, "Parameters:\n  E: {Type: String, AllowedPattern: '[\\w-\\+]+'}\n" + BODY,
                    cli_vars=["E=a b"])
    assert "does not match" in msg
