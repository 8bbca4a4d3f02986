"""AWS::Lambda::Permission and AWS::Lambda::EventSourceMapping handlers against in-process moto.

moto differences these tests work around (checked against moto 5.2): AddPermission stores the Principal
exactly as sent (AWS turns an account id into {"AWS": "arn:...:root"} and a service into {"Service": ...})
and never answers ResourceConflictException for a duplicate statement id; event source mappings are
Enabled/Disabled at once (AWS passes through Creating, Enabling, Updating...). Those AWS behaviours are
played by answering the calls before they reach moto.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from deployer.aws import Aws
from deployer.codezip import zip_inline
from deployer.normalize import canon
from deployer.resources.awslambda import EventSourceMapping, Permission, function_short_name, statement_id
from deployer.resources.base import Context, Handler
from tests.unit.handler_support import create_meets_existing, ref_property, update

REGION = "us-east-1"
ACCOUNT = "123456789012"
OWNER = ("teststack", "LogicalId")
FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


# --- fixtures (every pause the handlers take is recorded, not slept: the `pauses` fixture) ---------------

@pytest.fixture
def functions(ctx: Context) -> list[str]:
    """Two functions (made with plain boto3: these tests are not about Function)."""
    role = ctx.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    lam = ctx.client("lambda")
    code = {"ZipFile": zip_inline("def handler(e, c):\n    return 1\n", "python3.12")}
    for name in ("f1", "f2"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler", Code=code)
    return ["f1", "f2"]


@pytest.fixture
def queue_arn(ctx: Context) -> str:
    sqs = ctx.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


class Requests:
    """The API parameters of every Lambda call, in order."""

    def __init__(self, ctx: Context) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        ctx.client("lambda").meta.events.register("provide-client-params.lambda.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.seen.append((model.name, dict(params)))

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [p for op, p in self.seen if op == operation]


@pytest.fixture
def requests(ctx: Context) -> Requests:
    return Requests(ctx)


def answer_first(ctx: Context, operation: str, answers: list[tuple[int, dict[str, Any]]]) -> None:
    """Answer the next len(answers) calls of a Lambda operation with these (status, body); later calls reach moto."""
    queue = list(answers)

    def handler(**_: Any) -> tuple[Any, dict[str, Any]] | None:
        if not queue:
            return None
        status, body = queue.pop(0)
        return SimpleNamespace(status_code=status), body

    ctx.client("lambda").meta.events.register(f"before-call.lambda.{operation}", handler)


def conflict(message: str) -> tuple[int, dict[str, Any]]:
    return 409, {"Error": {"Code": "ResourceConflictException", "Message": message}}


def assert_reads_as(handler: Handler, live: dict[str, Any], view: dict[str, Any]) -> None:
    for key, want in view.items():
        got = live.get(key, handler.defaults.get(key))
        assert canon(got) == canon(want), f"{key}: read {got!r}, wanted {want!r}"


# --- AWS::Lambda::Permission --------------------------------------------------------------------

S3_PERMISSION = {"FunctionName": "f1", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com",
                 "SourceArn": "arn:aws:s3:::uploads", "SourceAccount": ACCOUNT}


def test_permission_create_reads_back_from_the_function_policy(ctx: Context, functions: list[str]) -> None:
    handler = Permission()
    pid, attrs = handler.create(ctx, S3_PERMISSION)
    function, _, sid = pid.partition("|")
    assert function == "f1" and sid.startswith("teststack-LogicalId-")
    assert attrs == {"Id": sid} and handler.ref_value(pid, attrs) == sid
    live = handler.read(ctx, pid, set(S3_PERMISSION))
    assert live is not None and live.attributes == {"Id": sid}
    assert_reads_as(handler, live.properties, handler.desired_view(S3_PERMISSION))
    statement = json.loads(ctx.client("lambda").get_policy(FunctionName="f1")["Policy"])["Statement"][0]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::uploads"


def test_permission_every_property_is_create_only() -> None:
    assert Permission().create_only == {"FunctionName", "Action", "Principal", "SourceArn", "SourceAccount"}


def test_permission_function_arn_and_name_compare_equal(ctx: Context, functions: list[str]) -> None:
    handler = Permission()
    props = dict(S3_PERMISSION, FunctionName=f"{FN_ARN}:f1")
    pid, _ = handler.create(ctx, props)
    assert pid.startswith(f"{FN_ARN}:f1|")
    live = handler.read(ctx, pid, set(props)).properties
    assert live["FunctionName"] == "f1" == handler.desired_view(props)["FunctionName"]
    assert function_short_name(f"{ACCOUNT}:function:f1:live") == "f1:live"


def test_permission_reads_principals_in_the_shapes_aws_stores(ctx: Context, functions: list[str]) -> None:
    """AWS stores an account id as its root ARN and a service under "Service"; both read as the spec wrote them."""
    handler = Permission()
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": [
        {"Sid": "acct", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"{FN_ARN}:f1",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"}},
        {"Sid": "svc", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"{FN_ARN}:f1",
         "Principal": {"Service": "sns.amazonaws.com"},
         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}}}]}
    answer_first(ctx, "GetPolicy", [(200, {"Policy": json.dumps(policy)})] * 2)
    account = handler.read(ctx, "f1|acct", {"Principal"}).properties
    assert account["Principal"] == "111122223333"
    assert handler.desired_view({"Principal": "arn:aws:iam::111122223333:root"})["Principal"] == "111122223333"
    service = handler.read(ctx, "f1|svc", {"Principal", "SourceArn"}).properties
    assert service["Principal"] == "sns.amazonaws.com"
    assert service["SourceArn"] == "arn:aws:sns:us-east-1:123456789012:topic" and "SourceAccount" not in service


def test_permission_statement_ids_are_deterministic_bounded_and_per_properties(aws: Aws) -> None:
    long_ctx = Context(aws, REGION, "a" * 63, "L" * 200)
    sid = statement_id(long_ctx, S3_PERMISSION)
    assert len(sid) <= 100 and sid == statement_id(long_ctx, dict(S3_PERMISSION))
    assert sid != statement_id(long_ctx, dict(S3_PERMISSION, SourceArn="arn:aws:s3:::other"))


def test_permission_create_retried_after_a_lost_answer_meets_its_own_statement(
        ctx: Context, functions: list[str], pauses: list[float]) -> None:
    """The retry answers already-exists at once (no wait: the statement is there) and find_owned finds it by its
    deterministic statement id, for the engine to adopt; nothing is added twice."""
    handler = Permission()
    assert handler.find_owned(ctx, S3_PERMISSION) == []
    pid, _ = handler.create(ctx, S3_PERMISSION)
    answer_first(ctx, "AddPermission", [conflict("The statement id provided already exists.")])
    assert create_meets_existing(handler, ctx, S3_PERMISSION) == "ResourceConflictException"
    assert pauses == []
    assert handler.find_owned(ctx, S3_PERMISSION) == [pid]
    assert handler.find_owned(Context(ctx.aws, REGION, "teststack", "Other"), S3_PERMISSION) == []
    assert len(json.loads(ctx.client("lambda").get_policy(FunctionName="f1")["Policy"])["Statement"]) == 1


def test_permission_create_waits_out_a_function_update(ctx: Context, functions: list[str],
                                                      pauses: list[float]) -> None:
    busy = conflict("The operation cannot be performed at this time. An update is in progress for resource")
    answer_first(ctx, "AddPermission", [busy, busy])
    pid, _ = Permission().create(ctx, S3_PERMISSION)
    assert pauses == [1.0, 2.0]
    assert Permission().read(ctx, pid, set()) is not None


def test_permission_delete_and_reads_of_what_is_gone(ctx: Context, functions: list[str]) -> None:
    handler = Permission()
    pid, _ = handler.create(ctx, S3_PERMISSION)
    other, _ = Permission().create(Context(ctx.aws, REGION, "teststack", "Other"),
                                   dict(S3_PERMISSION, Principal=ACCOUNT, SourceArn=None, SourceAccount=None))
    handler.delete(ctx, pid, S3_PERMISSION)
    assert handler.read(ctx, pid, set()) is None
    assert handler.read(ctx, other, set()).properties["Principal"] == ACCOUNT  # the other statement stays
    handler.delete(ctx, pid, S3_PERMISSION)  # already gone
    assert handler.read(ctx, "no-such-fn|sid", set()) is None


def test_permission_update_changes_nothing(ctx: Context, functions: list[str], aws: Aws) -> None:
    handler = Permission()
    pid, attrs = handler.create(ctx, S3_PERMISSION)
    start = len(aws.log.calls)
    assert update(handler, ctx, pid, S3_PERMISSION, S3_PERMISSION) == attrs
    assert aws.log.calls[start:] == []


# --- AWS::Lambda::EventSourceMapping ------------------------------------------------------------

FILTERS = {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]}


def test_mapping_from_a_queue_reads_back_every_property(ctx: Context, functions: list[str], queue_arn: str,
                                                        requests: Requests) -> None:
    handler = EventSourceMapping()
    props = {"FunctionName": "f1", "EventSourceArn": queue_arn, "BatchSize": "5", "Enabled": False,
             "MaximumBatchingWindowInSeconds": 2, "FilterCriteria": FILTERS, "Tags": [{"Key": "team", "Value": "q"}]}
    pid, attrs = handler.create(ctx, props)
    assert attrs == {"Id": pid, "EventSourceMappingArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{pid}"}
    assert ref_property(handler) == "Id"
    sent = requests.params("CreateEventSourceMapping")[0]
    assert sent["BatchSize"] == 5 and sent["Enabled"] is False
    assert sent["Tags"] == {"team": "q", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}

    live = handler.read(ctx, pid, set(props))
    assert_reads_as(handler, live.properties, handler.desired_view(props))
    assert live.owner == OWNER and live.attributes == attrs
    assert live.properties["Tags"] == [{"Key": "team", "Value": "q"}]


def test_mapping_batch_size_default_follows_the_source(ctx: Context, functions: list[str], queue_arn: str) -> None:
    handler = EventSourceMapping()
    props = {"FunctionName": f"{FN_ARN}:f1", "EventSourceArn": queue_arn}
    assert handler.desired_view(props) == {"FunctionName": "f1", "EventSourceArn": queue_arn, "BatchSize": 10}
    pid, _ = handler.create(ctx, props)
    live = handler.read(ctx, pid, set(props) | {"Tags"}).properties
    assert live == {"FunctionName": "f1", "EventSourceArn": queue_arn, "BatchSize": 10, "Tags": []}
    stream = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    assert handler.desired_view({"EventSourceArn": stream})["BatchSize"] == 100


def test_mapping_from_streams_keeps_the_starting_position(ctx: Context, functions: list[str]) -> None:
    table = ctx.client("dynamodb").create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
    kinesis = ctx.client("kinesis")
    kinesis.create_stream(StreamName="k", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="k")["StreamDescription"]["StreamARN"]
    handler = EventSourceMapping()
    for source, position in ((table["LatestStreamArn"], "TRIM_HORIZON"), (stream, "LATEST")):
        props = {"FunctionName": "f1", "EventSourceArn": source, "StartingPosition": position}
        pid, _ = handler.create(ctx, props)
        live = handler.read(ctx, pid, set(props)).properties
        assert live["StartingPosition"] == position and live["BatchSize"] == 100
        assert_reads_as(handler, live, handler.desired_view(props))
    assert handler.create_only == {"EventSourceArn", "StartingPosition"}


def test_mapping_update_changes_settings_in_place(ctx: Context, aws: Aws, functions: list[str], queue_arn: str,
                                                  requests: Requests) -> None:
    handler = EventSourceMapping()
    props = {"FunctionName": "f1", "EventSourceArn": queue_arn, "BatchSize": 5, "FilterCriteria": FILTERS,
             "Tags": [{"Key": "team", "Value": "q"}]}
    pid, attrs = handler.create(ctx, props)
    before = handler.read(ctx, pid, set(props)).properties
    after = {"FunctionName": f"{FN_ARN}:f2", "EventSourceArn": queue_arn, "Enabled": False,
             "MaximumBatchingWindowInSeconds": 4, "Tags": [{"Key": "env", "Value": "prod"}]}
    assert update(handler, ctx, pid, before, after) == attrs
    sent = requests.params("UpdateEventSourceMapping")[-1]
    assert sent == {"UUID": pid, "FunctionName": f"{FN_ARN}:f2", "BatchSize": 10, "Enabled": False,
                    "MaximumBatchingWindowInSeconds": 4, "FilterCriteria": {}}  # removed ones back to defaults
    live = handler.read(ctx, pid, set(props) | set(after)).properties
    assert_reads_as(handler, live, handler.desired_view(after))
    assert "FilterCriteria" not in live

    start = len(aws.log.calls)
    update(handler, ctx, pid, live, dict(after, Tags=live["Tags"]))
    assert [op for _, op in aws.log.calls[start:]] == ["GetEventSourceMapping"]  # nothing changed, nothing sent


def test_mapping_find_owned_lists_every_copy_this_resource_made(ctx: Context, aws: Aws, functions: list[str],
                                                                queue_arn: str) -> None:
    """CreateEventSourceMapping takes no token: a create repeated after a lost answer makes a second
    mapping. find_owned lists both (by function, source and ownership tags) so the engine keeps one and
    deletes the other; another resource's mapping of the same pair is not among them."""
    handler = EventSourceMapping()
    props = {"FunctionName": "f1", "EventSourceArn": queue_arn}
    assert handler.find_owned(ctx, props) == []
    pid, _ = handler.create(ctx, props)
    assert handler.find_owned(ctx, props) == [pid]
    again, _ = handler.create(ctx, props)
    other, _ = handler.create(Context(aws, REGION, "teststack", "Another"), props)
    assert sorted(handler.find_owned(ctx, props)) == sorted([pid, again]) and other not in (pid, again)
    assert handler.find_owned(ctx, {"FunctionName": "f2", "EventSourceArn": queue_arn}) == []
    assert handler.find_owned(ctx, {"FunctionName": "f1"}) == []  # no source: no natural key


def test_mapping_waits_for_transitions(ctx: Context, functions: list[str], queue_arn: str,
                                       pauses: list[float]) -> None:
    handler = EventSourceMapping()
    pid, _ = handler.create(ctx, {"FunctionName": "f1", "EventSourceArn": queue_arn})
    busy = {"UUID": pid, "State": "Updating", "FunctionArn": f"{FN_ARN}:f1", "EventSourceArn": queue_arn}
    answer_first(ctx, "GetEventSourceMapping", [(200, busy), (200, busy)])
    handler.delete(ctx, pid, {})
    assert pauses == [1.0, 2.0]
    assert handler.read(ctx, pid, {"Tags"}) is None
    handler.delete(ctx, pid, {})  # already gone


def test_mapping_being_deleted_reads_as_gone(ctx: Context, functions: list[str], queue_arn: str) -> None:
    handler = EventSourceMapping()
    pid, _ = handler.create(ctx, {"FunctionName": "f1", "EventSourceArn": queue_arn})
    answer_first(ctx, "GetEventSourceMapping", [(200, {"UUID": pid, "State": "Deleting"})])
    assert handler.read(ctx, pid, set()) is None


def test_mapping_tag_for_ownership(ctx: Context, functions: list[str], queue_arn: str) -> None:
    handler = EventSourceMapping()
    pid, attrs = handler.create(ctx, {"FunctionName": "f1", "EventSourceArn": queue_arn})
    lam = ctx.client("lambda")
    lam.untag_resource(Resource=attrs["EventSourceMappingArn"], TagKeys=["deployer:stack", "deployer:logical-id"])
    assert handler.read(ctx, pid, {"Tags"}).owner is None
    handler.tag_for_ownership(ctx, pid)
    assert handler.read(ctx, pid, {"Tags"}).owner == OWNER
    assert lam.list_tags(Resource=attrs["EventSourceMappingArn"])["Tags"] == {
        "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}
