"""AWS::SecretsManager::Secret: the secret's settings, tags and value, without ever keeping the value.

The physical id is the secret's ARN (CloudFormation's Ref), which AWS suffixes with random
characters, so it is unknown before create; `lookup` turns a name into its ARN for the plan.

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

Delete schedules deletion with a 7-day recovery window (the shortest AWS allows). A create refused
because the name is still pending deletion restores that secret when it carries this resource's
ownership tags (it is ours: a destroy followed by an apply, or a rollback) and then updates it to the
spec, so the name never collides and a rolled-back delete gets its value back; a secret owned by
anyone else is refused.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import secrets
from deployer.aws import error_code
from deployer.errors import AwsError
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    Stake,
    TagApi,
    absent,
    map_to_tags,
    owner_of,
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
NOT_FOUND = frozenset({"ResourceNotFoundException"})
PENDING_DELETION = "InvalidRequestException"  # what CreateSecret answers for a name scheduled for deletion
# moto answers ResourceExistsException instead: either way the existing secret's DeletedDate decides
MAYBE_PENDING = (PENDING_DELETION, "ResourceExistsException")


class Secret(Handler):
    """A Secrets Manager secret; its physical id is the ARN."""

    type_name = "AWS::SecretsManager::Secret"
    name_property = "Name"
    name_max_length = 512
    sensitive_properties: ClassVar[frozenset[str]] = frozenset({"SecretString"})
    defaults: ClassVar[dict[str, Any]] = {"Description": "", "KmsKeyId": DEFAULT_KMS_KEY, "Tags": []}
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"ResourceExistsException"})
    create_checks_existence = True
    tag_api = TagApi("secretsmanager", add="tag_resource", remove="untag_resource", id_param="SecretId")
    create_takes_token = True

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: AWS appends six random characters to the name in the ARN."""
        return None

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The ARN of the live secret of that name (one pending deletion does not count)."""
        name = props.get("Name")
        secret = _describe(ctx, name) if isinstance(name, str) else None
        return secret["ARN"] if secret and not secret.get("DeletedDate") else None

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
        """create_secret with the value (given or generated); our own secret pending deletion under the
        name is restored instead."""
        _check_value_properties(ctx, props)
        tags = with_ownership(ctx, props.get("Tags"))
        args: dict[str, Any] = {"Name": props["Name"]}
        if ctx.token:
            args["ClientRequestToken"] = ctx.token
        for key in ("Description", "KmsKeyId"):
            if props.get(key) not in (None, ""):
                args[key] = props[key]
        if props.get("SecretString") is not None:
            args["SecretString"] = str(props["SecretString"])
        elif props.get("GenerateSecretString"):
            args["SecretString"] = _generate(ctx, props["GenerateSecretString"])
            tags[GENERATED_TAG] = _generation_digest(props["GenerateSecretString"])
        args["Tags"] = map_to_tags(tags)
        try:
            arn = ctx.client("secretsmanager").create_secret(**args)["ARN"]
        except ClientError as exc:
            if error_code(exc) not in MAYBE_PENDING:
                raise
            return self._restore_own(ctx, props, exc)
        return arn, {"Id": arn}

    def _restore_own(self, ctx: Context, props: dict[str, Any], refused: ClientError) -> tuple[str, dict[str, Any]]:
        """Our own secret pending deletion under the name: restore it and update it to the spec (keeping
        the ARN and the value, which undoing a delete needs, and never destroying a value before its
        recovery window ends); anyone else's: refuse."""
        existing = _describe(ctx, props["Name"])
        if existing is None or not existing.get("DeletedDate"):
            raise refused
        owner = owner_of(existing.get("Tags"))
        if owner != (ctx.stack, ctx.logical_id):
            who = f"stack '{owner[0]}' resource '{owner[1]}'" if owner else "no deployer stack"
            raise AwsError(ctx.logical_id, f"secret {props['Name']} is scheduled for deletion and belongs to {who}; "
                           "restore and import it, or delete it without recovery, to reuse the name",
                           "ResourceExistsException") from refused
        arn = existing["ARN"]
        ctx.client("secretsmanager").restore_secret(SecretId=arn)
        live = self.read(ctx, arn, set(props) | {"Tags"})
        before = live.properties if live else {}
        from deployer.diff import changed_keys

        changed = changed_keys(before, props, self.defaults, self.tags_property, keys=set(props) | {"Tags"})
        return arn, self.update(ctx, arn, before, props, changed | {"Tags"})

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Settings in one update_secret, the value only when it really changes, then tags."""
        _check_value_properties(ctx, after)
        settings = {k: after.get(k) or self.defaults[k] for k in ("Description", "KmsKeyId") if k in changed}
        if settings:
            ctx.client("secretsmanager").update_secret(SecretId=physical_id, **settings)
        if after.get("SecretString") is not None:
            _put_given_value(ctx, physical_id, str(after["SecretString"]))
        elif after.get("GenerateSecretString"):
            _regenerate_if_changed(ctx, physical_id, after["GenerateSecretString"])
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {"Id": physical_id}

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Schedule deletion with the recovery window (at once when a rollback undoes the create: a
        scheduled secret keeps its name taken); gone or already scheduled is success."""
        client = ctx.client("secretsmanager")
        window: dict[str, Any] = {"ForceDeleteWithoutRecovery": True} if ctx.settings.undoing_create \
            else {"RecoveryWindowInDays": RECOVERY_WINDOW_DAYS}
        try:
            client.delete_secret(SecretId=physical_id, **window)
        except ClientError as exc:
            if self.is_not_found(exc):
                return
            secret = _describe(ctx, physical_id)
            if secret is None or secret.get("DeletedDate"):
                return
            raise

    # --- ownership ------------------------------------------------------------------------------
    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """ARNs of live secrets tagged as this stack's logical id (after a create whose answer was lost)."""
        return [arn for arn in self.owned_by_tags(ctx, "secretsmanager:secret")
                if (found := _describe(ctx, arn)) and not found.get("DeletedDate")]

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """The secret's value: recoverable for the recovery window, then gone."""
        return Stake(f"the secret value (recoverable for {RECOVERY_WINDOW_DAYS} days after the delete)")


# --- helpers ------------------------------------------------------------------------------------

def _describe(ctx: Context, secret_id: str) -> dict[str, Any] | None:
    """describe_secret by ARN or name (a secret pending deletion included); None when there is none."""
    return absent(lambda: ctx.client("secretsmanager").describe_secret(SecretId=secret_id), NOT_FOUND)


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
    found = absent(lambda: ctx.client("secretsmanager").get_secret_value(SecretId=arn), NOT_FOUND)
    value = found.get("SecretString") if found else None
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
