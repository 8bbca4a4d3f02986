"""The DynamoDB table and SQS queue handlers against in-process moto: every property group created and
read back in spec shape, each updatable group changed in place with the right calls, removed properties
reset to the service default, reads that fetch only what is wanted, deletes that leave nothing behind.

Where moto does not store a setting (DynamoDB TableClass and SSE updates, SQS RedriveAllowPolicy) the
test checks the API call the handler made instead of the read-back."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend

from deployer.diff import compare
from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.resources import dynamodb, handler_for, sqs
from deployer.resources.base import Context, Handler, Stake
from deployer.spec.refs import UNKNOWN
from tests.unit.handler_support import apply_update, create_meets_existing, update, view

TABLE = dynamodb.Table()
QUEUE = sqs.Queue()
OWNER = ("teststack", "LogicalId")


@pytest.fixture
def restartable_streams(monkeypatch):
    """moto keeps the old stream label after a stream is disabled and then refuses to enable one again;
    AWS allows it (a new stream). Make moto forget the label, as AWS starts a new stream."""
    original = DynamoDBBackend.update_table_streams

    def update_table_streams(self, table, spec):
        if spec.get("StreamEnabled") and not (table.stream_specification or {}).get("StreamEnabled"):
            table.latest_stream_label = None
        original(self, table, spec)

    monkeypatch.setattr(DynamoDBBackend, "update_table_streams", update_table_streams)


def assert_matches(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], skip: tuple[str, ...] = (),
                   removed: Any = ()):
    """read() shows exactly what was set, and the service default for each removed property: a plan
    right after would find no change."""
    live = handler.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = view(handler, ctx, props)
    keys = (set(desired) | set(removed)) - set(skip)
    assert compare(keys, desired, live.properties, handler.defaults, handler.create_only, set()) == []
    return live


# --- DynamoDB ----------------------------------------------------------------------------------------

def key(name: str, kind: str = "HASH") -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def attr(name: str, kind: str = "S") -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": kind}


def gsi(name: str, attribute: str, throughput: int | None = 2) -> dict[str, Any]:
    index: dict[str, Any] = {"IndexName": name, "KeySchema": [key(attribute)], "Projection": {"ProjectionType": "ALL"}}
    if throughput is not None:
        index["ProvisionedThroughput"] = {"ReadCapacityUnits": throughput, "WriteCapacityUnits": throughput}
    return index


def full_table() -> dict[str, Any]:
    """Every property group; numbers and booleans partly as strings, lists out of order."""
    return {
        "TableName": "orders",
        "KeySchema": [key("pk"), key("sk", "RANGE")],
        "AttributeDefinitions": [attr("sk"), attr("pk"), attr("g", "N"), attr("l")],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": "5", "WriteCapacityUnits": 5},
        "GlobalSecondaryIndexes": [{
            "IndexName": "by-g", "KeySchema": [key("g")],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["b", "a"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": "2"}}],
        "LocalSecondaryIndexes": [{"IndexName": "by-l", "KeySchema": [key("pk"), key("l", "RANGE")],
                                   "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        "SSESpecification": {"SSEEnabled": True},
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": "true"},
        "DeletionProtectionEnabled": False,
        "TableClass": "STANDARD",
        "Tags": [{"Key": "team", "Value": "core"}],
    }


def small_table(**extra: Any) -> dict[str, Any]:
    return {"TableName": "small", "KeySchema": [key("pk")], "AttributeDefinitions": [attr("pk")],
            "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            **extra}


def test_table_handler_is_registered():
    assert isinstance(handler_for("AWS::DynamoDB::Table"), dynamodb.Table)
    assert TABLE.create_only == {"TableName", "KeySchema"}  # LocalSecondaryIndexes: immutableProperties


def test_views_tolerate_values_known_only_after_apply():
    view = TABLE.desired_view({
        "BillingMode": UNKNOWN, "AttributeDefinitions": UNKNOWN, "TimeToLiveSpecification": UNKNOWN,
        "GlobalSecondaryIndexes": [UNKNOWN, {"IndexName": UNKNOWN, "KeySchema": [], "Projection": UNKNOWN,
                                             "ProvisionedThroughput": UNKNOWN}],
        "SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": UNKNOWN}})
    assert view["GlobalSecondaryIndexes"][1] == {"IndexName": UNKNOWN, "KeySchema": [], "Projection": UNKNOWN,
                                                 "ProvisionedThroughput": UNKNOWN}
    assert view["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": UNKNOWN}
    assert QUEUE.desired_view({"QueueName": UNKNOWN, "FifoQueue": True, "RedrivePolicy": UNKNOWN}) == {
        "QueueName": UNKNOWN, "FifoQueue": True, "RedrivePolicy": UNKNOWN}


def test_table_create_reads_back_every_group(ctx):
    props = full_table()
    pid, attrs = TABLE.create(ctx, props)
    assert pid == "orders"
    assert attrs["Arn"] == "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    assert attrs["StreamArn"].startswith(attrs["Arn"] + "/stream/")
    live = assert_matches(TABLE, ctx, pid, props)
    assert live.owner == OWNER
    assert canon(live.properties["ProvisionedThroughput"]) == canon(props["ProvisionedThroughput"])
    assert live.properties["Tags"] == [{"Key": "team", "Value": "core"}]
    assert live.properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}  # the AWS-managed key
    assert set(live.attributes) == {"TableName", "Arn", "StreamArn"}
    raw = boto3.client("dynamodb", region_name="us-east-1").list_tags_of_resource(ResourceArn=attrs["Arn"])["Tags"]
    assert {"Key": "deployer:stack", "Value": "teststack"} in raw
    assert {"Key": "deployer:logical-id", "Value": "LogicalId"} in raw


def test_table_customer_kms_key_reads_back(ctx):
    key_arn = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    props = small_table(SSESpecification={"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn})
    pid, _ = TABLE.create(ctx, props)
    live = assert_matches(TABLE, ctx, pid, props)
    assert live.properties["SSESpecification"]["KMSMasterKeyId"] == key_arn


def test_table_read_fetches_only_what_is_wanted(ctx):
    pid, _ = TABLE.create(ctx, small_table())
    ctx.aws.log.calls.clear()
    live = TABLE.read(ctx, pid, {"TableName", "KeySchema"})
    assert dict(ctx.aws.log.counts()) == {"dynamodb.DescribeTable": 1}
    assert "BillingMode" not in live.properties  # the default, not asked for
    assert live.owner is None
    ctx.aws.log.calls.clear()
    TABLE.read(ctx, pid, {"TimeToLiveSpecification", "PointInTimeRecoverySpecification", "Tags"})
    assert dict(ctx.aws.log.counts()) == {"dynamodb.DescribeTable": 1, "dynamodb.DescribeTimeToLive": 1,
                                          "dynamodb.DescribeContinuousBackups": 1,
                                          "dynamodb.ListTagsOfResource": 1}


def test_table_create_is_one_call_when_create_table_answers_active(ctx):
    ctx.aws.log.calls.clear()
    TABLE.create(ctx, small_table())
    assert dict(ctx.aws.log.counts()) == {"dynamodb.CreateTable": 1}  # moto answers ACTIVE at once


def test_table_create_polls_a_creating_table_once_per_pause(ctx, pauses):
    """AWS answers CREATING: one DescribeTable per poll until ACTIVE, no botocore waiter before it."""
    client = ctx.client("dynamodb")
    answers = iter(["CREATING", "ACTIVE"])

    def creating(parsed, **_):
        parsed["TableDescription"]["TableStatus"] = "CREATING"

    def polled(parsed, **_):
        parsed["Table"]["TableStatus"] = next(answers, "ACTIVE")

    client.meta.events.register("after-call.dynamodb.CreateTable", creating)
    client.meta.events.register("after-call.dynamodb.DescribeTable", polled)
    ctx.aws.log.calls.clear()
    _, attrs = TABLE.create(ctx, small_table())
    assert dict(ctx.aws.log.counts()) == {"dynamodb.CreateTable": 1, "dynamodb.DescribeTable": 2}
    assert len(pauses) == 1 and attrs["Arn"].endswith(":table/" + small_table()["TableName"])


def test_table_capacity_and_index_throughput_change_in_place(ctx, calls):
    old = small_table(AttributeDefinitions=[attr("pk"), attr("g")], GlobalSecondaryIndexes=[gsi("by-g", "g")])
    pid, _ = TABLE.create(ctx, old)
    new = copy.deepcopy(old)
    new["ProvisionedThroughput"] = {"ReadCapacityUnits": 7, "WriteCapacityUnits": 8}
    new["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    calls.clear()
    apply_update(TABLE, ctx, pid, old, new)
    assert_matches(TABLE, ctx, pid, new)
    updates = calls.of("UpdateTable")
    assert updates[0] == {"TableName": pid, "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 8}}
    assert updates[1]["GlobalSecondaryIndexUpdates"] == [{"Update": {
        "IndexName": "by-g", "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}}}]


def test_table_indexes_change_one_per_call(ctx, calls):
    old = small_table(AttributeDefinitions=[attr("pk"), attr("a")], GlobalSecondaryIndexes=[gsi("by-a", "a")])
    pid, _ = TABLE.create(ctx, old)
    new = small_table(AttributeDefinitions=[attr("pk"), attr("b"), attr("c", "N")],
                      GlobalSecondaryIndexes=[gsi("by-c", "c"), gsi("by-b", "b")])
    calls.clear()
    apply_update(TABLE, ctx, pid, old, new)
    assert_matches(TABLE, ctx, pid, new)
    index_calls = [c["GlobalSecondaryIndexUpdates"] for c in calls.of("UpdateTable")]
    assert [list(u[0]) + [next(iter(u[0].values()))["IndexName"]] for u in index_calls] == [
        ["Delete", "by-a"], ["Create", "by-b"], ["Create", "by-c"]]
    creates = [c for c in calls.of("UpdateTable") if "Create" in c["GlobalSecondaryIndexUpdates"][0]]
    assert all(canon(c["AttributeDefinitions"]) == canon([attr("b"), attr("c", "N"), attr("pk")]) for c in creates)
    assert creates[0]["GlobalSecondaryIndexUpdates"][0]["Create"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 2, "WriteCapacityUnits": 2}


def test_table_index_key_change_deletes_then_creates(ctx, calls):
    old = small_table(AttributeDefinitions=[attr("pk"), attr("a")], GlobalSecondaryIndexes=[gsi("idx", "a")])
    pid, _ = TABLE.create(ctx, old)
    new = small_table(AttributeDefinitions=[attr("pk"), attr("b")], GlobalSecondaryIndexes=[gsi("idx", "b")])
    calls.clear()
    apply_update(TABLE, ctx, pid, old, new)
    assert_matches(TABLE, ctx, pid, new)
    assert [list(c["GlobalSecondaryIndexUpdates"][0]) for c in calls.of("UpdateTable")] == [["Delete"], ["Create"]]


def test_table_billing_mode_switches_both_ways(ctx, calls):
    provisioned = small_table(AttributeDefinitions=[attr("pk"), attr("g")], GlobalSecondaryIndexes=[gsi("by-g", "g")])
    pid, _ = TABLE.create(ctx, provisioned)
    on_demand = {k: v for k, v in provisioned.items() if k != "ProvisionedThroughput"}
    on_demand.update(BillingMode="PAY_PER_REQUEST", GlobalSecondaryIndexes=[gsi("by-g", "g", throughput=None)])
    calls.clear()
    apply_update(TABLE, ctx, pid, provisioned, on_demand)
    assert calls.of("UpdateTable") == [{"TableName": pid, "BillingMode": "PAY_PER_REQUEST"}]
    live = assert_matches(TABLE, ctx, pid, on_demand)
    assert "ProvisionedThroughput" not in live.properties
    calls.clear()
    apply_update(TABLE, ctx, pid, on_demand, provisioned)
    assert_matches(TABLE, ctx, pid, provisioned)
    (switch,) = calls.of("UpdateTable")
    assert switch["BillingMode"] == "PROVISIONED"
    assert switch["GlobalSecondaryIndexUpdates"][0]["Update"]["IndexName"] == "by-g"


def test_table_stream_enable_change_disable(ctx, calls, restartable_streams):
    old = small_table()
    pid, attrs = TABLE.create(ctx, old)
    assert "StreamArn" not in attrs
    keys_only = small_table(StreamSpecification={"StreamViewType": "KEYS_ONLY"})
    attrs = apply_update(TABLE, ctx, pid, old, keys_only)
    assert "StreamArn" in attrs
    assert_matches(TABLE, ctx, pid, keys_only)
    images = small_table(StreamSpecification={"StreamViewType": "NEW_AND_OLD_IMAGES"})
    calls.clear()
    apply_update(TABLE, ctx, pid, keys_only, images)
    assert_matches(TABLE, ctx, pid, images)
    assert [c["StreamSpecification"] for c in calls.of("UpdateTable")] == [
        {"StreamEnabled": False}, {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}]
    attrs = apply_update(TABLE, ctx, pid, images, old)
    assert "StreamArn" not in attrs
    assert_matches(TABLE, ctx, pid, old, removed={"StreamSpecification"})


def test_table_ttl_attribute_change_disables_first(ctx, calls):
    old = small_table(TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    pid, _ = TABLE.create(ctx, old)
    new = small_table(TimeToLiveSpecification={"Enabled": "true", "AttributeName": "ttl"})
    calls.clear()
    apply_update(TABLE, ctx, pid, old, new)
    assert_matches(TABLE, ctx, pid, new)
    assert [c["TimeToLiveSpecification"] for c in calls.of("UpdateTimeToLive")] == [
        {"Enabled": False, "AttributeName": "expires"}, {"Enabled": True, "AttributeName": "ttl"}]
    off = small_table(TimeToLiveSpecification={"Enabled": False, "AttributeName": "ttl"})
    apply_update(TABLE, ctx, pid, new, off)
    assert_matches(TABLE, ctx, pid, off)


def test_table_settings_change_and_reset_when_removed(ctx, calls):
    old = small_table()
    pid, _ = TABLE.create(ctx, old)
    new = small_table(PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                      DeletionProtectionEnabled="true", SSESpecification={"SSEEnabled": True},
                      TableClass="STANDARD_INFREQUENT_ACCESS")
    calls.clear()
    apply_update(TABLE, ctx, pid, old, new)
    # moto ignores SSESpecification and TableClass on UpdateTable: check the calls, not the read-back
    assert_matches(TABLE, ctx, pid, new, skip=("SSESpecification", "TableClass"))
    updates = calls.of("UpdateTable")
    assert {"TableName": pid, "SSESpecification": {"Enabled": True, "SSEType": "KMS"}} in updates
    assert {"TableName": pid, "TableClass": "STANDARD_INFREQUENT_ACCESS"} in updates
    assert {"TableName": pid, "DeletionProtectionEnabled": True} in updates
    with pytest.raises(AwsError, match="deletion protection"):
        TABLE.delete(ctx, pid, new)
    calls.clear()
    before = TABLE.read(ctx, pid, set(new)).properties
    update(TABLE, ctx, pid, {**before, "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                             "TableClass": "STANDARD_INFREQUENT_ACCESS"}, old)  # every setting removed
    assert_matches(TABLE, ctx, pid, old, removed=set(new) - set(old))
    updates = calls.of("UpdateTable")
    assert {"TableName": pid, "SSESpecification": {"Enabled": False}} in updates
    assert {"TableName": pid, "TableClass": "STANDARD"} in updates
    assert calls.of("UpdateContinuousBackups") == [{"TableName": pid, "PointInTimeRecoverySpecification": {
        "PointInTimeRecoveryEnabled": False}}]


def test_table_tags_change_and_ownership_stays(ctx, calls):
    old = small_table(Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    pid, attrs = TABLE.create(ctx, old)
    new = small_table(Tags=[{"Key": "a", "Value": "9"}, {"Key": "c", "Value": "3"}])
    calls.clear()
    apply_update(TABLE, ctx, pid, old, new)
    live = assert_matches(TABLE, ctx, pid, new)
    assert live.owner == OWNER
    assert calls.of("UntagResource") == [{"ResourceArn": attrs["Arn"], "TagKeys": ["b"]}]
    assert not calls.of("UpdateTable")


def test_table_delete_then_gone(ctx):
    pid, _ = TABLE.create(ctx, full_table())
    TABLE.delete(ctx, pid, full_table())
    assert TABLE.read(ctx, pid, {"Tags"}) is None
    TABLE.delete(ctx, pid, full_table())  # already gone is success


def test_table_found_by_ownership_tags(ctx):
    assert TABLE.find_owned(ctx, small_table()) == []
    pid, _ = TABLE.create(ctx, small_table())
    assert TABLE.find_owned(ctx, small_table()) == [pid]
    other = Context(ctx.aws, ctx.region, "teststack", "Other")
    assert TABLE.find_owned(other, small_table()) == []
    TABLE.tag_for_ownership(other, pid)
    assert TABLE.find_owned(other, small_table()) == [pid]
    assert TABLE.read(ctx, pid, {"Tags"}).properties["Tags"] == []  # only the ownership tags changed


def test_table_create_of_a_taken_name_answers_already_exists(ctx):
    boto3.client("dynamodb", region_name="us-east-1").create_table(**{
        k: v for k, v in small_table().items() if k != "BillingMode"}, BillingMode="PROVISIONED")
    assert create_meets_existing(TABLE, ctx, small_table()) == "ResourceInUseException"
    assert TABLE.find_owned(ctx, small_table()) == []  # not this stack's
    assert TABLE.lookup(ctx, small_table()) == "small"


def test_table_plan_reads_turn_a_key_alias_into_its_arn(ctx, calls):
    kms = boto3.client("kms", region_name="us-east-1")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/tables", TargetKeyId=key_arn)
    props = small_table(SSESpecification={"SSEEnabled": True, "KMSMasterKeyId": "alias/tables"})
    reads = TABLE.plan_reads(ctx, props)
    assert reads == {"key_arns": {"alias/tables": key_arn}}
    assert TABLE.desired_view(props, reads)["SSESpecification"] == {
        "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
    assert TABLE.desired_view(props)["SSESpecification"]["KMSMasterKeyId"] == "alias/tables"  # pure: no reads
    calls.clear()
    for no_read in (small_table(), small_table(SSESpecification={"SSEEnabled": True, "KMSMasterKeyId": key_arn}),
                    small_table(SSESpecification={"SSEEnabled": True, "KMSMasterKeyId": "alias/aws/dynamodb"})):
        assert TABLE.plan_reads(ctx, no_read) == {}
    assert calls.names() == []  # an ARN, the managed key or no key: nothing to read
    assert TABLE.plan_reads(ctx, small_table(SSESpecification={"KMSMasterKeyId": "alias/missing"})) == {}
    pid, _ = TABLE.create(ctx, props)
    assert_matches(TABLE, ctx, pid, props)


def test_table_at_stake_counts_its_items(ctx):
    pid, _ = TABLE.create(ctx, small_table())
    assert TABLE.at_stake(ctx, pid, {}) == Stake("0 items, 0 B")
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=pid, Item={"pk": {"S": "a"}})
    stake = TABLE.at_stake(ctx, pid, {})
    assert stake.summary.startswith("1 item, ") and not stake.refuse_without_force
    assert TABLE.at_stake(ctx, "no-such-table", {}) is None


# --- SQS -------------------------------------------------------------------------------------------

def dead_letter_arn() -> str:
    client = boto3.client("sqs", region_name="us-east-1")
    url = client.create_queue(QueueName="dlq")["QueueUrl"]
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def full_queue(dlq: str) -> dict[str, Any]:
    return {
        "QueueName": "jobs",
        "DelaySeconds": "5",
        "MaximumMessageSize": 2048,
        "MessageRetentionPeriod": 600,
        "ReceiveMessageWaitTimeSeconds": 10,
        "VisibilityTimeout": "45",
        "KmsMasterKeyId": "alias/aws/sqs",
        "KmsDataKeyReusePeriodSeconds": 900,
        "RedrivePolicy": {"deadLetterTargetArn": dlq, "maxReceiveCount": "4"},
        "RedriveAllowPolicy": {"redrivePermission": "denyAll"},
        "Tags": [{"Key": "team", "Value": "core"}],
    }


def test_queue_handler_is_registered():
    assert isinstance(handler_for("AWS::SQS::Queue"), sqs.Queue)
    assert QUEUE.physical_id_for({"QueueName": "jobs"}) is None


def test_queue_create_reads_back_every_group(ctx, calls):
    props = full_queue(dead_letter_arn())
    url, attrs = QUEUE.create(ctx, props)
    assert url.endswith("/123456789012/jobs")
    assert attrs == {"QueueUrl": url, "Arn": "arn:aws:sqs:us-east-1:123456789012:jobs", "QueueName": "jobs"}
    # moto stores RedriveAllowPolicy but never returns it: check what create sent
    live = assert_matches(QUEUE, ctx, url, props, skip=("RedriveAllowPolicy",))
    (created,) = calls.of("CreateQueue")
    assert created["Attributes"]["RedriveAllowPolicy"] == '{"redrivePermission":"denyAll"}'
    assert created["tags"] == {"team": "core", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}
    assert live.owner == OWNER
    assert live.properties["DelaySeconds"] == 5 and live.properties["RedrivePolicy"]["maxReceiveCount"] == 4
    assert live.properties["SqsManagedSseEnabled"] is False  # SSE-KMS, not SSE-SQS
    assert live.attributes == attrs
    assert "FifoQueue" not in live.properties


def test_queue_fifo_gets_a_fifo_name(ctx):
    props = {"QueueName": QUEUE.generate_name("teststack", "L" * 90, {"FifoQueue": True}, "abcd1234"), "FifoQueue": "true",
             "ContentBasedDeduplication": True, "DeduplicationScope": "messageGroup",
             "FifoThroughputLimit": "perMessageGroupId"}
    assert props["QueueName"].endswith(".fifo") and len(props["QueueName"]) <= 80
    url, attrs = QUEUE.create(ctx, props)
    assert attrs["QueueName"] == props["QueueName"]
    assert_matches(QUEUE, ctx, url, props)
    unsuffixed = {"QueueName": "teststack-Jobs-0123abcd", "FifoQueue": True}  # as the engine generates it
    url, attrs = QUEUE.create(ctx, unsuffixed)
    assert attrs["QueueName"] == "teststack-Jobs-0123abcd.fifo"
    assert_matches(QUEUE, ctx, url, unsuffixed)


def test_fifo_name_keeps_the_random_tail():
    name = sqs.fifo_name("s" * 75 + "-abcd1234")
    assert name.endswith("-abcd1234.fifo") and len(name) == 80
    assert sqs.fifo_name("jobs.fifo") == "jobs.fifo"


def test_queue_update_changes_every_attribute_in_one_call(ctx, calls):
    dlq = dead_letter_arn()
    old = full_queue(dlq)
    url, _ = QUEUE.create(ctx, old)
    new = {**old, "DelaySeconds": 1, "MaximumMessageSize": "4096", "MessageRetentionPeriod": 1200,
           "ReceiveMessageWaitTimeSeconds": 20, "VisibilityTimeout": 60, "KmsMasterKeyId": "alias/other",
           "KmsDataKeyReusePeriodSeconds": 120, "RedrivePolicy": {"deadLetterTargetArn": dlq, "maxReceiveCount": 9},
           "RedriveAllowPolicy": {"redrivePermission": "allowAll"}}
    calls.clear()
    attrs = apply_update(QUEUE, ctx, url, old, new)
    assert attrs["QueueUrl"] == url
    assert_matches(QUEUE, ctx, url, new, skip=("RedriveAllowPolicy",))
    (changed,) = calls.of("SetQueueAttributes")
    assert changed["Attributes"] == {
        "DelaySeconds": "1", "MaximumMessageSize": "4096", "MessageRetentionPeriod": "1200",
        "ReceiveMessageWaitTimeSeconds": "20", "VisibilityTimeout": "60", "KmsMasterKeyId": "alias/other",
        "KmsDataKeyReusePeriodSeconds": "120", "RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq}","maxReceiveCount":9}}',
        "RedriveAllowPolicy": '{"redrivePermission":"allowAll"}'}
    assert not calls.of("TagQueue")


def test_queue_removed_properties_reset_to_defaults(ctx, calls):
    old = full_queue(dead_letter_arn())
    url, _ = QUEUE.create(ctx, old)
    new = {"QueueName": "jobs"}
    calls.clear()
    before = QUEUE.read(ctx, url, set(old)).properties
    before["RedriveAllowPolicy"] = old["RedriveAllowPolicy"]  # what AWS would read (moto never returns it)
    update(QUEUE, ctx, url, before, new)
    assert_matches(QUEUE, ctx, url, new, skip=("RedriveAllowPolicy",), removed=set(old))
    (changed,) = calls.of("SetQueueAttributes")
    assert changed["Attributes"] == {
        "DelaySeconds": "0", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
        "ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "30", "KmsMasterKeyId": "",
        "KmsDataKeyReusePeriodSeconds": "300", "SqsManagedSseEnabled": "true", "RedrivePolicy": "",
        "RedriveAllowPolicy": ""}
    assert calls.of("UntagQueue") == [{"QueueUrl": url, "TagKeys": ["team"]}]
    assert QUEUE.read(ctx, url, {"Tags"}).owner == OWNER


def test_queue_fifo_settings_change_in_place(ctx):
    old = {"QueueName": "orders.fifo", "FifoQueue": True, "ContentBasedDeduplication": True}
    url, _ = QUEUE.create(ctx, old)
    new = {"QueueName": "orders.fifo", "FifoQueue": True, "DeduplicationScope": "messageGroup",
           "FifoThroughputLimit": "perMessageGroupId"}
    apply_update(QUEUE, ctx, url, old, new)
    assert_matches(QUEUE, ctx, url, new, removed={"ContentBasedDeduplication"})


def test_queue_read_fetches_only_what_is_wanted(ctx):
    url, _ = QUEUE.create(ctx, {"QueueName": "jobs", "VisibilityTimeout": 31})
    ctx.aws.log.calls.clear()
    live = QUEUE.read(ctx, url, {"QueueName"})
    assert dict(ctx.aws.log.counts()) == {"sqs.GetQueueAttributes": 1}
    assert live.properties == {"QueueName": "jobs", "VisibilityTimeout": 31}
    ctx.aws.log.calls.clear()
    QUEUE.read(ctx, url, {"Tags"})
    assert dict(ctx.aws.log.counts()) == {"sqs.GetQueueAttributes": 1, "sqs.ListQueueTags": 1}


def test_queue_lookup_turns_a_name_into_its_url(ctx, calls):
    """CreateQueue answers an existing queue's URL when the attributes match, so the plan finds a
    name clash by lookup (one GetQueueUrl); different attributes answer already-exists."""
    taken = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="taken")["QueueUrl"]
    calls.clear()
    assert QUEUE.lookup(ctx, {"QueueName": "taken"}) == taken
    assert QUEUE.lookup(ctx, {"QueueName": "free"}) is None
    assert calls.names() == ["GetQueueUrl", "GetQueueUrl"]
    assert QUEUE.lookup(ctx, {"QueueName": "taken", "FifoQueue": True}) is None  # that is taken.fifo
    assert QUEUE.lookup(ctx, {"QueueName": UNKNOWN}) is None
    assert create_meets_existing(QUEUE, ctx, {"QueueName": "taken", "DelaySeconds": 5}) == "QueueAlreadyExists"
    assert QUEUE.find_owned(ctx, {"QueueName": "taken"}) == []


def test_queue_delete_then_gone(ctx):
    url, _ = QUEUE.create(ctx, {"QueueName": "jobs"})
    QUEUE.delete(ctx, url, {})
    assert QUEUE.read(ctx, url, {"Tags"}) is None
    QUEUE.delete(ctx, url, {})  # already gone is success


def test_queue_found_by_ownership_tags(ctx):
    assert QUEUE.find_owned(ctx, {"QueueName": "jobs"}) == []
    url, _ = QUEUE.create(ctx, {"QueueName": "jobs"})
    assert QUEUE.find_owned(ctx, {"QueueName": "jobs"}) == [url]
    other = Context(ctx.aws, ctx.region, "teststack", "Other")
    assert QUEUE.find_owned(other, {"QueueName": "jobs"}) == []
    QUEUE.tag_for_ownership(other, url)
    assert QUEUE.find_owned(other, {"QueueName": "jobs"}) == [url]


def test_queue_at_stake_counts_waiting_and_in_flight_messages(ctx):
    url, _ = QUEUE.create(ctx, {"QueueName": "jobs"})
    assert QUEUE.at_stake(ctx, url, {}) == Stake("0 queued messages (approximate)")
    client = boto3.client("sqs", region_name="us-east-1")
    client.send_message(QueueUrl=url, MessageBody="a")
    assert QUEUE.at_stake(ctx, url, {}) == Stake("1 queued message (approximate)")
    client.send_message(QueueUrl=url, MessageBody="b")
    client.receive_message(QueueUrl=url, MaxNumberOfMessages=1)  # in flight: still lost with the queue
    assert QUEUE.at_stake(ctx, url, {}) == Stake("2 queued messages (approximate)")
    QUEUE.delete(ctx, url, {})
    assert QUEUE.at_stake(ctx, url, {}) is None
