"""Policy documents compare by meaning, end to end through the CLI: a bucket policy and a queue policy
written in five different but equal ways each apply and then plan clean, and switching any of them to
the plain form plans clean too (AWS hands policies back as JSON text; deployer compares the data)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

ACCOUNT = "123456789012"  # moto's
READER = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def bucket_policy() -> dict[str, Any]:
    """Two statements, the first with a Sid, the second without; single values throughout."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadObjects", "Effect": "Allow", "Principal": READER, "Action": "s3:GetObject",
         "Resource": "${Bucket.Arn}/*"},
        {"Effect": "Allow", "Principal": READER, "Action": "s3:ListBucket", "Resource": "${Bucket.Arn}"}]}


def queue_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "FromTopics", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": "${Queue.Arn}"},
        {"Effect": "Allow", "Principal": READER, "Action": "sqs:GetQueueAttributes", "Resource": "${Queue.Arn}"}]}


def one_item_lists(doc: dict[str, Any]) -> dict[str, Any]:
    for st in doc["Statement"]:
        st["Action"], st["Resource"] = [st["Action"]], [st["Resource"]]
    return doc


def statements_reordered(doc: dict[str, Any]) -> dict[str, Any]:
    doc["Statement"].reverse()
    return doc


def without_version(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("Version")
    return doc


def with_empty_sid(doc: dict[str, Any]) -> dict[str, Any]:
    doc["Statement"][1]["Sid"] = ""
    return doc


def as_json_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2)


FORMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "one-item-lists": one_item_lists,
    "statements-reordered": statements_reordered,
    "without-version": without_version,
    "with-empty-sid": with_empty_sid,
    "as-json-text": as_json_text,
}

KINDS: dict[str, tuple[dict[str, Any], str, dict[str, Any], Callable[[], dict[str, Any]]]] = {
    "bucket": ({"type": "AWS::S3::Bucket", "properties": {"BucketName": "itest-equivalence"}},
               "AWS::S3::BucketPolicy", {"Bucket": "${Bucket}"}, bucket_policy),
    "queue": ({"type": "AWS::SQS::Queue", "properties": {"QueueName": "itest-equivalence"}},
              "AWS::SQS::QueuePolicy", {"Queues": ["${Queue}"]}, queue_policy),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", KINDS)
def test_equal_policies_plan_clean(project, kind: str, form: str):
    parent, policy_type, target, plain = KINDS[kind]
    parent_name = "Bucket" if kind == "bucket" else "Queue"

    def write(document: Any) -> None:
        project.write({parent_name: parent,
                       "Policy": {"type": policy_type, "properties": {**target, "PolicyDocument": document}}})

    written = FORMS[form](copy.deepcopy(plain()))
    assert written != plain()
    write(written)
    project.apply()
    project.assert_clean()
    write(plain())
    project.assert_clean()
