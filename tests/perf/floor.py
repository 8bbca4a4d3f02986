"""The floor: a hand-written threaded boto3 script making the calls the same change needs and no
others — the yardstick deployer's timings are divided by. Every resource carries the ownership tags
deployer gives it, so the end state is the same.

Per resource, the calls (moto answers a new table ACTIVE, so no wait follows its create):
- bucket: create = CreateBucket + PutBucketTagging (moto ignores tags in CreateBucketConfiguration);
  no-op read = GetBucketTagging; destroy = ListObjectVersions (SPEC §7's emptiness check) + DeleteBucket
- table: create = CreateTable (tags included); read = DescribeTable + ListTagsOfResource; delete = DeleteTable
- queue: create = CreateQueue (tags included); read = GetQueueAttributes + ListQueueTags; delete = DeleteQueue
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

STACK = "bench"
REGION = "us-east-1"


def client(service: str, endpoint: str, parallelism: int) -> Any:
    return boto3.session.Session().client(
        service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard"}, max_pool_connections=max(10, parallelism)))


def owner_tags(logical_id: str) -> dict[str, str]:
    return {"deployer:stack": STACK, "deployer:logical-id": logical_id}


def run(parallelism: int, work: Callable[[Any], None], items: Iterable[Any]) -> None:
    """work(item) for every item, `parallelism` at a time; the first error is raised."""
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        for future in [pool.submit(work, item) for item in items]:
            future.result()


class Floor:
    """Clients made once (as a script would), then the calls of each phase."""

    def __init__(self, endpoint: str, parallelism: int = 10):
        self.parallelism = parallelism
        self.s3 = client("s3", endpoint, parallelism)
        self.ddb = client("dynamodb", endpoint, parallelism)
        self.sqs = client("sqs", endpoint, parallelism)

    # --- buckets and a table ------------------------------------------------------------------
    def create_buckets(self, buckets: dict[str, str], table: str | None) -> None:
        """buckets: logical id -> bucket name."""
        def one(item: tuple[str, str]) -> None:
            logical, name = item
            if logical == "#table":
                self.ddb.create_table(
                    TableName=name, BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    Tags=[{"Key": k, "Value": v} for k, v in owner_tags("Table").items()])
                return
            self.s3.create_bucket(Bucket=name)
            self.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [
                {"Key": k, "Value": v} for k, v in owner_tags(logical).items()]})
        run(self.parallelism, one, [*buckets.items(), *([("#table", table)] if table else [])])

    def read_buckets(self, buckets: dict[str, str], table: str | None) -> None:
        def one(item: tuple[str, str]) -> None:
            logical, name = item
            if logical == "#table":
                arn = self.ddb.describe_table(TableName=name)["Table"]["TableArn"]
                self.ddb.list_tags_of_resource(ResourceArn=arn)
                return
            self.s3.get_bucket_tagging(Bucket=name)
        run(self.parallelism, one, [*buckets.items(), *([("#table", table)] if table else [])])

    def destroy_buckets(self, buckets: dict[str, str], table: str | None) -> None:
        def one(item: tuple[str, str]) -> None:
            logical, name = item
            if logical == "#table":
                self.ddb.delete_table(TableName=name)
                return
            if self.s3.list_object_versions(Bucket=name, MaxKeys=1).get("Versions"):
                raise RuntimeError(f"{name} is not empty")
            self.s3.delete_bucket(Bucket=name)
        run(self.parallelism, one, [*buckets.items(), *([("#table", table)] if table else [])])

    # --- queues ---------------------------------------------------------------------------------
    def create_queue(self, logical: str, name: str) -> str:
        return self.sqs.create_queue(QueueName=name, tags=owner_tags(logical))["QueueUrl"]

    def create_queues(self, queues: dict[str, str]) -> None:
        run(self.parallelism, lambda item: self.create_queue(*item), queues.items())

    def create_chains(self, chains: list[list[tuple[str, str]]]) -> None:
        """Each chain in order (a queue after the one before it), chains side by side, at most
        `parallelism` creates in flight — what a dependency-aware script does."""
        gate = threading.BoundedSemaphore(self.parallelism)

        def chain(items: list[tuple[str, str]]) -> None:
            for logical, name in items:
                with gate:
                    self.create_queue(logical, name)
        run(len(chains), chain, chains)


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.perf.floor KIND PHASE --n N --endpoint URL [--parallelism P] [--depth D]`: one
    phase as a whole process (start-up and client creation included, as deployer's are); prints
    {"work": seconds of the calls alone}. KIND: buckets (N buckets + 1 table), queues, chains
    (N chains of --depth queues); PHASE: create, read, destroy (buckets) or create."""
    parser = argparse.ArgumentParser(prog="python -m tests.perf.floor")
    parser.add_argument("kind", choices=["buckets", "queues", "chains"])
    parser.add_argument("phase", choices=["create", "read", "destroy"])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--parallelism", type=int, default=10)
    args = parser.parse_args(argv)
    floor = Floor(args.endpoint, args.parallelism)
    start = time.perf_counter()
    if args.kind == "buckets":
        buckets = {f"B{i}": bucket_name(i) for i in range(args.n)}
        getattr(floor, f"{args.phase}_buckets")(buckets, TABLE_NAME)
    elif args.kind == "queues":
        floor.create_queues({f"Q{i}": queue_name(i) for i in range(args.n)})
    else:
        floor.create_chains([[(f"C{c}x{d}", f"bench-c{c}-{d}") for d in range(args.depth)] for c in range(args.n)])
    print(json.dumps({"work": time.perf_counter() - start}))
    return 0


TABLE_NAME = "bench-table"


def bucket_name(i: int) -> str:
    return f"bench-bucket-{i:05d}"


def queue_name(i: int) -> str:
    return f"bench-q-{i:05d}"


if __name__ == "__main__":
    sys.exit(main())
