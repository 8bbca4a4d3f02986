"""A `deployer apply` killed with SIGKILL at a random moment: the next apply completes, nothing is
orphaned or created twice, and a re-plan is clean. 20 seeded trials per web app transition."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.faults.snapshot import account, state_matches_account
from tests.faults.test_rollback_sweep import TRANSITIONS, run, start_from, webapp_versions
from tests.integration.harness import Project

TRIALS = 20  # per transition; the first CI_TRIALS run in CI, the rest with `pytest -m slow`
CI_TRIALS = 5
SEEDS = [pytest.param(seed, marks=[pytest.mark.slow] if seed >= CI_TRIALS else []) for seed in range(TRIALS)]


def extra_unnamed(spec_dir) -> None:
    """Resources with generated names: the hard case for 'nothing created twice'."""
    (spec_dir / "unnamed.yaml").write_text(
        "resources:\n  Scratch:\n    type: AWS::SQS::Queue\n    properties: {VisibilityTimeout: 40}\n"
        "  ScratchBucket:\n    type: AWS::S3::Bucket\n")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_killed_apply_is_recovered(tmp_path, aws_endpoint, transition, seed):
    v1, v2 = webapp_versions(tmp_path)
    extra_unnamed(v1)
    extra_unnamed(v2)
    specs = {"v1": v1, "v2": v2, None: None}
    start, target, destroy = TRANSITIONS[transition]
    project = Project(tmp_path / "work", stack="webapp")
    project.root.mkdir()
    start_from(project, aws_endpoint, specs[start])

    command = "destroy" if destroy else "apply"
    env = dict(os.environ, AWS_ENDPOINT_URL=aws_endpoint)
    proc = subprocess.Popen([sys.executable, "-m", "deployer", command, str(specs[target]), "--auto-approve",
                             "--state-dir", str(project.state_dir)], env=env, cwd=project.root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random(seed).uniform(0.3, 2.0))  # python start-up ~0.5 s, the apply ~0.5-1 s
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    result = run(project, specs[target], destroy)
    assert result.code == 0, f"recovery after SIGKILL failed:\n{result.out}\n{result.err}"
    snap = account(aws_endpoint)
    assert state_matches_account(project.state(), snap) == []
    if destroy:
        assert snap == {}
        return
    assert len([k for k in snap if k.startswith("queue:")]) == 2, sorted(snap)
    assert len([k for k in snap if k.startswith("bucket:")]) == 2, sorted(snap)
    res = project.run("plan", str(specs[target]), "--format", "json", "--detailed-exitcode")
    assert res.code == 0, res.out
