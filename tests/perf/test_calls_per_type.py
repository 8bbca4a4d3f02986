"""The AWS requests each step makes, per resource type, measured on the lifecycle cases against the
moto server (not in the default run: `pytest -m perf -s tests/perf/test_calls_per_type.py`).

Per case: create (the apply, its plan included), a no-op plan, the first update's apply, destroy —
each counted from the `api: service.Operation xN` lines `--debug` prints. The case's support
resources run alone first, in a fresh account, and their counts are subtracted, so a row is the
case's own resource. With DEPLOYER_WRITE_DOCS=1 the table goes to docs/performance-calls.md."""

from __future__ import annotations

import copy
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from deployer.aws import is_mutating
from tests.conftest import ROOT, _clean_account, boto
from tests.integration.cases import Case, all_cases
from tests.integration.harness import Project, Result
from tests.integration.test_lifecycle import R

pytestmark = pytest.mark.perf

DOC = ROOT / "docs" / "performance-calls.md"
API_LINE = re.compile(r"^api: (\S+) x(\d+)$", re.MULTILINE)
# once per command (the account id, cached), whatever the resources: no type's cost
PER_COMMAND = {"sts.GetCallerIdentity"}
CASES = all_cases()


@dataclass
class Steps:
    create: Counter[str]
    plan: Counter[str]
    update: Counter[str] | None
    delete: Counter[str]

    def minus(self, other: Steps) -> Steps:
        """Per operation, negatives kept: a negative says the subtraction is not exact for this case."""
        def sub(a: Counter[str], b: Counter[str]) -> Counter[str]:
            d = Counter(a)
            d.subtract(b)
            return Counter({k: v for k, v in d.items() if v})
        # support resources sit unchanged through the case's update: their share of it is a no-op plan
        return Steps(sub(self.create, other.create), sub(self.plan, other.plan),
                     None if self.update is None else sub(self.update, other.plan), sub(self.delete, other.delete))


ROWS: dict[str, tuple[Case, Steps]] = {}


def _calls(res: Result, what: str) -> Counter[str]:
    assert res.code == 0, f"{what} failed:\n{res.out}\n{res.err}"
    return Counter({m[1]: int(m[2]) for m in API_LINE.finditer(res.err) if m[1] not in PER_COMMAND})


def _spec(case: Case, props: dict[str, Any]) -> dict[str, Any]:
    """The spec test_lifecycle.py's converge() writes (it has no helper of its own to import)."""
    return {**case.support, R: {"type": case.type, "properties": props, "depends_on": case.depends_on,
                                "lifecycle": {"allow_replace": True, "force_destroy": True}}}


def _steps(project: Project, first: dict[str, Any], update: dict[str, Any] | None,
           fresh: Callable[[], None]) -> Steps:
    """Destroy comes before the update, then the create is made again (uncounted) in a fresh account:
    an update may block deletion (termination protection) or be irreversible (S3 Object Lock), and
    a deleted name may stay taken (a secret pending deletion)."""
    spec = str(project.spec_dir)
    project.write(first)
    create = _calls(project.apply("--debug"), "create")
    res = project.run("plan", spec, "--format", "json", "--debug")
    plan = _calls(res, "no-op plan")
    assert {a["action"] for a in res.json()["actions"]} <= {"noop"}, res.out
    delete = _calls(project.run("destroy", spec, "--auto-approve", "--debug"), "destroy")
    updated = None
    if update is not None:
        fresh()
        project.apply()
        project.write(update)
        updated = _calls(project.apply("--debug"), "update")
    return Steps(create, plan, updated, delete)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_calls(project, aws_endpoint, monkeypatch, tmp_path, case: Case):
    """One row; the sanity checks hold whether or not the table is written."""
    client = lambda service: boto(service, aws_endpoint)  # noqa: E731

    def fresh() -> None:
        _clean_account(aws_endpoint, monkeypatch)
        if case.setup:
            case.setup(client)

    support = Steps(Counter(), Counter(), None, Counter())
    if case.support:
        fresh()
        support = _steps(Project(tmp_path / "support"), case.support, None, fresh)
    fresh()
    props = copy.deepcopy(case.props)
    update = {**props, **copy.deepcopy(case.updates[0])} if case.updates else None
    full = _steps(project, _spec(case, props), _spec(case, update) if update is not None else None, fresh)
    own = full.minus(support)
    ROWS[case.id] = (case, own)
    print(f"\n{case.id}: create {dict(own.create)}\n  plan {dict(own.plan)}\n  update {dict(own.update or {})}\n"
          f"  delete {dict(own.delete)}")
    assert sum(full.create.values()) - sum(support.create.values()) > 0, "the create made no request of its own"
    assert not [op for op in full.plan if is_mutating(op.split(".")[1])], f"a no-op plan mutated: {full.plan}"


def _cell(calls: Counter[str] | None) -> str:
    if calls is None:
        return "–"
    total = sum(calls.values())
    return f"{total}*" if any(v < 0 for v in calls.values()) else str(total)


def _ops(calls: Counter[str]) -> str:
    return ", ".join(op.split(".")[1] + (f" ×{n}" if n > 1 else "") for op, n in sorted(calls.items()) if n > 0)


def test_write_docs():
    """Last in the file, so every case has run: the table is written only from a complete run."""
    if os.environ.get("DEPLOYER_WRITE_DOCS") != "1":
        pytest.skip("set DEPLOYER_WRITE_DOCS=1 to write docs/performance-calls.md")
    missing = [c.id for c in CASES if c.id not in ROWS]
    assert not missing, f"run the whole file to write the table; not measured: {missing}"
    lines = [
        "# API requests per step, per resource type",
        "",
        "This file is generated by `tests/perf/test_calls_per_type.py`, which runs every lifecycle case "
        "(tests/integration/cases) against the moto server and counts the AWS API requests of each step "
        "from `--debug`. Regenerate it with `DEPLOYER_WRITE_DOCS=1 pytest -m perf tests/perf/test_calls_per_type.py`.",
        "",
        "Each row is one case's own resource: its support resources ran alone first and their requests are "
        "subtracted. *Create* is the whole `apply`, its plan included; *no-op plan* is a `plan` right after; "
        "*update* is the apply of the case's first update (– when it has none); *delete* is `destroy`. "
        "sts GetCallerIdentity, made once per "
        "command whatever the resources, is left out. A no-op plan of 0 means the resource is read in the same "
        "batched call as its support resources of its type. A count marked * is inexact: the support "
        "resources made more requests alone than beside the resource.",
        "",
        "| Type | Case | Create | Create operations | No-op plan | Update | Update changes | Delete |",
        "| --- | --- | ---: | --- | ---: | ---: | --- | ---: |",
    ]
    for case, own in sorted(ROWS.values(), key=lambda r: (r[0].type, r[0].id)):
        lines.append(f"| `{case.type}` | {case.id} | {_cell(own.create)} | {_ops(own.create)} | {_cell(own.plan)} "
                     f"| {_cell(own.update)} | {', '.join(sorted(case.updates[0])) if case.updates else '–'} | {_cell(own.delete)} |")
    DOC.write_text("\n".join(lines) + "\n")
