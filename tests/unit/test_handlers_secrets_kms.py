"""The Secrets Manager secret, KMS key and KMS alias handlers against in-process moto: created and read back
in spec shape, updated in place with the right calls (and only those), removed properties reset, deletes
that schedule deletion with the right window, and a secret value that never leaves the handler.

Where moto does not store a setting (an emptied secret Description) the test checks the API call. moto
answers CreateSecret of a name scheduled for deletion with ResourceExistsException; AWS answers
InvalidRequestException ("already scheduled for deletion"): `aws_pending_deletion` plays AWS's answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deployer import secrets
from deployer.aws import Aws
from deployer.diff import compare
from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.planner import stored_properties
from deployer.resources import handler_for, kms, secretsmanager
from deployer.resources.base import Context, Handler, Stake, absent
from deployer.spec.refs import UNKNOWN
from tests.unit.handler_support import apply_update, create_meets_existing, ref_property, update, view

SECRET = secretsmanager.Secret()
KEY = kms.Key()
ALIAS = kms.Alias()
OWNER = ("teststack", "LogicalId")
VALUE = "s3cr3t-Value-for-tests"


def fail(operation: str, code: str):
    """A before-call hook that answers `operation` with the AWS error `code` (what moto never says)."""
    def hook(model: Any, **_: Any) -> None:
        if model.name == operation:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
    return hook


@pytest.fixture
def aws_pending_deletion(ctx):
    """CreateSecret of a name whose secret is scheduled for deletion fails as AWS fails it."""
    def refuse(params: dict[str, Any], model: Any, **_: Any) -> None:
        name = params.get("Name")
        found = absent(lambda: sm().describe_secret(SecretId=name), secretsmanager.NOT_FOUND) if name else None
        if found and found.get("DeletedDate"):
            raise ClientError({"Error": {"Code": "InvalidRequestException", "Message": "You can't create this "
                                         "secret because a secret with this name is already scheduled for "
                                         "deletion."}}, "CreateSecret")

    ctx.aws.client("secretsmanager", ctx.region).meta.events.register(
        "provide-client-params.secrets-manager.CreateSecret", refuse)


def assert_matches(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], removed: Any = ()):
    """read() shows exactly what was set (write-only values aside), and the default for each removed
    property: a plan right after would find no change."""
    live = handler.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = {k: v for k, v in view(handler, ctx, props).items() if k not in handler.write_only}
    keys = set(desired) | set(removed)
    assert compare(keys, desired, live.properties, handler.defaults, handler.create_only, set()) == []
    return live


def sm():
    return boto3.client("secretsmanager", region_name="us-east-1")


def kms_client():
    return boto3.client("kms", region_name="us-east-1")


def value_of(arn: str) -> str:
    return sm().get_secret_value(SecretId=arn)["SecretString"]


def raw_tags(arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sm().describe_secret(SecretId=arn).get("Tags", [])}


def version_count(arn: str) -> int:
    return len(sm().list_secret_version_ids(SecretId=arn)["Versions"])


GENERATE = {"PasswordLength": 24, "ExcludePunctuation": True, "SecretStringTemplate": '{"username": "app"}',
            "GenerateStringKey": "password"}


# --- Secret ------------------------------------------------------------------------------------------

def test_secret_metadata():
    assert isinstance(handler_for("AWS::SecretsManager::Secret"), secretsmanager.Secret)
    assert SECRET.create_only == {"Name"}
    assert SECRET.write_only == {"SecretString", "GenerateSecretString"}
    assert SECRET.sensitive_properties == {"SecretString"}
    assert SECRET.attribute_names == ("Id",) and ref_property(SECRET) == "Id"
    assert SECRET.physical_id_for({"Name": "db"}) is None  # the ARN carries a random suffix


def test_secret_create_reads_back_without_the_value(ctx, calls):
    key_id = kms_client().create_key()["KeyMetadata"]["KeyId"]
    props = {"Name": "db", "Description": "database", "KmsKeyId": key_id, "SecretString": VALUE,
             "Tags": [{"Key": "team", "Value": "data"}]}
    pid, attrs = SECRET.create(ctx, props)
    assert pid.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-")
    assert attrs == {"Id": pid}
    assert value_of(pid) == VALUE
    calls.clear()
    live = assert_matches(SECRET, ctx, pid, props)
    assert calls.names() == ["DescribeSecret"]  # never GetSecretValue in a read
    assert live.owner == OWNER
    assert live.properties == {"Name": "db", "Description": "database", "KmsKeyId": key_id,
                               "Tags": [{"Key": "team", "Value": "data"}]}
    assert VALUE not in repr(live)
    assert raw_tags(pid)["deployer:logical-id"] == "LogicalId"


def test_secret_state_keeps_only_a_digest():
    stored = stored_properties({"Name": "db", "SecretString": VALUE}, {"SecretString"})
    assert stored["SecretString"] == secrets.digest(VALUE) and VALUE not in json.dumps(stored)


def test_secret_without_value_is_empty(ctx):
    pid, _ = SECRET.create(ctx, {"Name": "empty"})
    assert "VersionIdsToStages" not in sm().describe_secret(SecretId=pid)
    assert assert_matches(SECRET, ctx, pid, {"Name": "empty"}).properties == {"Name": "empty"}


def test_secret_generated_value_is_made_once_and_redacted(ctx, calls):
    pid, _ = SECRET.create(ctx, {"Name": "gen", "GenerateSecretString": GENERATE})
    value = json.loads(value_of(pid))
    assert value["username"] == "app" and len(value["password"]) == 24
    assert not set(value["password"]) & set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    assert calls.of("GetRandomPassword") == [{"PasswordLength": 24, "ExcludePunctuation": True}]
    assert secrets.redact(f"leak {value['password']} and {value_of(pid)}") == "leak (sensitive) and (sensitive)"
    assert raw_tags(pid)[secretsmanager.GENERATED_TAG].startswith("sha256:")
    live = SECRET.read(ctx, pid, {"Name", "GenerateSecretString", "Tags"})
    assert value["password"] not in repr(live) and "GenerateSecretString" not in live.properties
    assert live.properties["Tags"] == []  # the generation tag is deployer's own, like the ownership tags


def test_secret_plain_password_without_template(ctx):
    pid, _ = SECRET.create(ctx, {"Name": "pw", "GenerateSecretString": {"PasswordLength": "12", "ExcludeNumbers": "true"}})
    password = value_of(pid)
    assert len(password) == 12 and not any(c.isdigit() for c in password)


def test_secret_other_updates_never_touch_the_value(ctx, calls):
    props = {"Name": "db", "SecretString": VALUE}
    pid, _ = SECRET.create(ctx, props)
    new = {**props, "Description": "now described", "Tags": [{"Key": "team", "Value": "x"}]}
    calls.clear()
    apply_update(SECRET, ctx, pid, props, new)
    assert calls.of("PutSecretValue") == [] and version_count(pid) == 1
    assert calls.of("UpdateSecret") == [{"SecretId": pid, "Description": "now described"}]
    assert_matches(SECRET, ctx, pid, new)
    assert raw_tags(pid)["deployer:stack"] == "teststack"


def test_secret_changed_value_puts_one_version(ctx, calls):
    props = {"Name": "db", "SecretString": VALUE}
    pid, _ = SECRET.create(ctx, props)
    calls.clear()
    apply_update(SECRET, ctx, pid, props, {**props, "SecretString": VALUE + "-2"})
    assert len(calls.of("PutSecretValue")) == 1 and value_of(pid) == VALUE + "-2"
    assert "SecretString" not in json.dumps(calls.of("UpdateSecret"))


def test_secret_digest_is_never_written_as_a_value(ctx, calls):
    pid, _ = SECRET.create(ctx, {"Name": "db", "SecretString": VALUE})
    update(SECRET, ctx, pid, {"Name": "db"}, {"Name": "db", "SecretString": secrets.digest(VALUE)})
    assert calls.of("PutSecretValue") == [] and value_of(pid) == VALUE


def test_secret_generation_changes_only_with_its_parameters(ctx, calls):
    props = {"Name": "gen", "GenerateSecretString": GENERATE}
    pid, _ = SECRET.create(ctx, props)
    first = value_of(pid)
    same = {**props, "GenerateSecretString": {**GENERATE, "PasswordLength": "24"}, "Description": "d"}
    calls.clear()
    apply_update(SECRET, ctx, pid, props, same)
    assert value_of(pid) == first and calls.of("GetRandomPassword") == []
    changed = {**same, "GenerateSecretString": {**GENERATE, "PasswordLength": 30}}
    apply_update(SECRET, ctx, pid, same, changed)
    assert len(json.loads(value_of(pid))["password"]) == 30 and len(calls.of("GetRandomPassword")) == 1


def test_secret_switches_between_given_and_generated(ctx):
    given = {"Name": "db", "SecretString": VALUE}
    pid, _ = SECRET.create(ctx, given)
    generated = {"Name": "db", "GenerateSecretString": GENERATE}
    apply_update(SECRET, ctx, pid, given, generated)
    assert json.loads(value_of(pid))["username"] == "app"
    assert secretsmanager.GENERATED_TAG in raw_tags(pid)
    apply_update(SECRET, ctx, pid, generated, given)
    assert value_of(pid) == VALUE and secretsmanager.GENERATED_TAG not in raw_tags(pid)
    apply_update(SECRET, ctx, pid, given, generated)  # the same parameters again: a new value all the same
    assert json.loads(value_of(pid))["password"] != VALUE


def test_secret_removed_settings_reset(ctx, calls):
    key_id = kms_client().create_key()["KeyMetadata"]["KeyId"]
    old = {"Name": "db", "Description": "d", "KmsKeyId": key_id, "Tags": [{"Key": "a", "Value": "1"}]}
    pid, _ = SECRET.create(ctx, old)
    calls.clear()
    apply_update(SECRET, ctx, pid, old, {"Name": "db"})
    assert calls.of("UpdateSecret") == [{"SecretId": pid, "Description": "", "KmsKeyId": "alias/aws/secretsmanager"}]
    assert calls.of("UntagResource") == [{"SecretId": pid, "TagKeys": ["a"]}]
    live = SECRET.read(ctx, pid, {"KmsKeyId", "Tags"})
    assert "KmsKeyId" not in live.properties and live.properties["Tags"] == []  # moto keeps the Description


def test_secret_delete_keeps_a_recovery_window(ctx, calls):
    pid, _ = SECRET.create(ctx, {"Name": "db", "SecretString": VALUE})
    SECRET.delete(ctx, pid, {})
    assert calls.of("DeleteSecret") == [{"SecretId": pid, "RecoveryWindowInDays": 7}]
    deleted = sm().describe_secret(SecretId=pid)["DeletedDate"]
    assert abs(deleted - datetime.now(UTC) - timedelta(days=7)) < timedelta(minutes=5)
    assert SECRET.read(ctx, pid, {"Name"}) is None
    SECRET.delete(ctx, pid, {})  # already scheduled: success
    SECRET.delete(ctx, pid.replace(":secret:db-", ":secret:gone-"), {})  # never existed: success


def test_secret_delete_undoing_a_create_frees_the_name_at_once(ctx, calls):
    from dataclasses import replace

    from deployer.resources.base import Settings

    pid, _ = SECRET.create(ctx, {"Name": "db", "SecretString": VALUE})
    SECRET.delete(replace(ctx, settings=Settings(undoing_create=True)), pid, {})
    assert calls.of("DeleteSecret") == [{"SecretId": pid, "ForceDeleteWithoutRecovery": True}]
    assert sm().list_secrets(IncludePlannedDeletion=True)["SecretList"] == []


@pytest.mark.parametrize("answer", ["aws", "moto"])
def test_secret_create_restores_its_own_secret_pending_deletion(ctx, calls, answer, request):
    if answer == "aws":
        request.getfixturevalue("aws_pending_deletion")
    props = {"Name": "db", "SecretString": VALUE, "Tags": [{"Key": "v", "Value": "1"}]}
    pid, _ = SECRET.create(ctx, props)
    SECRET.delete(ctx, pid, props)
    again = {**props, "Description": "back", "Tags": [{"Key": "v", "Value": "2"}]}
    calls.clear()
    new_pid, attrs = SECRET.create(ctx, again)
    assert new_pid == pid and attrs == {"Id": pid}
    assert calls.of("RestoreSecret") == [{"SecretId": pid}]
    assert len(calls.of("CreateSecret")) == 1  # tried, refused (the name is pending deletion), then restored
    assert [x["ARN"] for x in sm().list_secrets()["SecretList"]] == [pid]  # no second secret
    assert calls.of("PutSecretValue") == []  # the value was the same
    assert assert_matches(SECRET, ctx, pid, again).owner == OWNER


def test_secret_create_of_a_taken_name_answers_already_exists_and_lookup_finds_it(ctx, calls):
    taken = sm().create_secret(Name="taken", SecretString="x")["ARN"]
    assert SECRET.lookup(ctx, {"Name": "free"}) is None
    calls.clear()
    assert SECRET.lookup(ctx, {"Name": "taken"}) == taken
    assert calls.names() == ["DescribeSecret"]
    assert create_meets_existing(SECRET, ctx, {"Name": "taken"}) == "ResourceExistsException"
    assert SECRET.find_owned(ctx, {"Name": "taken"}) == []  # untagged: not this stack's
    assert value_of(taken) == "x"


def test_secret_create_refuses_a_name_pending_deletion_it_does_not_own(ctx, aws_pending_deletion):
    """A name scheduled for deletion answers InvalidRequestException, not already-exists: the handler
    itself tells its own secret (restored) from anyone else's (refused)."""
    other = sm().create_secret(Name="pending", Tags=[{"Key": "deployer:stack", "Value": "other"},
                                                     {"Key": "deployer:logical-id", "Value": "LogicalId"}])
    sm().delete_secret(SecretId=other["ARN"], RecoveryWindowInDays=7)
    with pytest.raises(AwsError, match="scheduled for deletion and belongs to stack 'other'"):
        SECRET.create(ctx, {"Name": "pending"})
    assert sm().describe_secret(SecretId=other["ARN"]).get("DeletedDate")  # left as it was
    assert SECRET.lookup(ctx, {"Name": "pending"}) is None  # a secret pending deletion is no clash


@pytest.mark.parametrize("props, message", [
    ({"SecretString": "x", "GenerateSecretString": {"PasswordLength": 8}}, "not both"),
    ({"GenerateSecretString": {"GenerateStringKey": "password"}}, "needs both"),
    ({"GenerateSecretString": {"SecretStringTemplate": "[1]", "GenerateStringKey": "p"}}, "JSON object"),
])
def test_secret_invalid_value_properties_fail_before_any_call(ctx, calls, props, message):
    with pytest.raises(AwsError, match=message):
        SECRET.create(ctx, {"Name": "bad", **props})
    assert calls.made == []


def test_secret_found_by_ownership_tags(ctx):
    pid, _ = SECRET.create(ctx, {"Name": "db"})
    assert SECRET.find_owned(ctx, {"Name": "db"}) == [pid]
    SECRET.delete(ctx, pid, {})
    assert SECRET.find_owned(ctx, {"Name": "db"}) == []  # pending deletion: not a copy to adopt
    bare = sm().create_secret(Name="bare")["ARN"]
    SECRET.tag_for_ownership(Context(ctx.aws, "us-east-1", "teststack", "Other"), bare)
    assert SECRET.read(ctx, bare, {"Name"}).owner == ("teststack", "Other")


def test_secret_at_stake_is_its_value_within_the_recovery_window(ctx):
    pid, _ = SECRET.create(ctx, {"Name": "db", "SecretString": VALUE})
    stake = SECRET.at_stake(ctx, pid, {})
    assert stake == Stake(f"the secret value (recoverable for {secretsmanager.RECOVERY_WINDOW_DAYS} days after "
                          "the delete)")
    assert VALUE not in stake.summary and not stake.refuse_without_force


# --- KMS key -----------------------------------------------------------------------------------------

POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
     "Action": ["kms:*"], "Resource": "*"},
    {"Sid": "use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
     "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}]}


def test_key_metadata():
    assert isinstance(handler_for("AWS::KMS::Key"), kms.Key)
    assert KEY.create_only == set()  # KeySpec, KeyUsage, MultiRegion: the schema's immutableProperties
    assert KEY.write_only == {"PendingWindowInDays"}
    assert set(KEY.attribute_names) == {"Arn", "KeyId"} and ref_property(KEY) == "KeyId"


def test_key_create_reads_back_every_property(ctx):
    policy_text = json.dumps({**POLICY, "Statement": list(reversed(POLICY["Statement"]))}, indent=4)
    props = {"Description": "data key", "Enabled": "false", "EnableKeyRotation": True, "KeyPolicy": policy_text,
             "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "MultiRegion": False,
             "PendingWindowInDays": 7, "Tags": [{"Key": "team", "Value": "sec"}]}
    pid, attrs = KEY.create(ctx, props)
    assert attrs == {"KeyId": pid, "Arn": f"arn:aws:kms:us-east-1:123456789012:key/{pid}"}
    live = assert_matches(KEY, ctx, pid, props)
    assert live.owner == OWNER and live.attributes == attrs
    assert live.properties["Enabled"] is False and live.properties["EnableKeyRotation"] is True
    assert canon(live.properties["KeyPolicy"]) == canon(POLICY)


def test_key_multi_region_and_asymmetric(ctx):
    pid, _ = KEY.create(ctx, {"MultiRegion": True})
    assert pid.startswith("mrk-") and KEY.read(ctx, pid, {"MultiRegion"}).properties["MultiRegion"] is True
    props = {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}
    pid, _ = KEY.create(ctx, props)
    assert_matches(KEY, ctx, pid, props)


def test_key_rotation_unsupported_reads_as_off(ctx):
    ctx.aws.hooks.append(("before-call.kms.GetKeyRotationStatus",
                          fail("GetKeyRotationStatus", "UnsupportedOperationException")))
    pid, _ = KEY.create(ctx, {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"})
    assert KEY.read(ctx, pid, {"EnableKeyRotation"}).properties["EnableKeyRotation"] is False


def test_key_reads_only_what_is_wanted_and_default_policy_compares_clean(ctx):
    pid, _ = KEY.create(ctx, {"Description": "plain"})
    ctx.aws.log.calls.clear()
    live = KEY.read(ctx, pid, {"Description"})
    assert dict(ctx.aws.log.counts()) == {"kms.DescribeKey": 1}
    assert live.owner is None and "KeyPolicy" not in live.properties
    assert compare({"Description"}, {"Description": "plain"}, live.properties, KEY.defaults, KEY.create_only,
                   set()) == []
    assert ctx.account_id  # one STS call per run, remembered
    ctx.aws.log.calls.clear()
    live = KEY.read(ctx, pid, {"KeyPolicy", "EnableKeyRotation", "Tags"})
    assert dict(ctx.aws.log.counts()) == {"kms.DescribeKey": 1, "kms.GetKeyPolicy": 1,
                                          "kms.GetKeyRotationStatus": 1, "kms.ListResourceTags": 1}
    assert live.properties["KeyPolicy"] == kms.DEFAULT_KEY_POLICY  # AWS's default, shown with placeholders
    explicit = {"Description": "plain", "KeyPolicy": json.dumps(kms.default_key_policy(ctx))}
    reads = KEY.plan_reads(ctx, explicit)
    assert reads == {"account": "123456789012", "partition": "aws"}
    assert KEY.desired_view(explicit, reads)["KeyPolicy"] == kms.DEFAULT_KEY_POLICY
    assert KEY.desired_view(explicit) == explicit  # pure: without the reads it cannot tell, and leaves it
    assert_matches(KEY, ctx, pid, explicit)


def test_key_updates_in_place_in_a_valid_order(ctx, calls):
    old = {"Description": "one", "Tags": [{"Key": "a", "Value": "1"}]}
    pid, _ = KEY.create(ctx, old)
    new = {"Description": "two", "KeyPolicy": POLICY, "EnableKeyRotation": True, "Enabled": False,
           "Tags": [{"Key": "b", "Value": "2"}]}
    calls.clear()
    apply_update(KEY, ctx, pid, old, new)
    assert [n for n in calls.names() if n in ("EnableKeyRotation", "DisableKey")] == ["EnableKeyRotation", "DisableKey"]
    assert_matches(KEY, ctx, pid, new)
    calls.clear()
    back = {**new, "Enabled": True, "EnableKeyRotation": False}
    apply_update(KEY, ctx, pid, new, back)
    assert [n for n in calls.names() if n in ("EnableKey", "DisableKeyRotation")] == ["EnableKey", "DisableKeyRotation"]
    assert_matches(KEY, ctx, pid, back)
    tags = {t["TagKey"]: t["TagValue"] for t in kms_client().list_resource_tags(KeyId=pid)["Tags"]}
    assert tags == {"b": "2", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}


def test_key_removed_properties_reset_to_defaults(ctx):
    old = {"Description": "d", "KeyPolicy": POLICY, "EnableKeyRotation": True, "Enabled": False,
           "Tags": [{"Key": "a", "Value": "1"}]}
    pid, _ = KEY.create(ctx, old)
    apply_update(KEY, ctx, pid, old, {})
    assert_matches(KEY, ctx, pid, {}, removed=set(old))
    policy = kms_client().get_key_policy(KeyId=pid, PolicyName="default")["Policy"]
    assert canon(json.loads(policy)) == canon(kms.default_key_policy(ctx))


def test_key_delete_schedules_with_its_window(ctx, calls):
    pid, _ = KEY.create(ctx, {"PendingWindowInDays": 7})
    KEY.delete(ctx, pid, {"PendingWindowInDays": "7"})
    assert calls.of("ScheduleKeyDeletion") == [{"KeyId": pid, "PendingWindowInDays": 7}]
    assert KEY.read(ctx, pid, {"Description"}) is None  # pending deletion reads as absent
    other, _ = KEY.create(ctx, {})
    calls.clear()
    KEY.delete(ctx, other, {})
    assert calls.of("ScheduleKeyDeletion") == [{"KeyId": other, "PendingWindowInDays": 30}]
    KEY.delete(ctx, "11111111-2222-3333-4444-555555555555", {})  # never existed: success


def test_key_delete_of_a_key_already_pending_deletion(ctx):
    pid, _ = KEY.create(ctx, {})
    kms_client().schedule_key_deletion(KeyId=pid, PendingWindowInDays=7)
    fresh = Context(Aws(), "us-east-1", "teststack", "LogicalId")  # clients that answer as AWS does
    fresh.aws.hooks.append(("before-call.kms.ScheduleKeyDeletion",
                            fail("ScheduleKeyDeletion", "KMSInvalidStateException")))
    KEY.delete(fresh, pid, {})
    live_key, _ = KEY.create(ctx, {})
    with pytest.raises(ClientError, match="KMSInvalidStateException"):
        KEY.delete(fresh, live_key, {})


def test_key_found_by_ownership_tags(ctx):
    pid, _ = KEY.create(ctx, {})
    assert KEY.find_owned(ctx, {}) == [pid]
    again, _ = KEY.create(ctx, {})  # CreateKey has no token: a repeated create makes a second key
    assert sorted(KEY.find_owned(ctx, {})) == sorted([pid, again])
    KEY.delete(ctx, again, {})
    assert KEY.find_owned(ctx, {}) == [pid]  # pending deletion: not a copy to adopt
    bare = kms_client().create_key()["KeyMetadata"]["KeyId"]
    KEY.tag_for_ownership(Context(ctx.aws, "us-east-1", "teststack", "Other"), bare)
    assert KEY.read(ctx, bare, {"Tags"}).owner == ("teststack", "Other")


def test_key_at_stake_names_its_deletion_window(ctx):
    pid, _ = KEY.create(ctx, {"PendingWindowInDays": 7})
    assert KEY.at_stake(ctx, pid, {"PendingWindowInDays": "7"}) == Stake(
        "the key: everything encrypted under it becomes unreadable after 7 days")
    assert KEY.at_stake(ctx, pid, {}).summary.endswith("after 30 days")  # the default window


def test_views_tolerate_values_known_only_after_apply(ctx):
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": UNKNOWN}, "Action": "kms:*", "Resource": "*"}]}
    assert view(KEY, ctx, {"KeyPolicy": policy}) == {"KeyPolicy": policy}
    assert ALIAS.desired_view({"AliasName": "alias/a", "TargetKeyId": UNKNOWN}) == {"AliasName": "alias/a",
                                                                                   "TargetKeyId": UNKNOWN}


# --- KMS alias ---------------------------------------------------------------------------------------

def test_alias_metadata():
    assert isinstance(handler_for("AWS::KMS::Alias"), kms.Alias)
    assert ALIAS.create_only == {"AliasName"} and not ALIAS.taggable
    assert ALIAS.physical_id_for({"AliasName": "alias/app"}) == "alias/app"


def test_alias_lifecycle(ctx, calls):
    first = kms_client().create_key()["KeyMetadata"]
    second = kms_client().create_key()["KeyMetadata"]
    props = {"AliasName": "alias/app", "TargetKeyId": first["Arn"]}
    pid, attrs = ALIAS.create(ctx, props)
    assert (pid, attrs) == ("alias/app", {})
    assert ALIAS.desired_view(props)["TargetKeyId"] == first["KeyId"]
    assert assert_matches(ALIAS, ctx, pid, props).properties == {"AliasName": "alias/app",
                                                                 "TargetKeyId": first["KeyId"]}
    new = {**props, "TargetKeyId": second["KeyId"]}
    calls.clear()
    apply_update(ALIAS, ctx, pid, props, new)
    assert calls.of("UpdateAlias") == [{"AliasName": "alias/app", "TargetKeyId": second["KeyId"]}]
    assert_matches(ALIAS, ctx, pid, new)
    calls.clear()
    apply_update(ALIAS, ctx, pid, new, {**new, "TargetKeyId": second["Arn"]})  # the same key, as an ARN
    assert calls.of("UpdateAlias") == []
    assert create_meets_existing(ALIAS, ctx, new) == "AlreadyExistsException"
    assert ALIAS.lookup(ctx, new) == "alias/app"  # the name is the id: the engine reads it there
    ALIAS.delete(ctx, pid, new)
    assert ALIAS.read(ctx, pid, set()) is None
    ALIAS.delete(ctx, pid, new)  # already gone: success


def test_key_id_of():
    assert kms.key_id_of("arn:aws:kms:us-east-1:123456789012:key/mrk-1") == "mrk-1"
    assert kms.key_id_of("1234abcd") == "1234abcd"
    assert kms.key_id_of("alias/app") == "alias/app"
