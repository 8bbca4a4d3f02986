"""The SNS topic, SNS subscription and log group handlers against in-process moto: every property created
and read back in spec shape, each updatable one changed in place with the right call, removed properties
reset to the service default, reads that fetch only what is wanted, and what the engine needs to decide
adoption: a name already taken answers already-exists, or is found by lookup / find_owned.

moto does not implement logs:AssociateKmsKey / DisassociateKmsKey: those tests answer the two calls
with a stub and check what the handler sent. moto drops CreateLogGroup's logGroupClass and describes no
class: the LogGroupClass tests run against a moto patched to keep it, as AWS does."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from deployer.resources import handler_for, logs, sns
from deployer.resources.base import Context, Stake
from tests.unit.handler_support import create_meets_existing, ref_property, update
from tests.unit.messaging_support import OWNER, Stub, apply_update, assert_matches, changes

TOPIC = sns.Topic()
SUBSCRIPTION = sns.Subscription()
LOG_GROUP = logs.LogGroup()
ACCOUNT = "123456789012"
OWNERSHIP = [{"Key": "deployer:logical-id", "Value": "LogicalId"}, {"Key": "deployer:stack", "Value": "teststack"}]


@pytest.fixture
def aws(aws):
    """The shared fixture, with the Logs KMS calls moto lacks answered before they reach it."""
    aws.hooks.append(("before-call.*.*", Stub("AssociateKmsKey", "DisassociateKmsKey")))
    return aws


def client(service: str):
    return boto3.client(service, region_name="us-east-1")


def queue_arn(name: str) -> str:
    client("sqs").create_queue(QueueName=name)
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


# --- AWS::SNS::Topic --------------------------------------------------------------------------------

def test_topic_and_subscription_are_registered():
    assert isinstance(handler_for("AWS::SNS::Topic"), sns.Topic)
    assert isinstance(handler_for("AWS::SNS::Subscription"), sns.Subscription)
    assert TOPIC.create_only == {"TopicName", "FifoTopic"}
    assert SUBSCRIPTION.create_only == {"TopicArn", "Protocol", "Endpoint"}
    assert ref_property(TOPIC) == "TopicArn" and ref_property(SUBSCRIPTION) == "Arn"
    assert TOPIC.taggable and not SUBSCRIPTION.taggable


def test_topic_create_reads_back_every_setting(ctx):
    props = {"TopicName": "orders", "DisplayName": "Orders", "KmsMasterKeyId": "alias/aws/sns",
             "Tags": [{"Key": "team", "Value": "core"}]}
    pid, attrs = TOPIC.create(ctx, props)
    assert pid == f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"
    assert attrs == {"TopicArn": pid, "TopicName": "orders"}
    live = assert_matches(TOPIC, ctx, pid, props)
    assert live.owner == OWNER
    assert live.properties["Tags"] == [{"Key": "team", "Value": "core"}]
    raw = client("sns").list_tags_for_resource(ResourceArn=pid)["Tags"]
    assert all(tag in raw for tag in OWNERSHIP)


def test_fifo_topic_name_gets_its_suffix(ctx):
    props = {"TopicName": "events", "FifoTopic": "true", "ContentBasedDeduplication": True}
    assert TOPIC.desired_view(props)["TopicName"] == "events.fifo"
    pid, attrs = TOPIC.create(ctx, props)
    assert attrs["TopicName"] == "events.fifo"
    assert_matches(TOPIC, ctx, pid, props)
    generated = TOPIC.generate_name("s" * 300, "Logical", {"FifoTopic": True}, "abcd1234")
    assert generated.endswith("-abcd1234.fifo") and len(generated) == 256


def test_topic_read_fetches_only_what_is_wanted(ctx):
    pid, _ = TOPIC.create(ctx, {"TopicName": "plain"})
    ctx.aws.log.calls.clear()
    live = TOPIC.read(ctx, pid, {"TopicName"})
    assert dict(ctx.aws.log.counts()) == {"sns.GetTopicAttributes": 1}
    assert live.properties == {"TopicName": "plain"} and live.owner is None
    ctx.aws.log.calls.clear()
    TOPIC.read(ctx, pid, {"TopicName", "Tags"})
    assert dict(ctx.aws.log.counts()) == {"sns.GetTopicAttributes": 1, "sns.ListTagsForResource": 1}


def test_topic_settings_change_in_place_and_reset_when_removed(ctx, calls):
    old = {"TopicName": "t.fifo", "FifoTopic": True}
    pid, _ = TOPIC.create(ctx, old)
    new = {**old, "DisplayName": "Shown", "KmsMasterKeyId": "alias/aws/sns", "ContentBasedDeduplication": "true"}
    calls.clear()
    apply_update(TOPIC, ctx, pid, old, new)
    assert sorted(p["AttributeName"] for p in calls.of("SetTopicAttributes")) == [
        "ContentBasedDeduplication", "DisplayName", "KmsMasterKeyId"]
    assert_matches(TOPIC, ctx, pid, new)
    calls.clear()
    apply_update(TOPIC, ctx, pid, new, old)
    assert {p["AttributeName"]: p["AttributeValue"] for p in calls.of("SetTopicAttributes")} == {
        "ContentBasedDeduplication": "false", "DisplayName": "", "KmsMasterKeyId": ""}
    assert_matches(TOPIC, ctx, pid, old, removed=("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication"))


def test_topic_tags_change_and_ownership_stays(ctx, calls):
    old = {"TopicName": "tagged", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}
    pid, _ = TOPIC.create(ctx, old)
    new = {"TopicName": "tagged", "Tags": [{"Key": "a", "Value": "9"}]}
    calls.clear()
    apply_update(TOPIC, ctx, pid, old, new)
    assert calls.of("UntagResource") == [{"ResourceArn": pid, "TagKeys": ["b"]}]
    assert calls.names().count("SetTopicAttributes") == 0
    live = assert_matches(TOPIC, ctx, pid, new)
    assert live.owner == OWNER
    apply_update(TOPIC, ctx, pid, new, {"TopicName": "tagged"})
    assert_matches(TOPIC, ctx, pid, {"TopicName": "tagged"}, removed=("Tags",))


def test_topic_lookup_finds_an_existing_name_with_one_call(ctx, calls):
    """CreateTopic answers an existing topic's ARN instead of failing: the plan finds it by lookup."""
    taken = client("sns").create_topic(Name="taken")["TopicArn"]
    calls.clear()
    assert TOPIC.lookup(ctx, {"TopicName": "taken"}) == taken
    assert calls.names() == ["GetCallerIdentity", "GetTopicAttributes"]  # the account, once per session
    calls.clear()
    assert TOPIC.lookup(ctx, {"TopicName": "free"}) is None
    assert calls.names() == ["GetTopicAttributes"]
    assert TOPIC.lookup(ctx, {"TopicName": "taken", "FifoTopic": True}) is None  # that is taken.fifo
    assert TOPIC.physical_id_for({"TopicName": "taken"}) is None  # the ARN needs the account: not guessed


def test_topic_found_by_ownership_and_tagged_on_import(ctx, aws):
    pid, _ = TOPIC.create(ctx, {"TopicName": "owned"})
    TOPIC.create(Context(aws, "us-east-1", "teststack", "Other"), {"TopicName": "not-mine"})
    assert TOPIC.find_owned(ctx, {"TopicName": "owned"}) == [pid]
    other = client("sns").create_topic(Name="adopted")["TopicArn"]
    TOPIC.tag_for_ownership(ctx, other)
    assert TOPIC.read(ctx, other, {"Tags"}).owner == OWNER


def test_topic_delete_is_idempotent(ctx):
    pid, _ = TOPIC.create(ctx, {"TopicName": "short-lived"})
    TOPIC.delete(ctx, pid, {})
    TOPIC.delete(ctx, pid, {})
    assert TOPIC.read(ctx, pid, {"TopicName"}) is None


# --- AWS::SNS::Subscription -------------------------------------------------------------------------

@pytest.fixture
def topic(ctx) -> str:
    return client("sns").create_topic(Name="feed")["TopicArn"]


def test_subscription_create_reads_back_every_setting(ctx, topic):
    endpoint, dlq = queue_arn("target"), queue_arn("dlq")
    props = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": endpoint, "RawMessageDelivery": "true",
             "FilterPolicy": json.dumps({"kind": ["order"]}),  # as text, as CloudFormation allows
             "RedrivePolicy": {"deadLetterTargetArn": dlq}}
    pid, attrs = SUBSCRIPTION.create(ctx, props)
    assert pid.startswith(topic + ":") and attrs == {"Arn": pid}
    live = assert_matches(SUBSCRIPTION, ctx, pid, props)
    assert live.properties["FilterPolicy"] == {"kind": ["order"]}
    assert live.properties["RawMessageDelivery"] is True


def test_subscription_read_is_one_call(ctx, topic):
    pid, _ = SUBSCRIPTION.create(ctx, {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn("q")})
    ctx.aws.log.calls.clear()
    live = SUBSCRIPTION.read(ctx, pid, {"TopicArn", "Protocol", "Endpoint"})
    assert dict(ctx.aws.log.counts()) == {"sns.GetSubscriptionAttributes": 1}
    assert "RawMessageDelivery" not in live.properties  # the default, not asked for


def test_subscription_settings_change_in_place(ctx, topic, calls):
    base = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn("q")}
    flat = {**base, "FilterPolicy": {"kind": ["a"]}}
    pid, _ = SUBSCRIPTION.create(ctx, flat)
    nested = {**base, "FilterPolicy": {"order": {"kind": ["a"]}}, "FilterPolicyScope": "MessageBody",
              "RawMessageDelivery": True, "RedrivePolicy": {"deadLetterTargetArn": queue_arn("dlq")}}
    calls.clear()
    apply_update(SUBSCRIPTION, ctx, pid, flat, nested)
    names = [p["AttributeName"] for p in calls.of("SetSubscriptionAttributes")]
    assert names == ["FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy"]  # scope first
    assert_matches(SUBSCRIPTION, ctx, pid, nested)
    back = {**base, "FilterPolicy": {"kind": ["b"]}}
    calls.clear()
    apply_update(SUBSCRIPTION, ctx, pid, nested, back)
    names = [p["AttributeName"] for p in calls.of("SetSubscriptionAttributes")]
    assert names == ["FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"]  # policy first
    assert_matches(SUBSCRIPTION, ctx, pid, back, removed=("FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"))


def test_subscription_removed_settings_reset(ctx, topic, calls):
    base = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn("q")}
    full = {**base, "FilterPolicy": {"kind": ["a"]}, "RawMessageDelivery": True,
            "RedrivePolicy": {"deadLetterTargetArn": queue_arn("dlq")}}
    pid, _ = SUBSCRIPTION.create(ctx, full)
    calls.clear()
    apply_update(SUBSCRIPTION, ctx, pid, full, base)
    assert {p["AttributeName"]: p["AttributeValue"] for p in calls.of("SetSubscriptionAttributes")} == {
        "FilterPolicy": "{}", "RawMessageDelivery": "false", "RedrivePolicy": ""}
    assert_matches(SUBSCRIPTION, ctx, pid, base, removed=("FilterPolicy", "RawMessageDelivery", "RedrivePolicy"))


def test_subscription_scope_without_a_filter_policy_is_not_compared(ctx, topic):
    props = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn("q"), "FilterPolicyScope": "MessageBody"}
    assert "FilterPolicyScope" not in SUBSCRIPTION.desired_view(props)
    pid, _ = SUBSCRIPTION.create(ctx, props)
    assert changes(SUBSCRIPTION, ctx, pid, props) == []


def test_subscription_lookup_and_find_owned_go_by_topic_protocol_and_endpoint(ctx, topic):
    """Subscribe answers an existing subscription instead of failing, and subscriptions carry no tags:
    the natural key (topic, protocol, endpoint) finds one, for the plan and after a lost answer."""
    endpoint = queue_arn("q")
    existing = client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint,
                                       ReturnSubscriptionArn=True)["SubscriptionArn"]
    props = {"TopicArn": topic, "Protocol": "sqs", "Endpoint": endpoint}
    assert SUBSCRIPTION.lookup(ctx, props) == existing
    assert SUBSCRIPTION.find_owned(ctx, props) == [existing]
    other = {**props, "Endpoint": queue_arn("elsewhere")}
    assert SUBSCRIPTION.lookup(ctx, other) is None and SUBSCRIPTION.find_owned(ctx, other) == []
    assert SUBSCRIPTION.lookup(ctx, {**props, "Protocol": "email"}) is None
    assert SUBSCRIPTION.lookup(ctx, {**props, "TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:gone"}) is None


def test_subscription_delete_is_idempotent_and_goes_with_its_topic(ctx, topic):
    first, _ = SUBSCRIPTION.create(ctx, {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn("one")})
    SUBSCRIPTION.delete(ctx, first, {})
    SUBSCRIPTION.delete(ctx, first, {})
    assert SUBSCRIPTION.read(ctx, first, set()) is None
    second, _ = SUBSCRIPTION.create(ctx, {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn("two")})
    client("sns").delete_topic(TopicArn=topic)
    assert SUBSCRIPTION.read(ctx, second, set()) is None
    SUBSCRIPTION.delete(ctx, second, {})


# --- AWS::Logs::LogGroup ----------------------------------------------------------------------------

def test_log_group_is_registered():
    assert isinstance(handler_for("AWS::Logs::LogGroup"), logs.LogGroup)
    assert LOG_GROUP.create_only == {"LogGroupName", "LogGroupClass"}  # the class: a documented deviation
    assert ref_property(LOG_GROUP) == "LogGroupName" and LOG_GROUP.attribute_names == ("Arn",)


def test_log_group_create_reads_back_every_setting(ctx):
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    props = {"LogGroupName": "/app/api", "RetentionInDays": "14", "KmsKeyId": key,
             "Tags": [{"Key": "team", "Value": "api"}]}
    pid, attrs = LOG_GROUP.create(ctx, props)
    assert pid == "/app/api"
    assert attrs == {"Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/api:*"}
    live = assert_matches(LOG_GROUP, ctx, pid, props)
    assert live.owner == OWNER and live.attributes == attrs
    assert live.properties["RetentionInDays"] == 14


def test_log_group_read_matches_the_exact_name_only(ctx):
    LOG_GROUP.create(ctx, {"LogGroupName": "/app/api-v2"})
    assert LOG_GROUP.read(ctx, "/app/api", {"LogGroupName"}) is None
    ctx.aws.log.calls.clear()
    live = LOG_GROUP.read(ctx, "/app/api-v2", {"LogGroupName"})
    assert live.properties == {"LogGroupName": "/app/api-v2"}
    assert dict(ctx.aws.log.counts()) == {"logs.DescribeLogGroups": 1}


def test_log_group_retention_changes_and_removal_means_never_expire(ctx, calls):
    old = {"LogGroupName": "/app/r", "RetentionInDays": 7}
    pid, _ = LOG_GROUP.create(ctx, old)
    new = {"LogGroupName": "/app/r", "RetentionInDays": 30}
    apply_update(LOG_GROUP, ctx, pid, old, new)
    assert_matches(LOG_GROUP, ctx, pid, new)
    calls.clear()
    apply_update(LOG_GROUP, ctx, pid, new, {"LogGroupName": "/app/r"})
    assert calls.of("DeleteRetentionPolicy") == [{"logGroupName": "/app/r"}]
    assert_matches(LOG_GROUP, ctx, pid, {"LogGroupName": "/app/r"}, removed=("RetentionInDays",))
    assert "retentionInDays" not in client("logs").describe_log_groups(logGroupNamePrefix="/app/r")["logGroups"][0]


def test_log_group_kms_key_is_associated_and_disassociated(ctx, calls):
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    pid, _ = LOG_GROUP.create(ctx, {"LogGroupName": "/app/k"})
    update(LOG_GROUP, ctx, pid, {"LogGroupName": "/app/k"}, {"LogGroupName": "/app/k", "KmsKeyId": key})
    assert calls.of("AssociateKmsKey") == [{"logGroupName": "/app/k", "kmsKeyId": key}]
    update(LOG_GROUP, ctx, pid, {"LogGroupName": "/app/k", "KmsKeyId": key}, {"LogGroupName": "/app/k"})
    assert calls.of("DisassociateKmsKey") == [{"logGroupName": "/app/k"}]
    assert not calls.of("PutRetentionPolicy") and not calls.of("DeleteRetentionPolicy")


def test_log_group_tags_change_and_ownership_stays(ctx, calls):
    old = {"LogGroupName": "/app/t", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}
    pid, _ = LOG_GROUP.create(ctx, old)
    new = {"LogGroupName": "/app/t", "Tags": [{"Key": "a", "Value": "3"}]}
    calls.clear()
    apply_update(LOG_GROUP, ctx, pid, old, new)
    assert [p["tagKeys"] for p in calls.of("UntagResource")] == [["b"]]
    live = assert_matches(LOG_GROUP, ctx, pid, new)
    assert live.owner == OWNER


def test_log_group_create_of_a_taken_name_answers_already_exists(ctx):
    """A retried create (its first answer lost) and a name someone else uses both meet already-exists;
    find_owned tells the engine which one is this step's."""
    props = {"LogGroupName": "/app/retry", "RetentionInDays": 3}
    LOG_GROUP.create(ctx, props)
    assert create_meets_existing(LOG_GROUP, ctx, props) == "ResourceAlreadyExistsException"
    client("logs").create_log_group(logGroupName="/app/theirs")
    create_meets_existing(LOG_GROUP, ctx, {"LogGroupName": "/app/theirs"})
    assert LOG_GROUP.find_owned(ctx, props) == ["/app/retry"]
    assert LOG_GROUP.lookup(ctx, {"LogGroupName": "/app/theirs"}) == "/app/theirs"  # the name is the id
    assert_matches(LOG_GROUP, ctx, "/app/retry", props)


def test_log_group_found_by_ownership_and_tagged_on_import(ctx, aws):
    pid, _ = LOG_GROUP.create(ctx, {"LogGroupName": "/app/owned"})
    LOG_GROUP.create(Context(aws, "us-east-1", "teststack", "Other"), {"LogGroupName": "/app/not-mine"})
    assert LOG_GROUP.find_owned(ctx, {"LogGroupName": "/app/owned"}) == [pid]
    client("logs").create_log_group(logGroupName="/app/adopted")
    LOG_GROUP.tag_for_ownership(ctx, "/app/adopted")
    assert LOG_GROUP.read(ctx, "/app/adopted", {"Tags"}).owner == OWNER


def test_log_group_delete_is_idempotent(ctx):
    pid, _ = LOG_GROUP.create(ctx, {"LogGroupName": "/app/gone"})
    LOG_GROUP.delete(ctx, pid, {})
    LOG_GROUP.delete(ctx, pid, {})
    assert LOG_GROUP.read(ctx, pid, {"Tags"}) is None


def test_log_group_at_stake_is_its_stored_events(ctx):
    pid, _ = LOG_GROUP.create(ctx, {"LogGroupName": "/app/kept"})
    assert LOG_GROUP.at_stake(ctx, pid, {}) == Stake("log events, 0 B stored")
    logs_client = client("logs")
    logs_client.create_log_stream(logGroupName=pid, logStreamName="s")
    logs_client.put_log_events(logGroupName=pid, logStreamName="s",
                               logEvents=[{"timestamp": int(time.time() * 1000), "message": "x" * 2048}])
    stake = LOG_GROUP.at_stake(ctx, pid, {})
    assert stake == Stake("log events, 2.0 KiB stored") and not stake.refuse_without_force
    assert LOG_GROUP.at_stake(ctx, "/app/never", {}) is None


@pytest.fixture
def log_classes(monkeypatch):
    """moto ignores CreateLogGroup's logGroupClass; AWS keeps it and describes every group with its class
    (STANDARD when none was given). Make moto do the same."""
    from moto.logs import models as moto_logs
    from moto.logs.responses import LogsResponse

    create, describe = LogsResponse.create_log_group, moto_logs.LogGroup.to_describe_dict

    def create_log_group(self) -> str:
        answer = create(self)
        group = self.logs_backend.groups[self._get_param("logGroupName")]
        group.log_group_class = self._get_param("logGroupClass") or "STANDARD"
        return answer

    def to_describe_dict(self) -> dict:
        return {**describe(self), "logGroupClass": getattr(self, "log_group_class", "STANDARD")}

    monkeypatch.setattr(LogsResponse, "create_log_group", create_log_group)
    monkeypatch.setattr(moto_logs.LogGroup, "to_describe_dict", to_describe_dict)


def test_log_group_class_is_set_at_create_and_read_back(ctx, calls, log_classes):
    props = {"LogGroupName": "/app/cold", "LogGroupClass": "INFREQUENT_ACCESS"}
    pid, _ = LOG_GROUP.create(ctx, props)
    assert calls.of("CreateLogGroup")[0]["logGroupClass"] == "INFREQUENT_ACCESS"
    live = assert_matches(LOG_GROUP, ctx, pid, props)
    assert live.properties["LogGroupClass"] == "INFREQUENT_ACCESS"
    plain, _ = LOG_GROUP.create(ctx, {"LogGroupName": "/app/plain"})
    assert "logGroupClass" not in calls.of("CreateLogGroup")[1]
    assert LOG_GROUP.read(ctx, plain, {"LogGroupName"}).properties == {"LogGroupName": "/app/plain"}  # STANDARD
    assert_matches(LOG_GROUP, ctx, plain, {"LogGroupName": "/app/plain", "LogGroupClass": "STANDARD"})


def test_log_group_class_change_or_removal_replaces(ctx, log_classes):
    """No API changes a class: a change, and a removal back to STANDARD, is a replacement."""
    props = {"LogGroupName": "/app/c", "LogGroupClass": "INFREQUENT_ACCESS"}
    pid, _ = LOG_GROUP.create(ctx, props)
    found = changes(LOG_GROUP, ctx, pid, {**props, "LogGroupClass": "DELIVERY"})
    assert [(c.path, c.before, c.after, c.replace) for c in found] == [
        ("LogGroupClass", "INFREQUENT_ACCESS", "DELIVERY", True)]
    removed = changes(LOG_GROUP, ctx, pid, {"LogGroupName": "/app/c"}, removed=("LogGroupClass",))
    assert [(c.path, c.after, c.replace) for c in removed] == [("LogGroupClass", "STANDARD", True)]
    assert LOG_GROUP.schema["deviations"][0]["pointer"] == "/properties/LogGroupClass"
