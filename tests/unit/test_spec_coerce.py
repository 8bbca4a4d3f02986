"""CloudFormation's scalar conversion (deployer/spec/coerce.py): schema-driven, pure, idempotent."""

from __future__ import annotations

import copy
import datetime

import pytest

from deployer.schemas_loader import resource_schema
from deployer.spec.coerce import coerce

SCHEMA = {
    "type": "object",
    "properties": {
        "Port": {"type": "integer"},
        "Ratio": {"type": "number"},
        "On": {"type": "boolean"},
        "Name": {"type": "string"},
        "Either": {"type": ["string", "integer"]},
        "Rules": {"type": "array", "items": {"$ref": "#/definitions/Rule"}},
        "Labels": {"type": "object", "patternProperties": {"^[a-z]+$": {"type": "string"}}},
        "Sizes": {"type": "object", "additionalProperties": {"type": "integer"}},
        "Doc": {"type": ["object", "string"]},
        "Keys": {"oneOf": [{"$ref": "#/definitions/Keys"}, {"type": ["object", "string"]}]},
    },
    "definitions": {
        "Rule": {"type": "object", "properties": {"From": {"type": "integer"}, "Nested": {"$ref": "#/definitions/Inner"}}},
        "Inner": {"type": "object", "properties": {"Flag": {"type": "boolean"}}},
        "Keys": {"type": "array", "items": {"type": "object", "properties": {"Weight": {"type": "integer"}}}},
    },
}


@pytest.mark.parametrize(("key", "given", "expected"), [
    ("Port", "22", 22),
    ("Port", "-1", -1),
    ("Port", "+8", 8),
    ("Port", 22, 22),
    ("Port", "22.5", "22.5"),     # not an integer: left for validation to refuse
    ("Port", " 22", " 22"),
    ("Port", "22\n", "22\n"),
    ("Port", "tcp", "tcp"),
    ("Port", True, True),         # a boolean is not a number in CloudFormation either
    ("Ratio", "1.5", 1.5),
    ("Ratio", "10", 10),
    ("Ratio", "1e3", 1000.0),
    ("Ratio", 2, 2),
    ("On", "true", True),
    ("On", "True", True),
    ("On", "FALSE", False),
    ("On", "yes", "yes"),
    ("On", 1, 1),
    ("Name", 20, "20"),
    ("Name", 1.5, "1.5"),
    ("Name", True, "true"),
    ("Name", False, "false"),
    ("Name", "x", "x"),
    ("Name", None, None),
    ("Name", datetime.date(2012, 10, 17), "2012-10-17"),
    ("Either", "22", "22"),       # already one of the declared types
    ("Either", 22, 22),
])
def test_scalars_convert_to_the_declared_type(key, given, expected):
    out = coerce(SCHEMA, {key: given})[key]
    assert out == expected and type(out) is type(expected)


def test_references_and_unknown_keys_are_left_alone():
    given = {"Port": "${Sg.Port}", "Name": "${X}", "Other": "22", "On": "x-${Y}"}
    assert coerce(SCHEMA, given) == given


def test_nested_items_refs_patterns_and_maps():
    given = {"Rules": [{"From": "80", "Nested": {"Flag": "false"}}, {"From": 443}],
             "Labels": {"team": 7, "Bad-Key": 7}, "Sizes": {"a": "3"},
             "Doc": {"Version": 1, "Any": "2"}, "Keys": [{"Weight": "5"}]}
    assert coerce(SCHEMA, given) == {
        "Rules": [{"From": 80, "Nested": {"Flag": False}}, {"From": 443}],
        "Labels": {"team": "7", "Bad-Key": 7},       # no pattern matches Bad-Key: untouched
        "Sizes": {"a": 3},
        "Doc": {"Version": 1, "Any": "2"},           # free-form object: untouched
        "Keys": [{"Weight": 5}],                     # through oneOf to the array branch
    }


def test_pure_and_idempotent():
    given = {"Rules": [{"From": "80"}], "On": "true"}
    before = copy.deepcopy(given)
    once = coerce(SCHEMA, given)
    assert given == before
    assert coerce(SCHEMA, once) == once


def test_a_broken_ref_chain_does_not_loop():
    loop = {"definitions": {"A": {"$ref": "#/definitions/A"}}, "properties": {"X": {"$ref": "#/definitions/A"}}}
    assert coerce(loop, {"X": "1"}) == {"X": "1"}


# Real snippets from CloudFormation templates, as CloudFormation would take them.
SNIPPETS = [
    ("AWS::EC2::SecurityGroup",
     {"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22",
                                                           "CidrIp": "0.0.0.0/0"}]},
     {"GroupDescription": "web", "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                           "CidrIp": "0.0.0.0/0"}]}),
    ("AWS::EC2::SecurityGroup",
     {"GroupDescription": "all", "SecurityGroupEgress": [{"IpProtocol": -1, "CidrIp": "0.0.0.0/0"}]},
     {"GroupDescription": "all", "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}),
    ("AWS::EC2::VPC",
     {"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": "true", "EnableDnsHostnames": "false"},
     {"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": True, "EnableDnsHostnames": False}),
    ("AWS::EC2::Subnet",
     {"VpcId": "${Vpc}", "CidrBlock": "10.0.1.0/24", "MapPublicIpOnLaunch": "true"},
     {"VpcId": "${Vpc}", "CidrBlock": "10.0.1.0/24", "MapPublicIpOnLaunch": True}),
    ("AWS::Lambda::Function",
     {"MemorySize": "256", "Timeout": "30", "Environment": {"Variables": {"DEBUG": True, "RETRIES": 3}}},
     {"MemorySize": 256, "Timeout": 30, "Environment": {"Variables": {"DEBUG": True, "RETRIES": 3}}}),
    ("AWS::RDS::DBInstance",
     {"AllocatedStorage": 20, "Port": 5432, "MultiAZ": "false", "BackupRetentionPeriod": "7", "EngineVersion": 16.4},
     {"AllocatedStorage": "20", "Port": "5432", "MultiAZ": False, "BackupRetentionPeriod": 7, "EngineVersion": "16.4"}),
    ("AWS::SQS::Queue",
     {"VisibilityTimeout": "60", "DelaySeconds": 0, "FifoQueue": "true", "MessageRetentionPeriod": "345600"},
     {"VisibilityTimeout": 60, "DelaySeconds": 0, "FifoQueue": True, "MessageRetentionPeriod": 345600}),
    ("AWS::DynamoDB::Table",
     {"ProvisionedThroughput": {"ReadCapacityUnits": "5", "WriteCapacityUnits": "5"},
      "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": "true"}},
     {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
      "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True}}),
    ("AWS::Logs::LogGroup", {"RetentionInDays": "14"}, {"RetentionInDays": 14}),
    ("AWS::S3::Bucket",
     {"LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpirationInDays": "30"}]},
      "VersioningConfiguration": {"Status": "Enabled"}},
     {"LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpirationInDays": 30}]},
      "VersioningConfiguration": {"Status": "Enabled"}}),
    ("AWS::KMS::Key", {"EnableKeyRotation": "true", "PendingWindowInDays": "7"},
     {"EnableKeyRotation": True, "PendingWindowInDays": 7}),
    ("AWS::Lambda::EventSourceMapping", {"BatchSize": "10", "Enabled": "false"}, {"BatchSize": 10, "Enabled": False}),
    ("AWS::SNS::Subscription", {"RawMessageDelivery": "true"}, {"RawMessageDelivery": True}),
    ("AWS::IAM::Role", {"MaxSessionDuration": "3600", "Tags": [{"Key": "n", "Value": 1}]},
     {"MaxSessionDuration": 3600, "Tags": [{"Key": "n", "Value": "1"}]}),
]


@pytest.mark.parametrize(("type_name", "given", "expected"), SNIPPETS, ids=[s[0] for s in SNIPPETS])
def test_cloudformation_snippets(type_name, given, expected):
    assert coerce(resource_schema(type_name), given) == expected
