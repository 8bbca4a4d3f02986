"""Validation: schema problems, references, cycles — each at its FILE:LINE:COL with a suggestion."""

from __future__ import annotations

import pytest

from deployer.errors import SpecError
from deployer.spec import load_and_check
from deployer.spec.refs import UNKNOWN, Ref, RefSyntaxError, parse, substitute

BASE = "stack: demo\nresources:\n"


def errors_of(tmp_path, body: str) -> list[str]:
    f = tmp_path / "s.yaml"
    f.write_text(BASE + body)
    with pytest.raises(SpecError) as e:
        load_and_check(str(f))
    return [str(p) for p in e.value.problems]


def test_misspelt_property(tmp_path):
    (err,) = errors_of(tmp_path, "  B:\n    type: AWS::S3::Bucket\n    properties:\n      BucketNam: x\n")
    assert err.endswith("s.yaml:6:7: resources.B.properties.BucketNam: unknown property 'BucketNam' "
                        "(did you mean 'BucketName'?)")


def test_wrong_enum_value(tmp_path):
    (err,) = errors_of(tmp_path, "  B:\n    type: AWS::S3::Bucket\n    properties:\n"
                                 "      VersioningConfiguration: {Status: Enabld}\n")
    assert ":6:" in err and "VersioningConfiguration.Status" in err and "did you mean 'Enabled'" in err


def test_missing_required_property(tmp_path):
    (err,) = errors_of(tmp_path, "  T:\n    type: AWS::DynamoDB::Table\n"
                                 "    properties: {TableName: t, BillingMode: PAY_PER_REQUEST}\n")
    assert ":5:5:" in err and "'KeySchema' is a required property" in err


def test_unknown_type_with_suggestion(tmp_path):
    (err,) = errors_of(tmp_path, "  B:\n    type: AWS::S3::Buckets\n")
    assert ":5:" in err and "did you mean 'AWS::S3::Bucket'" in err


def test_unknown_reference_and_attribute(tmp_path):
    errs = errors_of(tmp_path, "  Queue:\n    type: AWS::SQS::Queue\n"
                               "  B:\n    type: AWS::SQS::Queue\n    properties:\n"
                               "      QueueName: ${Queu}\n      RedrivePolicy: {deadLetterTargetArn: '${Queue.Arnn}'}\n")
    assert any(":8:" in e and "unknown resource 'Queu' (did you mean 'Queue'?)" in e for e in errs)
    assert any(":9:" in e and "no attribute 'Arnn' (did you mean 'Arn'?)" in e for e in errs)


def test_cycle_names_every_member(tmp_path):
    errs = errors_of(tmp_path, "  A:\n    type: AWS::SQS::Queue\n    depends_on: [C]\n"
                               "  B:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${A}'}\n"
                               "  C:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${B.Arn}'}\n")
    (err,) = errors_of(tmp_path, "  A:\n    type: AWS::SQS::Queue\n    depends_on: [C]\n"
                                 "  B:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${A}'}\n"
                                 "  C:\n    type: AWS::SQS::Queue\n    properties: {QueueName: '${B.Arn}'}\n")
    assert errs == [err]
    assert "dependency cycle" in err and all(n in err for n in ("A", "B", "C"))
    assert "depends_on" in err and "QueueName" in err


def test_all_problems_reported_sorted(tmp_path):
    errs = errors_of(tmp_path, "  B:\n    type: AWS::S3::Bucket\n    properties: {Nope: 1}\n"
                               "  C:\n    type: AWS::Nope::Thing\n")
    assert len(errs) == 2
    lines = [int(e.split(":")[1]) for e in errs]
    assert lines == sorted(lines)


def test_references_with_a_type_keep_their_type_and_escape():
    assert parse("a$${b}") == ["a${b}"]
    assert parse("${X.Arn}") == [Ref("resource", "X", "Arn")]
    assert substitute({"n": "${X}", "s": "p-${X}"}, lambda r: 5) == {"n": 5, "s": "p-5"}
    assert substitute("p-${X}", lambda r: UNKNOWN) == UNKNOWN
    with pytest.raises(RefSyntaxError):
        parse("${a b}")
    assert parse("${secret:db:password}") == [Ref("secret", "db", key="password")]
    assert parse("${ssm:/app/key}") == [Ref("ssm", "/app/key")]


def test_reference_inside_typed_property_is_not_a_type_error(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE + "  Q:\n    type: AWS::SQS::Queue\n  R:\n    type: AWS::SQS::Queue\n"
                        "    properties: {DelaySeconds: '${Q.Arn}'}\n")
    load_and_check(str(f))
