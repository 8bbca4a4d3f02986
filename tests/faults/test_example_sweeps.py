"""The full sweep (slow: `pytest -m slow tests/faults`): for every example, fail each mutating call
of empty -> example and example -> empty in turn; afterwards the account is as before, and a plain
re-run succeeds."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import EXAMPLES
from tests.faults.injector import Injector, injected
from tests.faults.snapshot import account
from tests.faults.test_rollback_sweep import reset
from tests.integration.harness import Project

pytestmark = pytest.mark.slow

EXAMPLE_STACKS = {"fanout": "fanout", "network": "network", "database": "database", "restapi": "restapi"}


@pytest.fixture
def aws_endpoint(aws_endpoint_with_managed_policies):
    """This example attaches AWS-managed IAM policies: use the server that has them."""
    return aws_endpoint_with_managed_policies


@pytest.mark.parametrize("destroy", [False, True], ids=["create", "destroy"])
@pytest.mark.parametrize("example", sorted(EXAMPLE_STACKS))
def test_example_sweep(tmp_path, aws_endpoint, example, destroy):
    spec = tmp_path / "spec"
    shutil.copytree(EXAMPLES / example, spec)
    project = Project(tmp_path / "work", stack=EXAMPLE_STACKS[example])
    project.root.mkdir()
    command = ("destroy",) if destroy else ("apply",)

    def start() -> None:
        reset(aws_endpoint)
        shutil.rmtree(project.state_dir, ignore_errors=True)
        if destroy:
            assert project.run("apply", str(spec), "--auto-approve").code == 0

    start()
    with injected(Injector()) as probe:
        assert project.run(*command, str(spec), "--auto-approve").code == 0
    total = len(probe.mutations)
    print(f"\n{example} {'destroy' if destroy else 'create'}: {total} injection points")
    for n in range(1, total + 1):
        start()
        before = account(aws_endpoint)
        with injected(Injector(fail_nth_mutation=n)) as inj:
            res = project.run(*command, str(spec), "--auto-approve")
        assert res.code == 1, f"#{n} {inj.failed}: {res.out}"
        assert account(aws_endpoint) == before, f"#{n} {inj.failed}: the account changed"
        assert project.run(*command, str(spec), "--auto-approve").code == 0, f"#{n} {inj.failed}"
