"""The stacks the benchmarks apply, written as spec files (names shared with tests/perf/floor.py, so
deployer and the floor make the same resources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.perf.floor import REGION, STACK, TABLE_NAME, bucket_name, queue_name

STATE_BUCKET = "bench-state"
LOCK_TABLE = "bench-locks"


def write(directory: Path, resources: dict[str, Any], backend: dict[str, Any] | None = None) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"stack": STACK, "region": REGION}
    if backend:
        doc["backend"] = backend
    doc["resources"] = resources
    path = directory / "stack.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def buckets_and_table(n: int) -> dict[str, Any]:
    """N buckets and one table: the issue's stack."""
    resources: dict[str, Any] = {f"B{i}": {"type": "AWS::S3::Bucket", "properties": {"BucketName": bucket_name(i)}}
                                 for i in range(n)}
    resources["Table"] = {"type": "AWS::DynamoDB::Table", "properties": {
        "TableName": TABLE_NAME, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}
    return resources


def queues(n: int, named: bool = True) -> dict[str, Any]:
    """N independent queues; unnamed ones need no call to plan (their names are generated)."""
    return {f"Q{i}": {"type": "AWS::SQS::Queue", "properties": {"QueueName": queue_name(i)} if named else {}}
            for i in range(n)}


def chains(count: int, depth: int) -> dict[str, Any]:
    """`count` chains of `depth` queues, each after the one before it."""
    out: dict[str, Any] = {}
    for c in range(count):
        for d in range(depth):
            body: dict[str, Any] = {"type": "AWS::SQS::Queue", "properties": {"QueueName": f"bench-c{c}-{d}"}}
            if d:
                body["depends_on"] = [f"C{c}x{d - 1}"]
            out[f"C{c}x{d}"] = body
    return out


def s3_backend() -> dict[str, Any]:
    return {"type": "s3", "bucket": STATE_BUCKET, "key": f"stacks/{STACK}.json", "lock_table": LOCK_TABLE}
