"""Shared fixtures: a moto server over real HTTP (one per test session), reset between tests,
and a runner for the real `deployer` CLI."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch, tmp_path):
    """No test ever reaches real AWS: fake credentials, a fixed region, no profile."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    for key in [k for k in os.environ if k.startswith("DEPLOYER_VAR_")]:
        monkeypatch.delenv(key)
    from deployer import secrets

    secrets.clear()


@pytest.fixture(scope="session")
def moto_server():
    """A moto server in a child process on 127.0.0.1 (the same HTTP path boto3 takes to AWS)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # each test resets the emulator; loading AWS's ~1,000 managed IAM policies and the default AMIs
    # after every reset costs seconds, and no test needs them
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    os.environ.setdefault("DEPLOYER_SANDBOX_IDLE", "900")  # a server orphaned by a killed run goes away
    from deployer import sandbox

    state_dir = Path(os.environ.get("PYTEST_XDIST_TESTRUNUID", "local"))
    base = ROOT / ".pytest-sandbox" / f"{state_dir}-{os.getpid()}"
    info = sandbox.start(str(base))
    yield info["url"]
    sandbox.stop(str(base))


@pytest.fixture(scope="session")
def moto_server_with_managed_policies(moto_server):
    """A second server whose accounts hold AWS's managed IAM policies, for the examples that attach them."""
    from deployer import sandbox

    base = Path(str(ROOT / ".pytest-sandbox" / f"managed-{os.getpid()}"))
    info = sandbox.start(str(base), extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
    yield info["url"]
    sandbox.stop(str(base))


def _clean_account(url: str, monkeypatch) -> str:
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST")).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    return url


@pytest.fixture
def aws_endpoint(moto_server, monkeypatch):
    """A clean account for each test: the server is reset, AWS_ENDPOINT_URL points at it."""
    return _clean_account(moto_server, monkeypatch)


@pytest.fixture
def aws_endpoint_with_managed_policies(moto_server_with_managed_policies, monkeypatch):
    return _clean_account(moto_server_with_managed_policies, monkeypatch)


class Cli:
    """Runs `deployer` as a user would: a real subprocess, in a working directory of the test's own."""

    def __init__(self, cwd: Path):
        self.cwd = cwd

    def __call__(self, *args: str, env: dict | None = None, timeout: float = 120, input: str | None = None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "deployer", *args], cwd=self.cwd, env=full_env,
                              capture_output=True, text=True, timeout=timeout, input=input)

    def json(self, *args: str, **kw):
        res = self(*args, **kw)
        assert res.returncode in (0, 2), res.stderr
        return json.loads(res.stdout)


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


def boto(service: str, endpoint: str, region: str = "us-east-1"):
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def make_state_backend(endpoint: str, bucket: str = "deployer-state", table: str = "deployer-locks") -> None:
    """The s3 backend's bucket (versioned, as docs/state.md asks) and DynamoDB lock table."""
    s3, ddb = boto("s3", endpoint), boto("dynamodb", endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
