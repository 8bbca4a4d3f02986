"""A `deployer apply` stopped at the worst instants, chosen on the wire (tests/faults/proxy.py): just
before a create reaches the server, and just after the server made the resource but before the
client heard of it — for resources with a name and without one (a KMS key, a VPC, a queue and a
bucket whose names deployer generates). SIGKILL: the next apply adopts exactly the one made and
nothing is orphaned or duplicated. SIGTERM and SIGINT: the apply rolls back and exits 128 + the
signal, and the account is as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from tests.faults.inventory import differences, inventory
from tests.faults.proxy import Proxy, RequestInfo
from tests.integration.harness import Project

# (spec of the resource, the wire label of its create call); each gets a dependent queue, so the
# apply has more to do after the create
CREATES = {
    "kms-key": ({"type": "AWS::KMS::Key", "properties": {"Description": "kill point"}}, "CreateKey"),
    "vpc": ({"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.61.0.0/16"}}, "CreateVpc"),
    "unnamed-queue": ({"type": "AWS::SQS::Queue", "properties": {"DelaySeconds": 3}}, "CreateQueue"),
    "named-queue": ({"type": "AWS::SQS::Queue", "properties": {"QueueName": "kill-point-q"}}, "CreateQueue"),
    "unnamed-bucket": ({"type": "AWS::S3::Bucket", "properties": {}}, "S3 PUT /"),
    "unnamed-table": ({"type": "AWS::DynamoDB::Table", "properties": {
        "BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}, "CreateTable"),
    "unnamed-role": ({"type": "AWS::IAM::Role", "properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}}}, "CreateRole"),
}
DEPENDENT = {"type": "AWS::SQS::Queue", "properties": {"QueueName": "kill-point-after", "Tags": [
    {"Key": "made-after", "Value": "${Target}"}]}}


def is_create(info: RequestInfo, label: str) -> bool:
    if label.startswith("S3 PUT /"):  # CreateBucket: a PUT of the bucket itself, no sub-resource
        return info.operation.startswith("S3 PUT /") and info.operation.count("/") == 1 and "?" not in info.operation
    return info.operation == label


def apply_stopped_at(project: Project, proxy: Proxy, label: str, when: str, signum: int) -> subprocess.CompletedProcess:
    """Run apply through the proxy, which sends `signum` to it at the first create call matching
    `label`, `when` = "request" (before the server sees it) or "answer" (after the server made it)."""
    proc_box: list[subprocess.Popen] = []
    fired = threading.Event()

    def hit(info: RequestInfo) -> None:
        if not fired.is_set() and is_create(info, label) and proc_box:
            fired.set()
            proc_box[0].send_signal(signum)
            if signum == signal.SIGKILL:
                proc_box[0].wait()

    setattr(proxy, "on_request" if when == "request" else "on_answer", hit)
    env = dict(os.environ, AWS_ENDPOINT_URL=proxy.url)
    proc = subprocess.Popen([sys.executable, "-m", "deployer", "apply", str(project.spec_dir), "--auto-approve",
                             "--state-dir", str(project.state_dir)], env=env, cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc_box.append(proc)
    out, err = proc.communicate(timeout=120)
    proxy.on_request = proxy.on_answer = None
    assert fired.is_set(), f"the create call {label} was never seen:\n{out}\n{err}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def proxy(aws_endpoint, monkeypatch):
    """Every command of the test reaches the emulator through one proxy (the state records its endpoint)."""
    with Proxy(aws_endpoint) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.url)
        yield running


@pytest.mark.parametrize("when", ["request", "answer"])
@pytest.mark.parametrize("kind", list(CREATES))
def test_sigkill_at_a_create_is_recovered_with_exactly_one(tmp_path, aws_endpoint, proxy, kind, when):
    spec, label = CREATES[kind]
    project = Project(tmp_path)
    project.write({"Target": spec, "After": DEPENDENT})
    before = inventory(aws_endpoint)
    killed = apply_stopped_at(project, proxy, label, when, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    res = project.apply()
    assert "Traceback" not in res.err
    after = inventory(aws_endpoint)
    assert differences(project.state(), before, after) == []
    made = after[spec["type"]] - before.get(spec["type"], set()) - {"kill-point-after"}
    assert len(made) == 1, made
    project.assert_clean()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
@pytest.mark.parametrize("kind", ["kms-key", "vpc", "unnamed-queue"])
def test_a_graceful_signal_at_a_create_rolls_it_back(tmp_path, aws_endpoint, proxy, kind, signum):
    spec, label = CREATES[kind]
    project = Project(tmp_path)
    project.write({"Target": spec, "After": DEPENDENT})
    before = inventory(aws_endpoint)
    stopped = apply_stopped_at(project, proxy, label, "answer", signum)
    assert stopped.returncode == 128 + signum, stopped.stdout + stopped.stderr
    assert "Traceback" not in stopped.stderr and "apply interrupted" in stopped.stderr
    after = inventory(aws_endpoint)
    assert differences(project.state(), before, after) == []
    assert project.state()["resources"] == {}
    assert not (project.state_dir / "state" / "itest.lock").exists()
