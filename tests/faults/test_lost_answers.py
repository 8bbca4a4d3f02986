"""Lost answers: a loopback proxy in front of the emulator forwards every request, lets the server do
the work, and throws away a seeded 30% of the answers (a 503). Applying an example through it
succeeds or fails and rolls back cleanly; either way the account then holds exactly one of each
resource the state names and nothing the state does not name, the re-plan is clean, and destroy
leaves nothing — also when the lost answers fall on the rollback or on the destroy.

CI runs the network and fan-out examples with one seed each; `pytest -m slow tests/faults` runs
every example with five seeds.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import EXAMPLES
from tests.faults.inventory import differences, inventory
from tests.faults.proxy import Proxy
from tests.integration.harness import Project

DROP = 0.3
STACKS = {"webapp": "webapp", "fanout": "fanout", "network": "network", "database": "database", "restapi": "restapi"}
IN_CI = [("network", 1), ("fanout", 2)]
SLOW = [pytest.param(example, seed, marks=pytest.mark.slow)
        for example in sorted(STACKS) for seed in range(11, 16)]


@pytest.fixture
def aws_endpoint(aws_endpoint_with_managed_policies):
    """Two examples attach AWS-managed IAM policies: use the server that has them."""
    return aws_endpoint_with_managed_policies


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch):
    """botocore's backoff between retries of dropped answers, a tenth as long (the retries still happen)."""
    monkeypatch.setenv("DEPLOYER_RETRY_DELAY_SCALE", "0.1")


def _project(tmp_path, example: str) -> tuple[Project, str]:
    spec = tmp_path / "spec"
    shutil.copytree(EXAMPLES / example, spec)
    project = Project(tmp_path / "work", stack=STACKS[example])
    project.root.mkdir()
    return project, str(spec)


def _clean_or_rolled_back(project: Project, aws_endpoint: str, before: dict, res) -> None:
    """After an apply through lost answers: the state and the account agree exactly."""
    assert "Traceback" not in res.err, res.err
    after = inventory(aws_endpoint)
    problems = differences(project.state(), before, after)
    assert problems == [], f"{res.out}\n{res.err}\n" + "\n".join(problems)
    if res.code != 0:
        assert "rolled back every completed step" in res.err or "nothing to roll back" in res.err, res.err


def _lost(proxy: Proxy) -> str:
    stats = proxy.stats
    return f"{stats.dropped} of {stats.total} answers lost: {sorted(set(stats.dropped_operations))}"


@pytest.mark.parametrize(("example", "seed"), [*IN_CI, *SLOW])
def test_apply_and_destroy_through_lost_answers(tmp_path, aws_endpoint, lossy_endpoint, example, seed):
    project, spec = _project(tmp_path, example)
    before = inventory(aws_endpoint)
    proxy = lossy_endpoint(drop_fraction=DROP, seed=seed)

    res = project.run("apply", spec, "--auto-approve", "--no-color")
    print(f"\n{example} seed {seed} apply: {_lost(proxy)}")
    _clean_or_rolled_back(project, aws_endpoint, before, res)
    if res.code != 0:  # rolled back: a plain re-apply (answers still being lost) gets there
        res = project.run("apply", spec, "--auto-approve", "--no-color")
        _clean_or_rolled_back(project, aws_endpoint, before, res)
    assert res.code == 0, res.out + res.err

    replan = project.run("plan", spec, "--format", "json")
    assert replan.code == 0, replan.err
    changed = [a for a in replan.json()["actions"] if a["action"] != "noop"]
    assert changed == [], json.dumps(changed, indent=1)

    proxy.reset()
    gone = project.run("destroy", spec, "--auto-approve", "--no-color")
    print(f"{example} seed {seed} destroy: {_lost(proxy)}")
    if gone.code != 0:  # a failed destroy restores what it deleted; the next one finishes
        _clean_or_rolled_back(project, aws_endpoint, before, gone)
        gone = project.run("destroy", spec, "--auto-approve", "--no-color")
    assert gone.code == 0, gone.out + gone.err
    assert differences(project.state(), before, inventory(aws_endpoint)) == []
    assert project.state()["resources"] == {}


def test_lost_answers_during_a_rollback(tmp_path, aws_endpoint, lossy_endpoint, monkeypatch):
    """The apply fails for real at its last step; the rollback runs with answers being lost."""
    from tests.faults.injector import Injector, injected

    project, spec = _project(tmp_path, "webapp")
    before = inventory(aws_endpoint)
    proxy = lossy_endpoint(drop_fraction=DROP, seed=7)
    with injected(Injector(fail_operation="CreateFunction", error_code="InvalidParameterValueException")):
        res = project.run("apply", spec, "--auto-approve", "--no-color")
    print(f"\nrollback: {_lost(proxy)}")
    assert res.code == 1
    assert "CreateFunction" in res.err
    _clean_or_rolled_back(project, aws_endpoint, before, res)
    assert project.state()["resources"] == {}
