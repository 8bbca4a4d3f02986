"""The GitOps workflow's shell steps, exactly as docs/gitops/deployer.yml has them, against the moto
server: PR plan -> merge applies the saved plan -> nightly drift (clean, then after a console edit)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import EXAMPLES, ROOT, boto

WORKFLOW = ROOT / "docs" / "gitops" / "deployer.yml"


def steps(job: str) -> list[str]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    runs = [s["run"] for s in doc["jobs"][job]["steps"] if "run" in s]
    return [r for r in runs if not r.startswith(("pip install", "gh "))]


def run_job(job: str, workdir: Path, endpoint: str) -> list[subprocess.CompletedProcess]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, **{k: str(v) for k, v in doc["env"].items()})
    deployer_dir = Path(sys.executable).parent  # the environment's bin/, where pip put `deployer`
    env["PATH"] = f"{deployer_dir}{os.pathsep}{env['PATH']}"
    results = []
    for command in steps(job):
        res = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=workdir, env=env,
                             capture_output=True, text=True, timeout=300)
        results.append(res)
        if res.returncode != 0:
            break
    return results


def test_workflow_commands_against_the_sandbox(tmp_path, aws_endpoint):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "webapp", repo / "stacks" / "webapp")

    plan = run_job("plan", repo, aws_endpoint)
    assert [r.returncode for r in plan] == [0, 0], [r.stderr for r in plan]
    comment = (repo / "plan.md").read_text()
    assert "5 to create" in comment and len(comment) < 60_000

    apply = run_job("apply", repo, aws_endpoint)
    assert [r.returncode for r in apply] == [0], apply[-1].stderr
    assert "Apply complete: 5 created" in apply[0].stdout

    drift = run_job("drift", repo, aws_endpoint)
    assert [r.returncode for r in drift] == [0], drift[-1].stderr
    assert "No drift" in (repo / "drift.md").read_text()

    sqs = boto("sqs", aws_endpoint)
    url = sqs.get_queue_url(QueueName="webapp-work-dev")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    drift = run_job("drift", repo, aws_endpoint)
    assert [r.returncode for r in drift] == [2]
    report = (repo / "drift.md").read_text()
    assert "WorkQueue" in report and "VisibilityTimeout" in report
