"""Cases for IAM policies, users, groups and instance profiles, and the Lambda wiring types
(permissions and event source mappings).

Left out of the lifecycle (moto ignores or lacks them; the unit tests check the requests instead):
a user's PermissionsBoundary (moto implements neither CreateUser's parameter nor the Put/Delete calls)
and a group's Path (moto's UpdateGroup ignores NewPath). Kinesis sources have no deployer type to build
a stream with; the unit tests map one.
"""

from __future__ import annotations

import json

from tests.integration.cases import Case
from tests.integration.cases.core import ROLE, TRUST, _missing

READ_ONLY = "${ReadOnly}"  # a customer managed policy: the test emulator loads none of AWS's


def read_only_policy(name: str) -> dict:
    return {"type": "AWS::IAM::ManagedPolicy", "properties": {
        "ManagedPolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}}}
CODE = {"ZipFile": "def handler(e, c):\n    return 1\n"}


def allow(*actions: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}


def role(name: str) -> dict:
    return {"type": "AWS::IAM::Role", "properties": {"RoleName": name, "AssumeRolePolicyDocument": TRUST}}


def user(name: str) -> dict:
    return {"type": "AWS::IAM::User", "properties": {"UserName": name}}


def group(name: str) -> dict:
    return {"type": "AWS::IAM::Group", "properties": {"GroupName": name}}


def function(name: str) -> dict:
    return {"type": "AWS::Lambda::Function",
            "properties": {"FunctionName": name, "Runtime": "python3.12", "Handler": "index.handler",
                           "Role": "${FnRole.Arn}", "Code": CODE}}


def queue(name: str) -> dict:
    return {"type": "AWS::SQS::Queue", "properties": {"QueueName": name}}


# --- existence checks -------------------------------------------------------------------------------

def inline_policy_exists(c, pid: str) -> bool:
    """Whether any principal the case uses still holds the inline policy."""
    iam = c("iam")
    checks = [lambda r=r: iam.get_role_policy(RoleName=r, PolicyName=pid) for r in ("itest-pol-r1", "itest-pol-r2")]
    checks.append(lambda: iam.get_user_policy(UserName="itest-pol-u", PolicyName=pid))
    checks.append(lambda: iam.get_group_policy(GroupName="itest-pol-g", PolicyName=pid))
    return any(not _missing(check, "NoSuchEntity") for check in checks)


def managed_policy_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("iam").get_policy(PolicyArn=pid), "NoSuchEntity")


def user_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("iam").get_user(UserName=pid), "NoSuchEntity")


def group_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("iam").get_group(GroupName=pid), "NoSuchEntity")


def instance_profile_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("iam").get_instance_profile(InstanceProfileName=pid), "NoSuchEntity")


def permission_exists(c, pid: str) -> bool:
    function_name, _, sid = pid.rpartition("|")
    try:
        policy = json.loads(c("lambda").get_policy(FunctionName=function_name)["Policy"])
    except Exception as exc:  # botocore ClientError: no function, or no policy left
        if "ResourceNotFound" in getattr(exc, "response", {}).get("Error", {}).get("Code", ""):
            return False
        raise
    return any(s.get("Sid") == sid for s in policy.get("Statement", []))


def mapping_exists(c, pid: str) -> bool:
    return not _missing(lambda: c("lambda").get_event_source_mapping(UUID=pid), "ResourceNotFound")


# --- out-of-band changes ------------------------------------------------------------------------------

def rewrite_statement(c, pid: str) -> None:
    """Swap the statement for one with the same id but another principal (AWS cannot edit one in place)."""
    lam = c("lambda")
    function_name, _, sid = pid.rpartition("|")
    lam.remove_permission(FunctionName=function_name, StatementId=sid)
    lam.add_permission(FunctionName=function_name, StatementId=sid, Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com")


CASES = [
    Case(
        id="iam-policy",
        type="AWS::IAM::Policy",
        support={"R1": role("itest-pol-r1"), "R2": role("itest-pol-r2"), "U": user("itest-pol-u"),
                 "G": group("itest-pol-g")},
        props={"PolicyName": "itest-inline", "PolicyDocument": allow("s3:GetObject"), "Roles": ["${R1}"]},
        updates=[
            {"Roles": ["${R2}", "${R1}"]},
            {"Users": ["${U}"], "Groups": ["${G}"]},
            {"PolicyDocument": json.dumps(allow("s3:GetObject", "s3:PutObject"))},
        ],
        replace={"PolicyName": "itest-inline-two"},
        remove=["Users", "Groups"],
        drift=lambda c, pid: c("iam").put_role_policy(RoleName="itest-pol-r2", PolicyName=pid,
                                                      PolicyDocument=json.dumps(allow("iam:*"))),
        exists=inline_policy_exists,
    ),
    Case(
        id="iam-managed-policy",
        type="AWS::IAM::ManagedPolicy",
        support={"R1": role("itest-mp-r1"), "R2": role("itest-mp-r2"), "U": user("itest-mp-u"),
                 "G": group("itest-mp-g")},
        props={"ManagedPolicyName": "itest-mp", "Description": "shared", "Path": "/team/",
               "PolicyDocument": allow("sqs:SendMessage"), "Roles": ["${R1}"]},
        updates=[
            {"PolicyDocument": allow("sqs:SendMessage", "sqs:ReceiveMessage")},
            {"Roles": ["${R1}", "${R2}"], "Users": ["${U}"]},
            {"Groups": ["${G}"]},
        ],
        replace={"ManagedPolicyName": "itest-mp-two"},
        remove=["Users", "Groups"],
        drift=lambda c, pid: c("iam").create_policy_version(PolicyArn=pid, SetAsDefault=True,
                                                            PolicyDocument=json.dumps(allow("iam:*"))),
        exists=managed_policy_exists,
    ),
    Case(
        id="iam-user",
        type="AWS::IAM::User",
        support={"G1": group("itest-user-g1"), "G2": group("itest-user-g2"),
                 "ReadOnly": read_only_policy("itest-user-read")},
        # LoginProfile: sensitive and compared by digest; a new password is an in-place UpdateLoginProfile.
        # A PasswordResetRequired-only change is left to the unit tests: moto's UpdateLoginProfile without a
        # Password deletes the password (AWS keeps it), and moto's CreateLoginProfile drops the flag
        props={"UserName": "itest-user", "Path": "/people/", "Tags": [{"Key": "team", "Value": "a"}],
               "LoginProfile": {"Password": "Itest-Passw0rd-1!", "PasswordResetRequired": True}},
        updates=[
            {"Path": "/staff/"},
            {"LoginProfile": {"Password": "Itest-Passw0rd-2!", "PasswordResetRequired": True}},
            {"Groups": ["${G2}", "${G1}"]},
            {"Policies": [{"PolicyName": "logs", "PolicyDocument": allow("logs:*")}]},
            {"ManagedPolicyArns": [READ_ONLY]},
            {"Tags": [{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "7"}]},
            # PermissionsBoundary: moto implements none of its calls for users (see the unit tests)
        ],
        replace={"UserName": "itest-user-two"},
        remove=["Groups", "Policies", "ManagedPolicyArns", "LoginProfile", "Tags", "Path"],
        drift=lambda c, pid: c("iam").remove_user_from_group(GroupName="itest-user-g1", UserName=pid),
        exists=user_exists,
    ),
    Case(
        id="iam-group",
        type="AWS::IAM::Group",
        support={"ReadOnly": read_only_policy("itest-group-read")},
        props={"GroupName": "itest-group", "Policies": [{"PolicyName": "s3", "PolicyDocument": allow("s3:*")}]},
        updates=[
            {"Policies": [{"PolicyName": "s3", "PolicyDocument": allow("s3:List*")},
                          {"PolicyName": "sqs", "PolicyDocument": allow("sqs:*")}]},
            {"ManagedPolicyArns": [READ_ONLY]},
            # Path: moto's UpdateGroup ignores NewPath (see the unit tests)
        ],
        replace={"GroupName": "itest-group-two"},
        remove=["Policies", "ManagedPolicyArns"],
        drift=lambda c, pid: c("iam").put_group_policy(GroupName=pid, PolicyName="s3",
                                                       PolicyDocument=json.dumps(allow("iam:*"))),
        exists=group_exists,
    ),
    Case(
        id="iam-instance-profile",
        type="AWS::IAM::InstanceProfile",
        support={"R1": role("itest-ip-r1"), "R2": role("itest-ip-r2")},
        props={"InstanceProfileName": "itest-profile", "Roles": ["${R1}"]},
        updates=[{"Roles": ["${R2}"]}],
        replace={"Path": "/svc/"},
        drift=lambda c, pid: c("iam").remove_role_from_instance_profile(InstanceProfileName=pid,
                                                                        RoleName="itest-ip-r2"),
        exists=instance_profile_exists,
    ),
    Case(
        id="lambda-permission",
        type="AWS::Lambda::Permission",
        support={"FnRole": ROLE, "Fn": function("itest-perm-fn")},
        props={"FunctionName": "${Fn}", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com",
               "SourceArn": "arn:aws:s3:::itest-uploads", "SourceAccount": "${AWS::AccountId}"},
        updates=[],  # every property is create-only: AWS cannot edit a statement
        replace={"SourceArn": "arn:aws:s3:::itest-uploads-two"},
        drift=rewrite_statement,
        exists=permission_exists,
    ),
    Case(
        id="lambda-event-source-mapping-sqs",
        type="AWS::Lambda::EventSourceMapping",
        support={"FnRole": ROLE, "Fn": function("itest-esm-fn"), "Fn2": function("itest-esm-fn2"),
                 "Q": queue("itest-esm-q"), "Q2": queue("itest-esm-q2")},
        props={"FunctionName": "${Fn}", "EventSourceArn": "${Q.Arn}", "BatchSize": 5},
        updates=[
            {"BatchSize": 8, "MaximumBatchingWindowInSeconds": 3},
            {"Enabled": False},
            {"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]}},
            {"FunctionName": "${Fn2.Arn}"},
            {"Tags": [{"Key": "team", "Value": "jobs"}]},
        ],
        replace={"EventSourceArn": "${Q2.Arn}"},
        remove=["BatchSize", "MaximumBatchingWindowInSeconds", "Enabled", "FilterCriteria", "Tags"],
        drift=lambda c, pid: c("lambda").update_event_source_mapping(UUID=pid, BatchSize=9),
        exists=mapping_exists,
    ),
    Case(
        id="lambda-event-source-mapping-dynamodb",
        type="AWS::Lambda::EventSourceMapping",
        support={"FnRole": ROLE, "Fn": function("itest-ddb-fn"),
                 "Table": {"type": "AWS::DynamoDB::Table", "properties": {
                     "TableName": "itest-esm-table", "BillingMode": "PAY_PER_REQUEST",
                     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                     "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                     "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}}},
        props={"FunctionName": "${Fn}", "EventSourceArn": "${Table.StreamArn}", "StartingPosition": "TRIM_HORIZON"},
        updates=[{"BatchSize": 50}, {"Enabled": False, "MaximumBatchingWindowInSeconds": 5}],
        replace={"StartingPosition": "LATEST"},
        remove=["BatchSize", "Enabled", "MaximumBatchingWindowInSeconds"],
        drift=lambda c, pid: c("lambda").update_event_source_mapping(UUID=pid, BatchSize=9),
        exists=mapping_exists,
    ),
]
