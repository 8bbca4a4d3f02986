"""AWS::S3::Bucket NotificationConfiguration with Lambda, SQS and SNS targets, through the CLI against the
moto server: created with the targets it references, events delivered, updated in place, drift repaired,
removed, destroyed.

The stack carries what real AWS needs (S3 checks that it may deliver when the configuration is put): a
queue policy letting S3 send to the queue (and SNS to the inbox queue), the bucket depending on it. Two
grants are left out, each tested with its own type: the Lambda permission for s3.amazonaws.com
(AWS::Lambda::Permission) and a topic policy letting S3 publish (AWS::SNS::TopicPolicy). moto checks
none of these: it stores every target ARN without validation and
delivers to SQS and SNS regardless of policies; Lambda delivery needs Docker, so it is not exercised.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import boto

BUCKET = "itest-notify"
ACCOUNT = "123456789012"  # moto's
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


def _queue(name: str) -> dict[str, Any]:
    return {"type": "AWS::SQS::Queue", "properties": {"QueueName": name}}


def _allow_send(service: str, queue: str, source: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sqs:SendMessage",
            "Resource": f"${{{queue}.Arn}}", "Condition": {"ArnEquals": {"aws:SourceArn": source}}}


def notification(queue_prefix: str = "incoming/") -> dict[str, Any]:
    return {
        "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": "${Fn.Arn}",
                                  "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}}}],
        "QueueConfigurations": [{"Event": "s3:ObjectCreated:*", "Queue": "${Events.Arn}",
                                 "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": queue_prefix}]}}}],
        "TopicConfigurations": [{"Event": "s3:ObjectRemoved:*", "Topic": "${Topic}"}],
    }


def stack(config: dict[str, Any] | None) -> dict[str, Any]:
    bucket_props: dict[str, Any] = {"BucketName": BUCKET}
    if config is not None:
        bucket_props["NotificationConfiguration"] = config
    return {
        "FnRole": {"type": "AWS::IAM::Role", "properties": {"AssumeRolePolicyDocument": TRUST}},
        "Fn": {"type": "AWS::Lambda::Function", "properties": {
            "FunctionName": "itest-notify-fn", "Runtime": "python3.12", "Handler": "index.handler",
            "Role": "${FnRole.Arn}", "Code": {"ZipFile": "def handler(e, c):\n    return e\n"}}},
        "Events": _queue("itest-notify-events"),
        "Inbox": _queue("itest-notify-inbox"),
        "Topic": {"type": "AWS::SNS::Topic", "properties": {"TopicName": "itest-notify-topic"}},
        "InboxSubscription": {"type": "AWS::SNS::Subscription", "properties": {
            "TopicArn": "${Topic}", "Protocol": "sqs", "Endpoint": "${Inbox.Arn}", "RawMessageDelivery": True}},
        "QueuePolicy": {"type": "AWS::SQS::QueuePolicy", "properties": {
            "Queues": ["${Events}", "${Inbox}"],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                _allow_send("s3.amazonaws.com", "Events", f"arn:aws:s3:::{BUCKET}"),
                _allow_send("sns.amazonaws.com", "Inbox", "${Topic}")]}}},
        "Bucket": {"type": "AWS::S3::Bucket", "depends_on": ["QueuePolicy"], "properties": bucket_props},
    }


def _event_names(sqs: Any, queue: str) -> list[str]:
    """The S3 event names that reached a queue (moto also sends a test event when a configuration is put)."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    return [r["eventName"] for b in bodies for r in b.get("Records", [])]


def _targets(s3: Any) -> dict[str, list[str]]:
    config = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    return {"lambda": [c["LambdaFunctionArn"] for c in config.get("LambdaFunctionConfigurations", [])],
            "queue": [c["QueueArn"] for c in config.get("QueueConfigurations", [])],
            "topic": [c["TopicArn"] for c in config.get("TopicConfigurations", [])]}


def test_bucket_notifications_to_lambda_sqs_and_sns(project, aws_endpoint):
    s3, sqs = boto("s3", aws_endpoint), boto("sqs", aws_endpoint)
    project.write(stack(notification()))
    assert set(project.actions().values()) == {"create"}
    project.apply()
    project.assert_clean()
    arn = f"arn:aws:{{}}:us-east-1:{ACCOUNT}:{{}}"
    assert _targets(s3) == {"lambda": [arn.format("lambda", "function:itest-notify-fn")],
                            "queue": [arn.format("sqs", "itest-notify-events")],
                            "topic": [arn.format("sns", "itest-notify-topic")]}

    s3.put_object(Bucket=BUCKET, Key="incoming/a.txt", Body=b"a")
    s3.delete_object(Bucket=BUCKET, Key="incoming/a.txt")
    assert _event_names(sqs, "itest-notify-events") == ["ObjectCreated:Put"]
    assert _event_names(sqs, "itest-notify-inbox") == ["ObjectRemoved:Delete"]  # through the topic

    project.write(stack(notification(queue_prefix="other/")))
    assert {k: v for k, v in project.actions().items() if v != "noop"} == {"Bucket": "update"}
    project.apply()
    project.assert_clean()

    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    drift = project.run("drift", str(project.spec_dir), "--detailed-exitcode", "--format", "json")
    assert drift.code == 2, drift.out + drift.err
    assert {a["name"] for a in drift.json()["actions"] if a["action"] != "noop"} == {"Bucket"}
    project.apply()
    project.assert_clean()
    assert len(_targets(s3)["queue"]) == 1

    project.write(stack(None))
    assert project.actions()["Bucket"] == "update"
    project.apply()
    project.assert_clean()
    assert _targets(s3) == {"lambda": [], "queue": [], "topic": []}

    project.destroy()
    assert project.state()["resources"] == {}
    assert BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
