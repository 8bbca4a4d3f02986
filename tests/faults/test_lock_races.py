"""Ten applies started at once over a lock a killed apply left behind, local and s3 backends: at most
one holds the lock at any time (the rest exit 1 naming the holder), the state is intact, every
resource exists exactly once, and no lock is left. 20 trials per backend; the first CI_TRIALS run
in the default suite, the rest with `pytest -m slow`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import boto, make_state_backend
from tests.faults.inventory import differences, inventory

TRIALS, CI_TRIALS = 20, 1
CONTENDERS = 10
QUEUES = 6
TRIAL_PARAMS = [pytest.param(t, marks=[pytest.mark.slow] if t >= CI_TRIALS else []) for t in range(TRIALS)]


def stack(root, backend: dict | None) -> str:
    doc = {"stack": "race", "region": "us-east-1",
           "resources": {f"Q{i}": {"type": "AWS::SQS::Queue", "properties": {"QueueName": f"race-{i}"}}
                         for i in range(QUEUES)}}
    if backend:
        doc["backend"] = backend
    path = root / "stack.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def s3_backend(endpoint: str) -> dict:
    make_state_backend(endpoint, "race-state", "race-locks")
    return {"type": "s3", "bucket": "race-state", "key": "race.json", "lock_table": "race-locks"}


def deployer(path: str, root, endpoint: str, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint)
    return subprocess.Popen([sys.executable, "-m", "deployer", "apply", path, "--auto-approve",
                             "--state-dir", str(root / ".deployer"), *extra], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def state_of(root, endpoint: str, remote: bool) -> dict:
    import json

    if remote:
        return json.loads(boto("s3", endpoint).get_object(Bucket="race-state", Key="race.json")["Body"].read())
    return json.loads((root / ".deployer" / "state" / "race.json").read_text())


@pytest.mark.parametrize("trial", TRIAL_PARAMS)
@pytest.mark.parametrize("remote", [False, True], ids=["local", "s3"])
def test_ten_applies_over_a_killed_holders_lock(tmp_path, aws_endpoint, remote, trial):
    path = stack(tmp_path, s3_backend(aws_endpoint) if remote else None)
    before = inventory(aws_endpoint)
    first = deployer(path, tmp_path, aws_endpoint, "--parallelism", "1")
    sqs = boto("sqs", aws_endpoint)
    deadline = time.monotonic() + 60
    while len(sqs.list_queues().get("QueueUrls", [])) < 2 + trial % 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()

    contenders = [deployer(path, tmp_path, aws_endpoint) for _ in range(CONTENDERS)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in contenders]
    for code, out, err in results:
        assert code in (0, 1), (code, out, err)
        assert "Traceback" not in err
        if code == 1:
            assert "is locked by" in err, err
    assert any(code == 0 for code, _, _ in results)
    state = state_of(tmp_path, aws_endpoint, remote)
    assert differences(state, before, inventory(aws_endpoint)) == []
    assert sorted(state["resources"]) == sorted(f"Q{i}" for i in range(QUEUES))
    if remote:
        assert boto("dynamodb", aws_endpoint).scan(TableName="race-locks")["Items"] == []
    else:
        assert not (tmp_path / ".deployer" / "state" / "race.lock").exists()
