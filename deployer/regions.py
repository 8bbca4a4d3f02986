"""What a region name says without asking AWS: its partition and its URL suffix. Apart from
deployer/aws.py so that commands making no AWS call (validate) need not import boto3."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_REGION = "us-east-1"  # a stack with no region anywhere


def override_region(given: str | None, environ: Mapping[str, str]) -> str | None:
    """The region that overrides a spec's own (SPEC §1): --region, then AWS_REGION."""
    return given or environ.get("AWS_REGION") or None


def stack_region(override: str | None, spec_region: str | None, environ: Mapping[str, str]) -> str:
    """A stack's region: the override, else the spec's, else AWS_DEFAULT_REGION (only a fallback,
    as in the AWS CLI), else us-east-1."""
    return override or spec_region or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def url_suffix_of(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
