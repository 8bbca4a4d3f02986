"""Every example, translated to the CloudFormation template that means the same, passes CloudFormation's
linter at the version the schemas are cut from: no error, and no deprecated engine version or runtime."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from cfnlint.api import lint

from deployer.schemas_loader import cut_from
from deployer.spec import load_and_check
from deployer.spec.model import Resource, Stack
from tests.unit.cfn_template import CODE_BUCKET, intrinsic, to_template

EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "specs" / "examples").iterdir() if p.is_dir())
DEPRECATED = {"W3690": "deprecated RDS cluster engine version", "W3691": "deprecated RDS engine version",
              "W2531": "Lambda runtime past its end of life"}  # E2531/E2533 (retired runtimes) are errors


def findings(template: dict, region: str) -> list[str]:
    return [f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in lint(json.dumps(template), regions=[region])]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_passes_cfn_lint(example):
    assert version("cfn-lint") == cut_from()
    stack = load_and_check(str(example))
    found = findings(to_template(stack), stack.region)
    bad = [f for f in found if f.startswith("E") or f.split()[0] in DEPRECATED]
    assert bad == [], f"cfn-lint {version('cfn-lint')} on {example.name}"


def test_the_linter_does_catch_a_deprecated_engine_version():
    """The check above would see the example's old pin (PostgreSQL 16.3)."""
    template = {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
                                     "UpdateReplacePolicy": "Snapshot",
                                     "Properties": {"Engine": "postgres", "EngineVersion": "16.3",
                                                    "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20",
                                                    "MasterUsername": "admin", "ManageMasterUserPassword": True}}}}
    assert any(f.startswith("W3691") for f in findings(template, "us-east-1"))


@pytest.mark.parametrize(("value", "expected"), [
    ("${Queue}", {"Ref": "Queue"}),
    ("${Db.Endpoint.Address}", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
    ("${AWS::Region}", {"Ref": "AWS::Region"}),
    ("arn:${AWS::Partition}:s3:::${Bucket}/*", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"}),
    ("cost $${literal} of ${X.Arn}", {"Fn::Sub": "cost ${!literal} of ${X.Arn}"}),
    ("only $${literal}", "only ${literal}"),
    ("${ssm:/app/image}", "{{resolve:ssm:/app/image}}"),
    ("pw=${secret:db:password}", "pw={{resolve:secretsmanager:db:SecretString:password}}"),
    ("${secret:db} for ${Fn}", {"Fn::Sub": "{{resolve:secretsmanager:db}} for ${Fn}"}),
    ({"a": ["${X}", 1, True]}, {"a": [{"Ref": "X"}, 1, True]}),
])
def test_references_become_intrinsic_functions(value, expected):
    assert intrinsic(value) == expected


def test_template_maps_policies_extensions_and_code_paths():
    stack = Stack(name="s", region="us-east-1", path=".", outputs={"Url": {"value": "${Fn.Arn}", "description": "d"},
                                                                    "Id": "${Db}"})
    stack.resources = {
        "Db": Resource("Db", "AWS::RDS::DBInstance", {"Engine": "postgres", "SkipFinalSnapshot": False}),
        "Fn": Resource("Fn", "AWS::Lambda::Function", {"Code": {"Path": "./src"}, "Role": "${R.Arn}"},
                       depends_on=["Db"], deletion_policy="retain"),
    }
    assert to_template(stack) == {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"},
                   "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Db"],
                   "Properties": {"Code": {"S3Bucket": CODE_BUCKET, "S3Key": "Fn.zip"},
                                  "Role": {"Fn::GetAtt": ["R", "Arn"]}},
                   "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
        },
        "Outputs": {"Url": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}, "Description": "d"}, "Id": {"Value": {"Ref": "Db"}}},
    }
