"""Cases for bucket and queue policies, SNS topics and subscriptions, and log groups."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tests.integration.cases import Case

ACCOUNT = "123456789012"  # moto's
BUCKETS = {f"Bucket{n}": {"type": "AWS::S3::Bucket", "properties": {"BucketName": f"itest-policy-bucket-{n}"}}
           for n in (1, 2)}
QUEUES = {f"Queue{n}": {"type": "AWS::SQS::Queue", "properties": {"QueueName": f"itest-policy-queue-{n}"}}
          for n in (1, 2, 3)}
TOPIC = {"Topic": {"type": "AWS::SNS::Topic", "properties": {"TopicName": "itest-sub-topic"}}}
TARGETS = {name: {"type": "AWS::SQS::Queue", "properties": {"QueueName": f"itest-sub-{name.lower()}"}}
           for name in ("Target", "Other", "Dlq")}


def _statement(action: str, resource: str, **extra) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": action,
            "Resource": resource, **extra}


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _bucket_policy(bucket_ref: str, *actions: str) -> dict:
    return _policy(*(_statement(a, f"${{{bucket_ref}.Arn}}/*") for a in actions))


def _queue_policy(*actions: str) -> dict:
    return _policy(*(_statement(a, "*") for a in actions))


def _other_policy() -> str:
    return '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}'


def _found(call) -> bool:
    """Whether a describe call finds its resource (any error answer means it does not)."""
    try:
        call()
        return True
    except ClientError:
        return False


def bucket_policy_exists(c, pid):
    return _found(lambda: c("s3").get_bucket_policy(Bucket=pid))


def queue_policy_exists(c, pid):
    def has_policy(url: str) -> bool:
        try:
            return bool(c("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                        .get("Attributes", {}).get("Policy"))
        except ClientError:  # the queue is gone, and its policy with it
            return False
    return any(has_policy(url) for url in pid.split("|"))


def topic_exists(c, pid):
    return _found(lambda: c("sns").get_topic_attributes(TopicArn=pid))


def subscription_exists(c, pid):
    return _found(lambda: c("sns").get_subscription_attributes(SubscriptionArn=pid))


def log_group_exists(c, pid):
    groups = c("logs").describe_log_groups(logGroupNamePrefix=pid)["logGroups"]
    return any(g["logGroupName"] == pid for g in groups)


CASES = [
    Case(
        id="s3-bucket-policy",
        type="AWS::S3::BucketPolicy",
        support=BUCKETS,
        props={"Bucket": "${Bucket1}", "PolicyDocument": _bucket_policy("Bucket1", "s3:GetObject")},
        updates=[{"PolicyDocument": _bucket_policy("Bucket1", "s3:GetObject", "s3:PutObject")}],
        replace={"Bucket": "${Bucket2}", "PolicyDocument": _bucket_policy("Bucket2", "s3:GetObject")},
        drift=lambda c, pid: c("s3").put_bucket_policy(Bucket=pid, Policy=_other_policy()),
        exists=bucket_policy_exists,
    ),
    Case(
        id="sqs-queue-policy",
        type="AWS::SQS::QueuePolicy",
        support=QUEUES,
        props={"Queues": ["${Queue1}"], "PolicyDocument": _queue_policy("sqs:SendMessage")},
        updates=[{"PolicyDocument": _queue_policy("sqs:SendMessage", "sqs:GetQueueAttributes")}],
        # Queues names the physical id: deployer replaces the policy when its queues change
        replace={"Queues": ["${Queue3}", "${Queue2}"]},
        drift=lambda c, pid: c("sqs").set_queue_attributes(QueueUrl=pid.split("|")[0],
                                                           Attributes={"Policy": _other_policy()}),
        exists=queue_policy_exists,
    ),
    Case(
        id="sns-topic",
        type="AWS::SNS::Topic",
        props={"TopicName": "itest-topic", "FifoTopic": True, "DisplayName": "first"},
        updates=[
            {"DisplayName": "second"},
            {"KmsMasterKeyId": "alias/aws/sns"},
            {"ContentBasedDeduplication": True},
            {"Tags": [{"Key": "team", "Value": "events"}]},
        ],
        replace={"TopicName": "itest-topic-two"},
        remove=["DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication", "Tags"],
        drift=lambda c, pid: c("sns").set_topic_attributes(TopicArn=pid, AttributeName="DisplayName",
                                                           AttributeValue="changed by hand"),
        exists=topic_exists,
    ),
    Case(
        id="sns-subscription",
        type="AWS::SNS::Subscription",
        support={**TOPIC, **TARGETS},
        props={"TopicArn": "${Topic}", "Protocol": "sqs", "Endpoint": "${Target.Arn}"},
        updates=[
            {"FilterPolicy": {"kind": ["order"]}},
            {"FilterPolicy": {"order": {"kind": ["big"]}}, "FilterPolicyScope": "MessageBody"},
            {"RawMessageDelivery": True},
            {"RedrivePolicy": {"deadLetterTargetArn": "${Dlq.Arn}"}},
            {"FilterPolicy": {"kind": ["small"]}},  # flat, still under MessageBody: valid in either scope
        ],
        replace={"Endpoint": "${Other.Arn}"},
        remove=["FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "FilterPolicy"],
        drift=lambda c, pid: c("sns").set_subscription_attributes(SubscriptionArn=pid, AttributeName="RawMessageDelivery",
                                                                  AttributeValue="false"),
        exists=subscription_exists,
    ),
    Case(
        id="logs-log-group",
        type="AWS::Logs::LogGroup",
        # LogGroupClass: moto drops it (CreateLogGroup keeps no class, DescribeLogGroups shows none), so only
        # the default class round-trips here; a class change replaces (the handler's unit tests, on a moto
        # patched to keep the class)
        props={"LogGroupName": "/itest/log-group", "RetentionInDays": 7, "LogGroupClass": "STANDARD"},
        updates=[
            {"RetentionInDays": 30},
            # KmsKeyId: moto does not implement AssociateKmsKey/DisassociateKmsKey (see the handler's unit tests)
            {"Tags": [{"Key": "team", "Value": "ops"}]},
        ],
        replace={"LogGroupName": "/itest/log-group-two"},
        remove=["RetentionInDays", "Tags"],
        drift=lambda c, pid: c("logs").put_retention_policy(logGroupName=pid, retentionInDays=1),
        exists=log_group_exists,
    ),
]
