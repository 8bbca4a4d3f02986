"""For every mutating call of the web app's transitions, fail exactly that call: afterwards the
account holds what it held before, the state agrees with it, and a plain re-apply succeeds and
re-plans clean. Transitions: empty -> v1, v1 -> v2 (updates and a replacement), v2 -> empty."""

from __future__ import annotations

import shutil
import urllib.request

import pytest
import yaml

from tests.conftest import EXAMPLES
from tests.faults.injector import Injector, injected
from tests.faults.snapshot import account, state_matches_account
from tests.integration.harness import Project


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST")).read()


def webapp_versions(root) -> tuple:
    """v1 is the example as shipped; v2 changes memory and a queue setting and replaces the role."""
    v1 = root / "v1"
    shutil.copytree(EXAMPLES / "webapp", v1)
    v2 = root / "v2"
    shutil.copytree(EXAMPLES / "webapp", v2)
    res = yaml.safe_load((v2 / "resources.yaml").read_text().replace("{{ var.memory }}", "512"))
    res["resources"]["WorkQueue"]["properties"]["VisibilityTimeout"] = 90
    res["resources"]["ApiRole"]["properties"]["RoleName"] = "webapp-api-v2-{{ var.env }}"
    res["resources"]["UsersTable"]["properties"]["Tags"] = [{"Key": "tier", "Value": "data"}]
    (v2 / "resources.yaml").write_text(yaml.safe_dump(res, sort_keys=False).replace("'{{ var.env }}'", "{{ var.env }}"))
    return v1, v2


def run(project: Project, spec, destroy: bool = False):
    if destroy:
        return project.run("destroy", str(spec), "--auto-approve")
    return project.run("apply", str(spec), "--auto-approve")


def start_from(project: Project, endpoint: str, spec) -> None:
    reset(endpoint)
    shutil.rmtree(project.state_dir, ignore_errors=True)
    if spec is not None:
        assert run(project, spec).code == 0


TRANSITIONS = {"empty-to-v1": (None, "v1", False), "v1-to-v2": ("v1", "v2", False), "v2-to-empty": ("v2", "v2", True)}


@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_every_failed_mutation_rolls_back(tmp_path, aws_endpoint, transition):
    v1, v2 = webapp_versions(tmp_path)
    specs = {"v1": v1, "v2": v2, None: None}
    start, target, destroy = TRANSITIONS[transition]
    project = Project(tmp_path / "work", stack="webapp")
    project.root.mkdir()

    start_from(project, aws_endpoint, specs[start])
    with injected(Injector()) as probe:
        assert run(project, specs[target], destroy).code == 0
    total = len(probe.mutations)
    assert total > 3, probe.mutations

    for n in range(1, total + 1):
        start_from(project, aws_endpoint, specs[start])
        before = account(aws_endpoint)
        with injected(Injector(fail_nth_mutation=n, error_code="InternalFailure")) as inj:
            result = run(project, specs[target], destroy)
        where = f"failing mutation #{n} ({inj.failed})"
        assert result.code == 1, f"{where}: {result.out}{result.err}"
        assert "Traceback" not in result.err
        after = account(aws_endpoint)
        assert after == before, f"{where}: the account changed"
        assert state_matches_account(project.state(), after) == [], where
        assert run(project, specs[target], destroy).code == 0, where
        if not destroy:
            res = project.run("plan", str(specs[target]), "--format", "json", "--detailed-exitcode")
            assert res.code == 0, f"{where}: re-plan not clean: {res.out}"
