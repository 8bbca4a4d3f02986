"""AWS::SecretsManager::Secret: the secret's settings, tags and value, without ever keeping the value.

The physical id is the secret's ARN (CloudFormation's Ref), which AWS suffixes with random
characters, so it is unknown before create and the engine cannot pre-check a name: create does.

The value:
- SecretString is sensitive and write-only: read() never returns it and never fetches it. The
  engine compares the spec's value with the digest kept from the last apply. update() fetches the
  live value only to decide whether a new version is needed, so a change of tags alone does not add
  a version (and a value changed outside deployer is put back at the next update of the secret).
- GenerateSecretString: the value is made once with GetRandomPassword (registered for redaction
  at once) and goes straight into the secret; it is never returned, shown or stored. A digest of the
  generation parameters (not of the value) is kept on the secret as the tag
  `deployer:generate-secret-string`, so an update regenerates exactly when the parameters change,
  as CloudFormation does, and never because some other property changed.

Delete schedules deletion with a 7-day recovery window (the shortest AWS allows). A create that finds
the name still pending deletion restores that secret when it carries this resource's ownership tags
(it is ours: a destroy followed by an apply, or a rollback) and then updates it to the spec, so the
name never collides and a rolled-back delete gets its value back; a secret owned by anyone else is
refused.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import secrets
from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    is_not_found,
    map_to_tags,
    owned_arn,
    owner_of,
    tag_changes,
    tags_to_map,
    user_tags,
    with_ownership,
)

RECOVERY_WINDOW_DAYS = 7
DEFAULT_KMS_KEY = "alias/aws/secretsmanager"
GENERATED_TAG = "deployer:generate-secret-string"
PASSWORD_FLAGS = ("ExcludeLowercase", "ExcludeNumbers", "ExcludePunctuation", "ExcludeUppercase", "IncludeSpace",
                  "RequireEachIncludedType")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Secret(Handler):
    """A Secrets Manager secret; its physical id is the ARN."""

    type_name = "AWS::SecretsManager::Secret"
    name_property = "Name"
    name_max_length = 512
    sensitive_properties: ClassVar[frozenset[str]] = frozenset({"SecretString"})
    defaults: ClassVar[dict[str, Any]] = {"Description": "", "KmsKeyId": DEFAULT_KMS_KEY, "Tags": []}

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: AWS appends six random characters to the name in the ARN."""
        return None

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One describe_secret; a secret scheduled for deletion reads as absent."""
        secret = _describe(ctx, physical_id)
        if secret is None or secret.get("DeletedDate"):
            return None
        props = {"Name": secret["Name"], "Description": secret.get("Description"),
                 "KmsKeyId": secret.get("KmsKeyId"), "Tags": user_tags(secret.get("Tags"))}
        return Live(properties=self.trim(props, wanted), attributes={"Id": secret["ARN"]},
                    owner=owner_of(secret.get("Tags")))

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """create_secret with the value (given or generated); a name pending deletion is taken over."""
        _check_value_properties(ctx, props)
        existing = _describe(ctx, props["Name"])
        if existing is not None:
            return self._take_over(ctx, existing, props)
        tags = with_ownership(ctx, props.get("Tags"))
        args: dict[str, Any] = {"Name": props["Name"]}
        for key in ("Description", "KmsKeyId"):
            if props.get(key) not in (None, ""):
                args[key] = props[key]
        if props.get("SecretString") is not None:
            args["SecretString"] = str(props["SecretString"])
        elif props.get("GenerateSecretString"):
            args["SecretString"] = _generate(ctx, props["GenerateSecretString"])
            tags[GENERATED_TAG] = _generation_digest(props["GenerateSecretString"])
        args["Tags"] = map_to_tags(tags)
        arn = ctx.client("secretsmanager").create_secret(**args)["ARN"]
        return arn, {"Id": arn}

    def _take_over(self, ctx: Context, existing: dict[str, Any], props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Restore our own secret that is pending deletion and update it to the spec; refuse anything else.
        Restoring (rather than force-deleting and re-creating) keeps the ARN and the value, which is what
        undoing a delete needs, and never destroys a value without its recovery window."""
        name, arn = existing["Name"], existing["ARN"]
        owner = owner_of(existing.get("Tags"))
        if not existing.get("DeletedDate"):
            raise AwsError(ctx.logical_id, f"secret {name} already exists ({arn}); use `deployer import` to adopt it",
                           "ResourceExistsException")
        if owner != (ctx.stack, ctx.logical_id):
            who = f"stack '{owner[0]}' resource '{owner[1]}'" if owner else "no deployer stack"
            raise AwsError(ctx.logical_id, f"secret {name} is scheduled for deletion and belongs to {who}; restore "
                           "and import it, or delete it without recovery, to reuse the name", "ResourceExistsException")
        ctx.client("secretsmanager").restore_secret(SecretId=arn)
        live = self.read(ctx, arn, set(props) | {"Tags"})
        return arn, self.update(ctx, arn, live.properties if live else {}, props)

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """Settings in one update_secret, the value only when it really changes, then tags."""
        _check_value_properties(ctx, after)
        self._update_settings(ctx, physical_id, before, after)
        if after.get("SecretString") is not None:
            _put_given_value(ctx, physical_id, str(after["SecretString"]))
        elif after.get("GenerateSecretString"):
            _regenerate_if_changed(ctx, physical_id, after["GenerateSecretString"])
        self._update_tags(ctx, physical_id, before, after)
        return {"Id": physical_id}

    def _update_settings(self, ctx: Context, arn: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Description and KmsKeyId; a removed one goes back to the default (empty, the AWS managed key)."""
        changed = {k: after.get(k) or self.defaults[k] for k in ("Description", "KmsKeyId")
                   if self.differs(before, after, k)}
        if changed:
            ctx.client("secretsmanager").update_secret(SecretId=arn, **changed)

    def _update_tags(self, ctx: Context, arn: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Tag changes, re-asserting the ownership tags in the same call."""
        if not self.differs(before, after, "Tags"):
            return
        to_set, to_remove = tag_changes(before.get("Tags"), after.get("Tags"))
        client = ctx.client("secretsmanager")
        if to_remove:
            client.untag_resource(SecretId=arn, TagKeys=to_remove)
        client.tag_resource(SecretId=arn, Tags=map_to_tags({**to_set, **ctx.ownership_tags()}))

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Schedule deletion with the recovery window; gone or already scheduled is success."""
        client = ctx.client("secretsmanager")
        try:
            client.delete_secret(SecretId=physical_id, RecoveryWindowInDays=RECOVERY_WINDOW_DAYS)
        except ClientError as exc:
            if is_not_found(exc):
                return
            secret = _describe(ctx, physical_id)
            if secret is None or secret.get("DeletedDate"):
                return
            raise

    # --- ownership ------------------------------------------------------------------------------
    def find_owned(self, ctx: Context) -> str | None:
        """The ARN of the secret tagged as this stack's logical id (after a create whose answer was lost)."""
        return owned_arn(ctx, "secretsmanager:secret")

    def tag_for_ownership(self, ctx: Context, physical_id: str) -> None:
        """Add the ownership tags with one call (update() only tags when the Tags property changes)."""
        ctx.client("secretsmanager").tag_resource(SecretId=physical_id, Tags=map_to_tags(ctx.ownership_tags()))


# --- helpers ------------------------------------------------------------------------------------

def _describe(ctx: Context, secret_id: str) -> dict[str, Any] | None:
    """describe_secret by ARN or name (a secret pending deletion included); None when there is none."""
    try:
        return ctx.client("secretsmanager").describe_secret(SecretId=secret_id)
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise


def _check_value_properties(ctx: Context, props: dict[str, Any]) -> None:
    """The combinations CloudFormation refuses, refused before any call."""
    spec = props.get("GenerateSecretString")
    if props.get("SecretString") is not None and spec:
        raise AwsError(ctx.logical_id, "set SecretString or GenerateSecretString, not both", "InvalidParameter")
    if spec and bool(spec.get("SecretStringTemplate")) != bool(spec.get("GenerateStringKey")):
        raise AwsError(ctx.logical_id, "GenerateSecretString needs both SecretStringTemplate and GenerateStringKey, "
                       "or neither", "InvalidParameter")
    if spec and spec.get("SecretStringTemplate"):
        try:
            template = json.loads(spec["SecretStringTemplate"])
        except ValueError:
            template = None
        if not isinstance(template, dict):
            raise AwsError(ctx.logical_id, "GenerateSecretString.SecretStringTemplate must be a JSON object",
                           "InvalidParameter")


def _password_args(spec: dict[str, Any]) -> dict[str, Any]:
    """GetRandomPassword's arguments from the spec (numbers and booleans may arrive as text)."""
    args: dict[str, Any] = {k: canon(spec[k]) is True for k in PASSWORD_FLAGS if spec.get(k) is not None}
    if spec.get("PasswordLength") is not None:
        args["PasswordLength"] = int(canon(spec["PasswordLength"]))
    if spec.get("ExcludeCharacters"):
        args["ExcludeCharacters"] = str(spec["ExcludeCharacters"])
    return args


def _generate(ctx: Context, spec: dict[str, Any]) -> str:
    """A new value: a random password, alone or under GenerateStringKey in the template's JSON object.
    The password is registered for redaction before anything else can print it."""
    password = ctx.client("secretsmanager").get_random_password(**_password_args(spec))["RandomPassword"]
    secrets.register(password)
    if not spec.get("SecretStringTemplate"):
        return password
    document = json.loads(spec["SecretStringTemplate"])
    document[str(spec["GenerateStringKey"])] = password
    value = json.dumps(document)
    secrets.register(value)
    return value


def _generation_digest(spec: dict[str, Any]) -> str:
    """What the generated value was made from (the parameters, never the value), compared by meaning."""
    return secrets.digest(canon(spec))


def _current_value(ctx: Context, arn: str) -> str | None:
    """The AWSCURRENT SecretString, held only for one comparison; None when the secret has no value."""
    try:
        value = ctx.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString")
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    secrets.register(value)
    return value


def _put_given_value(ctx: Context, arn: str, value: str) -> None:
    """A new version when the spec's value differs from the live one. A digest is what the state keeps
    of a value, never a value: one handed back (a rollback to the last applied properties) is not written."""
    if _DIGEST.match(value) or _current_value(ctx, arn) == value:
        return
    client = ctx.client("secretsmanager")
    client.put_secret_value(SecretId=arn, SecretString=value)
    client.untag_resource(SecretId=arn, TagKeys=[GENERATED_TAG])


def _regenerate_if_changed(ctx: Context, arn: str, spec: dict[str, Any]) -> None:
    """A new generated value when the generation parameters differ from those of the current value."""
    wanted = _generation_digest(spec)
    secret = _describe(ctx, arn) or {}
    if tags_to_map(secret.get("Tags")).get(GENERATED_TAG) == wanted:
        return
    client = ctx.client("secretsmanager")
    client.put_secret_value(SecretId=arn, SecretString=_generate(ctx, spec))
    client.tag_resource(SecretId=arn, Tags=[{"Key": GENERATED_TAG, "Value": wanted}])
