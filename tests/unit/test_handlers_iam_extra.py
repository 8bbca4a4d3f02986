"""AWS::IAM::Policy, ManagedPolicy, User, Group and InstanceProfile handlers against in-process moto.

moto gaps these tests work around (checked against moto 5.2): PutUserPermissionsBoundary and
DeleteUserPermissionsBoundary are not implemented and CreateUser ignores PermissionsBoundary;
UpdateGroup ignores NewPath; UpdateUser with NewPath drops the user's tags; and moto deletes users,
groups, managed policies and instance profiles that still have members, attachments, credentials or
roles (AWS refuses with DeleteConflict). For those the tests check the requests the handler sent, and
their order, instead of relying on moto to refuse. moto's CreateLoginProfile drops PasswordResetRequired,
and its UpdateLoginProfile without a Password deletes the password (AWS keeps it): the login profile
tests run against a moto patched to AWS's behaviour (`aws_login_profiles`).
"""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from deployer.aws import Aws
from deployer.errors import DeployerError
from deployer.normalize import canon
from deployer.resources.base import Context, Handler
from deployer.resources.iam import Group, InstanceProfile, ManagedPolicy, Policy, User
from tests.unit.handler_support import create_meets_existing, update

REGION = "us-east-1"
ACCOUNT = "123456789012"
OWNER = ("teststack", "LogicalId")


def allow(action: str | list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def iam(ctx: Context) -> Any:
    return ctx.client("iam")


@pytest.fixture
def people(iam: Any) -> dict[str, list[str]]:
    """Two roles, two users and two groups to attach things to."""
    for name in ("r1", "r2"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    for name in ("u1", "u2"):
        iam.create_user(UserName=name)
    for name in ("g1", "g2"):
        iam.create_group(GroupName=name)
    return {"Roles": ["r1", "r2"], "Users": ["u1", "u2"], "Groups": ["g1", "g2"]}


@pytest.fixture
def arns(iam: Any) -> dict[str, str]:
    return {name: iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(allow("s3:*")))["Policy"]["Arn"]
            for name in ("p1", "p2", "p3")}


class Requests:
    """The API parameters of every IAM call, in order (to check what moto would not show or refuse)."""

    def __init__(self, ctx: Context) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        ctx.client("iam").meta.events.register("provide-client-params.iam.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.seen.append((model.name, dict(params)))

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [p for op, p in self.seen if op == operation]

    def operations(self) -> list[str]:
        return [op for op, _ in self.seen]


@pytest.fixture
def requests(ctx: Context) -> Requests:
    return Requests(ctx)


def short_circuit(ctx: Context, *operations: str) -> None:
    """Answer these IAM operations with an empty success before they reach moto (which lacks them)."""
    def answer(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=200), {}

    for operation in operations:
        ctx.client("iam").meta.events.register(f"before-call.iam.{operation}", answer)


def calls_since(aws: Aws, start: int) -> Counter:
    return Counter(op for _, op in aws.log.calls[start:])


def assert_reads_as(handler: Handler, live: dict[str, Any], view: dict[str, Any],
                    skip: frozenset[str] = frozenset()) -> None:
    for key, want in view.items():
        if key not in skip:
            got = live.get(key, handler.defaults.get(key))
            assert canon(got) == canon(want), f"{key}: read {got!r}, wanted {want!r}"


def inline_doc(iam: Any, kind: str, who: str, name: str) -> Any:
    return getattr(iam, f"get_{kind}_policy")(**{f"{kind.capitalize()}Name": who}, PolicyName=name)["PolicyDocument"]


# --- AWS::IAM::Policy ---------------------------------------------------------------------------

def test_policy_create_puts_it_on_every_principal_and_reads_back(ctx: Context, iam: Any, people: Any) -> None:
    handler = Policy()
    props = {"PolicyName": "app-access", "PolicyDocument": json.dumps(allow("sqs:*")),
             "Roles": ["r2", "r1"], "Users": ["u1"], "Groups": ["g1"]}
    pid, attrs = handler.create(ctx, props)
    assert pid == "app-access" and attrs == {"Id": "app-access"}
    assert handler.ref_value(pid, attrs) == "app-access"
    for kind, who in (("role", "r1"), ("role", "r2"), ("user", "u1"), ("group", "g1")):
        assert canon(inline_doc(iam, kind, who, "app-access")) == canon(allow("sqs:*"))

    live = handler.read(ctx, pid, set(props))
    assert live is not None and live.attributes == {"Id": "app-access"}
    assert live.properties["Roles"] == ["r1", "r2"]
    assert_reads_as(handler, live.properties, handler.desired_view(props))
    assert handler.physical_id_for(props) == "app-access" and handler.name_property is None


def test_policy_reads_a_batch_with_one_scan_of_the_kinds_named(ctx: Context, aws: Aws, iam: Any, people: Any,
                                                             requests: Requests) -> None:
    handler = Policy()
    handler.create(ctx, {"PolicyName": "one", "PolicyDocument": allow("s3:*"), "Roles": ["r1"]})
    handler.create(ctx, {"PolicyName": "two", "PolicyDocument": allow("s3:*"), "Roles": ["r2"]})
    start = len(aws.log.calls)
    lives = handler.read_many([(ctx, "one", {"PolicyName", "PolicyDocument", "Roles"}),
                               (ctx, "two", {"PolicyName", "PolicyDocument", "Roles"}),
                               (ctx, "three", {"PolicyName", "PolicyDocument", "Roles"})])
    assert calls_since(aws, start) == Counter({"GetAccountAuthorizationDetails": 1})
    assert requests.params("GetAccountAuthorizationDetails")[-1]["Filter"] == ["Role"]
    assert [live.properties["Roles"] if live else None for live in lives] == [["r1"], ["r2"], None]


def test_policy_lookup_finds_a_name_a_listed_principal_already_uses(ctx: Context, iam: Any, people: Any,
                                                                   requests: Requests) -> None:
    """PutRolePolicy would overwrite an inline policy of that name silently: lookup lets the plan see it."""
    iam.put_role_policy(RoleName="r2", PolicyName="root", PolicyDocument=json.dumps(allow("ec2:*")))
    handler = Policy()
    props = {"PolicyName": "root", "PolicyDocument": allow("s3:*"), "Roles": ["r1", "r2"]}
    requests.seen.clear()
    assert handler.lookup(ctx, props) == "root"
    assert requests.operations() == ["GetRolePolicy", "GetRolePolicy"]  # r1 (none), then r2
    assert handler.lookup(ctx, {**props, "Roles": ["r1"], "Users": ["u1"], "Groups": ["g1"]}) is None
    assert handler.lookup(ctx, {**props, "PolicyName": "other"}) is None
    assert canon(inline_doc(iam, "role", "r2", "root")) == canon(allow("ec2:*"))  # lookup changes nothing


def test_policy_create_needs_a_principal(ctx: Context) -> None:
    with pytest.raises(DeployerError, match="at least one of Roles, Users, Groups"):
        Policy().create(ctx, {"PolicyName": "lonely", "PolicyDocument": allow("s3:*")})


def test_policy_update_moves_attachments_and_rewrites_the_document(ctx: Context, aws: Aws, iam: Any,
                                                                  people: Any) -> None:
    handler = Policy()
    props = {"PolicyName": "p", "PolicyDocument": allow("s3:*"), "Roles": ["r1"], "Users": ["u1"]}
    pid, _ = handler.create(ctx, props)
    before = handler.read(ctx, pid, set(props) | {"Groups"}).properties

    moved = dict(props, Roles=["r1", "r2"], Users=[], Groups=["g2"])
    start = len(aws.log.calls)
    assert update(handler, ctx, pid, before, moved) == {"Id": "p"}
    assert calls_since(aws, start) == Counter({"PutRolePolicy": 1, "PutGroupPolicy": 1, "DeleteUserPolicy": 1})
    live = handler.read(ctx, pid, set(moved)).properties
    assert (live["Roles"], live["Users"], live["Groups"]) == (["r1", "r2"], [], ["g2"])

    rewritten = dict(moved, PolicyDocument=allow(["s3:GetObject"]))
    start = len(aws.log.calls)
    update(handler, ctx, pid, live, rewritten)
    assert calls_since(aws, start) == Counter({"PutRolePolicy": 2, "PutGroupPolicy": 1})
    assert canon(handler.read(ctx, pid, set(rewritten)).properties["PolicyDocument"]) == canon(allow("s3:GetObject"))


def test_policy_holders_that_disagree_read_as_a_change(ctx: Context, iam: Any, people: Any) -> None:
    handler = Policy()
    props = {"PolicyName": "p", "PolicyDocument": allow("s3:*"), "Roles": ["r1", "r2"]}
    pid, _ = handler.create(ctx, props)
    iam.put_role_policy(RoleName="r2", PolicyName="p", PolicyDocument=json.dumps(allow("iam:*")))  # drift
    live = handler.read(ctx, pid, set(props)).properties
    assert canon(live["PolicyDocument"]) != canon(props["PolicyDocument"])
    assert len(live["PolicyDocument"]) == 2

    update(handler, ctx, pid, live, props)
    assert canon(handler.read(ctx, pid, set(props)).properties["PolicyDocument"]) == canon(allow("s3:*"))


def test_policy_delete_removes_it_everywhere(ctx: Context, iam: Any, people: Any) -> None:
    handler = Policy()
    props = {"PolicyName": "p", "PolicyDocument": allow("s3:*"), "Roles": ["r1"], "Groups": ["g1", "g2"]}
    pid, _ = handler.create(ctx, props)
    iam.delete_group_policy(GroupName="g2", PolicyName="p")  # one already gone: still success
    handler.delete(ctx, pid, props)
    assert handler.read(ctx, pid, set(props)) is None
    handler.delete(ctx, pid, props)  # all gone: success


def test_policy_delete_without_principals_finds_them(ctx: Context, iam: Any, people: Any) -> None:
    handler = Policy()
    pid, _ = handler.create(ctx, {"PolicyName": "p", "PolicyDocument": allow("s3:*"), "Users": ["u2"]})
    handler.delete(ctx, pid, {})
    assert iam.list_user_policies(UserName="u2")["PolicyNames"] == []


# --- AWS::IAM::ManagedPolicy -------------------------------------------------------------------------

def test_managed_policy_create_reads_back_with_attachments(ctx: Context, iam: Any, people: Any) -> None:
    handler = ManagedPolicy()
    props = {"ManagedPolicyName": "mp", "Path": "/team/", "Description": "shared access",
             "PolicyDocument": json.dumps(allow("dynamodb:*")), "Roles": ["r2", "r1"], "Users": ["u1"],
             "Groups": ["g1"]}
    pid, attrs = handler.create(ctx, props)
    assert pid == f"arn:aws:iam::{ACCOUNT}:policy/team/mp"
    assert set(attrs) == {"PolicyArn", "PolicyId", "DefaultVersionId", "AttachmentCount", "IsAttachable",
                          "PermissionsBoundaryUsageCount", "CreateDate", "UpdateDate"}
    assert attrs["PolicyArn"] == pid and attrs["DefaultVersionId"] == "v1" and attrs["AttachmentCount"] == 4
    assert isinstance(attrs["CreateDate"], str)

    live = handler.read(ctx, pid, set(props))
    assert_reads_as(handler, live.properties, handler.desired_view(props))
    assert live.owner == OWNER  # ownership tags, though CloudFormation models no Tags here
    assert handler.physical_id_for(props) is None


def test_managed_policy_read_lists_entities_only_when_wanted(ctx: Context, aws: Aws) -> None:
    handler = ManagedPolicy()
    pid, _ = handler.create(ctx, {"ManagedPolicyName": "mp", "PolicyDocument": allow("s3:*")})
    start = len(aws.log.calls)
    live = handler.read(ctx, pid, {"ManagedPolicyName", "PolicyDocument"})
    assert calls_since(aws, start) == Counter({"GetPolicy": 1, "GetPolicyVersion": 1})
    assert set(live.properties) == {"ManagedPolicyName", "PolicyDocument"}  # defaults pruned
    assert handler.read(ctx, f"arn:aws:iam::{ACCOUNT}:policy/nope", {"PolicyDocument"}) is None


def test_managed_policy_document_change_prunes_the_oldest_spare_version(ctx: Context, iam: Any) -> None:
    handler = ManagedPolicy()
    props = {"ManagedPolicyName": "mp", "PolicyDocument": allow("s3:*")}
    pid, _ = handler.create(ctx, props)
    for action in ("sqs:*", "sns:*", "ec2:*", "kms:*"):  # v2..v5, not default: five versions in all
        iam.create_policy_version(PolicyArn=pid, PolicyDocument=json.dumps(allow(action)), SetAsDefault=False)

    attrs = update(handler, ctx, pid, handler.read(ctx, pid, set(props)).properties,
                   dict(props, PolicyDocument=allow("logs:*")))
    versions = {v["VersionId"]: v["IsDefaultVersion"] for v in iam.list_policy_versions(PolicyArn=pid)["Versions"]}
    assert versions == {"v1": False, "v3": False, "v4": False, "v5": False, "v6": True}
    assert attrs["DefaultVersionId"] == "v6"
    assert canon(handler.read(ctx, pid, set(props)).properties["PolicyDocument"]) == canon(allow("logs:*"))


def test_managed_policy_update_moves_attachments(ctx: Context, aws: Aws, people: Any) -> None:
    handler = ManagedPolicy()
    props = {"ManagedPolicyName": "mp", "PolicyDocument": allow("s3:*"), "Roles": ["r1"], "Users": ["u1"]}
    pid, _ = handler.create(ctx, props)
    before = handler.read(ctx, pid, set(props) | {"Groups"}).properties
    after = dict(props, Roles=["r2"], Users=[], Groups=["g1"])
    start = len(aws.log.calls)
    update(handler, ctx, pid, before, after)
    assert {op: n for op, n in calls_since(aws, start).items() if op.startswith(("Attach", "Detach"))} == {
        "AttachRolePolicy": 1, "DetachRolePolicy": 1, "DetachUserPolicy": 1, "AttachGroupPolicy": 1}
    live = handler.read(ctx, pid, set(after)).properties
    assert (live["Roles"], live["Users"], live["Groups"]) == (["r2"], [], ["g1"])


def test_managed_policy_delete_detaches_and_drops_versions_first(ctx: Context, iam: Any, people: Any,
                                                                 requests: Requests) -> None:
    handler = ManagedPolicy()
    props = {"ManagedPolicyName": "mp", "PolicyDocument": allow("s3:*"), "Roles": ["r1"], "Groups": ["g2"]}
    pid, _ = handler.create(ctx, props)
    update(handler, ctx, pid, handler.read(ctx, pid, set(props)).properties, dict(props, PolicyDocument=allow("ec2:*")))
    handler.delete(ctx, pid, props)
    ops = requests.operations()
    tail = ops[ops.index("ListEntitiesForPolicy"):]
    assert tail.index("DeletePolicy") > max(tail.index("DetachRolePolicy"), tail.index("DetachGroupPolicy"),
                                            tail.index("DeletePolicyVersion"))
    assert requests.params("DeletePolicyVersion") == [{"PolicyArn": pid, "VersionId": "v1"}]
    assert handler.read(ctx, pid, set(props)) is None
    handler.delete(ctx, pid, props)  # already gone


def test_managed_policy_retried_create_finds_only_its_own(ctx: Context, aws: Aws, requests: Requests) -> None:
    """A retry after a lost answer meets already-exists; find_owned (by name and path, then the ownership
    tags) tells the engine whether the policy is this step's; lookup finds it whoever made it."""
    handler = ManagedPolicy()
    props = {"ManagedPolicyName": "mp", "PolicyDocument": allow("s3:*")}
    assert handler.lookup(ctx, props) is None and handler.find_owned(ctx, props) == []
    pid, _ = handler.create(ctx, props)
    assert create_meets_existing(handler, ctx, props) == "EntityAlreadyExists"
    assert handler.find_owned(ctx, props) == [pid]
    assert handler.lookup(ctx, props) == pid

    stranger = Context(aws, REGION, "otherstack", "LogicalId")
    create_meets_existing(handler, stranger, props)
    assert handler.find_owned(stranger, props) == []
    assert handler.lookup(stranger, props) == pid
    requests.seen.clear()
    assert handler.lookup(ctx, {**props, "Path": "/team/"}) is None  # the path is part of the ARN
    assert requests.params("GetPolicy") == [{"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/team/mp"}]


# --- AWS::IAM::User -----------------------------------------------------------------------------------

@pytest.fixture
def full_user(people: Any, arns: dict[str, str]) -> dict[str, Any]:
    return {"UserName": "alice", "Path": "/staff/", "Groups": ["g2", "g1"],
            "ManagedPolicyArns": [arns["p2"], arns["p1"]],
            "Policies": [{"PolicyName": "b", "PolicyDocument": json.dumps(allow("logs:*"))},
                         {"PolicyName": "a", "PolicyDocument": allow("s3:*")}],
            "Tags": [{"Key": "team", "Value": "data"}]}


def test_user_create_reads_back_every_property(ctx: Context, full_user: dict[str, Any]) -> None:
    handler = User()
    pid, attrs = handler.create(ctx, full_user)
    assert pid == "alice" and attrs == {"Arn": f"arn:aws:iam::{ACCOUNT}:user/staff/alice"}
    live = handler.read(ctx, pid, set(full_user))
    assert_reads_as(handler, live.properties, handler.desired_view(full_user))
    assert live.properties["Groups"] == ["g1", "g2"]
    assert [p["PolicyName"] for p in live.properties["Policies"]] == ["a", "b"]
    assert live.owner == OWNER and live.attributes == attrs
    assert all(not t["Key"].startswith("deployer:") for t in live.properties["Tags"])


def test_user_create_sends_the_permissions_boundary(ctx: Context, arns: dict[str, str], requests: Requests) -> None:
    User().create(ctx, {"UserName": "bob", "PermissionsBoundary": arns["p3"]})  # moto drops it; AWS keeps it
    assert requests.params("CreateUser")[0]["PermissionsBoundary"] == arns["p3"]


def test_user_read_skips_list_calls_not_wanted(ctx: Context, aws: Aws) -> None:
    handler = User()
    pid, _ = handler.create(ctx, {"UserName": "bare"})
    start = len(aws.log.calls)
    live = handler.read(ctx, pid, {"UserName", "Tags"})
    assert calls_since(aws, start) == Counter({"GetUser": 1})
    assert live.properties == {"UserName": "bare", "Tags": []}
    assert handler.read(ctx, "nobody", {"Groups"}) is None


def test_user_update_changes_every_group_in_place(ctx: Context, iam: Any, full_user: dict[str, Any],
                                                  arns: dict[str, str]) -> None:
    handler = User()
    pid, _ = handler.create(ctx, full_user)
    before = handler.read(ctx, pid, set(full_user)).properties
    after = dict(full_user, Path="/ops/", Groups=["g1"], ManagedPolicyArns=[arns["p3"]],
                 Policies=[{"PolicyName": "a", "PolicyDocument": allow("sqs:*")}],
                 Tags=[{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": "prod"}])
    attrs = update(handler, ctx, pid, before, after)
    assert attrs == {"Arn": f"arn:aws:iam::{ACCOUNT}:user/ops/alice"}
    live = handler.read(ctx, pid, set(after))
    assert_reads_as(handler, live.properties, handler.desired_view(after))
    assert live.owner == OWNER  # the path change did not lose the ownership tags


def test_user_boundary_is_put_and_removed(ctx: Context, arns: dict[str, str], requests: Requests) -> None:
    short_circuit(ctx, "PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary")  # moto lacks both
    handler = User()
    pid, _ = handler.create(ctx, {"UserName": "carol"})
    update(handler, ctx, pid, {"UserName": "carol"}, {"UserName": "carol", "PermissionsBoundary": arns["p1"]})
    update(handler, ctx, pid, {"UserName": "carol", "PermissionsBoundary": arns["p1"]}, {"UserName": "carol"})
    assert requests.params("PutUserPermissionsBoundary") == [{"UserName": "carol", "PermissionsBoundary": arns["p1"]}]
    assert requests.params("DeleteUserPermissionsBoundary") == [{"UserName": "carol"}]


def test_user_tag_for_ownership_adds_only_the_ownership_tags(ctx: Context, iam: Any, requests: Requests) -> None:
    handler = User()
    pid, _ = handler.create(ctx, {"UserName": "dave", "Tags": [{"Key": "a", "Value": "1"}]})
    iam.untag_user(UserName=pid, TagKeys=["deployer:stack", "deployer:logical-id"])
    assert handler.read(ctx, pid, {"Tags"}).owner is None
    requests.seen.clear()
    update(handler, ctx, pid, handler.read(ctx, pid, {"Tags"}).properties, {"UserName": "dave",
                                                                         "Tags": [{"Key": "a", "Value": "1"}]})
    assert requests.params("TagUser") == []  # nothing changed: an update leaves the tags alone
    handler.tag_for_ownership(ctx, pid)
    assert requests.params("TagUser") == [{"UserName": pid, "Tags": [
        {"Key": "deployer:logical-id", "Value": "LogicalId"}, {"Key": "deployer:stack", "Value": "teststack"}]}]
    live = handler.read(ctx, pid, {"Tags"})
    assert live.owner == OWNER and live.properties["Tags"] == [{"Key": "a", "Value": "1"}]


@pytest.fixture
def aws_login_profiles(monkeypatch):
    """Make moto keep CreateLoginProfile's PasswordResetRequired and keep the password when
    UpdateLoginProfile sends none, as AWS does."""
    from moto.iam.models import IAMBackend
    from moto.iam.responses import IamResponse

    create, change = IamResponse.create_login_profile, IAMBackend.update_login_profile

    def create_login_profile(self):
        answer = create(self)
        user = self.backend.get_user(self._get_param("UserName"))
        user.password_reset_required = self._get_param("PasswordResetRequired") in (True, "true")
        return answer

    def update_login_profile(self, user_name, password, password_reset_required):
        kept = self.get_user(user_name).password
        return change(self, user_name, password or kept, password_reset_required in (True, "true"))

    monkeypatch.setattr(IamResponse, "create_login_profile", create_login_profile)
    monkeypatch.setattr(IAMBackend, "update_login_profile", update_login_profile)


def stored(handler: User, props: dict[str, Any]) -> str:
    """The digest of the LoginProfile the state keeps after an apply of props (what update() is handed)."""
    from deployer import secrets

    return secrets.digest(handler.desired_view(props)["LoginProfile"])


def test_user_login_profile_is_sensitive_write_only_and_created(ctx: Context, iam: Any, requests: Requests,
                                                                aws_login_profiles: None) -> None:
    handler = User()
    assert "LoginProfile" in handler.sensitive_properties and "LoginProfile" in handler.write_only
    assert "LoginProfile" in handler.restore_from_spec
    props = {"UserName": "erin", "LoginProfile": {"Password": "Fir5t-Passw0rd!", "PasswordResetRequired": "true"}}
    pid, _ = handler.create(ctx, props)
    assert requests.params("CreateLoginProfile") == [
        {"UserName": "erin", "Password": "Fir5t-Passw0rd!", "PasswordResetRequired": True}]
    assert iam.get_login_profile(UserName=pid)["LoginProfile"]["PasswordResetRequired"] is True
    assert "LoginProfile" not in handler.read(ctx, pid, set(props)).properties  # IAM never answers a password
    # one canonical form, so "true" and True (and an absent false) give one digest
    assert handler.desired_view(props)["LoginProfile"] == {"Password": "Fir5t-Passw0rd!", "PasswordResetRequired": True}
    assert handler.desired_view({"LoginProfile": {"Password": "x", "PasswordResetRequired": False}})["LoginProfile"] == {
        "Password": "x"}


def test_user_login_profile_changes_by_digest(ctx: Context, iam: Any, requests: Requests,
                                              aws_login_profiles: None) -> None:
    handler = User()
    first = {"UserName": "frank", "LoginProfile": {"Password": "Fir5t-Passw0rd!", "PasswordResetRequired": True}}
    pid, _ = handler.create(ctx, first)
    live = handler.read(ctx, pid, set(first)).properties
    requests.seen.clear()
    handler.update(ctx, pid, {**live, "LoginProfile": stored(handler, first)}, first, frozenset({"LoginProfile"}))
    assert not [op for op in requests.operations() if "LoginProfile" in op]  # the digest matches: no call
    flag_only = {"UserName": "frank", "LoginProfile": {"Password": "Fir5t-Passw0rd!"}}
    handler.update(ctx, pid, {**live, "LoginProfile": stored(handler, first)}, flag_only, frozenset({"LoginProfile"}))
    assert requests.params("UpdateLoginProfile") == [{"UserName": "frank", "PasswordResetRequired": False}]
    assert iam.get_login_profile(UserName=pid)["LoginProfile"]["PasswordResetRequired"] is False
    new_password = {"UserName": "frank", "LoginProfile": {"Password": "S3cond-Passw0rd!"}}
    requests.seen.clear()
    handler.update(ctx, pid, {**live, "LoginProfile": stored(handler, flag_only)}, new_password,
                   frozenset({"LoginProfile"}))
    assert requests.params("UpdateLoginProfile") == [
        {"UserName": "frank", "PasswordResetRequired": False, "Password": "S3cond-Passw0rd!"}]
    requests.seen.clear()
    handler.update(ctx, pid, {**live, "LoginProfile": stored(handler, new_password)}, {"UserName": "frank"},
                   frozenset({"LoginProfile"}))
    assert requests.params("DeleteLoginProfile") == [{"UserName": "frank"}]
    with pytest.raises(Exception, match="NoSuchEntity|cannot be found"):
        iam.get_login_profile(UserName=pid)


def test_user_login_profile_added_later_or_lost_is_created(ctx: Context, iam: Any, requests: Requests) -> None:
    """Without a stored digest (an imported user, or a profile deleted by hand) the profile is created
    when it is missing, and updated with its password when it exists."""
    handler = User()
    pid, _ = handler.create(ctx, {"UserName": "gina"})
    with_profile = {"UserName": "gina", "LoginProfile": {"Password": "Thi3d-Passw0rd!"}}
    update(handler, ctx, pid, {"UserName": "gina"}, with_profile)
    assert requests.params("CreateLoginProfile") == [
        {"UserName": "gina", "Password": "Thi3d-Passw0rd!", "PasswordResetRequired": False}]
    update(handler, ctx, pid, {"UserName": "gina"}, with_profile)
    assert requests.params("UpdateLoginProfile") == [
        {"UserName": "gina", "PasswordResetRequired": False, "Password": "Thi3d-Passw0rd!"}]


@pytest.mark.parametrize("handler, props", [
    (User(), {"UserName": "taken"}),
    (Group(), {"GroupName": "taken"}),
    (InstanceProfile(), {"InstanceProfileName": "taken"}),
], ids=["user", "group", "instance-profile"])
def test_create_of_a_taken_name_answers_already_exists(ctx: Context, aws: Aws, handler: Handler,
                                                       props: dict[str, Any]) -> None:
    """The engine then reads the resource under that name (lookup is the name) and decides."""
    handler.create(Context(aws, REGION, "otherstack", "Other"), props)
    assert create_meets_existing(handler, ctx, props) == "EntityAlreadyExists"
    assert handler.lookup(ctx, props) == "taken" == handler.physical_id_for(props)
    assert handler.find_owned(ctx, props) == []  # IAM is not in the tagging API: found by name alone


def test_user_delete_clears_what_blocks_it_first(ctx: Context, iam: Any, full_user: dict[str, Any],
                                                 requests: Requests) -> None:
    handler = User()
    pid, _ = handler.create(ctx, full_user)
    iam.create_access_key(UserName=pid)
    iam.create_login_profile(UserName=pid, Password="Corr3ct-Horse-Battery")
    requests.seen.clear()
    handler.delete(ctx, pid, full_user)
    ops = requests.operations()
    assert Counter(op for op in ops if not op.startswith(("List", "Get"))) == Counter({
        "RemoveUserFromGroup": 2, "DetachUserPolicy": 2, "DeleteUserPolicy": 2, "DeleteAccessKey": 1,
        "DeleteLoginProfile": 1, "DeleteUser": 1})
    assert ops[-1] == "DeleteUser"
    assert {"ListSigningCertificates", "ListSSHPublicKeys", "ListMFADevices"} <= set(ops)
    assert handler.read(ctx, pid, set()) is None
    handler.delete(ctx, pid, full_user)  # already gone


# --- AWS::IAM::Group ----------------------------------------------------------------------------------

def test_group_lifecycle(ctx: Context, iam: Any, arns: dict[str, str], requests: Requests) -> None:
    handler = Group()
    props = {"GroupName": "devs", "Path": "/eng/", "ManagedPolicyArns": [arns["p1"]],
             "Policies": [{"PolicyName": "x", "PolicyDocument": allow("s3:*")}]}
    pid, attrs = handler.create(ctx, props)
    assert pid == "devs" and attrs == {"Arn": f"arn:aws:iam::{ACCOUNT}:group/eng/devs"}
    assert_reads_as(handler, handler.read(ctx, pid, set(props)).properties, handler.desired_view(props))

    after = dict(props, ManagedPolicyArns=[arns["p2"], arns["p3"]],
                 Policies=[{"PolicyName": "y", "PolicyDocument": allow("sqs:*")}])
    update(handler, ctx, pid, handler.read(ctx, pid, set(props)).properties, after)
    assert_reads_as(handler, handler.read(ctx, pid, set(after)).properties, handler.desired_view(after))

    update(handler, ctx, pid, after, dict(after, Path="/ops/"))  # moto ignores a group's new path
    assert requests.params("UpdateGroup") == [{"GroupName": "devs", "NewPath": "/ops/"}]

    iam.create_user(UserName="member")
    iam.add_user_to_group(GroupName="devs", UserName="member")
    requests.seen.clear()
    handler.delete(ctx, pid, after)
    ops = requests.operations()
    assert ops.index("RemoveUserFromGroup") < ops.index("DeleteGroup")
    assert Counter(op for op in ops if op.startswith(("Detach", "DeleteGroupPolicy"))) == Counter(
        {"DetachGroupPolicy": 2, "DeleteGroupPolicy": 1})
    assert handler.read(ctx, pid, set()) is None
    handler.delete(ctx, pid, after)  # already gone


# --- AWS::IAM::InstanceProfile --------------------------------------------------------------------------

def test_instance_profile_lifecycle(ctx: Context, people: Any, requests: Requests) -> None:
    handler = InstanceProfile()
    props = {"InstanceProfileName": "web", "Path": "/svc/", "Roles": ["r1"]}
    pid, attrs = handler.create(ctx, props)
    assert requests.operations() == ["CreateInstanceProfile", "AddRoleToInstanceProfile"]  # no wait while IAM sees it
    assert pid == "web" and attrs == {"Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/svc/web"}
    live = handler.read(ctx, pid, set(props))
    assert live.properties == props and live.attributes == attrs

    requests.seen.clear()
    update(handler, ctx, pid, live.properties, dict(props, Roles=["r2"]))
    ops = requests.operations()
    assert ops.index("RemoveRoleFromInstanceProfile") < ops.index("AddRoleToInstanceProfile")  # one role at a time
    assert handler.read(ctx, pid, {"Roles"}).properties["Roles"] == ["r2"]

    requests.seen.clear()
    handler.delete(ctx, pid, props)
    ops = requests.operations()
    assert ops.index("RemoveRoleFromInstanceProfile") < ops.index("DeleteInstanceProfile")
    assert handler.read(ctx, pid, set()) is None
    handler.delete(ctx, pid, props)  # already gone


def test_a_lost_state_finds_iam_entities_with_generated_names(ctx: Context, iam: Any) -> None:
    """By the prefix deployer generates (stack-logicalid-), confirmed by the ownership tags where IAM
    has tags (roles, users); groups and instance profiles take none: only a single match counts."""
    from deployer.resources.iam import Role

    prefix = Role().generated_prefix(ctx.stack, ctx.logical_id)
    tags = [{"Key": "deployer:stack", "Value": OWNER[0]}, {"Key": "deployer:logical-id", "Value": OWNER[1]}]
    iam.create_role(RoleName=prefix + "aaaa1111", AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tags)
    iam.create_role(RoleName=prefix + "bbbb2222", AssumeRolePolicyDocument=json.dumps(TRUST))  # not tagged: not ours
    iam.create_user(UserName=prefix + "cccc3333", Tags=tags)
    iam.create_group(GroupName=prefix + "dddd4444")
    iam.create_instance_profile(InstanceProfileName=prefix + "eeee5555")
    iam.create_instance_profile(InstanceProfileName=prefix + "ffff6666")
    assert Role().find_owned(ctx, {}) == [prefix + "aaaa1111"]
    assert User().find_owned(ctx, {}) == [prefix + "cccc3333"]
    assert Group().find_owned(ctx, {}) == [prefix + "dddd4444"]
    assert InstanceProfile().find_owned(ctx, {}) == []  # two candidates: neither is adopted
    assert Role().find_owned(ctx, {"RoleName": prefix + "bbbb2222"}) == []
