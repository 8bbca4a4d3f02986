"""The case for AWS::SNS::TopicPolicy: S3 allowed to publish to a topic; the document updated in place,
the topics changed (a replacement: the old topic gets SNS's default policy back)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from tests.integration.cases import Case

TOPICS = {name: {"type": "AWS::SNS::Topic", "properties": {"TopicName": f"itest-{name.lower()}"}}
          for name in ("Uploads", "Deletes", "Audits")}


def _policy(*topics: str, action: str = "sns:Publish") -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "S3Events", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": action,
        "Resource": [f"${{{t}}}" for t in topics]}]}


def _custom(c, arn: str) -> bool:
    """Whether the topic holds a policy other than SNS's default one."""
    try:
        doc = json.loads(c("sns").get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy") or "{}")
    except ClientError:
        return False
    return doc.get("Id") != "__default_policy_ID"


def topic_policy_exists(c, pid: str) -> bool:
    return any(_custom(c, arn) for arn in pid.split("|"))


def deny_all(c, pid: str) -> None:
    arn = pid.split("|")[0]
    c("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:*", "Resource": arn}]}))


CASES = [
    Case(
        id="sns-topic-policy",
        type="AWS::SNS::TopicPolicy",
        support=TOPICS,
        props={"Topics": ["${Uploads}"], "PolicyDocument": _policy("Uploads")},
        updates=[{"PolicyDocument": _policy("Uploads", action="sns:*")}],
        replace={"Topics": ["${Deletes}", "${Audits}"], "PolicyDocument": _policy("Deletes", "Audits")},
        drift=deny_all,
        exists=topic_policy_exists,
    ),
]
