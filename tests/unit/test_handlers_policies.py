"""The bucket policy and queue policy handlers against in-process moto: the policy found through its bucket
or queues, documents compared by meaning (AWS hands them back as JSON text), updates that write only when
the meaning changed, deletes that clear the policy and tolerate a parent already gone."""

from __future__ import annotations

import json

import boto3
import pytest

from deployer.resources import handler_for, s3, sqs
from tests.unit.handler_support import ref_property, update
from tests.unit.messaging_support import apply_update, assert_matches, changes, policy

BUCKET_POLICY = s3.BucketPolicy()
QUEUE_POLICY = sqs.QueuePolicy()
ACCOUNT = "123456789012"


def client(service: str):
    return boto3.client(service, region_name="us-east-1")


def read_only(bucket: str) -> dict:
    """Two statements, one with a Sid and one without."""
    reader = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    return policy({"Sid": "Read", "Effect": "Allow", "Principal": reader, "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{bucket}/*"},
                  {"Effect": "Allow", "Principal": reader, "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"})


def send_only(queue_arn: str) -> dict:
    """Two statements, one with a Sid and one without."""
    return policy({"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                   "Action": "sqs:SendMessage", "Resource": queue_arn},
                  {"Sid": "Inspect", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                   "Action": "sqs:GetQueueAttributes", "Resource": queue_arn})


def equivalents(doc: dict) -> list:
    """The same policy written differently: lists for single values, no Version, an empty Sid, statements
    reordered, and as JSON text."""
    statements = doc["Statement"]
    as_lists = {**doc, "Statement": [{**s, "Action": [s["Action"]], "Resource": [s["Resource"]]} for s in statements]}
    without_version = {k: v for k, v in doc.items() if k != "Version"}
    empty_sid = {**doc, "Statement": [{**s, "Sid": ""} if "Sid" not in s else s for s in statements]}
    reordered = {**doc, "Statement": list(reversed(statements))}
    return [as_lists, without_version, empty_sid, reordered, json.dumps(doc)]


@pytest.fixture
def bucket(ctx) -> str:
    client("s3").create_bucket(Bucket="policy-bucket")
    return "policy-bucket"


@pytest.fixture
def queues(ctx) -> list[str]:
    return [client("sqs").create_queue(QueueName=name)["QueueUrl"] for name in ("q-b", "q-a")]


# --- AWS::S3::BucketPolicy ------------------------------------------------------------------------

def test_policy_handlers_are_registered():
    assert isinstance(handler_for("AWS::S3::BucketPolicy"), s3.BucketPolicy)
    assert isinstance(handler_for("AWS::SQS::QueuePolicy"), sqs.QueuePolicy)
    assert BUCKET_POLICY.create_only == {"Bucket"} and QUEUE_POLICY.create_only == {"Queues"}
    assert not BUCKET_POLICY.taggable and not QUEUE_POLICY.taggable
    assert ref_property(BUCKET_POLICY) == "Bucket" and QUEUE_POLICY.attribute_names == ("Id",)


def test_bucket_policy_written_as_text_reads_back_as_data(ctx, bucket):
    props = {"Bucket": bucket, "PolicyDocument": json.dumps(read_only(bucket))}
    assert BUCKET_POLICY.physical_id_for(props) == bucket
    pid, attrs = BUCKET_POLICY.create(ctx, props)
    assert (pid, attrs) == (bucket, {})
    live = assert_matches(BUCKET_POLICY, ctx, pid, props)
    assert live.properties == {"Bucket": bucket, "PolicyDocument": read_only(bucket)}
    assert BUCKET_POLICY.desired_view(props)["PolicyDocument"] == read_only(bucket)


@pytest.mark.parametrize("index", range(5))
def test_bucket_policy_equivalent_forms_show_no_change(ctx, bucket, index):
    pid, _ = BUCKET_POLICY.create(ctx, {"Bucket": bucket, "PolicyDocument": read_only(bucket)})
    same = {"Bucket": bucket, "PolicyDocument": equivalents(read_only(bucket))[index]}
    assert changes(BUCKET_POLICY, ctx, pid, same) == []


def test_bucket_policy_update_writes_only_a_new_meaning(ctx, bucket, calls):
    old = {"Bucket": bucket, "PolicyDocument": read_only(bucket)}
    pid, _ = BUCKET_POLICY.create(ctx, old)
    calls.clear()
    apply_update(BUCKET_POLICY, ctx, pid, old, {"Bucket": bucket, "PolicyDocument": equivalents(read_only(bucket))[0]})
    assert calls.of("PutBucketPolicy") == []
    doc = read_only(bucket)
    doc["Statement"][0]["Action"] = ["s3:GetObject", "s3:GetObjectVersion"]
    new = {"Bucket": bucket, "PolicyDocument": doc}
    apply_update(BUCKET_POLICY, ctx, pid, old, new)
    assert len(calls.of("PutBucketPolicy")) == 1
    assert_matches(BUCKET_POLICY, ctx, pid, new)


def test_bucket_policy_read_is_one_call_and_none_without_policy_or_bucket(ctx, bucket):
    assert BUCKET_POLICY.read(ctx, bucket, {"PolicyDocument"}) is None
    assert BUCKET_POLICY.read(ctx, "no-such-bucket", {"PolicyDocument"}) is None
    BUCKET_POLICY.create(ctx, {"Bucket": bucket, "PolicyDocument": read_only(bucket)})
    ctx.aws.log.calls.clear()
    BUCKET_POLICY.read(ctx, bucket, {"Bucket", "PolicyDocument"})
    assert dict(ctx.aws.log.counts()) == {"s3.GetBucketPolicy": 1}


def test_bucket_policy_delete_clears_it_and_tolerates_a_gone_bucket(ctx, bucket):
    pid, _ = BUCKET_POLICY.create(ctx, {"Bucket": bucket, "PolicyDocument": read_only(bucket)})
    BUCKET_POLICY.delete(ctx, pid, {})
    assert BUCKET_POLICY.read(ctx, pid, {"PolicyDocument"}) is None
    BUCKET_POLICY.delete(ctx, pid, {})
    client("s3").delete_bucket(Bucket=bucket)
    BUCKET_POLICY.delete(ctx, pid, {})


# --- AWS::SQS::QueuePolicy ------------------------------------------------------------------------

def test_queue_policy_id_is_the_sorted_queue_urls(ctx, queues):
    b, a = queues
    doc = send_only(f"arn:aws:sqs:us-east-1:{ACCOUNT}:*")
    props = {"Queues": [b, a, b], "PolicyDocument": json.dumps(doc)}
    assert QUEUE_POLICY.physical_id_for(props) == f"{a}|{b}"
    pid, attrs = QUEUE_POLICY.create(ctx, props)
    assert pid == f"{a}|{b}" and attrs == {"Id": pid}
    for url in queues:
        text = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
        assert json.loads(text) == doc
    live = assert_matches(QUEUE_POLICY, ctx, pid, props)
    assert live.properties == {"Queues": [a, b], "PolicyDocument": doc}
    assert QUEUE_POLICY.physical_id_for({"Queues": [a]}) == a  # the usual case: the queue URL itself


@pytest.mark.parametrize("index", range(5))
def test_queue_policy_equivalent_forms_show_no_change(ctx, queues, index):
    doc = send_only(f"arn:aws:sqs:us-east-1:{ACCOUNT}:q-a")
    pid, _ = QUEUE_POLICY.create(ctx, {"Queues": queues[1:], "PolicyDocument": doc})
    assert changes(QUEUE_POLICY, ctx, pid, {"Queues": queues[1:], "PolicyDocument": equivalents(doc)[index]}) == []


def test_queue_policy_update_sets_every_queue(ctx, queues, calls):
    old = {"Queues": queues, "PolicyDocument": send_only("*")}
    pid, _ = QUEUE_POLICY.create(ctx, old)
    new = {"Queues": queues, "PolicyDocument": send_only(f"arn:aws:sqs:us-east-1:{ACCOUNT}:q-a")}
    calls.clear()
    assert apply_update(QUEUE_POLICY, ctx, pid, old, new) == {"Id": pid}
    assert sorted(p["QueueUrl"] for p in calls.of("SetQueueAttributes")) == sorted(queues)
    assert_matches(QUEUE_POLICY, ctx, pid, new)


def test_queue_policy_drift_on_one_queue_shows_and_is_repaired(ctx, queues):
    props = {"Queues": queues, "PolicyDocument": send_only("*")}
    pid, _ = QUEUE_POLICY.create(ctx, props)
    client("sqs").set_queue_attributes(QueueUrl=queues[0], Attributes={"Policy": ""})
    live = QUEUE_POLICY.read(ctx, pid, set(props))
    assert live.properties["PolicyDocument"] == {queues[0]: None, queues[1]: send_only("*")}
    assert [c.path.split(".")[0] for c in changes(QUEUE_POLICY, ctx, pid, props)] == ["PolicyDocument"] * 3
    update(QUEUE_POLICY, ctx, pid, live.properties, props)
    assert_matches(QUEUE_POLICY, ctx, pid, props)


def test_queue_policy_read_drops_gone_queues_and_is_none_without_any_policy(ctx, queues):
    b, a = queues
    pid, _ = QUEUE_POLICY.create(ctx, {"Queues": queues, "PolicyDocument": send_only("*")})
    client("sqs").delete_queue(QueueUrl=b)
    live = QUEUE_POLICY.read(ctx, pid, {"Queues"})
    assert live.properties["Queues"] == [a]  # a change to a create-only property: the plan replaces it
    client("sqs").set_queue_attributes(QueueUrl=a, Attributes={"Policy": ""})
    assert QUEUE_POLICY.read(ctx, pid, {"Queues"}) is None


def test_queue_policy_delete_clears_every_queue_and_tolerates_gone_ones(ctx, queues):
    pid, _ = QUEUE_POLICY.create(ctx, {"Queues": queues, "PolicyDocument": send_only("*")})
    client("sqs").delete_queue(QueueUrl=queues[0])
    QUEUE_POLICY.delete(ctx, pid, {})
    attrs = client("sqs").get_queue_attributes(QueueUrl=queues[1], AttributeNames=["Policy"]).get("Attributes", {})
    assert not attrs.get("Policy")
    assert QUEUE_POLICY.read(ctx, pid, {"Queues"}) is None


def test_queue_policy_view_leaves_unknown_queues_alone():
    from deployer.spec.refs import UNKNOWN

    props = {"Queues": [UNKNOWN, "https://q"], "PolicyDocument": UNKNOWN}
    assert QUEUE_POLICY.desired_view(props) == props
    assert QUEUE_POLICY.physical_id_for(props) is None
