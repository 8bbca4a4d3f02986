"""Lambda handlers: AWS::Lambda::Function.

The rule for Code: it is compared by content, always against the live function, never against
the last apply.

- read() reports Code as {"CodeSha256": ...}, Lambda's base64 SHA-256 of the deployed zip.
- desired_view() puts the spec's Code in that same shape:
  * {Path: DIR_OR_FILE} (a deployer extension) and {ZipFile: "source"} (CloudFormation's inline
    code: index.py for Python runtimes, index.js otherwise) are zipped reproducibly
    (deployer.codezip) and digested. A relative Path is resolved against the current working
    directory: a handler is not told where the stack file lives.
  * {S3Bucket, S3Key, S3ObjectVersion?} is digested from the S3 object itself: its stored
    full-object SHA-256 checksum when it has one, else by streaming it. A new object uploaded at
    the same key therefore shows as a code change (CloudFormation would miss it). When the object
    cannot be read (bucket or key known only after apply, no access, not uploaded yet) the view
    keeps the S3 location, which differs from any digest, so the apply deploys from S3.
- update() deploys code when the desired digest differs from the live one (or is unknown), or
  when Architectures changes (Lambda takes it with the code).

Code is thereby readable, which `readable_write_only` declares (the schema marks only Code's
sub-properties write-only, which Handler.write_only already ignores; the declaration keeps the
rule explicit should the schema change). Drift made outside deployer shows up in the plan like
any other property.

Configuration properties that AWS treats as sets (VpcConfig ids) are sorted on both sides; a
removed property is reset to its entry in `defaults`, which is exactly the value the
UpdateFunctionConfiguration API takes to clear it. A just-created role may not be assumable by
Lambda for a few seconds: create and configuration updates retry that one error for up to
ROLE_RETRY_SECONDS (deployer.waiting). Ownership tags are added at create and never removed. The digest of S3 code is a declared plan read (`plan_reads`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import waiting
from deployer.aws import error_code
from deployer.codezip import sha256_b64, zip_inline, zip_path
from deployer.errors import DeployerError
from deployer.normalize import canon
from deployer.resources.base import (
    Context,
    Handler,
    Live,
    TagApi,
    absent,
    owner_of,
    user_tags,
    with_ownership,
)
from deployer.spec.refs import Unknown, contains_unknown

ROLE_RETRY_SECONDS = 60.0
ROLE_RETRY_MAX_PAUSE = 10.0
ROLE_NOT_READY = "cannot be assumed by Lambda"
NOT_FOUND = frozenset({"ResourceNotFoundException"})
LAMBDA_TAGS = TagApi("lambda", add="tag_resource", remove="untag_resource", id_param="Resource", shape="map")

S3_KEYS = ("S3Bucket", "S3Key", "S3ObjectVersion")
CONFIG_KEYS = ("Role", "Handler", "Runtime", "Description", "Timeout", "MemorySize", "Environment", "VpcConfig",
               "DeadLetterConfig", "TracingConfig", "Layers", "EphemeralStorage")


class Function(Handler):
    """AWS::Lambda::Function with zip code from a local path, inline text or S3."""

    type_name = "AWS::Lambda::Function"
    name_property = "FunctionName"
    name_max_length = 64
    readable_write_only = frozenset({"Code"})
    restore_from_spec = frozenset({"Code"})
    defaults: ClassVar[dict[str, Any]] = {
        "Description": "", "MemorySize": 128, "Timeout": 3, "Architectures": ["x86_64"], "Layers": [],
        "Environment": {"Variables": {}}, "VpcConfig": {"SecurityGroupIds": [], "SubnetIds": []},
        "DeadLetterConfig": {"TargetArn": ""}, "TracingConfig": {"Mode": "PassThrough"},
        "EphemeralStorage": {"Size": 512}, "ReservedConcurrentExecutions": None, "Tags": [],
    }
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"ResourceConflictException"})
    create_checks_existence = True
    tag_api = LAMBDA_TAGS

    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The digest of code in S3 (read from the object; None when it cannot be read)."""
        code = props.get("Code")
        if not isinstance(code, dict) or contains_unknown(code) or not (code.get("S3Bucket") and code.get("S3Key")):
            return {}
        return {"code_sha256": _s3_digest(ctx, code)}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec in read() shape: code as its digest, set-like ids sorted, env values as text."""
        view = _normalized(props)
        code, runtime = props.get("Code"), props.get("Runtime")
        if isinstance(code, dict) and set(code) == {"CodeSha256"}:  # already a digest (a rollback's target)
            return view
        if isinstance(code, dict) and not contains_unknown(code) and not contains_unknown(runtime):
            digest = _code_digest(_code_args(code, runtime), reads)
            if digest is not None:
                view["Code"] = {"CodeSha256": digest}
        return view

    # --- read -----------------------------------------------------------------------------------
    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetFunction call: it returns configuration, tags and reserved concurrency together."""
        resp = self.absent(lambda: ctx.client("lambda").get_function(FunctionName=physical_id))
        if resp is None:
            return None
        conf = resp["Configuration"]
        props = _config_properties(conf)
        props["ReservedConcurrentExecutions"] = (resp.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        props["Tags"] = user_tags(resp.get("Tags"))
        return Live(properties=self.trim(props, wanted), attributes=_attributes(conf),
                    owner=owner_of(resp.get("Tags")))

    # --- create ---------------------------------------------------------------------------------
    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        lam = ctx.client("lambda")
        name, shaped = props["FunctionName"], _normalized(props)
        args = {"FunctionName": name, "Code": _code_args(props["Code"], props.get("Runtime")),
                **self._create_config(shaped), "Tags": with_ownership(ctx, props.get("Tags"))}
        conf = _retry_role_propagation(lambda: lam.create_function(**args))
        if conf.get("State") != "Active":  # AWS answers Pending and needs the wait; an Active answer does not
            lam.get_waiter("function_active_v2").wait(FunctionName=name)
        concurrency = shaped.get("ReservedConcurrentExecutions")
        if concurrency is not None:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=concurrency)
        return name, _attributes(conf)

    def _create_config(self, shaped: dict[str, Any]) -> dict[str, Any]:
        """Configuration the spec sets to other than the service default (the API applies those itself)."""
        return {k: shaped[k] for k in (*CONFIG_KEYS, "Architectures") if shaped.get(k) is not None
                and (k not in self.defaults or canon(shaped[k]) != canon(self.defaults[k]))}

    # --- update ---------------------------------------------------------------------------------
    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Code, then configuration (each waited on: Lambda refuses overlapping updates), concurrency, tags."""
        lam = ctx.client("lambda")
        old, new = _normalized(before), _normalized(after)
        if changed & {"Code", "Architectures"}:
            self._update_code(ctx, lam, physical_id, old, new, "Architectures" in changed)
        self._update_configuration(lam, physical_id, new, changed)
        if "ReservedConcurrentExecutions" in changed:
            self._update_concurrency(lam, physical_id, new)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return {"Arn": self.tag_target(ctx, physical_id), "FunctionName": physical_id}

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        return f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:function:{physical_id}"

    def _update_code(self, ctx: Context, lam: Any, name: str, old: dict[str, Any], new: dict[str, Any],
                     arch_changed: bool) -> None:
        code = new.get("Code")
        if not isinstance(code, dict):
            return
        if set(code) == {"CodeSha256"}:  # a read-back (rollback): only the digest of that code is known
            current = old.get("Code") or {}
            if current.get("CodeSha256") != code["CodeSha256"]:
                raise DeployerError(f"{name}: cannot restore code {code['CodeSha256']}: only its digest is known")
            return
        args = _code_args(code, new.get("Runtime"))
        if not arch_changed and _same_code(ctx, old.get("Code"), args):
            return
        if arch_changed:
            args["Architectures"] = new.get("Architectures", self.defaults["Architectures"])
        lam.update_function_code(FunctionName=name, **args)
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)

    def _update_configuration(self, lam: Any, name: str, new: dict[str, Any], changed: frozenset[str]) -> None:
        """One UpdateFunctionConfiguration with every changed key; a removed key goes back to its default."""
        values = {k: new.get(k, self.defaults.get(k)) for k in CONFIG_KEYS if k in changed}
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            return
        _retry_role_propagation(lambda: lam.update_function_configuration(FunctionName=name, **values))
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)

    @staticmethod
    def _update_concurrency(lam: Any, name: str, new: dict[str, Any]) -> None:
        value = new.get("ReservedConcurrentExecutions")
        if value is None:
            lam.delete_function_concurrency(FunctionName=name)
        else:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)

    # --- delete ---------------------------------------------------------------------------------
    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteFunction is synchronous; a function already gone is success."""
        with self.missing_ok():
            ctx.client("lambda").delete_function(FunctionName=physical_id)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Functions tagged as this stack's logical id (after a create whose answer was lost)."""
        return [arn.rsplit(":function:", 1)[1] for arn in self.owned_by_tags(ctx, "lambda:function")]


# --- shapes -------------------------------------------------------------------------------------

def _env_text(value: Any) -> Any:
    """Lambda stores environment values as text; write numbers and booleans the way YAML does."""
    if isinstance(value, str) or contains_unknown(value):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _whole(value: Any) -> Any:
    """Integers may arrive as text from variables; the API wants numbers."""
    number = canon(value)
    return number if type(number) is int else value


_SHAPERS: dict[str, Callable[[Any], Any]] = {
    "MemorySize": _whole,
    "Timeout": _whole,
    "ReservedConcurrentExecutions": _whole,
    "EphemeralStorage": lambda v: {**v, "Size": _whole(v.get("Size"))} if "Size" in v else v,
    "Environment": lambda v: {"Variables": {k: _env_text(x) for k, x in (v.get("Variables") or {}).items()}},
    "VpcConfig": lambda v: {"SecurityGroupIds": sorted(v.get("SecurityGroupIds") or [], key=str),
                            "SubnetIds": sorted(v.get("SubnetIds") or [], key=str)},
    "DeadLetterConfig": lambda v: {"TargetArn": v.get("TargetArn") or ""},
}


def _normalized(props: dict[str, Any]) -> dict[str, Any]:
    """Properties with the shapes read() produces, so equal settings compare equal."""
    out = dict(props)
    for key, shape in _SHAPERS.items():
        if out.get(key) is not None and not isinstance(out[key], Unknown):
            out[key] = shape(out[key])
    return out


def _config_properties(conf: dict[str, Any]) -> dict[str, Any]:
    """GetFunction's Configuration in spec shape (unset groups as their defaults, pruned later)."""
    vpc = conf.get("VpcConfig") or {}
    return {
        "FunctionName": conf["FunctionName"],
        "Role": conf.get("Role"),
        "Runtime": conf.get("Runtime"),
        "Handler": conf.get("Handler"),
        "Code": {"CodeSha256": conf.get("CodeSha256")},
        "Description": conf.get("Description", ""),
        "MemorySize": conf.get("MemorySize", 128),
        "Timeout": conf.get("Timeout", 3),
        "Architectures": conf.get("Architectures") or ["x86_64"],
        "Layers": [layer["Arn"] for layer in conf.get("Layers") or []],
        "Environment": {"Variables": dict((conf.get("Environment") or {}).get("Variables") or {})},
        "VpcConfig": {"SecurityGroupIds": sorted(vpc.get("SecurityGroupIds") or []),
                      "SubnetIds": sorted(vpc.get("SubnetIds") or [])},
        "DeadLetterConfig": {"TargetArn": (conf.get("DeadLetterConfig") or {}).get("TargetArn") or ""},
        "TracingConfig": {"Mode": (conf.get("TracingConfig") or {}).get("Mode") or "PassThrough"},
        "EphemeralStorage": {"Size": (conf.get("EphemeralStorage") or {}).get("Size") or 512},
    }


def _attributes(conf: dict[str, Any]) -> dict[str, Any]:
    return {"Arn": conf["FunctionArn"], "FunctionName": conf["FunctionName"]}


# --- code ---------------------------------------------------------------------------------------

def _code_args(code: dict[str, Any], runtime: str | None) -> dict[str, Any]:
    """The Code argument of CreateFunction (also the keyword arguments of UpdateFunctionCode)."""
    if code.get("Path") is not None:
        return {"ZipFile": zip_path(str(code["Path"]))}
    if code.get("ZipFile") is not None:
        return {"ZipFile": zip_inline(str(code["ZipFile"]), runtime)}
    if code.get("S3Bucket") and code.get("S3Key"):
        return {k: code[k] for k in S3_KEYS if code.get(k)}
    raise DeployerError("Code needs one of Path, ZipFile, or S3Bucket with S3Key")


def _code_digest(args: dict[str, Any], reads: dict[str, Any] | None) -> str | None:
    """The CodeSha256 these code arguments would give the function; None when it cannot be known."""
    if "ZipFile" in args:
        return sha256_b64(args["ZipFile"])
    return (reads or {}).get("code_sha256")


def _same_code(ctx: Context, live_code: Any, args: dict[str, Any]) -> bool:
    """Whether the live code already is what args would deploy (unknown counts as different)."""
    have = live_code.get("CodeSha256") if isinstance(live_code, dict) else None
    if have is None:
        return False
    digest = sha256_b64(args["ZipFile"]) if "ZipFile" in args else _s3_digest(ctx, args)
    return digest == have


def _s3_digest(ctx: Context, location: dict[str, Any]) -> str | None:
    """SHA-256 of an S3 object: its stored full-object checksum when present, else by reading it."""
    s3 = ctx.client("s3")
    where = {"Bucket": location["S3Bucket"], "Key": location["S3Key"]}
    if location.get("S3ObjectVersion"):
        where["VersionId"] = location["S3ObjectVersion"]
    try:
        head = s3.head_object(ChecksumMode="ENABLED", **where)
        if _is_full_sha256(head):
            return head["ChecksumSHA256"]
        return _stream_sha256_b64(s3.get_object(**where)["Body"])
    except ClientError:
        return None


def _is_full_sha256(head: dict[str, Any]) -> bool:
    """A multipart upload's SHA-256 checksum is of part checksums ("...-N"), not of the object."""
    checksum = head.get("ChecksumSHA256")
    return bool(checksum) and "-" not in checksum and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"


def _stream_sha256_b64(body: Any) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


# --- role propagation ---------------------------------------------------------------------------

def _role_not_ready(exc: ClientError) -> bool:
    message = exc.response.get("Error", {}).get("Message", "")
    return error_code(exc) == "InvalidParameterValueException" and ROLE_NOT_READY in message


def _retry_role_propagation(call: Callable[[], Any]) -> Any:
    """Run call, again with backoff while Lambda cannot yet assume a just-created role."""
    return waiting.retrying(call, lambda exc: isinstance(exc, ClientError) and _role_not_ready(exc),
                            budget=ROLE_RETRY_SECONDS, longest=ROLE_RETRY_MAX_PAUSE)


# --- shared by the wiring types ---------------------------------------------------------------------

def function_short_name(value: Any) -> Any:
    """A function named by ARN or partial ARN, as its name (with any :qualifier): a spec may write either,
    AWS answers ARNs, and both must compare equal."""
    if isinstance(value, str) and ":function:" in value:
        return value.split(":function:", 1)[1]
    return value


# --- AWS::Lambda::Permission --------------------------------------------------------------------------

PERMISSION_SEPARATOR = "|"
PERMISSION_KEYS = ("FunctionName", "Action", "Principal", "SourceArn", "SourceAccount")
STATEMENT_ID_MAX = 100
CONFLICT_TRIES = 5


def statement_id(ctx: Context, view: dict[str, Any]) -> str:
    """stack-LogicalId-DIGEST: deterministic, so a retried create finds its own statement; the digest of the
    (create-only) properties lets a create-before-destroy replacement add its statement next to the old one."""
    digest = hashlib.sha256(json.dumps(canon({k: view.get(k) for k in PERMISSION_KEYS}), sort_keys=True,
                                       default=str).encode()).hexdigest()[:8]
    base = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"{ctx.stack}-{ctx.logical_id}")
    return f"{base[:STATEMENT_ID_MAX - len(digest) - 1]}-{digest}"


def _split_permission(physical_id: str) -> tuple[str, str]:
    function, _, sid = physical_id.rpartition(PERMISSION_SEPARATOR)
    return function, sid


def _principal_text(principal: Any) -> Any:
    """A statement's Principal as AddPermission takes it: {"Service": s} is s, an account's root ARN is the
    account id (AWS stores an account id that way), anything else as it is."""
    if isinstance(principal, dict) and len(principal) == 1:
        principal = next(iter(principal.values()))
    if isinstance(principal, list) and len(principal) == 1:
        principal = principal[0]
    if isinstance(principal, str) and principal.startswith("arn:") and principal.endswith(":root") \
            and ":iam::" in principal:
        return principal.split(":")[4]
    return principal


def _condition(statement: dict[str, Any], key: str) -> Any:
    """The value a statement's Condition gives to key (AWS:SourceArn...), under whichever operator."""
    for body in (statement.get("Condition") or {}).values():
        for name, value in (body or {}).items():
            if name.lower() == key.lower():
                return value[0] if isinstance(value, list) and len(value) == 1 else value
    return None


def _statement_properties(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Action": statement.get("Action"), "Principal": _principal_text(statement.get("Principal")),
            "SourceArn": _condition(statement, "AWS:SourceArn"),
            "SourceAccount": _condition(statement, "AWS:SourceAccount")}


def _find_statement(lam: Any, function: str, sid: str) -> dict[str, Any] | None:
    """The statement with this Sid in the function's resource policy; None when it, the policy or the function is gone."""
    found = absent(lambda: lam.get_policy(FunctionName=function)["Policy"], NOT_FOUND)
    if found is None:
        return None
    policy = json.loads(found)
    statements = policy.get("Statement") or []
    return next((s for s in statements if isinstance(s, dict) and s.get("Sid") == sid), None)


def _add_statement(lam: Any, args: dict[str, Any]) -> None:
    """AddPermission, again while the function is being updated (a ResourceConflictException with no
    statement of that id: one that exists is a create that already happened, for the engine to adopt)."""
    def updating(exc: Exception) -> bool:
        return isinstance(exc, ClientError) and error_code(exc) == "ResourceConflictException" \
            and _find_statement(lam, args["FunctionName"], args["StatementId"]) is None
    waiting.retrying(lambda: lam.add_permission(**args), updating, budget=2 ** (CONFLICT_TRIES - 1) - 1)


class Permission(Handler):
    """AWS::Lambda::Permission: one statement in a function's resource policy.

    The policy statement is no AWS object of its own, so the physical id is "FUNCTION|STATEMENT_ID" and
    read() finds the statement through the function's policy (GetPolicy). Ref and the Id attribute give
    the statement id. Every property is create-only (AWS cannot edit a statement), so any change replaces.
    """

    type_name = "AWS::Lambda::Permission"
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"SourceArn": None, "SourceAccount": None}
    not_found_codes = NOT_FOUND
    already_exists_codes = frozenset({"ResourceConflictException"})

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        return _split_permission(physical_id)[1]

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """The statement this resource adds (its id is deterministic), when it is there."""
        function = props.get("FunctionName")
        if not isinstance(function, str):
            return []
        sid = statement_id(ctx, self.desired_view(props))
        found = _find_statement(ctx.client("lambda"), function, sid)
        return [f"{function}{PERMISSION_SEPARATOR}{sid}"] if found else []

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Function as its name, Principal as AWS stores it (an account's root ARN as the account id)."""
        view = dict(props)
        if "FunctionName" in view:
            view["FunctionName"] = function_short_name(view["FunctionName"])
        if "Principal" in view:
            view["Principal"] = _principal_text(view["Principal"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetPolicy on the function."""
        function, sid = _split_permission(physical_id)
        statement = _find_statement(ctx.client("lambda"), function, sid)
        if statement is None:
            return None
        props = {"FunctionName": function_short_name(function), **_statement_properties(statement)}
        return Live(properties=self.trim(props, wanted), attributes={"Id": sid})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        sid = statement_id(ctx, self.desired_view(props))
        args = {"FunctionName": props["FunctionName"], "StatementId": sid, "Action": props["Action"],
                "Principal": str(props["Principal"])}
        for key in ("SourceArn", "SourceAccount"):
            if props.get(key) not in (None, ""):
                args[key] = str(props[key])
        _add_statement(ctx.client("lambda"), args)
        return f"{props['FunctionName']}{PERMISSION_SEPARATOR}{sid}", {"Id": sid}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Nothing to change in place: every property is create-only, so the engine replaces instead."""
        return {"Id": _split_permission(physical_id)[1]}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        function, sid = _split_permission(physical_id)
        with self.missing_ok():
            ctx.client("lambda").remove_permission(FunctionName=function, StatementId=sid)


# --- AWS::Lambda::EventSourceMapping ------------------------------------------------------------------

QUEUE_BATCH_SIZE, STREAM_BATCH_SIZE = 10, 100  # Lambda's defaults: SQS, and every other source
MAPPING_SETTLED = frozenset({"Enabled", "Disabled"})
MAPPING_OFF = frozenset({"Disabled", "Disabling"})
MAPPING_WAIT_SECONDS = 300.0
MAPPING_UPDATE_KEYS = ("FunctionName", "BatchSize", "Enabled", "MaximumBatchingWindowInSeconds", "FilterCriteria")
MAPPING_CREATE_KEYS = ("EventSourceArn", "StartingPosition", *MAPPING_UPDATE_KEYS[1:])


def default_batch_size(source_arn: Any) -> int | None:
    """Lambda's BatchSize when none is set: 10 for SQS, 100 for streams and brokers (None while unknown)."""
    if not isinstance(source_arn, str) or source_arn.count(":") < 2:
        return None
    return QUEUE_BATCH_SIZE if source_arn.split(":")[2] == "sqs" else STREAM_BATCH_SIZE


def _filters(value: Any) -> Any:
    """FilterCriteria with no filters is no FilterCriteria (AWS answers {} after clearing them)."""
    if isinstance(value, dict) and not value.get("Filters"):
        return None
    return value


def _mapping_value(key: str, value: Any) -> Any:
    """A spec value as UpdateEventSourceMapping wants it (numbers and booleans may arrive as text)."""
    if key in ("BatchSize", "MaximumBatchingWindowInSeconds"):
        return _whole(value)
    if key == "Enabled":
        return canon(value) is True
    if key == "FilterCriteria":
        return _filters(value) or {}
    return value


def _get_mapping(lam: Any, uuid: str) -> dict[str, Any] | None:
    return absent(lambda: lam.get_event_source_mapping(UUID=uuid), NOT_FOUND)


def _wait_mapping(lam: Any, uuid: str, settled: Callable[[dict[str, Any] | None], bool]) -> dict[str, Any] | None:
    """Poll the mapping until settled(mapping) (no botocore waiter exists)."""
    def look() -> tuple[dict[str, Any] | None] | None:
        mapping = _get_mapping(lam, uuid)
        return (mapping,) if settled(mapping) else None
    return waiting.until(look, f"event source mapping {uuid} settling", budget=MAPPING_WAIT_SECONDS,
                         longest=ROLE_RETRY_MAX_PAUSE)[0]


def _steady(mapping: dict[str, Any] | None) -> bool:
    """Not in transition (Creating, Enabling, Updating...): AWS refuses updates and deletes until then."""
    return mapping is None or mapping.get("State") in MAPPING_SETTLED


def _mapping_arn(ctx: Context, mapping: dict[str, Any]) -> str:
    return mapping.get("EventSourceMappingArn") or \
        f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:{mapping['UUID']}"


def _mapping_properties(mapping: dict[str, Any]) -> dict[str, Any]:
    """GetEventSourceMapping's answer in spec shape."""
    return {
        "FunctionName": function_short_name(mapping.get("FunctionArn")),
        "EventSourceArn": mapping.get("EventSourceArn"),
        "StartingPosition": mapping.get("StartingPosition"),
        "BatchSize": mapping.get("BatchSize"),
        "MaximumBatchingWindowInSeconds": mapping.get("MaximumBatchingWindowInSeconds", 0),
        "Enabled": mapping.get("State") not in MAPPING_OFF,
        "FilterCriteria": _filters(mapping.get("FilterCriteria")),
    }


class EventSourceMapping(Handler):
    """AWS::Lambda::EventSourceMapping from an SQS queue, a DynamoDB stream or a Kinesis stream.

    The physical id (and Ref, the Id attribute) is the mapping's UUID, which AWS assigns. CreateEventSource-
    Mapping takes no idempotency token: `find_owned` finds a mapping of the same function and source that
    carries this resource's ownership tags (a create whose answer was lost), for the engine to adopt.
    BatchSize's default depends on the source (10 for SQS, 100 otherwise): desired_view fills it in from
    EventSourceArn, so an unset or removed BatchSize compares with, and resets to, the right one.
    """

    type_name = "AWS::Lambda::EventSourceMapping"
    defaults: ClassVar[dict[str, Any]] = {"Enabled": True, "MaximumBatchingWindowInSeconds": 0,
                                          "FilterCriteria": None, "Tags": []}
    not_found_codes = NOT_FOUND
    tag_api = LAMBDA_TAGS

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        view = dict(props)
        if "FunctionName" in view:
            view["FunctionName"] = function_short_name(view["FunctionName"])
        if view.get("BatchSize") is None and default_batch_size(view.get("EventSourceArn")) is not None:
            view["BatchSize"] = default_batch_size(view["EventSourceArn"])
        if "FilterCriteria" in view and _filters(view["FilterCriteria"]) is None:
            view.pop("FilterCriteria")
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """GetEventSourceMapping, plus ListTags when Tags are wanted; a mapping being deleted reads as gone."""
        lam = ctx.client("lambda")
        mapping = _get_mapping(lam, physical_id)
        if mapping is None or mapping.get("State") == "Deleting":
            return None
        props = _mapping_properties(mapping)
        raw_tags = lam.list_tags(Resource=_mapping_arn(ctx, mapping)).get("Tags", {}) if "Tags" in wanted else None
        if raw_tags is not None:
            props["Tags"] = user_tags(raw_tags)
        return Live(properties=self.trim(props, wanted), attributes=self._attributes(ctx, mapping),
                    owner=owner_of(raw_tags) if raw_tags is not None else None)

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        lam = ctx.client("lambda")
        if not props.get("EventSourceArn"):
            raise DeployerError(f"{ctx.logical_id}: EventSourceArn is required (an SQS queue, DynamoDB or Kinesis stream)")
        uuid = lam.create_event_source_mapping(**self._create_args(ctx, props))["UUID"]
        mapping = _wait_mapping(lam, uuid, _steady)
        if mapping is None:
            raise DeployerError(f"{ctx.logical_id}: event source mapping {uuid} vanished while being created")
        return uuid, self._attributes(ctx, mapping)

    @staticmethod
    def _create_args(ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {"FunctionName": props["FunctionName"], "Tags": with_ownership(ctx, props.get("Tags"))}
        for key in MAPPING_CREATE_KEYS:
            if props.get(key) is not None and (key != "FilterCriteria" or _filters(props[key])):
                args[key] = _mapping_value(key, props[key])
        return args

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """UUIDs of mappings of this function and source tagged as this stack's logical id."""
        if not isinstance(props.get("FunctionName"), str) or not isinstance(props.get("EventSourceArn"), str):
            return []
        lam = ctx.client("lambda")
        pages = lam.get_paginator("list_event_source_mappings").paginate(
            FunctionName=props["FunctionName"], EventSourceArn=props["EventSourceArn"])
        return [m["UUID"] for page in pages for m in page.get("EventSourceMappings", [])
                if owner_of(lam.list_tags(Resource=_mapping_arn(ctx, m)).get("Tags", {})) == (ctx.stack, ctx.logical_id)]

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        return f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:{physical_id}"

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """One UpdateEventSourceMapping with every changed setting (a removed one back to its default), once
        the mapping is steady; then tags."""
        lam = ctx.client("lambda")
        new = self.desired_view(after)
        values = {k: _mapping_value(k, after.get(k) if k == "FunctionName" else new.get(k, self.defaults.get(k)))
                  for k in MAPPING_UPDATE_KEYS if k in changed}
        mapping = _wait_mapping(lam, physical_id, _steady)
        if values:
            lam.update_event_source_mapping(UUID=physical_id, **values)
            mapping = _wait_mapping(lam, physical_id, _steady)
        if mapping is None:
            raise DeployerError(f"{ctx.logical_id}: event source mapping {physical_id} is gone")
        self.sync_tags(ctx, physical_id, before, new, changed)
        return self._attributes(ctx, mapping)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Wait out any transition (AWS refuses a delete then), delete, and wait until it is gone."""
        lam = ctx.client("lambda")
        if _wait_mapping(lam, physical_id, _steady) is None:
            return
        with self.missing_ok():
            lam.delete_event_source_mapping(UUID=physical_id)
        _wait_mapping(lam, physical_id, lambda mapping: mapping is None)

    @staticmethod
    def _attributes(ctx: Context, mapping: dict[str, Any]) -> dict[str, Any]:
        return {"Id": mapping["UUID"], "EventSourceMappingArn": _mapping_arn(ctx, mapping)}
