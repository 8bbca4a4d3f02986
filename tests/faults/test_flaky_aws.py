"""Throttling, server errors and lost answers: applies still succeed and create nothing twice."""

from __future__ import annotations

import shutil

import pytest
from botocore.retries import standard

from tests.conftest import EXAMPLES
from tests.faults.injector import Injector, injected
from tests.faults.snapshot import account, state_matches_account
from tests.integration.harness import Project


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch):
    """botocore's backoff sleeps are real; the retries themselves are what is under test."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def webapp(tmp_path) -> Project:
    project = Project(tmp_path / "w", stack="webapp")
    shutil.copytree(EXAMPLES / "webapp", project.spec_dir, dirs_exist_ok=True)
    return project


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thirty_percent_throttled_and_failing_calls(tmp_path, aws_endpoint, seed):
    project = webapp(tmp_path)
    with injected(Injector(throttle_fraction=0.2, server_error_fraction=0.1, seed=seed)) as inj:
        project.apply()
        project.assert_clean()
        project.destroy()
    print(f"\nseed {seed}: {inj.throttled} throttled and {inj.server_errors} failed calls, all retried")
    assert inj.throttled + inj.server_errors > 5
    assert account(aws_endpoint) == {}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_lost_answers_create_nothing_twice(tmp_path, aws_endpoint, seed):
    project = webapp(tmp_path)
    project.spec_dir.joinpath("extra.yaml").write_text(
        "resources:\n  Unnamed:\n    type: AWS::SQS::Queue\n    properties: {VisibilityTimeout: 40}\n"
        "  UnnamedBucket:\n    type: AWS::S3::Bucket\n")
    with injected(Injector(lose_answer_fraction=0.3, seed=seed)) as inj:
        res = project.run("apply", str(project.spec_dir), "--auto-approve")
    print(f"\nseed {seed}: {inj.lost} answers lost, apply {'succeeded' if res.code == 0 else 'rolled back'}")
    assert inj.lost > 0
    snap = account(aws_endpoint)
    if res.code != 0:  # an answer lost where no retry can tell: rolled back, nothing left behind
        assert snap == {}, res.err
        return
    assert state_matches_account(project.state(), snap) == []
    assert len([k for k in snap if k.startswith("queue:")]) == 2
    assert len([k for k in snap if k.startswith("bucket:")]) == 2
    project.assert_clean()
