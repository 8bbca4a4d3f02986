"""The API Gateway account handler against in-process moto: the role set at create and on update, cleared
when the spec drops it, an id made up as CloudFormation makes one, a delete that changes nothing in AWS
(CloudFormation's behaviour), and the retry while a just-created role is not yet usable.

moto's UpdateAccount checks nothing about the role; AWS refuses a role API Gateway cannot assume with
BadRequestException "The role ARN does not have required permissions set to API Gateway" (also for a
few seconds after the role is created): `refuse_first` plays that answer."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deployer.resources import apigateway_account, handler_for
from deployer.resources.base import Context
from tests.unit.handler_support import apply_update, ref_property
from tests.unit.messaging_support import assert_matches

ACCOUNT = apigateway_account.Account()
ROLE = "arn:aws:iam::123456789012:role/api-logs"
OTHER = "arn:aws:iam::123456789012:role/api-logs-2"


def role_now() -> Any:
    return boto3.client("apigateway", region_name="us-east-1").get_account().get("cloudwatchRoleArn")


def refuse_first(times: int, message: str = "The role ARN does not have required permissions set to API Gateway"):
    """A before-call hook: UpdateAccount fails `times` times with AWS's answer for a role not (yet) usable."""
    left = {"n": times}

    def hook(model: Any, **_: Any) -> None:
        if model.name == "UpdateAccount" and left["n"] > 0:
            left["n"] -= 1
            raise ClientError({"Error": {"Code": "BadRequestException", "Message": message}}, "UpdateAccount")
    return hook


def test_account_metadata():
    assert isinstance(handler_for("AWS::ApiGateway::Account"), apigateway_account.Account)
    assert ACCOUNT.create_only == set() and not ACCOUNT.taggable
    assert ACCOUNT.attribute_names == ("Id",) and ref_property(ACCOUNT) == "Id"
    assert ACCOUNT.physical_id_for({"CloudWatchRoleArn": ROLE}) is None  # made up at create


def test_create_sets_the_role_and_makes_up_an_id(aws, calls):
    ctx = Context(aws, "us-east-1", "webapp", "ApiAccount", token="0123456789abcdef0123456789abcdef")
    pid, attrs = ACCOUNT.create(ctx, {"CloudWatchRoleArn": ROLE})
    assert pid == "webapp-ApiAccount-0123456789ab" and attrs == {"Id": pid}
    assert calls.of("UpdateAccount") == [{"patchOperations": [
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE}]}]
    assert role_now() == ROLE
    live = assert_matches(ACCOUNT, ctx, pid, {"CloudWatchRoleArn": ROLE})
    assert live.attributes == {"Id": pid}
    again = ACCOUNT.create(Context(aws, "us-east-1", "webapp", "ApiAccount", token=ctx.token), {"CloudWatchRoleArn": ROLE})
    assert again[0] == pid  # a retried create of one plan step gives the same id


def test_without_a_token_the_id_is_random(ctx):
    first, _ = ACCOUNT.create(ctx, {})
    second, _ = ACCOUNT.create(ctx, {})
    assert first.startswith("teststack-LogicalId-") and first != second


def test_create_without_a_role_changes_nothing(ctx, calls):
    ACCOUNT.create(ctx, {})
    assert calls.mutating() == []


def test_update_changes_and_clears_the_role(ctx, calls):
    pid, _ = ACCOUNT.create(ctx, {"CloudWatchRoleArn": ROLE})
    apply_update(ACCOUNT, ctx, pid, {"CloudWatchRoleArn": ROLE}, {"CloudWatchRoleArn": OTHER})
    assert role_now() == OTHER
    calls.clear()
    apply_update(ACCOUNT, ctx, pid, {"CloudWatchRoleArn": OTHER}, {})
    assert calls.of("UpdateAccount") == [{"patchOperations": [
        {"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}]}]
    assert not role_now()
    assert ACCOUNT.read(ctx, pid, {"CloudWatchRoleArn"}).properties == {}  # no role: nothing to show
    assert_matches(ACCOUNT, ctx, pid, {}, removed=["CloudWatchRoleArn"])


def test_delete_leaves_the_account_as_it_is(ctx, calls):
    pid, _ = ACCOUNT.create(ctx, {"CloudWatchRoleArn": ROLE})
    calls.clear()
    ACCOUNT.delete(ctx, pid, {"CloudWatchRoleArn": ROLE})
    assert calls.names() == [] and role_now() == ROLE


def test_read_shows_the_setting_whatever_the_id(ctx):
    boto3.client("apigateway", region_name="us-east-1").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": OTHER}])
    live = ACCOUNT.read(ctx, "another-stack-Account-abc", {"CloudWatchRoleArn"})
    assert live.properties == {"CloudWatchRoleArn": OTHER}  # one setting per account and region: drift shows


def test_a_role_not_yet_usable_is_retried(ctx, pauses):
    ctx.aws.hooks.append(("before-call.*.*", refuse_first(2)))
    ACCOUNT.create(ctx, {"CloudWatchRoleArn": ROLE})
    assert role_now() == ROLE and len(pauses) == 2


def test_a_role_never_usable_fails_after_the_bounded_wait(ctx, pauses):
    ctx.aws.hooks.append(("before-call.*.*", refuse_first(1000)))
    with pytest.raises(ClientError) as caught:
        ACCOUNT.create(ctx, {"CloudWatchRoleArn": ROLE})
    assert "required permissions" in str(caught.value)
    assert sum(pauses) == pytest.approx(apigateway_account.ROLE_RETRY_SECONDS)


def test_other_refusals_are_not_retried(ctx, pauses):
    ctx.aws.hooks.append(("before-call.*.*", refuse_first(1, "Invalid ARN specified in the request")))
    with pytest.raises(ClientError):
        ACCOUNT.create(ctx, {"CloudWatchRoleArn": "not-an-arn"})
    assert pauses == []
