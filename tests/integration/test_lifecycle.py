"""Every resource type through its whole life against a moto server over HTTP, via the CLI:
create; re-plan clean; each updatable property group in place; out-of-band drift detected and
repaired; removed properties reset; a create-only change replaces; delete leaves nothing."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import boto
from tests.integration.cases import Case, all_cases

R = "Subject"


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_lifecycle(project, aws_endpoint, case: Case):
    client = lambda service: boto(service, aws_endpoint)  # noqa: E731
    props = copy.deepcopy(case.props)
    if case.setup:
        case.setup(client)

    def converge(expected: str, step: str) -> None:
        # allow_replace: the replacement below is the point of the case (its refusal is tested elsewhere)
        project.write({**case.support, R: {"type": case.type, "properties": props, "depends_on": case.depends_on,
                                           "lifecycle": {"allow_replace": True, "force_destroy": True}}})
        got = project.actions().get(R)
        assert got == expected, f"{step}: expected {expected}, plan says {got}"
        project.apply()
        project.assert_clean()

    converge("create", "create")
    pid = project.physical_id(R)
    assert case.exists(client, pid)

    for i, change in enumerate(case.updates):
        props.update(copy.deepcopy(change))
        converge("update", f"update #{i} {sorted(change)}")
        assert project.physical_id(R) == pid, "an in-place update must keep the physical id"

    case.drift(client, pid)
    drift = project.run("drift", str(project.spec_dir), "--detailed-exitcode", "--format", "json")
    assert drift.code == 2, drift.out + drift.err
    assert R in {a["name"] for a in drift.json()["actions"] if a["action"] != "noop"}
    assert project.actions()[R] != "noop"
    project.apply()
    project.assert_clean()

    for key in case.remove:
        for name in (key,) if isinstance(key, str) else key:  # a tuple: properties removed together
            props.pop(name, None)
        converge("update", f"remove {key}")

    if case.replace:
        props.update(copy.deepcopy(case.replace))
        converge("replace", f"replace {sorted(case.replace)}")
        new_pid = project.physical_id(R)
        if new_pid != pid:
            assert not case.exists(client, pid), "the replaced resource must be deleted"
        pid = new_pid

    project.destroy()
    assert not case.exists(client, pid)
    assert project.state()["resources"] == {}
