"""Apply-time functions in JSON form (deployer.spec.functions): evaluated by refs.substitute once their
arguments are known, UNKNOWN before; Fn::GetAZs and Fn::ResolveSecret through the resolver."""

from __future__ import annotations

import pytest

from deployer.spec import functions
from deployer.spec.functions import FunctionError, contains_function, is_function
from deployer.spec.refs import UNKNOWN, Ref, substitute, walk_refs


def resolver(values):
    def resolve(ref: Ref):
        key = str(ref) if ref.kind != "azs" else f"azs:{ref.target}"
        return values.get(key, UNKNOWN)
    return resolve


def test_join_over_an_attribute_is_unknown_until_the_attribute_is_known():
    value = {"Fn::Join": ["", ["arn:", "${B.Arn}", "/*"]]}
    assert substitute(value, resolver({})) is UNKNOWN
    assert substitute(value, resolver({"${B.Arn}": "arn:aws:s3:::b"})) == "arn:arn:aws:s3:::b/*"


def test_nested_functions_and_functions_inside_strings_and_lists():
    value = {"A": [{"Fn::Select": [1, {"Fn::Split": ["/", "${Q.Arn}"]}]}, "x"],
             "B": {"Fn::Base64": "echo ${Q}"},
             "C": {"Fn::Select": [0, {"Fn::Cidr": ["${Vpc.CidrBlock}", 2, 8]}]}}
    got = substitute(value, resolver({"${Q.Arn}": "a/b/c", "${Q}": "q", "${Vpc.CidrBlock}": "10.1.0.0/16"}))
    assert got == {"A": ["b", "x"], "B": "ZWNobyBx", "C": "10.1.0.0/24"}


def test_get_azs_asks_the_resolver_for_the_region_given_or_the_current_one():
    values = {"${AWS::Region}": "eu-west-1", "azs:eu-west-1": ["eu-west-1a", "eu-west-1b"], "azs:us-east-2": ["x"]}
    assert substitute({"Fn::Select": [1, {"Fn::GetAZs": ""}]}, resolver(values)) == "eu-west-1b"
    assert substitute({"Fn::GetAZs": "us-east-2"}, resolver(values)) == ["x"]


def test_resolve_secret_reads_the_secret_through_the_resolver():
    value = {"Fn::ResolveSecret": {"SecretId": "${S}", "JsonKey": "password"}}
    assert substitute(value, resolver({})) is UNKNOWN
    got = substitute(value, resolver({"${S}": "arn:s", "${secret:arn:s:password}": "pw"}))
    assert got == "pw"


def test_references_inside_functions_are_walked_for_the_graph():
    value = {"Fn::Join": [",", ["${A}", {"Fn::GetAZs": "${AWS::Region}"}]]}
    assert [(p, str(r)) for p, r in walk_refs(value)] == [(("Fn::Join", 1, 0), "${A}"),
                                                          (("Fn::Join", 1, 1, "Fn::GetAZs"), "${AWS::Region}")]


def test_is_function_and_contains_function():
    assert is_function({"Fn::Join": ["", []]}) and not is_function({"Fn::Join": [], "x": 1})
    assert not is_function({"Fn::Nope": 1}) and not is_function("Fn::Join")
    assert contains_function({"a": [{"Fn::ResolveSecret": {}}]}, functions.RESOLVE_SECRET)
    assert not contains_function({"a": [{"Fn::Join": []}]}, functions.RESOLVE_SECRET)


@pytest.mark.parametrize("name,args,message", [
    ("Fn::Join", ["", "x"], "second argument must be a list"),
    ("Fn::Join", [1, []], "delimiter must be a string"),
    ("Fn::Join", ["", [{"a": 1}]], "expected a string, got a mapping"),
    ("Fn::Select", [3, ["a"]], "index 3 is out of range"),
    ("Fn::Select", ["x", ["a"]], "index must be an integer"),
    ("Fn::Split", ["", "a"], "non-empty string"),
    ("Fn::Cidr", ["10.0.0.0/30", 2, 8], "do not fit"),
    ("Fn::Cidr", ["10.0.0.0/24", 300, 2], "count must be between 1 and 256"),
    ("Fn::Cidr", ["10.0.0.0/24", 5, 6], "holds only 4 subnets"),
    ("Fn::ResolveSecret", "x", "expected {SecretId"),
])
def test_apply_time_errors_name_the_function(name, args, message):
    with pytest.raises(FunctionError) as e:
        functions.evaluate(name, args, resolver({}))
    assert message in str(e.value) and name in str(e.value)


def test_true_text_of_scalars_in_join():
    assert functions.join(["-", ["a", 1, True, 2.5]]) == "a-1-true-2.5"
