"""AWS::IAM::Role and AWS::Lambda::Function handlers driven directly against in-process moto.

moto gaps these tests work around (checked against moto 5.2): Lambda never stores DeadLetterConfig,
UpdateFunctionConfiguration ignores TracingConfig, EphemeralStorage and DeadLetterConfig, and
UpdateFunctionCode ignores Architectures. For those the tests check the request the handler sent
instead of reading the value back.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer import waiting
from deployer.aws import Aws
from deployer.codezip import sha256_b64, zip_inline, zip_path
from deployer.errors import DeployerError
from deployer.normalize import canon
from deployer.resources import awslambda
from deployer.resources.awslambda import Function
from deployer.resources.base import Context, Handler
from deployer.resources.iam import Role
from deployer.spec.refs import UNKNOWN
from tests.unit.handler_support import create_meets_existing, update, view

REGION = "us-east-1"
ACCOUNT = "123456789012"
OWNER = ("teststack", "LogicalId")


def trust(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def allow(action: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


# --- fixtures -----------------------------------------------------------------------------------

class Requests:
    """The API parameters of every call the handlers make (to check what moto would not show)."""

    def __init__(self, ctx: Context) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        for service in ("iam", "lambda"):
            ctx.client(service).meta.events.register(f"provide-client-params.{service}.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.seen.append((model.name, dict(params)))

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [p for op, p in self.seen if op == operation]

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def requests(ctx: Context) -> Requests:
    return Requests(ctx)


def mutations(aws: Aws, since: int) -> list[str]:
    from deployer.aws import is_mutating

    return sorted(f"{s}.{o}" for s, o in aws.log.calls[since:] if is_mutating(o))


def read_as_aws(fn: Function, ctx: Context, pid: str, props: dict[str, Any]) -> dict[str, Any]:
    """What AWS would read: moto drops DeadLetterConfig, so put back the one the spec set."""
    live = fn.read(ctx, pid, set(props)).properties
    if "DeadLetterConfig" in props:
        live["DeadLetterConfig"] = props["DeadLetterConfig"]
    return live


def assert_reads_as(handler: Handler, live_props: dict[str, Any], view: dict[str, Any],
                    skip: frozenset[str] = frozenset()) -> None:
    """Every desired property reads back equal (absent live = the handler's default)."""
    for key, want in view.items():
        if key in skip:
            continue
        got = live_props.get(key, handler.defaults.get(key))
        assert canon(got) == canon(want), f"{key}: read {got!r}, wanted {want!r}"


# --- IAM role -----------------------------------------------------------------------------------

@pytest.fixture
def policies(ctx: Context) -> dict[str, str]:
    iam = ctx.client("iam")
    return {name: iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(allow("s3:*")))["Policy"]["Arn"]
            for name in ("p1", "p2", "p3", "boundary1", "boundary2")}


@pytest.fixture
def full_role(policies: dict[str, str]) -> dict[str, Any]:
    return {
        "RoleName": "app-role",
        "AssumeRolePolicyDocument": trust("lambda.amazonaws.com"),
        "Description": "runs the app",
        "MaxSessionDuration": 7200,
        "Path": "/svc/",
        "PermissionsBoundary": policies["boundary1"],
        "Policies": [{"PolicyName": "b-logs", "PolicyDocument": json.dumps(allow("logs:*"))},
                     {"PolicyName": "a-s3", "PolicyDocument": allow(["s3:GetObject", "s3:PutObject"])}],
        "ManagedPolicyArns": [policies["p2"], policies["p1"]],
        "Tags": [{"Key": "team", "Value": "core"}, {"Key": "cost", "Value": "42"}],
    }


def test_role_create_reads_back_every_property(ctx: Context, full_role: dict[str, Any]) -> None:
    role = Role()
    pid, attrs = role.create(ctx, full_role)
    assert pid == "app-role"
    assert attrs["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/svc/app-role"
    assert attrs["RoleName"] == "app-role" and attrs["RoleId"]

    live = role.read(ctx, pid, set(full_role))
    assert live is not None
    assert_reads_as(role, live.properties, view(role, ctx, full_role))
    assert live.properties["ManagedPolicyArns"] == sorted(full_role["ManagedPolicyArns"])
    assert [p["PolicyName"] for p in live.properties["Policies"]] == ["a-s3", "b-logs"]
    assert live.owner == OWNER
    assert live.attributes == attrs
    assert all(not t["Key"].startswith("deployer:") for t in live.properties["Tags"])


def test_role_read_skips_policy_calls_not_wanted(ctx: Context, aws: Aws) -> None:
    role = Role()
    pid, _ = role.create(ctx, {"RoleName": "bare", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com")})
    start = len(aws.log.calls)
    live = role.read(ctx, pid, set())
    assert aws.log.calls[start:] == [("iam", "GetRole")]
    assert set(live.properties) == {"RoleName", "AssumeRolePolicyDocument"}  # defaults pruned

    start = len(aws.log.calls)
    live = role.read(ctx, pid, {"Policies", "ManagedPolicyArns"})
    assert live.properties["Policies"] == [] and live.properties["ManagedPolicyArns"] == []
    assert Counter(op for _, op in aws.log.calls[start:]) == Counter(
        {"GetRole": 1, "ListRolePolicies": 1, "ListAttachedRolePolicies": 1})


def test_role_read_missing_is_none(ctx: Context) -> None:
    assert Role().read(ctx, "no-such-role", {"Policies", "ManagedPolicyArns"}) is None


def test_role_desired_view_orders_sets_like_read(full_role: dict[str, Any]) -> None:
    view = Role().desired_view(full_role)
    assert view["ManagedPolicyArns"] == sorted(full_role["ManagedPolicyArns"])
    assert [p["PolicyName"] for p in view["Policies"]] == ["a-s3", "b-logs"]
    assert full_role["ManagedPolicyArns"][0].endswith("p2")  # the spec itself is left alone
    pending = Role().desired_view({"ManagedPolicyArns": ["arn:b", UNKNOWN, "arn:a"]})["ManagedPolicyArns"]
    assert [a for a in pending if isinstance(a, str)] == ["arn:a", "arn:b"] and UNKNOWN in pending


def test_role_update_changes_every_group_in_place(ctx: Context, aws: Aws, full_role: dict[str, Any],
                                                  policies: dict[str, str]) -> None:
    role = Role()
    pid, attrs = role.create(ctx, full_role)
    before = role.read(ctx, pid, set(full_role)).properties
    after = dict(full_role,
                 AssumeRolePolicyDocument=json.dumps(trust("ec2.amazonaws.com")),
                 Description="runs the app, v2",
                 MaxSessionDuration=10800,
                 PermissionsBoundary=policies["boundary2"],
                 Policies=[{"PolicyName": "c-sqs", "PolicyDocument": allow("sqs:*")},
                           {"PolicyName": "a-s3", "PolicyDocument": allow("s3:*")}],
                 ManagedPolicyArns=[policies["p3"], policies["p1"]],
                 Tags=[{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "prod"}])
    start = len(aws.log.calls)
    assert update(role, ctx, pid, before, after) == attrs
    assert mutations(aws, start) == sorted([
        "iam.UpdateAssumeRolePolicy", "iam.UpdateRole", "iam.PutRolePermissionsBoundary",
        "iam.PutRolePolicy", "iam.PutRolePolicy", "iam.DeleteRolePolicy",
        "iam.AttachRolePolicy", "iam.DetachRolePolicy", "iam.TagRole", "iam.UntagRole"])
    live = role.read(ctx, pid, set(after))
    assert_reads_as(role, live.properties, role.desired_view(after))
    assert live.owner == OWNER


def test_role_update_touches_only_what_differs(ctx: Context, aws: Aws, full_role: dict[str, Any],
                                               requests: Requests) -> None:
    role = Role()
    pid, _ = role.create(ctx, full_role)
    before = role.read(ctx, pid, set(full_role)).properties
    reordered = dict(full_role, Description="new words", ManagedPolicyArns=full_role["ManagedPolicyArns"][::-1],
                     Policies=full_role["Policies"][::-1])
    start = len(aws.log.calls)
    requests.clear()
    update(role, ctx, pid, before, reordered)
    assert mutations(aws, start) == ["iam.UpdateRole"]
    assert requests.params("UpdateRole") == [{"RoleName": pid, "Description": "new words",
                                              "MaxSessionDuration": full_role["MaxSessionDuration"]}]


def test_role_removed_properties_reset_to_defaults(ctx: Context, full_role: dict[str, Any]) -> None:
    role = Role()
    pid, _ = role.create(ctx, full_role)
    before = role.read(ctx, pid, set(full_role)).properties
    after = {k: full_role[k] for k in ("RoleName", "AssumeRolePolicyDocument", "Path")}
    update(role, ctx, pid, before, after)
    live = role.read(ctx, pid, set(full_role))
    for key in ("Description", "MaxSessionDuration", "PermissionsBoundary", "Policies", "ManagedPolicyArns", "Tags"):
        assert canon(live.properties.get(key, role.defaults[key])) == canon(role.defaults[key]), key
    assert live.owner == OWNER  # ownership tags are never removed


def test_role_create_of_a_taken_name_answers_already_exists(ctx: Context, aws: Aws) -> None:
    props = {"RoleName": "taken", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com")}
    Role().create(Context(aws, REGION, "otherstack", "Other"), props)
    assert create_meets_existing(Role(), ctx, props) == "EntityAlreadyExists"
    assert Role().lookup(ctx, props) == "taken"
    assert Role().read(ctx, "taken", {"Tags"}).owner == ("otherstack", "Other")  # for the engine to refuse


def test_role_tag_for_ownership_adopts_an_untagged_role(ctx: Context) -> None:
    ctx.client("iam").create_role(RoleName="adopted", AssumeRolePolicyDocument=json.dumps(trust("ec2.amazonaws.com")),
                                  Tags=[{"Key": "team", "Value": "core"}])
    role = Role()
    assert role.read(ctx, "adopted", {"Tags"}).owner is None
    role.tag_for_ownership(ctx, "adopted")
    live = role.read(ctx, "adopted", {"Tags"})
    assert live.owner == OWNER
    assert live.properties["Tags"] == [{"Key": "team", "Value": "core"}]


def test_role_delete_clears_dependents_and_is_idempotent(ctx: Context, full_role: dict[str, Any]) -> None:
    role = Role()
    pid, _ = role.create(ctx, full_role)
    iam = ctx.client("iam")
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName=pid)
    role.delete(ctx, pid, full_role)
    assert role.read(ctx, pid, set(full_role)) is None
    assert iam.get_instance_profile(InstanceProfileName="app-profile")["InstanceProfile"]["Roles"] == []
    role.delete(ctx, pid, full_role)  # already gone: success


# --- code packaging -----------------------------------------------------------------------------

def write_tree(root: Any, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


SOURCES = {"app/handler.py": "def handler(event, context):\n    return 1\n", "app/util/x.py": "X = 1\n",
           "README.txt": "hello\n"}


def test_zip_is_reproducible_regardless_of_mtimes_and_write_order(tmp_path: Any) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write_tree(first, SOURCES)
    write_tree(second, dict(reversed(SOURCES.items())))
    for i, path in enumerate(sorted(second.rglob("*"))):
        os.utime(path, (1_000_000_000 + i * 7777, 1_500_000_000 + i * 7777))
    data = zip_path(str(first))
    assert data == zip_path(str(first)) == zip_path(str(second))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(SOURCES)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
        assert zf.read("app/handler.py").decode() == SOURCES["app/handler.py"]


def test_zip_keeps_the_owner_execute_bit(tmp_path: Any) -> None:
    write_tree(tmp_path, {"bootstrap": "#!/bin/sh\n", "lib.txt": "x"})
    (tmp_path / "bootstrap").chmod(0o775)
    (tmp_path / "lib.txt").chmod(0o600)
    with zipfile.ZipFile(io.BytesIO(zip_path(str(tmp_path)))) as zf:
        modes = {i.filename: (i.external_attr >> 16) for i in zf.infolist()}
    assert modes == {"bootstrap": stat.S_IFREG | 0o755, "lib.txt": stat.S_IFREG | 0o644}


def test_zip_single_file_relative_path_and_errors(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"src/main.py": "print(1)\n"})
    monkeypatch.chdir(tmp_path)
    assert zip_path("src") == zip_path(str(tmp_path / "src"))  # relative to the working directory
    with zipfile.ZipFile(io.BytesIO(zip_path("src/main.py"))) as zf:
        assert zf.namelist() == ["main.py"]
    with pytest.raises(DeployerError, match="no such file"):
        zip_path("missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeployerError, match="no files"):
        zip_path("empty")


def test_zip_inline_names_the_file_by_runtime_and_digest_matches_lambda() -> None:
    for runtime, name in (("python3.12", "index.py"), ("nodejs20.x", "index.js"), (None, "index.js")):
        data = zip_inline("code", runtime)
        assert data == zip_inline("code", runtime)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.namelist() == [name] and zf.read(name) == b"code"
    import base64
    import hashlib

    assert sha256_b64(b"abc") == base64.b64encode(hashlib.sha256(b"abc").digest()).decode()


# --- Lambda function ----------------------------------------------------------------------------

@pytest.fixture
def role_arn(ctx: Context) -> str:
    iam = ctx.client("iam")
    return iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust("lambda.amazonaws.com")))[
        "Role"]["Arn"]


@pytest.fixture
def layers(ctx: Context) -> list[str]:
    lam = ctx.client("lambda")
    content = {"ZipFile": zip_inline("x = 1", "python3.12")}
    return [lam.publish_layer_version(LayerName=name, Content=content)["LayerVersionArn"] for name in ("l1", "l2", "l3")]


@pytest.fixture
def src(tmp_path: Any) -> Any:
    write_tree(tmp_path / "src", SOURCES)
    return tmp_path / "src"


DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dead-letters"
NOT_STORED_BY_MOTO = frozenset({"DeadLetterConfig"})
NOT_UPDATED_BY_MOTO = frozenset({"DeadLetterConfig", "TracingConfig", "EphemeralStorage", "Architectures"})


@pytest.fixture
def full_function(role_arn: str, layers: list[str], src: Any) -> dict[str, Any]:
    return {
        "FunctionName": "app-fn",
        "Role": role_arn,
        "Runtime": "python3.12",
        "Handler": "app.handler.handler",
        "Code": {"Path": str(src)},
        "Description": "the app",
        "Environment": {"Variables": {"MODE": "fast", "RETRIES": 3, "DEBUG": True}},
        "MemorySize": 256,
        "Timeout": 30,
        "Architectures": ["arm64"],
        "Layers": layers[:2],
        "DeadLetterConfig": {"TargetArn": DLQ},
        "TracingConfig": {"Mode": "Active"},
        "VpcConfig": {"SecurityGroupIds": ["sg-0bbb", "sg-0aaa"], "SubnetIds": ["subnet-0b", "subnet-0a"]},
        "ReservedConcurrentExecutions": 5,
        "EphemeralStorage": {"Size": 1024},
        "Tags": [{"Key": "team", "Value": "core"}],
    }


def test_function_create_reads_back_every_property(ctx: Context, full_function: dict[str, Any],
                                                   requests: Requests) -> None:
    fn = Function()
    pid, attrs = fn.create(ctx, full_function)
    assert pid == "app-fn"
    assert attrs == {"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-fn", "FunctionName": "app-fn"}
    live = fn.read(ctx, pid, set(full_function))
    desired = view(fn, ctx, full_function)
    assert desired["Code"] == {"CodeSha256": sha256_b64(zip_path(full_function["Code"]["Path"]))}
    assert_reads_as(fn, live.properties, desired, skip=NOT_STORED_BY_MOTO)
    assert live.properties["Environment"] == {"Variables": {"MODE": "fast", "RETRIES": "3", "DEBUG": "true"}}
    assert live.owner == OWNER and live.attributes == attrs
    sent = requests.params("CreateFunction")[0]
    assert sent["DeadLetterConfig"] == {"TargetArn": DLQ}
    assert sent["Tags"] == {"team": "core", "deployer:stack": "teststack", "deployer:logical-id": "LogicalId"}


def test_function_read_is_one_call_and_prunes_defaults(ctx: Context, aws: Aws, role_arn: str) -> None:
    fn = Function()
    props = {"FunctionName": "small", "Role": role_arn, "Runtime": "python3.12", "Handler": "index.handler",
             "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}}
    pid, _ = fn.create(ctx, props)
    start = len(aws.log.calls)
    live = fn.read(ctx, pid, set())
    assert aws.log.calls[start:] == [("lambda", "GetFunction")]
    assert set(live.properties) == {"FunctionName", "Role", "Runtime", "Handler", "Code"}
    assert live.properties["Code"] == view(fn, ctx, props)["Code"]
    assert fn.read(ctx, "no-such-function", set()) is None


def test_function_update_changes_every_group_in_place(ctx: Context, aws: Aws, full_function: dict[str, Any],
                                                      layers: list[str], src: Any, requests: Requests) -> None:
    fn = Function()
    pid, attrs = fn.create(ctx, full_function)
    before = read_as_aws(fn, ctx, pid, full_function)
    (src / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    after = dict(full_function,
                 Description="the app, v2",
                 Environment={"Variables": {"MODE": "slow"}},
                 MemorySize=512, Timeout=60, Architectures=["x86_64"],
                 Layers=[layers[2], layers[0]],
                 DeadLetterConfig={"TargetArn": DLQ + "-2"},
                 TracingConfig={"Mode": "PassThrough"},
                 VpcConfig={"SecurityGroupIds": ["sg-0aaa"], "SubnetIds": ["subnet-0c", "subnet-0a"]},
                 ReservedConcurrentExecutions=10,
                 EphemeralStorage={"Size": 2048},
                 Tags=[{"Key": "env", "Value": "prod"}])
    start = len(aws.log.calls)
    requests.clear()
    assert update(fn, ctx, pid, before, after) == attrs
    assert mutations(aws, start) == sorted(["lambda.UpdateFunctionCode", "lambda.UpdateFunctionConfiguration",
                                            "lambda.PutFunctionConcurrency", "lambda.TagResource",
                                            "lambda.UntagResource"])
    assert requests.params("UpdateFunctionCode")[0]["Architectures"] == ["x86_64"]
    sent = requests.params("UpdateFunctionConfiguration")[0]
    assert set(sent) == {"FunctionName", "Description", "Environment", "MemorySize", "Timeout", "Layers",
                         "DeadLetterConfig", "TracingConfig", "VpcConfig", "EphemeralStorage"}
    assert sent["TracingConfig"] == {"Mode": "PassThrough"} and sent["EphemeralStorage"] == {"Size": 2048}
    live = fn.read(ctx, pid, set(after))
    assert_reads_as(fn, live.properties, view(fn, ctx, after), skip=NOT_UPDATED_BY_MOTO)
    assert live.properties["Code"] != before["Code"]


def test_function_update_touches_only_what_differs(ctx: Context, aws: Aws, full_function: dict[str, Any],
                                                   requests: Requests) -> None:
    fn = Function()
    pid, _ = fn.create(ctx, full_function)
    before = read_as_aws(fn, ctx, pid, full_function)
    vpc = full_function["VpcConfig"]
    after = dict(full_function, MemorySize=1024,
                 VpcConfig={"SecurityGroupIds": vpc["SecurityGroupIds"][::-1], "SubnetIds": vpc["SubnetIds"][::-1]})
    start = len(aws.log.calls)
    requests.clear()
    update(fn, ctx, pid, before, after)
    assert mutations(aws, start) == ["lambda.UpdateFunctionConfiguration"]
    assert requests.params("UpdateFunctionConfiguration") == [{"FunctionName": pid, "MemorySize": 1024}]


def test_function_removed_properties_reset_to_defaults(ctx: Context, full_function: dict[str, Any],
                                                       requests: Requests) -> None:
    fn = Function()
    pid, _ = fn.create(ctx, full_function)
    before = read_as_aws(fn, ctx, pid, full_function)
    after = {k: full_function[k] for k in ("FunctionName", "Role", "Runtime", "Handler", "Code")}
    requests.clear()
    update(fn, ctx, pid, before, after)
    sent = requests.params("UpdateFunctionConfiguration")[0]
    resettable = ("Description", "MemorySize", "Timeout", "Environment", "VpcConfig", "DeadLetterConfig",
                  "TracingConfig", "Layers", "EphemeralStorage")
    assert {k: sent[k] for k in resettable} == {k: fn.defaults[k] for k in resettable}
    assert requests.params("UpdateFunctionCode")[0]["Architectures"] == ["x86_64"]
    assert requests.params("DeleteFunctionConcurrency") == [{"FunctionName": pid}]
    assert requests.params("UntagResource")[0]["TagKeys"] == ["team"]
    live = fn.read(ctx, pid, set(full_function))
    for key in set(resettable) - NOT_UPDATED_BY_MOTO | {"ReservedConcurrentExecutions", "Tags"}:
        assert canon(live.properties.get(key, fn.defaults[key])) == canon(fn.defaults[key]), key
    assert live.owner == OWNER


def test_function_create_waits_only_while_lambda_answers_pending(ctx: Context, aws: Aws, role_arn: str) -> None:
    fn = Function()
    props = {"FunctionName": "quick", "Role": role_arn, "Runtime": "python3.12", "Handler": "index.handler",
             "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}}
    start = len(aws.log.calls)
    fn.create(ctx, props)  # moto answers Active: no function_active_v2 poll
    assert aws.log.calls[start:] == [("lambda", "CreateFunction")]

    def pending(parsed, **_):
        parsed["State"] = "Pending"  # as AWS answers a new function

    ctx.client("lambda").meta.events.register("after-call.lambda.CreateFunction", pending)
    start = len(aws.log.calls)
    fn.create(ctx, dict(props, FunctionName="slow"))
    assert aws.log.calls[start:] == [("lambda", "CreateFunction"), ("lambda", "GetFunction")]


def test_function_inline_code(ctx: Context, role_arn: str) -> None:
    fn = Function()
    props = {"FunctionName": "inline", "Role": role_arn, "Runtime": "nodejs20.x", "Handler": "index.handler",
             "Code": {"ZipFile": "exports.handler = async () => 1;"}}
    pid, _ = fn.create(ctx, props)
    live = fn.read(ctx, pid, {"Code"})
    assert live.properties["Code"] == fn.desired_view(props)["Code"] == \
        {"CodeSha256": sha256_b64(zip_inline(props["Code"]["ZipFile"], "nodejs20.x"))}
    changed = dict(props, Code={"ZipFile": "exports.handler = async () => 2;"})
    update(fn, ctx, pid, live.properties, changed)
    assert fn.read(ctx, pid, {"Code"}).properties["Code"] == fn.desired_view(changed)["Code"]


def test_function_s3_code_compares_by_object_content(ctx: Context, aws: Aws, role_arn: str) -> None:
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="code-bucket")
    v1, v2 = zip_inline("def h(e, c): return 1", "python3.12"), zip_inline("def h(e, c): return 2", "python3.12")
    s3.put_object(Bucket="code-bucket", Key="fn.zip", Body=v1)  # CRC32 only: the digest is streamed
    fn = Function()
    props = {"FunctionName": "from-s3", "Role": role_arn, "Runtime": "python3.12", "Handler": "index.h",
             "Code": {"S3Bucket": "code-bucket", "S3Key": "fn.zip"}}
    pid, _ = fn.create(ctx, props)
    live = fn.read(ctx, pid, {"Code"})
    assert fn.plan_reads(ctx, props) == {"code_sha256": sha256_b64(v1)}
    assert view(fn, ctx, props)["Code"] == live.properties["Code"] == {"CodeSha256": sha256_b64(v1)}

    s3.put_object(Bucket="code-bucket", Key="fn.zip", Body=v2, ChecksumAlgorithm="SHA256")  # stored checksum
    start = len(aws.log.calls)
    reads = fn.plan_reads(ctx, props)
    assert ("s3", "GetObject") not in aws.log.calls[start:]
    start = len(aws.log.calls)
    assert fn.desired_view(props, reads)["Code"] == {"CodeSha256": sha256_b64(v2)}
    assert aws.log.calls[start:] == []  # the view itself makes no call
    update(fn, ctx, pid, live.properties, props)
    assert fn.read(ctx, pid, {"Code"}).properties["Code"] == {"CodeSha256": sha256_b64(v2)}

    assert fn.desired_view(props)["Code"] == props["Code"]  # no plan reads: keep the location
    missing = dict(props, Code={"S3Bucket": "code-bucket", "S3Key": "not-there.zip"})
    assert fn.plan_reads(ctx, missing) == {"code_sha256": None}
    assert view(fn, ctx, missing)["Code"] == missing["Code"]
    unknown = dict(props, Code={"S3Bucket": UNKNOWN, "S3Key": "fn.zip"})
    assert fn.plan_reads(ctx, unknown) == {}
    assert view(fn, ctx, unknown)["Code"] == unknown["Code"]
    assert fn.plan_reads(ctx, {"Code": {"ZipFile": "x = 1"}}) == {}  # digested locally: nothing to read


def test_function_create_waits_for_a_new_role_to_propagate(ctx: Context, monkeypatch: pytest.MonkeyPatch,
                                                           src: Any) -> None:
    """moto answers a missing role with the same error AWS gives while a new role propagates."""
    pauses: list[float] = []

    def role_appears(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            ctx.client("iam").create_role(RoleName="late-role",
                                          AssumeRolePolicyDocument=json.dumps(trust("lambda.amazonaws.com")))

    monkeypatch.setattr(waiting, "SLEEP", role_appears)
    props = {"FunctionName": "patient", "Role": f"arn:aws:iam::{ACCOUNT}:role/late-role", "Runtime": "python3.12",
             "Handler": "app.handler.handler", "Code": {"Path": str(src)}}
    pid, _ = Function().create(ctx, props)
    assert pauses == [1.0, 2.0]
    assert Function().read(ctx, pid, set()) is not None


def test_function_role_retry_gives_up_after_its_budget(ctx: Context, monkeypatch: pytest.MonkeyPatch,
                                                       src: Any, pauses: list[float]) -> None:
    monkeypatch.setattr(awslambda, "ROLE_RETRY_SECONDS", 5.0)
    props = {"FunctionName": "never", "Role": f"arn:aws:iam::{ACCOUNT}:role/never-created", "Runtime": "python3.12",
             "Handler": "app.handler.handler", "Code": {"Path": str(src)}}
    with pytest.raises(ClientError, match="cannot be assumed by Lambda"):
        Function().create(ctx, props)
    assert pauses == [1.0, 2.0, 2.0]


def test_function_other_invalid_parameter_errors_are_not_retried(ctx: Context, role_arn: str, src: Any,
                                                                 pauses: list[float]) -> None:

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InvalidParameterValueException", "Message": "Unzipped size too big"}},
                          "CreateFunction")

    ctx.client("lambda").meta.events.register("before-call.lambda.CreateFunction", refuse)
    props = {"FunctionName": "bad", "Role": role_arn, "Runtime": "python3.12", "Handler": "app.handler.handler",
             "Code": {"Path": str(src)}}
    with pytest.raises(ClientError, match="too big"):
        Function().create(ctx, props)
    assert pauses == []


def test_function_tag_for_ownership_and_delete(ctx: Context, role_arn: str, src: Any) -> None:
    lam = ctx.client("lambda")
    lam.create_function(FunctionName="adopted", Role=role_arn, Runtime="python3.12", Handler="app.handler.handler",
                        Code={"ZipFile": zip_path(str(src))}, Tags={"team": "core"})
    fn = Function()
    assert fn.read(ctx, "adopted", {"Tags"}).owner is None
    fn.tag_for_ownership(ctx, "adopted")
    live = fn.read(ctx, "adopted", {"Tags"})
    assert live.owner == OWNER and live.properties["Tags"] == [{"Key": "team", "Value": "core"}]
    fn.delete(ctx, "adopted", {})
    assert fn.read(ctx, "adopted", {"Tags"}) is None
    fn.delete(ctx, "adopted", {})  # already gone: success


def test_function_found_by_ownership_tags_and_a_taken_name_answers_already_exists(
        ctx: Context, aws: Aws, role_arn: str) -> None:
    fn = Function()
    props = {"FunctionName": "mine", "Role": role_arn, "Runtime": "python3.12", "Handler": "index.h",
             "Code": {"ZipFile": "x = 1"}}
    assert fn.find_owned(ctx, props) == []
    fn.create(ctx, props)
    assert fn.find_owned(ctx, props) == ["mine"]
    assert fn.find_owned(Context(aws, REGION, "teststack", "Other"), props) == []
    assert create_meets_existing(fn, ctx, props) == "ResourceConflictException"
    assert fn.lookup(ctx, props) == "mine"


def test_numbers_given_as_text_are_sent_as_integers(ctx: Context, role_arn: str, requests: Requests) -> None:
    """Values substituted from variables can arrive as text; the APIs want integers."""
    role = Role()
    pid, _ = role.create(ctx, {"RoleName": "texty", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com"),
                               "MaxSessionDuration": "7200", "Description": "1234"})
    assert role.read(ctx, pid, set()).properties["MaxSessionDuration"] == 7200
    fn = Function()
    props = {"FunctionName": "texty", "Role": role_arn, "Runtime": "python3.12", "Handler": "index.h",
             "Code": {"ZipFile": "x = 1"}, "MemorySize": "256", "Timeout": "10", "ReservedConcurrentExecutions": "2",
             "EphemeralStorage": {"Size": "1024"}}
    pid, _ = fn.create(ctx, props)
    sent = requests.params("CreateFunction")[0]
    assert (sent["MemorySize"], sent["Timeout"], sent["EphemeralStorage"]) == (256, 10, {"Size": 1024})
    live = fn.read(ctx, pid, set(props))
    assert_reads_as(fn, live.properties, view(fn, ctx, props))
    update(fn, ctx, pid, live.properties, dict(props, Timeout="20"))
    assert requests.params("UpdateFunctionConfiguration")[-1] == {"FunctionName": pid, "Timeout": 20}


# --- IAM's eventual consistency: the wait only after a call did not find the new role ---------------

def test_role_create_configures_it_at_once_and_reads_nothing(ctx: Context, calls: Any,
                                                             policies: dict[str, str]) -> None:
    calls.clear()
    Role().create(ctx, {"RoleName": "quick", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com"),
                        "Policies": [{"PolicyName": "p", "PolicyDocument": allow("s3:*")}],
                        "ManagedPolicyArns": [policies["p1"]]})
    assert calls.names() == ["CreateRole", "PutRolePolicy", "AttachRolePolicy"]
    calls.clear()
    Role().create(ctx, {"RoleName": "bare", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com")})
    assert calls.names() == ["CreateRole"]


def test_role_not_yet_visible_is_waited_for_then_configured(ctx: Context, calls: Any) -> None:
    """IAM may answer NoSuchEntity for a role it just made: botocore's role_exists waiter, then again."""
    answers = ["NoSuchEntity"]

    def not_yet(**_: Any) -> None:
        if answers:
            raise ClientError({"Error": {"Code": answers.pop(), "Message": "The role cannot be found"}},
                              "PutRolePolicy")

    ctx.client("iam").meta.events.register("before-call.iam.PutRolePolicy", not_yet)
    calls.clear()
    pid, _ = Role().create(ctx, {"RoleName": "late", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com"),
                                 "Policies": [{"PolicyName": "p", "PolicyDocument": allow("s3:*")}]})
    assert calls.names() == ["CreateRole", "PutRolePolicy", "GetRole", "PutRolePolicy"]
    assert [p["PolicyName"] for p in Role().read(ctx, pid, {"Policies"}).properties["Policies"]] == ["p"]


def test_role_create_with_a_missing_managed_policy_fails_after_one_wait(ctx: Context, calls: Any) -> None:
    calls.clear()
    with pytest.raises(ClientError) as caught:
        Role().create(ctx, {"RoleName": "orphan", "AssumeRolePolicyDocument": trust("ec2.amazonaws.com"),
                            "ManagedPolicyArns": [f"arn:aws:iam::{ACCOUNT}:policy/never-made"]})
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    assert calls.names() == ["CreateRole", "AttachRolePolicy", "GetRole", "AttachRolePolicy"]
