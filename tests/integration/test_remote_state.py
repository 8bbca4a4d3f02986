"""The s3 backend under concurrency: two applies at once, a lock that names its holder, and a lock
released on every exit path including Ctrl-C. Real `deployer` processes against the moto server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import boto, make_state_backend

QUEUES = 120


def write_stack(root, endpoint) -> str:
    make_state_backend(endpoint)
    doc = {"stack": "remote", "region": "us-east-1",
           "backend": {"type": "s3", "bucket": "deployer-state", "key": "stacks/remote.json",
                       "lock_table": "deployer-locks"},
           "resources": {f"Q{i}": {"type": "AWS::SQS::Queue", "properties": {"QueueName": f"remote-{i}"}}
                         for i in range(QUEUES)}}
    path = root / "stack.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def start_apply(path, cwd, endpoint):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint)
    return subprocess.Popen([sys.executable, "-m", "deployer", "apply", path, "--auto-approve", "--parallelism", "1"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lock_items(endpoint):
    return boto("dynamodb", endpoint).scan(TableName="deployer-locks")["Items"]


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def state_doc(endpoint):
    body = boto("s3", endpoint).get_object(Bucket="deployer-state", Key="stacks/remote.json")["Body"].read()
    return json.loads(body)


def test_two_applies_at_once_one_waits_out(tmp_path, aws_endpoint):
    path = write_stack(tmp_path, aws_endpoint)
    first = start_apply(path, tmp_path, aws_endpoint)
    assert wait_for(lambda: lock_items(aws_endpoint)), "the first apply never took the lock"
    second = start_apply(path, tmp_path, aws_endpoint)
    out2, err2 = second.communicate(timeout=120)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 1
    assert "locked by" in err2 and "`apply`" in err2 and "lock id" in err2
    assert lock_items(aws_endpoint) == []
    assert len(state_doc(aws_endpoint)["resources"]) == QUEUES
    assert len(boto("sqs", aws_endpoint).list_queues(MaxResults=1000).get("QueueUrls", [])) == QUEUES


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_rolls_back_and_releases_the_lock(tmp_path, aws_endpoint, signum):
    """Ctrl-C, a CI runner's SIGTERM and a closed terminal's SIGHUP all stop the apply gracefully."""
    path = write_stack(tmp_path, aws_endpoint)
    proc = start_apply(path, tmp_path, aws_endpoint)
    sqs = boto("sqs", aws_endpoint)
    assert wait_for(lambda: len(sqs.list_queues().get("QueueUrls", [])) >= 3)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, out + err
    assert "apply interrupted: rolled back every completed step" in err
    assert "Traceback" not in err
    assert lock_items(aws_endpoint) == []
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert state_doc(aws_endpoint)["resources"] == {}
