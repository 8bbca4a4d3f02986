"""AWS::ApiGateway::Account: the IAM role API Gateway uses to write logs to CloudWatch Logs.

The setting is one per account and region: API Gateway has an account object that always exists,
read with GetAccount and changed with UpdateAccount, and no API creates or deletes it. So, as in
CloudFormation:
- the physical id (and Ref, CloudFormation's Id) is an id made up at create from the stack, the
  logical id and a random part (CloudFormation's look like `mysta-accou-01234b567890example`); it
  names nothing in AWS, and read() reads the account's setting whatever the id;
- create and update set `cloudwatchRoleArn`; a removed CloudWatchRoleArn is cleared (an empty value);
- delete changes nothing in AWS: the account keeps the role, and API Gateway may still assume it
  (CloudFormation documents exactly this). deployer only forgets the resource. To stop the logging,
  change the role's permissions, or clear the setting before removing the resource.

Two stacks (or two resources) of this type in one account and region set the same setting: the
last apply wins, and each sees the other's change as drift. Keep one.

UpdateAccount checks that API Gateway may assume the role; a role created moments earlier is not
yet visible to it (IAM propagation), and AWS answers BadRequestException "The role ARN does not
have required permissions set to API Gateway" for a while: that answer is retried for a bounded time.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from deployer import waiting
from deployer.aws import error_code
from deployer.resources.base import Context, Handler, Live

ROLE_PATH = "/cloudwatchRoleArn"
ROLE_NOT_READY = "does not have required permissions set to API Gateway"
ROLE_RETRY_SECONDS = 60.0
ROLE_RETRY_MAX_PAUSE = 10.0
SUFFIX_LENGTH = 12


def _role_not_ready(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) == "BadRequestException" and \
        ROLE_NOT_READY in exc.response.get("Error", {}).get("Message", "")


def account_id_for(ctx: Context) -> str:
    """A new resource's id: stack, logical id and a part from the step's token (stable across retries
    of one plan), random when there is no token."""
    suffix = (ctx.token or uuid.uuid4().hex)[:SUFFIX_LENGTH]
    return f"{ctx.stack}-{ctx.logical_id}-{suffix}"


class Account(Handler):
    """The account's API Gateway CloudWatch role; a singleton per account and region."""

    type_name = "AWS::ApiGateway::Account"
    tags_property = None

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetAccount: the setting always exists (an unset role reads as no CloudWatchRoleArn)."""
        role = ctx.client("apigateway").get_account().get("cloudwatchRoleArn")
        props = {"CloudWatchRoleArn": role} if role else {}
        return Live(properties=props, attributes={"Id": physical_id})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Set the role (when the spec names one) and make up the id."""
        if props.get("CloudWatchRoleArn"):
            self._set_role(ctx, props["CloudWatchRoleArn"])
        physical_id = account_id_for(ctx)
        return physical_id, {"Id": physical_id}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Set the role, or clear it when the spec no longer names one."""
        if "CloudWatchRoleArn" in changed:
            self._set_role(ctx, after.get("CloudWatchRoleArn") or "")
        return {"Id": physical_id}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Nothing to do in AWS: the account keeps its role, as CloudFormation leaves it (see the module)."""
        return None

    @staticmethod
    def _set_role(ctx: Context, role_arn: str) -> None:
        """UpdateAccount, again while a just-created role is not yet usable by API Gateway."""
        operations = [{"op": "replace", "path": ROLE_PATH, "value": role_arn}]
        client = ctx.client("apigateway")
        waiting.retrying(lambda: client.update_account(patchOperations=operations),
                         lambda exc: bool(role_arn) and _role_not_ready(exc),
                         budget=ROLE_RETRY_SECONDS, longest=ROLE_RETRY_MAX_PAUSE)
