"""Fixtures shared by the handler unit tests: in-process moto, and a record of every call's parameters."""

from __future__ import annotations

import pytest
from moto import mock_aws

from deployer.aws import Aws
from deployer.resources.base import Context
from tests.unit.recording import Calls


@pytest.fixture(autouse=True)
def pauses(monkeypatch) -> list[float]:
    """Every pause deployer.waiting takes, recorded instead of slept, so retries and waits are instant."""
    from deployer import waiting

    taken: list[float] = []
    monkeypatch.setattr(waiting, "SLEEP", taken.append)
    return taken


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def aws(monkeypatch, calls):
    """deployer's AWS access against in-process moto, recording every call's parameters in `calls`."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        aws = Aws()
        aws.hooks.append(("provide-client-params.*.*", calls))
        yield aws


@pytest.fixture
def ctx(aws):
    return Context(aws, "us-east-1", "teststack", "LogicalId")
