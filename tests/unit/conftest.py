"""Fixtures shared by the handler unit tests: in-process moto, and a record of every call's parameters."""

from __future__ import annotations

import pytest
from moto import mock_aws

from deployer.aws import Aws
from deployer.resources.base import Context
from tests.unit.recording import Calls


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def ctx(monkeypatch, calls):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        aws = Aws()
        aws.hooks.append(("provide-client-params.*.*", calls))
        yield Context(aws, "us-east-1", "teststack", "LogicalId")
