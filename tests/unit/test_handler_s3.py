"""The S3 bucket handler against in-process moto: every property group written, read back in spec
shape, changed, reset; reads that fetch only what is wanted; deletes that leave nothing behind.

moto drops a logging TargetObjectKeyFormat, rewrites replication rule filters (And and Tag filters,
and a V1 Prefix, read back as Filter {Prefix: ""}, with Priority 1 and DeleteMarkerReplication added)
and answers a default retention with the other period as 0: the tests keep moto to the forms it stores
faithfully, check the other forms with the converters alone, and check what the handler sent."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from deployer.aws import Aws, is_mutating
from deployer.errors import DeployerError
from deployer.normalize import canon
from deployer.resources import handler_for, s3
from deployer.resources.base import Context, Settings, Stake
from tests.unit.handler_support import create_meets_existing, update

NAME = "teststack-logicalid-bucket"
HANDLER = s3.Bucket()
GROUP_PROPS = [g.prop for g in s3.GROUPS]
ALL_WANTED = set(GROUP_PROPS) | {"Tags", "BucketName"}

LOG_BUCKET = "teststack-access-logs"


@pytest.fixture
def queue_arn(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    _log_bucket()
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _log_bucket() -> None:
    """A bucket that lets S3's logging service write server access logs (a bucket policy, AWS's way)."""
    raw = boto3.client("s3", region_name="us-east-1")
    raw.create_bucket(Bucket=LOG_BUCKET)
    raw.put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*"}]}))


def full_spec(queue_arn: str) -> dict[str, Any]:
    """Every supported group, limited to what moto stores faithfully (see test_converters_round_trip)."""
    return {
        "BucketName": NAME,
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/app"},
             "BucketKeyEnabled": True}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "LifecycleConfiguration": {"Rules": [
            {"Id": "logs", "Status": "Enabled", "Prefix": "logs/", "ExpirationInDays": 30,
             "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 10}],
             "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER", "TransitionInDays": 5,
                                               "NewerNoncurrentVersions": 2}],
             "NoncurrentVersionExpiration": {"NoncurrentDays": 40},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
            {"Id": "dated", "Status": "Disabled", "Prefix": "a/",
             "TagFilters": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "v2"}],
             "ExpirationDate": "2030-01-01T00:00:00Z",
             "Transitions": [{"StorageClass": "GLACIER", "TransitionDate": "2029-01-01T00:00:00Z"}]},
            {"Id": "one-tag", "Status": "Enabled", "TagFilters": [{"Key": "k", "Value": "v"}],
             "ExpirationInDays": 3},
            {"Id": "everything", "Status": "Enabled", "ExpirationInDays": 365},
        ]},
        "CorsConfiguration": {"CorsRules": [
            {"Id": "c1", "AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"],
             "AllowedHeaders": ["x-a"], "ExposedHeaders": ["ETag"], "MaxAge": 600},
            {"AllowedMethods": ["PUT"], "AllowedOrigins": ["https://example.com"]}]},
        "WebsiteConfiguration": {"IndexDocument": "index.html", "ErrorDocument": "error.html",
                                 "RoutingRules": [
            {"RoutingRuleCondition": {"KeyPrefixEquals": "docs/"},
             "RedirectRule": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"}}]},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "NotificationConfiguration": {"QueueConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Queue": queue_arn,
             "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"},
                                            {"Name": "suffix", "Value": ".csv"}]}}},
            {"Event": "s3:ObjectRemoved:*", "Queue": queue_arn}]},
        "LoggingConfiguration": {"DestinationBucketName": LOG_BUCKET, "LogFilePrefix": "data/"},
        "Tags": [{"Key": "team", "Value": "data"}],
    }


def changed_spec(queue_arn: str) -> dict[str, Any]:
    """full_spec with every group changed in place."""
    return {
        "BucketName": NAME,
        "VersioningConfiguration": {"Status": "Suspended"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": False,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": False},
        "LifecycleConfiguration": {"Rules": [{"Id": "logs", "Status": "Enabled", "Prefix": "logs/",
                                              "ExpirationInDays": 90}]},
        "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["GET"],
                                             "AllowedOrigins": ["https://a.example"]}]},
        "WebsiteConfiguration": {"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
        "NotificationConfiguration": {"QueueConfigurations": [
            {"Event": "s3:ObjectRestore:*", "Queue": queue_arn}]},
        "LoggingConfiguration": {"DestinationBucketName": LOG_BUCKET},
        "Tags": [{"Key": "team", "Value": "platform"}, {"Key": "cost", "Value": "42"}],
    }


def read_all(ctx: Context):
    return HANDLER.read(ctx, NAME, ALL_WANTED)


def calls_during(aws: Aws, action) -> Counter:
    before = aws.log.counts()
    action()
    return aws.log.counts() - before


def mutating(calls: Counter) -> list[str]:
    return sorted(c for c in calls if is_mutating(c.split(".", 1)[1]))


def test_registered_for_its_type():
    assert isinstance(handler_for("AWS::S3::Bucket"), s3.Bucket)


def test_create_then_read_gives_back_the_spec(ctx, queue_arn):
    spec = full_spec(queue_arn)
    name, attrs = HANDLER.create(ctx, spec)
    assert name == NAME
    live = read_all(ctx)
    assert canon(live.properties) == canon(spec)
    assert canon(HANDLER.desired_view(spec)) == canon(spec)
    assert live.owner == ("teststack", "LogicalId")
    assert attrs == live.attributes == {
        "BucketName": NAME, "Arn": f"arn:aws:s3:::{NAME}", "DomainName": f"{NAME}.s3.amazonaws.com",
        "RegionalDomainName": f"{NAME}.s3.us-east-1.amazonaws.com",
        "DualStackDomainName": f"{NAME}.s3.dualstack.us-east-1.amazonaws.com",
        "WebsiteURL": f"http://{NAME}.s3-website-us-east-1.amazonaws.com"}


def test_create_outside_us_east_1_and_with_a_generated_name(aws):
    ctx = Context(aws, "eu-west-1", "TestStack", "Assets")
    generated = HANDLER.generate_name("TestStack", "Assets", {}, "0a1b2c3d")
    assert generated == "teststack-assets-0a1b2c3d"
    name, attrs = HANDLER.create(ctx, {"BucketName": generated})
    region = aws.client("s3", "eu-west-1").get_bucket_location(Bucket=name)["LocationConstraint"]
    assert region == "eu-west-1"
    assert attrs["RegionalDomainName"] == f"{name}.s3.eu-west-1.amazonaws.com"


def test_update_changes_each_group_in_place(ctx, queue_arn):
    HANDLER.create(ctx, full_spec(queue_arn))
    new = changed_spec(queue_arn)
    update(HANDLER, ctx, NAME, read_all(ctx).properties, new)
    live = read_all(ctx)
    assert canon(live.properties) == canon(new)
    assert live.owner == ("teststack", "LogicalId")


def test_update_writes_only_what_changed(ctx, aws, queue_arn):
    spec = full_spec(queue_arn)
    HANDLER.create(ctx, spec)
    new = copy.deepcopy(spec)
    new["CorsConfiguration"]["CorsRules"][0]["MaxAge"] = 60
    before = read_all(ctx).properties
    calls = calls_during(aws, lambda: update(HANDLER, ctx, NAME, before, new))
    assert mutating(calls) == ["s3.PutBucketCors"]
    again = read_all(ctx).properties
    assert mutating(calls_during(aws, lambda: update(HANDLER, ctx, NAME, again, new))) == []


def test_removing_each_group_resets_it_to_the_default(ctx, queue_arn):
    HANDLER.create(ctx, full_spec(queue_arn))
    update(HANDLER, ctx, NAME, read_all(ctx).properties, {"BucketName": NAME})
    live = read_all(ctx)
    for prop in GROUP_PROPS:
        default = HANDLER.defaults.get(prop)
        assert canon(live.properties.get(prop, default)) == canon(default), prop
    assert live.properties["VersioningConfiguration"] == {"Status": "Suspended"}
    assert "Tags" not in live.properties
    assert live.owner == ("teststack", "LogicalId")  # ownership tags survive the user's tags going


def test_a_new_bucket_compares_clean_against_an_empty_spec(ctx):
    HANDLER.create(ctx, {"BucketName": NAME})
    live = read_all(ctx)
    assert live.properties == {"BucketName": NAME}
    for prop in GROUP_PROPS:
        assert not HANDLER.differs(live.properties, HANDLER.desired_view({"BucketName": NAME}), prop)


def test_read_fetches_only_the_wanted_groups(ctx, aws, queue_arn):
    HANDLER.create(ctx, full_spec(queue_arn))
    calls = calls_during(aws, lambda: HANDLER.read(ctx, NAME, {"BucketName"}))
    assert calls == Counter({"s3.HeadBucket": 1})
    calls = calls_during(aws, lambda: HANDLER.read(ctx, NAME, {"Tags", "CorsConfiguration"}))
    assert calls == Counter({"s3.GetBucketTagging": 1, "s3.GetBucketCors": 1})  # no HeadBucket before them
    calls = calls_during(aws, lambda: read_all(ctx))
    reads = {g.get for g in s3.GROUPS}  # Object Lock's two properties share one call
    assert sum(calls.values()) == len(reads) + 1 and max(calls.values()) == 1  # tags, no HeadBucket


@pytest.mark.parametrize("wanted", [ALL_WANTED, {"Tags"}, {"CorsConfiguration"}, {"BucketName"}])
def test_read_of_a_missing_bucket_is_none_in_one_call(ctx, aws, wanted):
    calls = calls_during(aws, lambda: HANDLER.read(ctx, "no-such-bucket-here", wanted))
    assert sum(calls.values()) == 1  # the first read answers NoSuchBucket


def test_create_is_create_bucket_and_one_tagging_call(aws):
    ctx = Context(aws, "eu-west-1", "teststack", "LogicalId")
    calls = calls_during(aws, lambda: HANDLER.create(ctx, {"BucketName": NAME, "Tags": [{"Key": "a", "Value": "b"}]}))
    assert calls == Counter({"s3.CreateBucket": 1, "s3.PutBucketTagging": 1})  # no bucket_exists waiter
    east = Context(aws, "us-east-1", "teststack", "LogicalId")
    calls = calls_during(aws, lambda: HANDLER.create(east, {"BucketName": NAME + "-east"}))
    # us-east-1 answers 200 to CreateBucket of a bucket the account owns: one HeadBucket first
    assert calls == Counter({"s3.HeadBucket": 1, "s3.CreateBucket": 1, "s3.PutBucketTagging": 1})
    # ... unless this command's own plan found it absent moments ago (not a saved plan of long ago)
    fresh = Context(aws, "us-east-1", "teststack", "LogicalId", settings=Settings(absence_fresh=True))
    calls = calls_during(aws, lambda: HANDLER.create(fresh, {"BucketName": NAME + "-fresh"}))
    assert calls == Counter({"s3.CreateBucket": 1, "s3.PutBucketTagging": 1})


def test_tagging_a_bucket_not_visible_yet_is_repeated(ctx, aws, pauses):
    from botocore.exceptions import ClientError

    misses = iter([1])

    def not_yet(**_):
        if next(misses, None):
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "not yet"}}, "PutBucketTagging")

    aws.client("s3", "us-east-1").meta.events.register("before-call.s3.PutBucketTagging", not_yet)
    HANDLER.create(ctx, {"BucketName": NAME})
    assert len(pauses) == 1 and read_all(ctx).owner == ("teststack", "LogicalId")


def forced(ctx: Context) -> Context:
    """The same resource with lifecycle.force_destroy set."""
    return Context(ctx.aws, ctx.region, ctx.stack, ctx.logical_id, settings=Settings(force_destroy=True))


def test_delete_empties_every_version_then_deletes(ctx, aws, monkeypatch):
    HANDLER.create(ctx, {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}})
    client = aws.client("s3", "us-east-1")
    for i in range(3):
        client.put_object(Bucket=NAME, Key=f"k{i}", Body=b"1")
        client.put_object(Bucket=NAME, Key=f"k{i}", Body=b"2")
    client.delete_object(Bucket=NAME, Key="k0")  # a delete marker
    monkeypatch.setattr(s3, "DELETE_BATCH", 3)
    calls = calls_during(aws, lambda: HANDLER.delete(forced(ctx), NAME, {}))
    assert calls["s3.DeleteObjects"] == 3  # 6 versions + 1 marker in batches of 3
    assert HANDLER.read(ctx, NAME, ALL_WANTED) is None
    HANDLER.delete(forced(ctx), NAME, {})  # already gone: success
    HANDLER.delete(ctx, NAME, {})


def test_a_bucket_holding_objects_is_not_deleted_without_force_destroy(ctx, aws):
    HANDLER.create(ctx, {"BucketName": NAME})
    aws.client("s3", "us-east-1").put_object(Bucket=NAME, Key="k", Body=b"1")
    with pytest.raises(DeployerError, match="force_destroy"):
        HANDLER.delete(ctx, NAME, {})
    assert aws.client("s3", "us-east-1").list_objects_v2(Bucket=NAME)["KeyCount"] == 1


@pytest.mark.parametrize("versioned", [False, True])
def test_delete_bucket_itself_refuses_a_bucket_holding_objects(ctx, aws, versioned):
    spec = {"BucketName": NAME, **({"VersioningConfiguration": {"Status": "Enabled"}} if versioned else {})}
    HANDLER.create(ctx, spec)
    client = aws.client("s3", "us-east-1")
    client.put_object(Bucket=NAME, Key="k", Body=b"1")
    if versioned:
        client.delete_object(Bucket=NAME, Key="k")  # only a version and a delete marker left
    before = aws.log.counts()
    with pytest.raises(DeployerError, match="holds objects"):
        HANDLER.delete(ctx, NAME, {})
    assert aws.log.counts() - before == Counter({"s3.DeleteBucket": 1})  # no listing before it
    assert HANDLER.read(ctx, NAME, {"BucketName"}) is not None


def test_an_empty_bucket_is_deleted_without_force_destroy(ctx, aws):
    HANDLER.create(ctx, {"BucketName": NAME})
    calls = calls_during(aws, lambda: HANDLER.delete(ctx, NAME, {}))
    assert calls == Counter({"s3.DeleteBucket": 1})  # no emptiness check, no bucket_not_exists waiter
    assert HANDLER.read(ctx, NAME, ALL_WANTED) is None


def test_delete_empties_again_when_objects_arrive_meanwhile(ctx, aws, pauses):
    HANDLER.create(ctx, {"BucketName": NAME})
    client = aws.client("s3", "us-east-1")
    writes = iter([1])

    def write_late(**_):  # one object lands after the bucket was emptied, before delete_bucket
        if next(writes, None):
            client.put_object(Bucket=NAME, Key="late", Body=b"1")

    client.meta.events.register("before-call.s3.DeleteBucket", write_late)
    calls = calls_during(aws, lambda: HANDLER.delete(forced(ctx), NAME, {}))
    assert calls["s3.DeleteBucket"] == 2 and calls["s3.DeleteObjects"] == 1
    assert len(pauses) == 1  # one pause (deployer.waiting) between the two tries
    assert HANDLER.read(ctx, NAME, ALL_WANTED) is None


def test_at_stake_counts_every_version_and_its_bytes(ctx, aws):
    HANDLER.create(ctx, {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}})
    assert HANDLER.at_stake(ctx, NAME, {}) == Stake("0 objects, 0 B", refuse_without_force=False)
    client = aws.client("s3", "us-east-1")
    client.put_object(Bucket=NAME, Key="a", Body=b"x" * 2048)
    assert HANDLER.at_stake(ctx, NAME, {}) == Stake("1 object, 2.0 KiB", refuse_without_force=True)
    client.put_object(Bucket=NAME, Key="a", Body=b"x" * 1024)
    client.delete_object(Bucket=NAME, Key="a")  # a delete marker counts too
    assert HANDLER.at_stake(ctx, NAME, {}) == Stake("3 objects, 3.0 KiB", refuse_without_force=True)
    assert HANDLER.at_stake(ctx, "no-such-bucket-here", {}) is None


def test_at_stake_stops_counting_at_its_limit(ctx, aws, monkeypatch):
    HANDLER.create(ctx, {"BucketName": NAME})
    for key in "abc":
        aws.client("s3", "us-east-1").put_object(Bucket=NAME, Key=key, Body=b"1")
    counted = s3.count_objects
    monkeypatch.setattr(s3, "STAKE_LIMIT", 2)
    monkeypatch.setattr(s3, "count_objects", lambda client, bucket: counted(client, bucket, limit=2))
    assert HANDLER.at_stake(ctx, NAME, {}) == Stake("at least 2 objects", refuse_without_force=True)


def test_find_owned_by_ownership_tags(ctx, aws):
    HANDLER.create(ctx, {"BucketName": NAME})
    HANDLER.create(Context(aws, "us-east-1", "teststack", "Other"), {"BucketName": "another-bucket-x"})
    assert HANDLER.find_owned(ctx, {"BucketName": NAME}) == [NAME]
    assert HANDLER.find_owned(Context(aws, "us-east-1", "teststack", "Nobody"), {}) == []


def test_lookup_is_the_name(ctx):
    assert HANDLER.lookup(ctx, {"BucketName": NAME}) == NAME
    assert HANDLER.lookup(ctx, {}) is None


def test_create_of_a_name_already_taken_outside_us_east_1_answers_already_exists(aws):
    ctx = Context(aws, "eu-west-1", "teststack", "LogicalId")
    HANDLER.create(Context(aws, "eu-west-1", "teststack", "Other"), {"BucketName": NAME})
    assert create_meets_existing(HANDLER, ctx, {"BucketName": NAME}) == "BucketAlreadyOwnedByYou"
    assert HANDLER.read(ctx, NAME, {"Tags"}).owner == ("teststack", "Other")  # untouched
    assert HANDLER.find_owned(ctx, {"BucketName": NAME}) == []


def test_create_of_a_name_already_taken_in_us_east_1_answers_already_exists(ctx, aws):
    HANDLER.create(Context(aws, "us-east-1", "teststack", "Other"), {"BucketName": NAME})
    create_meets_existing(HANDLER, ctx, {"BucketName": NAME})
    assert HANDLER.read(ctx, NAME, {"Tags"}).owner == ("teststack", "Other")


def test_tag_for_ownership_keeps_the_buckets_tags(ctx, aws):
    client = aws.client("s3", "us-east-1")
    client.create_bucket(Bucket=NAME)
    client.put_bucket_tagging(Bucket=NAME, Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    assert read_all(ctx).owner is None
    HANDLER.tag_for_ownership(ctx, NAME)
    live = read_all(ctx)
    assert live.owner == ("teststack", "LogicalId")
    assert live.properties["Tags"] == [{"Key": "team", "Value": "data"}]


def test_converters_round_trip():
    """Fields moto drops (object sizes, NewerNoncurrentVersions on expiration) checked without it."""
    rule = {"Id": "r", "Status": "Enabled", "Prefix": "p/", "ObjectSizeGreaterThan": "100",
            "ObjectSizeLessThan": "5000", "NoncurrentVersionExpiration": {"NoncurrentDays": 4,
                                                                         "NewerNoncurrentVersions": 3}}
    api = s3.lifecycle_to_api({"Rules": [rule]})
    assert api["Rules"][0]["Filter"] == {"And": {"Prefix": "p/", "ObjectSizeGreaterThan": 100,
                                                 "ObjectSizeLessThan": 5000}}
    assert s3.lifecycle_from_api(api) == {"Rules": [rule]}
    queue = "arn:aws:sqs:us-east-1:123456789012:q"
    for spec in (full_spec(queue), changed_spec(queue), {**LOCKED, **REPLICATED}):
        for group in s3.GROUPS:
            if group.prop in spec:
                value = spec[group.prop]
                assert canon(group.from_api(group.to_api(value))) == canon(value), group.prop


def test_lifecycle_filter_forms():
    def api_filter(**rule):
        return s3.lifecycle_to_api({"Rules": [{"Status": "Enabled", **rule}]})["Rules"][0]["Filter"]

    assert api_filter() == {"Prefix": ""}
    assert api_filter(Prefix="a/") == {"Prefix": "a/"}
    assert api_filter(TagFilters=[{"Key": "k", "Value": "v"}]) == {"Tag": {"Key": "k", "Value": "v"}}
    assert api_filter(ObjectSizeLessThan=9) == {"ObjectSizeLessThan": 9}
    legacy = {"ID": "old", "Status": "Enabled", "Prefix": "x/",
              "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)}}
    assert s3.lifecycle_from_api({"Rules": [legacy]}) == {"Rules": [
        {"Id": "old", "Status": "Enabled", "Prefix": "x/", "ExpirationDate": "2030-01-01T00:00:00Z"}]}


def test_what_s3_reports_differently_reads_as_the_spec_would():
    """Rule ids, multi-event configurations, capitalised filter names, BucketKeyEnabled false."""
    no_id = {"Rules": [{"Status": "Enabled", "ExpirationInDays": 1}]}
    assert s3.lifecycle_to_api(no_id)["Rules"][0]["ID"] == "rule-1"
    notification = {"TopicConfigurations": [{"Id": "x", "TopicArn": "t", "Events": ["e1", "e2"], "Filter": {
        "Key": {"FilterRules": [{"Name": "Suffix", "Value": ".a"}, {"Name": "Prefix", "Value": "p"}]}}}]}
    flt = {"S3Key": {"Rules": [{"Name": "prefix", "Value": "p"}, {"Name": "suffix", "Value": ".a"}]}}
    assert s3.notification_from_api(notification) == {"TopicConfigurations": [
        {"Event": "e1", "Topic": "t", "Filter": flt}, {"Event": "e2", "Topic": "t", "Filter": flt}]}
    encryption = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                             "BucketKeyEnabled": False}]}
    assert s3.encryption_from_api(encryption) == s3.DEFAULT_ENCRYPTION
    view = HANDLER.desired_view({"PublicAccessBlockConfiguration": {"BlockPublicAcls": "true"},
                                 "VersioningConfiguration": {"Status": "Enabled"}, "Tags": []})
    flags = {"BlockPublicAcls": True, "BlockPublicPolicy": False, "IgnorePublicAcls": False,
             "RestrictPublicBuckets": False}
    assert view == {"PublicAccessBlockConfiguration": flags, "VersioningConfiguration": {"Status": "Enabled"}}


# --- AccessControl, LoggingConfiguration, ReplicationConfiguration, Object Lock ----------------------

def operations(calls) -> list[str]:
    return [n for n in calls.names() if is_mutating(n)]


def test_access_control_is_write_only_and_set_after_ownership_allows_it(ctx, calls):
    assert "AccessControl" in HANDLER.write_only  # S3 answers grants, not the canned name
    spec = {"BucketName": NAME, "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
            "AccessControl": "LogDeliveryWrite"}
    HANDLER.create(ctx, spec)
    assert operations(calls)[-2:] == ["PutBucketOwnershipControls", "PutBucketAcl"]
    assert calls.of("PutBucketAcl") == [{"Bucket": NAME, "ACL": "log-delivery-write"}]
    assert "AccessControl" not in read_all(ctx).properties
    grants = boto3.client("s3", region_name="us-east-1").get_bucket_acl(Bucket=NAME)["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/LogDelivery") for g in grants)
    calls.clear()
    public = {**spec, "AccessControl": "BucketOwnerRead"}
    HANDLER.update(ctx, NAME, spec, public, frozenset({"AccessControl"}))
    assert calls.of("PutBucketAcl") == [{"Bucket": NAME, "ACL": "bucket-owner-read"}]


def test_access_control_removed_goes_private_before_acls_are_disabled(ctx, calls):
    spec = {"BucketName": NAME, "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]},
            "AccessControl": "LogDeliveryWrite"}
    HANDLER.create(ctx, spec)
    calls.clear()
    enforced = {"BucketName": NAME, "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}
    update(HANDLER, ctx, NAME, {**read_all(ctx).properties, "AccessControl": "LogDeliveryWrite"}, enforced)
    assert operations(calls) == ["PutBucketAcl", "PutBucketOwnershipControls"]
    assert calls.of("PutBucketAcl") == [{"Bucket": NAME, "ACL": "private"}]
    assert HANDLER.differs({}, {"AccessControl": "Private"}, "AccessControl") is False  # Private is the default


def test_logging_goes_to_the_bucket_itself_when_no_destination_is_named(ctx, queue_arn):
    view = HANDLER.desired_view({"BucketName": NAME, "LoggingConfiguration": {"LogFilePrefix": "self/"}})
    assert view["LoggingConfiguration"] == {"DestinationBucketName": NAME, "LogFilePrefix": "self/"}
    HANDLER.create(ctx, {"BucketName": NAME, "LoggingConfiguration": {"DestinationBucketName": LOG_BUCKET}})
    raw = boto3.client("s3", region_name="us-east-1").get_bucket_logging(Bucket=NAME)["LoggingEnabled"]
    assert raw == {"TargetBucket": LOG_BUCKET, "TargetPrefix": ""}
    assert read_all(ctx).properties["LoggingConfiguration"] == {"DestinationBucketName": LOG_BUCKET}


def test_logging_key_format_converts_and_its_default_is_dropped():
    partitioned = {"DestinationBucketName": "logs", "LogFilePrefix": "p/",
                   "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}
    api = s3.logging_to_api(partitioned)
    assert api == {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "p/", "TargetObjectKeyFormat": {
        "PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}}
    assert s3.logging_from_api(api) == partitioned
    simple = {"DestinationBucketName": "logs", "TargetObjectKeyFormat": {"SimplePrefix": {}}}
    assert s3.logging_from_api(s3.logging_to_api(simple)) == {"DestinationBucketName": "logs"}
    assert s3.logging_from_api({}) is None


REPLICATED = {"ReplicationConfiguration": {
    "Role": "arn:aws:iam::123456789012:role/replication",
    "Rules": [{"Id": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
               "DeleteMarkerReplication": {"Status": "Disabled"},
               "Destination": {"Bucket": "arn:aws:s3:::teststack-replica", "StorageClass": "STANDARD_IA"}}]}}


def test_replication_is_written_after_versioning_read_back_changed_and_deleted(ctx, calls):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="teststack-replica")
    spec = {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}, **REPLICATED}
    HANDLER.create(ctx, spec)
    names = operations(calls)
    assert names.index("PutBucketVersioning") < names.index("PutBucketReplication")
    assert canon(read_all(ctx).properties["ReplicationConfiguration"]) == canon(REPLICATED["ReplicationConfiguration"])
    disabled = copy.deepcopy(spec)
    disabled["ReplicationConfiguration"]["Rules"][0]["Status"] = "Disabled"
    update(HANDLER, ctx, NAME, read_all(ctx).properties, disabled)
    assert read_all(ctx).properties["ReplicationConfiguration"]["Rules"][0]["Status"] == "Disabled"
    calls.clear()
    update(HANDLER, ctx, NAME, read_all(ctx).properties, {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}})
    assert operations(calls) == ["DeleteBucketReplication"]
    assert "ReplicationConfiguration" not in read_all(ctx).properties


def test_replication_rule_forms_convert_both_ways(ctx, calls):
    """And / TagFilter filters, a V1 Prefix, Account: what the handler sends (moto rewrites filters)."""
    rules = {"Role": "arn:aws:iam::123456789012:role/r", "Rules": [
        {"Id": "tagged", "Priority": 2, "Status": "Enabled", "DeleteMarkerReplication": {"Status": "Enabled"},
         "Filter": {"And": {"Prefix": "in/", "TagFilters": [{"Key": "k", "Value": "v"}]}},
         "Destination": {"Bucket": "arn:aws:s3:::dst", "Account": "210987654321"}},
        {"Priority": 3, "Status": "Enabled", "DeleteMarkerReplication": {"Status": "Disabled"},
         "Filter": {"TagFilter": {"Key": "a", "Value": "b"}}, "Destination": {"Bucket": "arn:aws:s3:::dst"}},
        {"Id": "legacy", "Prefix": "old/", "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::dst"}}]}
    api = s3.replication_to_api(rules)
    assert api["Rules"][0]["Filter"] == {"And": {"Prefix": "in/", "Tags": [{"Key": "k", "Value": "v"}]}}
    assert api["Rules"][1]["Filter"] == {"Tag": {"Key": "a", "Value": "b"}} and api["Rules"][1]["ID"] == "rule-2"
    assert api["Rules"][2] == {"ID": "legacy", "Prefix": "old/", "Status": "Enabled",
                               "Destination": {"Bucket": "arn:aws:s3:::dst"}}
    back = s3.replication_from_api(api)
    assert back["Rules"][0] == rules["Rules"][0] and back["Rules"][2] == rules["Rules"][2]
    assert back["Rules"][1] == {**rules["Rules"][1], "Id": "rule-2"}  # a stable id, not S3's random one
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="dst")
    HANDLER.create(ctx, {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"},
                         "ReplicationConfiguration": rules})
    assert calls.of("PutBucketReplication")[0]["ReplicationConfiguration"] == api


LOCKED = {"ObjectLockEnabled": True, "ObjectLockConfiguration": {
    "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}}}


def test_object_lock_at_create_read_back_changed_and_its_rule_removed(ctx, calls):
    HANDLER.create(ctx, {"BucketName": NAME, **LOCKED})
    assert calls.of("CreateBucket")[0]["ObjectLockEnabledForBucket"] is True
    assert "PutBucketVersioning" not in calls.names()  # CreateBucket turns versioning on with the lock
    live = read_all(ctx).properties
    assert live["ObjectLockEnabled"] is True and canon(live["ObjectLockConfiguration"]) == canon(
        LOCKED["ObjectLockConfiguration"])
    assert live["VersioningConfiguration"] == {"Status": "Enabled"}
    years = {"BucketName": NAME, "ObjectLockEnabled": True, "ObjectLockConfiguration": {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}}}
    update(HANDLER, ctx, NAME, HANDLER.read(ctx, NAME, set(years)).properties, years)
    assert read_all(ctx).properties["ObjectLockConfiguration"] == years["ObjectLockConfiguration"]  # moto's Days: 0 dropped
    calls.clear()
    update(HANDLER, ctx, NAME, HANDLER.read(ctx, NAME, set(years)).properties,
           {"BucketName": NAME, "ObjectLockEnabled": True})
    assert calls.of("PutObjectLockConfiguration") == [{"Bucket": NAME, "ObjectLockConfiguration": s3.LOCK_ON}]
    live = read_all(ctx).properties
    assert "ObjectLockConfiguration" not in live and live["ObjectLockEnabled"] is True


def test_object_lock_is_turned_on_later_but_never_off(ctx, calls):
    HANDLER.create(ctx, {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}})
    assert "ObjectLockEnabled" not in read_all(ctx).properties  # off: the default
    calls.clear()
    locked = {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}, **LOCKED}
    update(HANDLER, ctx, NAME, read_all(ctx).properties, locked)
    assert calls.of("PutObjectLockConfiguration") == [
        {"Bucket": NAME, "ObjectLockConfiguration": s3.LOCK_ON},
        {"Bucket": NAME, "ObjectLockConfiguration": s3.lock_to_api(LOCKED["ObjectLockConfiguration"])}]
    calls.clear()
    with pytest.raises(DeployerError, match="cannot turn it off"):
        update(HANDLER, ctx, NAME, HANDLER.read(ctx, NAME, set(locked)).properties,
               {"BucketName": NAME, "VersioningConfiguration": {"Status": "Enabled"}})
    assert operations(calls) == []  # refused before any change
    assert read_all(ctx).properties["ObjectLockEnabled"] is True


def test_turning_object_lock_off_is_refused_when_planning():
    on, off = {"ObjectLockEnabled": True}, {"ObjectLockEnabled": False}
    assert "cannot turn it off" in HANDLER.refuse_update(on, off, frozenset({"ObjectLockEnabled"}))
    assert "cannot turn it off" in HANDLER.refuse_update(on, {}, frozenset({"ObjectLockEnabled"}))
    assert HANDLER.refuse_update(off, on, frozenset({"ObjectLockEnabled"})) is None
    assert HANDLER.refuse_update(on, on, frozenset({"Tags"})) is None
