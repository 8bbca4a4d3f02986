"""Cut a deployer resource schema out of CloudFormation's official provider schema (cfn-lint's copy).

Run by hand when a type is added or grows (`python tools/schemagen.py AWS::S3::Bucket`);
the generated file under schemas/resources/ is committed and is the source of truth
afterwards. Only the properties deployer implements are kept, so a typo in a spec is caught.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import cfnlint

DATA = Path(cfnlint.__file__).parent / "data" / "schemas"
OUT = Path(__file__).resolve().parent.parent / "schemas" / "resources"

# type -> (kept properties, Ref value pointer, {definition: kept sub-properties}, extensions)
TYPES: dict[str, dict] = {
    "AWS::S3::Bucket": {
        "keep": ["BucketName", "VersioningConfiguration", "BucketEncryption", "PublicAccessBlockConfiguration",
                 "LifecycleConfiguration", "CorsConfiguration", "WebsiteConfiguration", "OwnershipControls",
                 "NotificationConfiguration", "Tags", "Arn", "DomainName", "RegionalDomainName",
                 "DualStackDomainName", "WebsiteURL"],
        "ref": "/properties/BucketName",
        "defs": {
            "Rule": ["Id", "Status", "Prefix", "ExpirationInDays", "ExpirationDate", "NoncurrentVersionExpiration",
                     "AbortIncompleteMultipartUpload", "Transitions", "NoncurrentVersionTransitions", "TagFilters",
                     "ObjectSizeGreaterThan", "ObjectSizeLessThan"],
            "LifecycleConfiguration": ["Rules"],
            "ServerSideEncryptionRule": ["BucketKeyEnabled", "ServerSideEncryptionByDefault"],
            "NotificationConfiguration": ["LambdaConfigurations", "QueueConfigurations", "TopicConfigurations"],
        },
    },
    "AWS::DynamoDB::Table": {
        "keep": ["TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
                 "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification", "TimeToLiveSpecification",
                 "SSESpecification", "PointInTimeRecoverySpecification", "DeletionProtectionEnabled", "TableClass",
                 "Tags", "Arn", "StreamArn"],
        "ref": "/properties/TableName",
        "create_only": ["/properties/KeySchema", "/properties/LocalSecondaryIndexes"],
        "defs": {
            "GlobalSecondaryIndex": ["IndexName", "KeySchema", "Projection", "ProvisionedThroughput"],
            "StreamSpecification": ["StreamViewType"],
            "PointInTimeRecoverySpecification": ["PointInTimeRecoveryEnabled"],
        },
    },
    "AWS::IAM::Role": {
        "keep": ["RoleName", "AssumeRolePolicyDocument", "Description", "ManagedPolicyArns", "MaxSessionDuration",
                 "Path", "PermissionsBoundary", "Policies", "Tags", "Arn", "RoleId"],
        "ref": "/properties/RoleName",
    },
    "AWS::Lambda::Function": {
        "keep": ["FunctionName", "Code", "Role", "Runtime", "Handler", "Description", "Environment", "MemorySize",
                 "Timeout", "Architectures", "Layers", "DeadLetterConfig", "TracingConfig", "VpcConfig",
                 "ReservedConcurrentExecutions", "EphemeralStorage", "Tags", "Arn"],
        "ref": "/properties/FunctionName",
        "defs": {
            "Code": ["S3Bucket", "S3Key", "S3ObjectVersion", "ZipFile"],
            "VpcConfig": ["SecurityGroupIds", "SubnetIds"],
        },
        "extend": {"Code": {"Path": {"type": "string", "description":
                   "deployer extension: a directory or file zipped reproducibly at plan time"}}},
    },
    "AWS::SQS::Queue": {
        "keep": ["QueueName", "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue",
                 "FifoThroughputLimit", "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize",
                 "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy",
                 "SqsManagedSseEnabled", "VisibilityTimeout", "Tags", "Arn", "QueueUrl"],
        "ref": "/properties/QueueUrl",
    },
}


def official(type_name: str) -> dict:
    providers = DATA / "providers"
    if (providers / "us-east-1.json").exists():  # cfn-lint >= 1.5x
        index = json.loads((providers / "us-east-1.json").read_text())
    else:  # older cfn-lint keeps the index as a Python module
        index = dict(re.findall(r'"(AWS::[^"]+)": "([0-9a-f]+)"', (providers / "us_east_1.py").read_text()))
    return json.loads((DATA / "resources" / f"{index[type_name]}.json").read_text())


def _refs(node) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.split("/")[-1])
        for v in node.values():
            found |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found


def _close(node):
    """Every object schema refuses unknown keys, so misspelt nested properties are caught too;
    patterns Python's re cannot compile (\\p{L} classes) are dropped rather than crash validation."""
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            try:
                re.compile(node["pattern"])
            except re.error:
                node.pop("pattern")
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for v in node.values():
            _close(v)
    elif isinstance(node, list):
        for v in node:
            _close(v)


def _pointers(values, kept: set[str]) -> list[str]:
    return [p for p in values or [] if p.split("/")[2] in kept]


def generate(type_name: str) -> dict:
    cfg = TYPES[type_name]
    src = official(type_name)
    kept = set(cfg["keep"])
    props = {k: v for k, v in src["properties"].items() if k in kept}
    missing = kept - set(props)
    if missing:
        raise SystemExit(f"{type_name}: not in CloudFormation's schema: {sorted(missing)}")
    definitions = {}
    todo = _refs(props)
    while todo:
        name = todo.pop()
        if name in definitions:
            continue
        d = json.loads(json.dumps(src["definitions"][name]))
        if name in cfg.get("defs", {}):
            keep = set(cfg["defs"][name])
            d["properties"] = {k: v for k, v in d.get("properties", {}).items() if k in keep}
            d["required"] = [r for r in d.get("required", []) if r in keep]
            if not d["required"]:
                d.pop("required")
            for key in ("anyOf", "oneOf", "allOf", "dependencies", "requiredXor"):
                d.pop(key, None)
        if name in cfg.get("extend", {}):
            d.setdefault("properties", {}).update(cfg["extend"][name])
            d.pop("oneOf", None)
            d.pop("anyOf", None)
            d.pop("required", None)
        definitions[name] = d
        todo |= _refs(d) - set(definitions)
    read_only = _pointers(src.get("readOnlyProperties"), kept)
    schema = {
        "typeName": type_name,
        "description": f"deployer's subset of CloudFormation's {type_name} (generated by tools/schemagen.py)",
        "type": "object",
        "properties": props,
        "definitions": definitions,
        "additionalProperties": False,
        "required": [r for r in src.get("required", []) if r in kept],
        "primaryIdentifier": src.get("primaryIdentifier", []),
        "createOnlyProperties": _pointers(src.get("createOnlyProperties"), kept),
        "writeOnlyProperties": _pointers(src.get("writeOnlyProperties"), kept) + cfg.get("write_only", []),
        "readOnlyProperties": [p for p in read_only if p.count("/") == 2],
        "refValue": cfg["ref"],
        "taggable": bool(src.get("tagging", {}).get("taggable", "Tags" in props)),
    }
    schema["createOnlyProperties"] += [p for p in cfg.get("create_only", []) if p not in schema["createOnlyProperties"]]
    _close(schema["properties"])
    _close(schema["definitions"])
    return schema


def main(argv: list[str]) -> None:
    for type_name in argv or sorted(TYPES):
        schema = generate(type_name)
        path = OUT / (type_name.replace("::", "_") + ".json")
        path.write_text(json.dumps(schema, indent=2, sort_keys=False) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
