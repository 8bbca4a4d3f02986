"""What a region name says without asking AWS: its partition and its URL suffix. Apart from
deployer/aws.py so that commands making no AWS call (validate) need not import boto3."""

from __future__ import annotations


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def url_suffix_of(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
