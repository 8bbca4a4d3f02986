"""Benchmarks (not in the default run: `pytest -m perf -s tests/perf`): the API calls a plan makes,
as a ratio to the minimum the spec requires, and plan time per resource.

Minimum per bucket: one existence check, one read per property group the spec sets, one tags read
(ownership). A bucket whose spec sets no lifecycle must cost no lifecycle call."""

from __future__ import annotations

import time

import pytest

from deployer.runtime import Options
from deployer.workflow import Session, make_plan

pytestmark = pytest.mark.perf

BUCKETS = 50


def _plan_calls(project) -> tuple[dict[str, int], float]:
    session = Session.open(Options(path=str(project.spec_dir), state_dir=str(project.state_dir)))
    start = time.perf_counter()
    make_plan(session)
    return dict(session.aws.log.counts()), time.perf_counter() - start


def test_bucket_plan_calls_vs_minimum(project):
    project.write({f"B{i}": {"type": "AWS::S3::Bucket", "properties": {
        "BucketName": f"bench-bucket-{i}", "VersioningConfiguration": {"Status": "Enabled"}}} for i in range(BUCKETS)})
    project.apply()
    counts, elapsed = _plan_calls(project)
    minimum = BUCKETS * 3  # HeadBucket + GetBucketVersioning + GetBucketTagging
    total = sum(counts.values())
    ratio = total / minimum
    print(f"\nplan of {BUCKETS} buckets: {total} calls, minimum {minimum}, ratio {ratio:.2f}; "
          f"{elapsed * 1000 / BUCKETS:.1f} ms per resource; {counts}")
    assert "s3.GetBucketLifecycleConfiguration" not in counts
    assert ratio <= 1.10


def test_ec2_plan_calls_vs_minimum(project):
    resources = {"Vpc": {"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.9.0.0/16"}}}
    for i in range(BUCKETS):
        resources[f"S{i}"] = {"type": "AWS::EC2::Subnet", "properties": {
            "VpcId": "${Vpc}", "CidrBlock": f"10.9.{i}.0/24", "AvailabilityZone": "us-east-1a"}}
    project.write(resources)
    project.apply()
    counts, elapsed = _plan_calls(project)
    subnet_calls = counts.get("ec2.DescribeSubnets", 0)
    print(f"\nplan of 1 VPC + {BUCKETS} subnets: {sum(counts.values())} calls; DescribeSubnets {subnet_calls} "
          f"(minimum 1, one per subnet would be {BUCKETS}: ratio {subnet_calls / 1:.1f}); "
          f"{elapsed * 1000 / (BUCKETS + 1):.1f} ms per resource; {counts}")
    assert subnet_calls <= 1
