"""AWS::S3::Bucket: a bucket and its sub-configurations, each read and written with its own S3 API.

Every property group (versioning, encryption, lifecycle...) has a pair of converters between
CloudFormation's shape, which specs hold and read() returns, and the S3 API's. A group is fetched
only when the spec or the last apply names it, so a plain bucket costs no lifecycle or CORS call.

AccessControl (a canned ACL) is write-only in CloudFormation's schema (S3 answers grants, not the
canned name): it is compared with the last apply and written with PutBucketAcl — before the groups
when it goes back to Private (so OwnershipControls may then disable ACLs), after them otherwise (so
OwnershipControls allow it first). ObjectLockEnabled is given to CreateBucket, turned on later with
PutObjectLockConfiguration (S3 needs versioning on, which the groups write first), and never off:
S3 cannot disable Object Lock, so a change to false is refused before anything is changed.

A bucket that holds objects is not deleted (SPEC §7, as CloudFormation and Terraform refuse):
the plan says what it holds and fails, and delete refuses too, unless the resource sets
`lifecycle.force_destroy: true` — then every object version and delete marker goes first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer import waiting
from deployer.aws import error_code, url_suffix_of
from deployer.errors import AwsError, DeployerError
from deployer.normalize import parse_policy
from deployer.resources.base import Context, Handler, Live, Stake, TagApi, owner_of, size_text, user_tags
from deployer.spec.refs import contains_unknown

Cfn = dict[str, Any]  # a value in CloudFormation's shape
Api = dict[str, Any]  # the same value in the S3 API's shape
DELETE_BATCH = 1000  # delete_objects takes at most this many keys
DELETE_ATTEMPTS = 3  # objects written while we empty the bucket make delete_bucket fail: empty again
CREATED_SECONDS = 10  # a just-created bucket that a tagging call does not see yet: repeat for this long
STAKE_LIMIT = 10_000  # objects counted when a plan says what a delete destroys; beyond, "at least"
# Exactly these: a group's "not configured" answer must never read as "no bucket" (that would plan a create).
BUCKET_GONE = frozenset({"404", "NoSuchBucket", "NotFound"})
DEFAULT_ENCRYPTION: Cfn = {  # SSE-S3, what S3 applies to every bucket that sets nothing
    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


# --- small shape helpers --------------------------------------------------------------------------

def _compact(d: dict[str, Any]) -> dict[str, Any]:
    """d without unset entries (None, empty list or map), so optional fields are simply absent."""
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _int(value: Any) -> int | None:
    """Integers may arrive as text from a substituted reference; boto3 wants numbers."""
    return None if value is None else int(value)


def _bool(value: Any) -> bool | None:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return None if value is None else bool(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> str | None:
    """A timestamp (datetime from the API, ISO text from a spec) as CloudFormation's ISO-8601 UTC text."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rename(d: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The entries of d named in `names`, under their new names."""
    return {new: d[old] for old, new in names.items() if d.get(old) is not None}


def _flip(names: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in names.items()}


# --- VersioningConfiguration ----------------------------------------------------------------------

def versioning_to_api(cfg: Cfn) -> Api | None:
    return _compact({"Status": cfg.get("Status")}) or None


def versioning_from_api(api: Api) -> Cfn | None:
    """A never-versioned bucket has no Status: absent, which compares as the default (Suspended)."""
    return {"Status": api["Status"]} if api.get("Status") else None


# --- BucketEncryption -----------------------------------------------------------------------------

def encryption_to_api(cfg: Cfn) -> Api | None:
    rules = [_compact({
        "ApplyServerSideEncryptionByDefault": _compact(r.get("ServerSideEncryptionByDefault") or {}),
        "BucketKeyEnabled": _bool(r.get("BucketKeyEnabled"))})
             for r in cfg.get("ServerSideEncryptionConfiguration") or []]
    return {"Rules": rules} if rules else None


def encryption_from_api(api: Api) -> Cfn | None:
    """BucketKeyEnabled false is what S3 reports when it was never set: dropped, like an unset spec."""
    rules = [_compact({
        "ServerSideEncryptionByDefault": _compact(r.get("ApplyServerSideEncryptionByDefault") or {}),
        "BucketKeyEnabled": True if r.get("BucketKeyEnabled") else None})
             for r in api.get("Rules") or []]
    return {"ServerSideEncryptionConfiguration": rules} if rules else None


# --- PublicAccessBlockConfiguration ---------------------------------------------------------------

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def public_access_to_api(cfg: Cfn) -> Api | None:
    return {k: bool(_bool(cfg.get(k))) for k in PUBLIC_ACCESS_FLAGS}


def public_access_from_api(api: Api) -> Cfn | None:
    """All four flags, an unset one as false (S3 reports them so)."""
    return {k: bool(api.get(k)) for k in PUBLIC_ACCESS_FLAGS}


# --- LifecycleConfiguration -----------------------------------------------------------------------

def _lifecycle_filter_to_api(rule: Cfn) -> Api:
    """Prefix, TagFilters and object sizes -> one API Filter: a single condition alone, several under And."""
    conditions = _compact({
        "Prefix": rule.get("Prefix") or None,
        "Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []],
        "ObjectSizeGreaterThan": _int(rule.get("ObjectSizeGreaterThan")),
        "ObjectSizeLessThan": _int(rule.get("ObjectSizeLessThan")),
    })
    count = len(conditions) + max(len(conditions.get("Tags", [])) - 1, 0)
    if count == 0:
        return {"Prefix": ""}
    if count > 1:
        return {"And": conditions}
    if "Tags" in conditions:
        return {"Tag": conditions["Tags"][0]}
    return conditions


def _lifecycle_filter_from_api(rule: Api) -> Cfn:
    """Any API filter form (legacy top-level Prefix, one condition, And) -> CloudFormation's flat fields."""
    flt = rule.get("Filter") or {}
    cond = {**(flt.get("And") or {}), **{k: v for k, v in flt.items() if k != "And"}}
    tags = cond.get("Tags") or ([cond["Tag"]] if cond.get("Tag") else [])
    return _compact({
        "Prefix": cond.get("Prefix", rule.get("Prefix")) or None,
        "TagFilters": [{"Key": t["Key"], "Value": t["Value"]} for t in tags],
        "ObjectSizeGreaterThan": _text(cond.get("ObjectSizeGreaterThan")),
        "ObjectSizeLessThan": _text(cond.get("ObjectSizeLessThan")),
    })


def _transition_to_api(t: Cfn) -> Api:
    return _compact({"Days": _int(t.get("TransitionInDays")), "Date": t.get("TransitionDate"),
                     "StorageClass": str(t["StorageClass"]).upper()})


def _transition_from_api(t: Api) -> Cfn:
    return _compact({"StorageClass": t.get("StorageClass"), "TransitionInDays": t.get("Days"),
                     "TransitionDate": _date(t.get("Date"))})


def _noncurrent_transition_to_api(t: Cfn) -> Api:
    return _compact({"NoncurrentDays": _int(t.get("TransitionInDays")),
                     "StorageClass": str(t["StorageClass"]).upper(),
                     "NewerNoncurrentVersions": _int(t.get("NewerNoncurrentVersions"))})


def _noncurrent_transition_from_api(t: Api) -> Cfn:
    return _compact({"StorageClass": t.get("StorageClass"), "TransitionInDays": t.get("NoncurrentDays"),
                     "NewerNoncurrentVersions": t.get("NewerNoncurrentVersions")})


def _rule_to_api(rule: Cfn, index: int) -> Api:
    """A rule without Id gets a stable one (S3 would invent a random one, which would read back as drift)."""
    expiration = rule.get("NoncurrentVersionExpiration") or {}
    return _compact({
        "ID": rule.get("Id") or f"rule-{index + 1}",
        "Status": rule.get("Status", "Enabled"),
        "Filter": _lifecycle_filter_to_api(rule),
        "Expiration": _compact({"Days": _int(rule.get("ExpirationInDays")),
                                "Date": rule.get("ExpirationDate")}),
        "Transitions": [_transition_to_api(t) for t in rule.get("Transitions") or []],
        "NoncurrentVersionTransitions": [_noncurrent_transition_to_api(t)
                                         for t in rule.get("NoncurrentVersionTransitions") or []],
        "NoncurrentVersionExpiration": _compact({
            "NoncurrentDays": _int(expiration.get("NoncurrentDays")),
            "NewerNoncurrentVersions": _int(expiration.get("NewerNoncurrentVersions"))}),
        "AbortIncompleteMultipartUpload": _compact({"DaysAfterInitiation": _int(
            (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"))}),
    })


def _rule_from_api(rule: Api) -> Cfn:
    expiration = rule.get("Expiration") or {}
    noncurrent = rule.get("NoncurrentVersionExpiration") or {}
    return _compact({
        "Id": rule.get("ID"),
        "Status": rule.get("Status"),
        **_lifecycle_filter_from_api(rule),
        "ExpirationInDays": expiration.get("Days"),
        "ExpirationDate": _date(expiration.get("Date")),
        "Transitions": [_transition_from_api(t) for t in rule.get("Transitions") or []],
        "NoncurrentVersionTransitions": [_noncurrent_transition_from_api(t)
                                         for t in rule.get("NoncurrentVersionTransitions") or []],
        "NoncurrentVersionExpiration": _compact({
            "NoncurrentDays": noncurrent.get("NoncurrentDays"),
            "NewerNoncurrentVersions": noncurrent.get("NewerNoncurrentVersions")}),
        "AbortIncompleteMultipartUpload": _compact({"DaysAfterInitiation": (
            rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")}),
    })


def lifecycle_to_api(cfg: Cfn) -> Api | None:
    rules = [_rule_to_api(r, i) for i, r in enumerate(cfg.get("Rules") or [])]
    return {"Rules": rules} if rules else None


def lifecycle_from_api(api: Api) -> Cfn | None:
    rules = [_rule_from_api(r) for r in api.get("Rules") or []]
    return {"Rules": rules} if rules else None


# --- CorsConfiguration ----------------------------------------------------------------------------

CORS_NAMES = {"Id": "ID", "AllowedHeaders": "AllowedHeaders", "AllowedMethods": "AllowedMethods",
              "AllowedOrigins": "AllowedOrigins", "ExposedHeaders": "ExposeHeaders",
              "MaxAge": "MaxAgeSeconds"}


def cors_to_api(cfg: Cfn) -> Api | None:
    rules = [_compact({**_rename(r, CORS_NAMES), "MaxAgeSeconds": _int(r.get("MaxAge"))})
             for r in cfg.get("CorsRules") or []]
    return {"CORSRules": rules} if rules else None


def cors_from_api(api: Api) -> Cfn | None:
    rules = [_compact(_rename(r, _flip(CORS_NAMES))) for r in api.get("CORSRules") or []]
    return {"CorsRules": rules} if rules else None


# --- WebsiteConfiguration -------------------------------------------------------------------------

def _stringify(d: dict[str, Any] | None, *keys: str) -> dict[str, Any] | None:
    """HTTP codes are text in the API; a spec may hold them as numbers."""
    return None if d is None else {k: (str(v) if k in keys else v) for k, v in d.items()}


def website_to_api(cfg: Cfn) -> Api | None:
    return _compact({
        "IndexDocument": {"Suffix": cfg["IndexDocument"]} if cfg.get("IndexDocument") else None,
        "ErrorDocument": {"Key": cfg["ErrorDocument"]} if cfg.get("ErrorDocument") else None,
        "RedirectAllRequestsTo": cfg.get("RedirectAllRequestsTo"),
        "RoutingRules": [_compact({
            "Condition": _stringify(r.get("RoutingRuleCondition"), "HttpErrorCodeReturnedEquals"),
            "Redirect": _stringify(r.get("RedirectRule"), "HttpRedirectCode")})
                         for r in cfg.get("RoutingRules") or []],
    }) or None


def website_from_api(api: Api) -> Cfn | None:
    return _compact({
        "IndexDocument": (api.get("IndexDocument") or {}).get("Suffix"),
        "ErrorDocument": (api.get("ErrorDocument") or {}).get("Key"),
        "RedirectAllRequestsTo": api.get("RedirectAllRequestsTo"),
        "RoutingRules": [_compact({"RoutingRuleCondition": r.get("Condition"),
                                   "RedirectRule": r.get("Redirect")})
                         for r in api.get("RoutingRules") or []],
    }) or None


# --- OwnershipControls ----------------------------------------------------------------------------

def ownership_to_api(cfg: Cfn) -> Api | None:
    rules = [{"ObjectOwnership": r["ObjectOwnership"]}
             for r in cfg.get("Rules") or [] if r.get("ObjectOwnership")]
    return {"Rules": rules} if rules else None


def ownership_from_api(api: Api) -> Cfn | None:
    return ownership_to_api(api)  # the same shape on both sides


# --- NotificationConfiguration --------------------------------------------------------------------

# (CloudFormation list, its target key, API list, its target key)
NOTIFICATION_KINDS = (
    ("LambdaConfigurations", "Function", "LambdaFunctionConfigurations", "LambdaFunctionArn"),
    ("QueueConfigurations", "Queue", "QueueConfigurations", "QueueArn"),
    ("TopicConfigurations", "Topic", "TopicConfigurations", "TopicArn"),
)


def _key_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Filter rules as a set: S3 answers "Prefix" for "prefix" and keeps no order."""
    named = ({"Name": str(r["Name"]).lower(), "Value": r["Value"]} for r in rules)
    return sorted(named, key=lambda r: r["Name"])


def _key_filter_to_api(flt: Cfn | None) -> Api | None:
    rules = ((flt or {}).get("S3Key") or {}).get("Rules") or []
    return {"Key": {"FilterRules": _key_rules(rules)}} if rules else None


def _key_filter_from_api(flt: Api | None) -> Cfn | None:
    rules = ((flt or {}).get("Key") or {}).get("FilterRules") or []
    return {"S3Key": {"Rules": _key_rules(rules)}} if rules else None


def notification_to_api(cfg: Cfn) -> Api | None:
    """One API configuration per CloudFormation one (each has one event); {} when there are none."""
    out: Api = {}
    for cfn_list, cfn_target, api_list, api_target in NOTIFICATION_KINDS:
        out[api_list] = [_compact({api_target: c[cfn_target], "Events": [c["Event"]],
                                   "Filter": _key_filter_to_api(c.get("Filter"))})
                         for c in cfg.get(cfn_list) or []]
    return _compact(out)


def notification_from_api(api: Api) -> Cfn | None:
    """An API configuration with several events becomes one CloudFormation configuration per event."""
    out: Cfn = {}
    for cfn_list, cfn_target, api_list, api_target in NOTIFICATION_KINDS:
        out[cfn_list] = [_compact({"Event": event, cfn_target: c[api_target],
                                   "Filter": _key_filter_from_api(c.get("Filter"))})
                         for c in api.get(api_list) or [] for event in c.get("Events") or []]
    return _compact(out) or None


# --- LoggingConfiguration -------------------------------------------------------------------------

def _key_format_to_api(fmt: Cfn | None) -> Api | None:
    """TargetObjectKeyFormat has one shape on both sides; SimplePrefix is S3's default format."""
    if not fmt or "PartitionedPrefix" not in fmt:
        return None
    return {"PartitionedPrefix": _compact(dict(fmt["PartitionedPrefix"] or {}))}


def logging_to_api(cfg: Cfn) -> Api | None:
    """BucketLoggingStatus; TargetPrefix is required by the API ("" logs at the top of the target)."""
    if not cfg.get("DestinationBucketName"):
        return None
    return {"LoggingEnabled": _compact({"TargetBucket": cfg["DestinationBucketName"],
                                        "TargetPrefix": cfg.get("LogFilePrefix") or "",
                                        "TargetObjectKeyFormat": _key_format_to_api(cfg.get("TargetObjectKeyFormat"))})}


def logging_from_api(api: Api) -> Cfn | None:
    enabled = api.get("LoggingEnabled") or {}
    if not enabled.get("TargetBucket"):
        return None
    return _compact({"DestinationBucketName": enabled["TargetBucket"], "LogFilePrefix": enabled.get("TargetPrefix") or None,
                     "TargetObjectKeyFormat": _key_format_to_api(enabled.get("TargetObjectKeyFormat"))})


# --- ReplicationConfiguration ---------------------------------------------------------------------

def _replication_filter_to_api(flt: Cfn) -> Api:
    """CloudFormation's TagFilter / TagFilters are the API's Tag / Tags; the rest keeps its name."""
    out: Api = {}
    if flt.get("Prefix") is not None:
        out["Prefix"] = flt["Prefix"]
    if flt.get("TagFilter"):
        out["Tag"] = {"Key": flt["TagFilter"]["Key"], "Value": flt["TagFilter"]["Value"]}
    if flt.get("And") is not None:
        out["And"] = _compact({"Prefix": flt["And"].get("Prefix"),
                               "Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in flt["And"].get("TagFilters") or []]})
    return out


def _replication_filter_from_api(flt: Api) -> Cfn:
    out: Cfn = {}
    if flt.get("Prefix") is not None:
        out["Prefix"] = flt["Prefix"]
    if flt.get("Tag"):
        out["TagFilter"] = {"Key": flt["Tag"]["Key"], "Value": flt["Tag"]["Value"]}
    if flt.get("And") is not None:
        out["And"] = _compact({"Prefix": flt["And"].get("Prefix"),
                               "TagFilters": [{"Key": t["Key"], "Value": t["Value"]} for t in flt["And"].get("Tags") or []]})
    return out


def _replication_rule_to_api(rule: Cfn, index: int) -> Api:
    """A rule without Id gets a stable one (S3 would invent a random one, which would read back as drift)."""
    out = _compact({
        "ID": rule.get("Id") or f"rule-{index + 1}",
        "Priority": _int(rule.get("Priority")),
        "Prefix": rule.get("Prefix"),
        "Status": rule.get("Status"),
        "Destination": _compact({k: (rule.get("Destination") or {}).get(k) for k in ("Bucket", "Account", "StorageClass")}),
        "DeleteMarkerReplication": _compact(dict(rule.get("DeleteMarkerReplication") or {})),
    })
    if rule.get("Filter") is not None:
        out["Filter"] = _replication_filter_to_api(rule["Filter"])
    return out


def _replication_rule_from_api(rule: Api) -> Cfn:
    out = _compact({
        "Id": rule.get("ID"),
        "Priority": rule.get("Priority"),
        "Prefix": rule.get("Prefix"),
        "Status": rule.get("Status"),
        "Destination": _compact({k: (rule.get("Destination") or {}).get(k) for k in ("Bucket", "Account", "StorageClass")}),
        "DeleteMarkerReplication": _compact(dict(rule.get("DeleteMarkerReplication") or {})),
    })
    if rule.get("Filter") is not None:
        out["Filter"] = _replication_filter_from_api(rule["Filter"])
    return out


def replication_to_api(cfg: Cfn) -> Api | None:
    rules = [_replication_rule_to_api(r, i) for i, r in enumerate(cfg.get("Rules") or [])]
    return {"Role": cfg.get("Role"), "Rules": rules} if rules else None


def replication_from_api(api: Api) -> Cfn | None:
    rules = [_replication_rule_from_api(r) for r in api.get("Rules") or []]
    return {"Role": api.get("Role"), "Rules": rules} if rules else None


# --- ObjectLockEnabled and ObjectLockConfiguration ------------------------------------------------

LOCK_ON: Api = {"ObjectLockEnabled": "Enabled"}


def lock_enabled_to_api(value: Any) -> Api | None:
    return dict(LOCK_ON) if _bool(value) else None


def lock_enabled_from_api(api: Api) -> Any:
    """True when Object Lock is on; absent (false, the default) otherwise."""
    return True if api.get("ObjectLockEnabled") == "Enabled" else None


def lock_to_api(cfg: Cfn) -> Api | None:
    """A default retention rule (a period of 0 is no period: S3 never answers one, moto does)."""
    retention = _compact({"Mode": ((cfg.get("Rule") or {}).get("DefaultRetention") or {}).get("Mode"),
                          **{k: _int(v) for k, v in ((cfg.get("Rule") or {}).get("DefaultRetention") or {}).items()
                             if k in ("Days", "Years") and _int(v)}})
    return {**LOCK_ON, "Rule": {"DefaultRetention": retention}} if retention else None


def lock_from_api(api: Api) -> Cfn | None:
    return lock_to_api(api)  # the same shape on both sides


# --- the groups -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """One bucket sub-configuration: the S3 calls that read, write and reset it, and its converters."""

    prop: str
    get: str  # client method that reads it
    result: str | None  # response key that holds it (None: the whole response)
    missing: str | None  # error code meaning "not configured"
    put: str
    arg: str  # the put method's parameter that takes it
    clear: tuple[str, dict[str, Any]]  # the call (and its extra parameters) that resets it
    to_api: Callable[[Cfn], Api | None]
    from_api: Callable[[Api], Cfn | None]


SUSPENDED: Api = {"Status": "Suspended"}
GROUPS = (  # ownership first: it decides whether the ACL-related settings after it are allowed
    Group("OwnershipControls", get="get_bucket_ownership_controls", result="OwnershipControls",
          missing="OwnershipControlsNotFoundError", put="put_bucket_ownership_controls",
          arg="OwnershipControls", clear=("delete_bucket_ownership_controls", {}),
          to_api=ownership_to_api, from_api=ownership_from_api),
    Group("PublicAccessBlockConfiguration", get="get_public_access_block",
          result="PublicAccessBlockConfiguration", missing="NoSuchPublicAccessBlockConfiguration",
          put="put_public_access_block", arg="PublicAccessBlockConfiguration",
          clear=("delete_public_access_block", {}),
          to_api=public_access_to_api, from_api=public_access_from_api),
    Group("VersioningConfiguration", get="get_bucket_versioning", result=None, missing=None,
          put="put_bucket_versioning", arg="VersioningConfiguration",
          clear=("put_bucket_versioning", {"VersioningConfiguration": SUSPENDED}),
          to_api=versioning_to_api, from_api=versioning_from_api),
    # Object Lock and replication need versioning on: after it. Turning Object Lock off is refused in
    # update() before any call, so its `clear` is never reached.
    Group("ObjectLockEnabled", get="get_object_lock_configuration", result="ObjectLockConfiguration",
          missing="ObjectLockConfigurationNotFoundError", put="put_object_lock_configuration",
          arg="ObjectLockConfiguration", clear=("put_object_lock_configuration", {"ObjectLockConfiguration": LOCK_ON}),
          to_api=lock_enabled_to_api, from_api=lock_enabled_from_api),
    Group("ObjectLockConfiguration", get="get_object_lock_configuration", result="ObjectLockConfiguration",
          missing="ObjectLockConfigurationNotFoundError", put="put_object_lock_configuration",
          arg="ObjectLockConfiguration", clear=("put_object_lock_configuration", {"ObjectLockConfiguration": LOCK_ON}),
          to_api=lock_to_api, from_api=lock_from_api),
    Group("ReplicationConfiguration", get="get_bucket_replication", result="ReplicationConfiguration",
          missing="ReplicationConfigurationNotFoundError", put="put_bucket_replication",
          arg="ReplicationConfiguration", clear=("delete_bucket_replication", {}),
          to_api=replication_to_api, from_api=replication_from_api),
    Group("BucketEncryption", get="get_bucket_encryption", result="ServerSideEncryptionConfiguration",
          missing="ServerSideEncryptionConfigurationNotFoundError", put="put_bucket_encryption",
          arg="ServerSideEncryptionConfiguration", clear=("delete_bucket_encryption", {}),
          to_api=encryption_to_api, from_api=encryption_from_api),
    Group("LifecycleConfiguration", get="get_bucket_lifecycle_configuration", result=None,
          missing="NoSuchLifecycleConfiguration", put="put_bucket_lifecycle_configuration",
          arg="LifecycleConfiguration", clear=("delete_bucket_lifecycle", {}),
          to_api=lifecycle_to_api, from_api=lifecycle_from_api),
    Group("CorsConfiguration", get="get_bucket_cors", result=None, missing="NoSuchCORSConfiguration",
          put="put_bucket_cors", arg="CORSConfiguration", clear=("delete_bucket_cors", {}),
          to_api=cors_to_api, from_api=cors_from_api),
    Group("WebsiteConfiguration", get="get_bucket_website", result=None, missing="NoSuchWebsiteConfiguration",
          put="put_bucket_website", arg="WebsiteConfiguration", clear=("delete_bucket_website", {}),
          to_api=website_to_api, from_api=website_from_api),
    Group("LoggingConfiguration", get="get_bucket_logging", result=None, missing=None,
          put="put_bucket_logging", arg="BucketLoggingStatus", clear=("put_bucket_logging", {"BucketLoggingStatus": {}}),
          to_api=logging_to_api, from_api=logging_from_api),
    Group("NotificationConfiguration", get="get_bucket_notification_configuration", result=None, missing=None,
          put="put_bucket_notification_configuration", arg="NotificationConfiguration",
          clear=("put_bucket_notification_configuration", {"NotificationConfiguration": {}}),
          to_api=notification_to_api, from_api=notification_from_api),
)


def fetch(s3: Any, bucket: str, group: Group, answers: dict[str, Any] | None = None) -> Cfn | None:
    """One group as the bucket has it, in spec shape; None when it is not configured. `answers` keeps
    each read call's answer for the groups that share it (Object Lock's two properties)."""
    answers = {} if answers is None else answers
    if group.get not in answers:
        try:
            answers[group.get] = getattr(s3, group.get)(Bucket=bucket)
        except ClientError as exc:
            if not (group.missing and error_code(exc) == group.missing):
                raise
            answers[group.get] = None
    response = answers[group.get]
    if response is None:  # "not configured"
        return None
    api = response.get(group.result) if group.result else \
        {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return group.from_api(api) if api else None


def store(s3: Any, bucket: str, group: Group, value: Cfn | None) -> None:
    """Write one group, or reset it when the value is absent or empty."""
    api = group.to_api(value) if value else None
    if api:
        getattr(s3, group.put)(Bucket=bucket, **{group.arg: api})
    else:
        method, extra = group.clear
        getattr(s3, method)(Bucket=bucket, **extra)


def _versions(s3: Any, bucket: str) -> Iterator[list[dict[str, str]]]:
    """Every object version and delete marker, a page at a time, as delete_objects wants them."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found = (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
        yield [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in found]


def count_objects(s3: Any, bucket: str, limit: int = STAKE_LIMIT) -> tuple[int, int, bool]:
    """(object versions and delete markers, their bytes, whether there are more than `limit`), read a
    page at a time up to `limit`."""
    count = size = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions = page.get("Versions") or []
        count += len(versions) + len(page.get("DeleteMarkers") or [])
        size += sum(int(v.get("Size") or 0) for v in versions)
        if count > limit:
            return count, size, True
    return count, size, False


def empty_bucket(s3: Any, bucket: str) -> None:
    """Delete everything in the bucket, all versions included, in batches of DELETE_BATCH."""
    for page in _versions(s3, bucket):
        for start in range(0, len(page), DELETE_BATCH):
            batch = page[start:start + DELETE_BATCH]
            errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}).get("Errors")
            if errors:
                first = errors[0]
                raise AwsError(bucket, f"cannot delete object {first.get('Key')}: {first.get('Message')}",
                               first.get("Code"))


def canned_acl(value: str) -> str:
    """CloudFormation's AccessControl name (PublicRead) as S3's canned ACL (public-read)."""
    return CANNED_ACLS.get(value, value)


CANNED_ACLS = {"AuthenticatedRead": "authenticated-read", "AwsExecRead": "aws-exec-read",
               "BucketOwnerFullControl": "bucket-owner-full-control", "BucketOwnerRead": "bucket-owner-read",
               "LogDeliveryWrite": "log-delivery-write", "Private": "private", "PublicRead": "public-read",
               "PublicReadWrite": "public-read-write"}


def _lock_argument(props: dict[str, Any]) -> dict[str, Any]:
    """CreateBucket's Object Lock switch (it turns versioning on too)."""
    return {"ObjectLockEnabledForBucket": True} if _bool(props.get("ObjectLockEnabled")) else {}


class Bucket(Handler):
    """An S3 bucket; its physical id is its name."""

    type_name = "AWS::S3::Bucket"
    name_property = "BucketName"
    name_max_length = 63
    name_lowercase = True
    # Versioning cannot be turned off once on, only suspended; S3 encrypts with SSE-S3 when nothing is set;
    # a bucket's ACL is private, and Object Lock off, unless set.
    defaults: ClassVar[dict[str, Any]] = {"VersioningConfiguration": SUSPENDED,
                                          "BucketEncryption": DEFAULT_ENCRYPTION,
                                          "AccessControl": "Private", "ObjectLockEnabled": False}
    not_found_codes = BUCKET_GONE
    already_exists_codes = frozenset({"BucketAlreadyOwnedByYou"})
    tag_api = TagApi("s3", add="put_bucket_tagging", remove=None, id_param="Bucket", tags_param="Tagging",
                     wrap="TagSet")

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Each group through to_api and back, so the spec compares in the shape read() returns; server
        access logs without DestinationBucketName go to the bucket itself (CloudFormation's default)."""
        view = dict(props)
        logging = view.get("LoggingConfiguration")
        if isinstance(logging, dict) and not logging.get("DestinationBucketName") and view.get("BucketName"):
            view["LoggingConfiguration"] = {**logging, "DestinationBucketName": view["BucketName"]}
        for group in GROUPS:
            value = view.get(group.prop)
            if value is None or contains_unknown(value):
                continue
            api = group.to_api(value)
            normal = group.from_api(api) if api else None
            if normal is None:
                view.pop(group.prop)
            else:
                view[group.prop] = normal
        if "Tags" in view and not view["Tags"]:
            view.pop("Tags")
        return view

    def attributes(self, ctx: Context, name: str) -> dict[str, Any]:
        """All derived from the name and region: no call needed."""
        region, suffix = ctx.region, url_suffix_of(ctx.region)
        return {
            "BucketName": name,
            "Arn": f"arn:{ctx.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.{suffix}",
            "RegionalDomainName": f"{name}.s3.{region}.{suffix}",
            "DualStackDomainName": f"{name}.s3.dualstack.{region}.{suffix}",
            "WebsiteURL": f"http://{name}.s3-website-{region}.{suffix}",
        }

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One call per wanted group and the tags; the first of them answers NoSuchBucket for a bucket
        that is gone, so HeadBucket is only sent when nothing else is wanted."""
        s3 = ctx.client("s3")
        try:
            raw = self._tags(s3, physical_id) if self.tags_property in wanted else None
            if raw is None and not any(group.prop in wanted for group in GROUPS):
                s3.head_bucket(Bucket=physical_id)
            props: dict[str, Any] = {"BucketName": physical_id}
            answers: dict[str, Any] = {}
            for group in GROUPS:
                if group.prop in wanted and (value := fetch(s3, physical_id, group, answers)) is not None:
                    props[group.prop] = value
            owner = None
            if raw is not None:
                owner = owner_of(raw)
                if user_tags(raw):
                    props["Tags"] = user_tags(raw)
        except ClientError as exc:
            if error_code(exc) in BUCKET_GONE:
                return None
            raise
        return Live(props, self.attributes(ctx, physical_id), owner)

    @staticmethod
    def _tags(s3: Any, bucket: str) -> list[dict[str, str]]:
        try:
            return s3.get_bucket_tagging(Bucket=bucket).get("TagSet") or []
        except ClientError as exc:
            if error_code(exc) == "NoSuchTagSet":
                return []
            raise

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Tags go on first, so a create cut short can still be found by find_owned."""
        name = props["BucketName"]  # the planner always supplies one (generated when the spec has none)
        s3 = ctx.client("s3")
        if ctx.region == "us-east-1":  # the one region that refuses its own LocationConstraint
            # ... and that answers 200 for a bucket the account already owns: unless this command's
            # own plan just found it absent, ask first, so that an existing bucket meets the engine's
            # adoption rule instead of being silently taken over
            if not ctx.settings.absence_fresh and self.absent(lambda: s3.head_bucket(Bucket=name)) is not None:
                raise ClientError({"Error": {"Code": "BucketAlreadyOwnedByYou",
                                             "Message": f"the account already owns a bucket named {name}"}},
                                  "CreateBucket")
            s3.create_bucket(Bucket=name, **_lock_argument(props))
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": ctx.region},
                             **_lock_argument(props))
        # no bucket_exists waiter: the bucket is there once CreateBucket answers; a tagging call that
        # still meets NoSuchBucket (another endpoint not caught up yet) is repeated briefly instead
        waiting.retrying(lambda: self.tag_api.sync(ctx, name, None, props.get("Tags")),
                         lambda exc: error_code(exc) == "NoSuchBucket", budget=CREATED_SECONDS, first=0.5, longest=2.0)
        view = self.desired_view(props)
        for group in GROUPS:  # set, and not what a new bucket has anyway (Object Lock came with CreateBucket)
            if group.prop != "ObjectLockEnabled" and self.differs({}, view, group.prop):
                store(s3, name, group, view.get(group.prop))
        if self.differs({}, props, "AccessControl"):
            s3.put_bucket_acl(Bucket=name, ACL=canned_acl(props["AccessControl"]))
        return name, self.attributes(ctx, name)

    def refuse_update(self, before: dict[str, Any], after: dict[str, Any], changed: frozenset[str]) -> str | None:
        """S3 cannot turn Object Lock off (nor can CloudFormation)."""
        if "ObjectLockEnabled" in changed and _bool(before.get("ObjectLockEnabled")) and \
                not _bool(self.desired_view(after).get("ObjectLockEnabled")):
            return ("Object Lock is on, and S3 cannot turn it off (nor can CloudFormation): keep "
                    "ObjectLockEnabled: true, or move the data to a new bucket under another logical id")
        return None

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Write each group that changed; a group absent from `after` is reset to its default. The ACL
        goes back to private before the groups (OwnershipControls may disable ACLs), or is set after them."""
        s3 = ctx.client("s3")
        view = self.desired_view(after)
        refusal = self.refuse_update(before, after, changed)
        if refusal:
            raise DeployerError(f"{ctx.logical_id}: bucket {physical_id}: {refusal}")
        acl = canned_acl(after.get("AccessControl") or self.defaults["AccessControl"])
        if "AccessControl" in changed and acl == "private":
            s3.put_bucket_acl(Bucket=physical_id, ACL=acl)
        for group in GROUPS:
            if group.prop in changed:
                store(s3, physical_id, group, view.get(group.prop))
        if "AccessControl" in changed and acl != "private":
            s3.put_bucket_acl(Bucket=physical_id, ACL=acl)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return self.attributes(ctx, physical_id)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """Delete the bucket; one holding objects only with force_destroy (emptied first: objects written
        meanwhile make the delete fail, so it empties again). A bucket already gone is success."""
        s3 = ctx.client("s3")

        def attempt() -> None:
            with self.missing_ok():
                if ctx.settings.force_destroy:
                    empty_bucket(s3, physical_id)
                s3.delete_bucket(Bucket=physical_id)
        try:  # DeleteBucket itself refuses a bucket holding objects: no emptiness check before it
            waiting.retrying(attempt, lambda exc: ctx.settings.force_destroy and error_code(exc) == "BucketNotEmpty",
                             budget=DELETE_ATTEMPTS, first=0.5, longest=1.0)
        except ClientError as exc:
            if error_code(exc) != "BucketNotEmpty" or ctx.settings.force_destroy:
                raise
            raise DeployerError(f"{ctx.logical_id}: bucket {physical_id} holds objects and was not deleted; "
                                "set lifecycle.force_destroy: true to empty and delete it") from None

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Buckets tagged as this stack's logical id (found after a create whose answer was lost)."""
        return [arn.split(":::", 1)[1] for arn in self.owned_by_tags(ctx, "s3")]

    def at_stake(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> Stake | None:
        """How many objects (versions and delete markers included) the bucket holds, and their size."""
        found = self.absent(lambda: count_objects(ctx.client("s3"), physical_id))
        if found is None:
            return None
        count, size, more = found
        if more:
            return Stake(f"at least {STAKE_LIMIT:,} objects", refuse_without_force=True)
        return Stake(f"{count:,} object{'s' if count != 1 else ''}, {size_text(size)}", refuse_without_force=count > 0)


# --- AWS::S3::BucketPolicy ------------------------------------------------------------------------

def _policy_text(document: Any) -> str:
    """S3 takes the policy as JSON text; a spec may hold it as data or as text."""
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


class BucketPolicy(Handler):
    """The one policy a bucket holds. S3 models no policy object: the physical id (and Ref) is the
    bucket name, and read() asks the bucket for its policy."""

    type_name = "AWS::S3::BucketPolicy"
    tags_property = None
    not_found_codes = frozenset({"NoSuchBucketPolicy", *BUCKET_GONE})

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        bucket = props.get("Bucket")
        return bucket if isinstance(bucket, str) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """A policy written as JSON text, as the data read() returns."""
        view = dict(props)
        if "PolicyDocument" in view:
            view["PolicyDocument"] = parse_policy(view["PolicyDocument"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One get_bucket_policy; no policy (or no bucket) means the resource does not exist."""
        text = self.absent(lambda: ctx.client("s3").get_bucket_policy(Bucket=physical_id)["Policy"])
        if text is None:
            return None
        return Live({"Bucket": physical_id, "PolicyDocument": parse_policy(text)})

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        bucket = props["Bucket"]
        ctx.client("s3").put_bucket_policy(Bucket=bucket, Policy=_policy_text(props["PolicyDocument"]))
        return bucket, {}

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Only PolicyDocument can change in place (a new Bucket is a replacement)."""
        if "PolicyDocument" in changed:
            ctx.client("s3").put_bucket_policy(Bucket=physical_id, Policy=_policy_text(after["PolicyDocument"]))
        return {}

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """delete_bucket_policy; a bucket already gone is success."""
        with self.missing_ok():
            ctx.client("s3").delete_bucket_policy(Bucket=physical_id)
