"""The SNS topic policy handler against in-process moto: the policy set on every topic, read back as data
whatever form the spec wrote it in, updated in place, a topic whose policy changed or went back to the
default shown per topic, and a delete that gives each topic SNS's default policy again."""

from __future__ import annotations

import json

import boto3
import pytest

from deployer.errors import PlanError
from deployer.resources import handler_for, sns_policy
from tests.unit.handler_support import apply_update, ref_property
from tests.unit.messaging_support import assert_matches, changes, policy

TOPIC_POLICY = sns_policy.TopicPolicy()
ACCOUNT = "123456789012"


def sns():
    return boto3.client("sns", region_name="us-east-1")


def topic(name: str) -> str:
    return sns().create_topic(Name=name)["TopicArn"]


def policy_of(arn: str) -> dict:
    return json.loads(sns().get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])


def allow_s3(*arns: str) -> dict:
    return policy({"Sid": "S3Publish", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                   "Action": "sns:Publish", "Resource": list(arns)})


def test_topic_policy_metadata():
    assert isinstance(handler_for("AWS::SNS::TopicPolicy"), sns_policy.TopicPolicy)
    assert TOPIC_POLICY.create_only == {"Topics"}  # the id names the topics (a listed deviation)
    assert TOPIC_POLICY.replacement_strategy == "delete_then_create"
    assert TOPIC_POLICY.attribute_names == ("Id",) and ref_property(TOPIC_POLICY) == "Id"
    assert TOPIC_POLICY.physical_id_for({"Topics": ["b", "a", "b"]}) == "a|b"
    assert TOPIC_POLICY.physical_id_for({"Topics": ["${Topic}"]}) is None


def test_the_default_policy_is_what_sns_gives_a_new_topic(aws):
    arn = topic("fresh")
    assert sns_policy.is_default(arn, policy_of(arn))
    assert sns_policy.default_policy(arn)["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}


def test_create_sets_every_topic_and_reads_back(ctx, calls):
    a, b = topic("alpha"), topic("beta")
    props = {"Topics": [b, a], "PolicyDocument": allow_s3(a, b)}
    pid, attrs = TOPIC_POLICY.create(ctx, props)
    assert pid == f"{a}|{b}" and attrs == {"Id": pid}
    assert [c["TopicArn"] for c in calls.of("SetTopicAttributes")] == [a, b]
    assert all(c["AttributeName"] == "Policy" for c in calls.of("SetTopicAttributes"))
    live = assert_matches(TOPIC_POLICY, ctx, pid, props)
    assert live.properties["Topics"] == [a, b]


def test_a_policy_written_as_json_text_compares_as_data(ctx):
    a = topic("alpha")
    text = json.dumps(allow_s3(a))
    pid, _ = TOPIC_POLICY.create(ctx, {"Topics": [a], "PolicyDocument": text})
    assert_matches(TOPIC_POLICY, ctx, pid, {"Topics": [a], "PolicyDocument": allow_s3(a)})
    assert_matches(TOPIC_POLICY, ctx, pid, {"Topics": [a], "PolicyDocument": text})


def test_update_sets_the_new_document_on_every_topic(ctx, calls):
    a, b = topic("alpha"), topic("beta")
    props = {"Topics": [a, b], "PolicyDocument": allow_s3(a, b)}
    pid, _ = TOPIC_POLICY.create(ctx, props)
    new = {**props, "PolicyDocument": policy({"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                                               "Resource": [a, b]})}
    calls.clear()
    apply_update(TOPIC_POLICY, ctx, pid, props, new)
    assert [c["TopicArn"] for c in calls.of("SetTopicAttributes")] == [a, b]
    assert_matches(TOPIC_POLICY, ctx, pid, new)


def test_a_topic_reset_out_of_band_shows_per_topic_and_is_put_back(ctx):
    a, b = topic("alpha"), topic("beta")
    props = {"Topics": [a, b], "PolicyDocument": allow_s3(a, b)}
    pid, _ = TOPIC_POLICY.create(ctx, props)
    sns().set_topic_attributes(TopicArn=b, AttributeName="Policy",
                               AttributeValue=json.dumps(sns_policy.default_policy(b)))
    live = TOPIC_POLICY.read(ctx, pid, set(props))
    assert set(live.properties["PolicyDocument"]) == {a, b}  # each topic's policy, by ARN
    assert {c.property for c in changes(TOPIC_POLICY, ctx, pid, props)} == {"PolicyDocument"}
    apply_update(TOPIC_POLICY, ctx, pid, props, props)
    assert_matches(TOPIC_POLICY, ctx, pid, props)


def test_delete_restores_the_default_policy(ctx):
    a, b = topic("alpha"), topic("beta")
    pid, _ = TOPIC_POLICY.create(ctx, {"Topics": [a, b], "PolicyDocument": allow_s3(a, b)})
    TOPIC_POLICY.delete(ctx, pid, {})
    assert sns_policy.is_default(a, policy_of(a)) and sns_policy.is_default(b, policy_of(b))
    assert TOPIC_POLICY.read(ctx, pid, set()) is None


def test_topics_already_gone(ctx):
    a, b = topic("alpha"), topic("beta")
    pid, _ = TOPIC_POLICY.create(ctx, {"Topics": [a, b], "PolicyDocument": allow_s3(a, b)})
    sns().delete_topic(TopicArn=b)
    live = TOPIC_POLICY.read(ctx, pid, set())
    assert live.properties["Topics"] == [a]  # a change of Topics: the plan replaces the policy
    TOPIC_POLICY.delete(ctx, pid, {})
    sns().delete_topic(TopicArn=a)
    assert TOPIC_POLICY.read(ctx, pid, set()) is None
    TOPIC_POLICY.delete(ctx, pid, {})  # every topic gone is success


@pytest.mark.parametrize("physical_id", ["mystack-mysnspolicy-AFJH3BLZJKSC",
                                         "arn:aws:sqs:us-east-1:123456789012:queue", "arn:aws:sns:us-east-1"])
def test_an_id_of_another_form_is_a_clear_error(ctx, physical_id):
    """CloudFormation's generated id (given to an import) names no topic."""
    with pytest.raises(PlanError, match="expected TOPICARN"):
        TOPIC_POLICY.read(ctx, physical_id, set())
