"""The case for AWS::ApiGateway::Account: the account's CloudWatch role, set, changed, cleared.

A delete changes nothing in AWS (CloudFormation's behaviour: API Gateway keeps the role), so the
setting counts as existing while the account names a role that exists; the destroy removes the roles
the stack made, and with them what the setting pointed at.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from tests.integration.cases import Case

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
ROLES = {name: {"type": "AWS::IAM::Role", "properties": {"RoleName": f"itest-{name.lower()}", "AssumeRolePolicyDocument": TRUST}}
         for name in ("LogsRole", "OtherRole")}


def account_role_in_effect(c, pid: str) -> bool:
    role = c("apigateway").get_account().get("cloudwatchRoleArn")
    if not role:
        return False
    try:
        c("iam").get_role(RoleName=role.rsplit("/", 1)[-1])
    except ClientError:
        return False
    return True


CASES = [
    Case(
        id="apigateway-account",
        type="AWS::ApiGateway::Account",
        support=ROLES,
        props={"CloudWatchRoleArn": "${LogsRole.Arn}"},
        updates=[{"CloudWatchRoleArn": "${OtherRole.Arn}"}],
        replace=None,  # nothing about the account is create-only
        drift=lambda c, pid: c("apigateway").update_account(patchOperations=[
            {"op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/itest-logsrole"}]),
        exists=account_role_in_effect,
    ),
]
