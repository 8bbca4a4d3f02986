"""Saved plans, through the CLI against the moto server: every example's plan round-trips through
Plan.from_json exactly; a saved plan is applied as saved, re-reading only the resources it changes
(a test counts the reads); a plan made stale by a change outside it is refused."""

from __future__ import annotations

import json
import shutil

import pytest

from deployer.plan import Plan
from tests.conftest import EXAMPLES, boto

EXAMPLE_STACKS = {"webapp": "webapp", "fanout": "fanout", "network": "network", "database": "database",
                  "restapi": "restapi"}


@pytest.fixture
def aws_endpoint(aws_endpoint_with_managed_policies):
    """Two examples attach AWS-managed IAM policies: use the server that has them."""
    return aws_endpoint_with_managed_policies


@pytest.mark.parametrize("example", sorted(EXAMPLE_STACKS))
def test_every_examples_plan_round_trips_exactly(project, example, tmp_path):
    saved = tmp_path / "plan.json"
    res = project.run("plan", str(EXAMPLES / example), "-o", str(saved), "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(saved.read_text())
    assert Plan.from_json(doc).to_json() == doc
    assert json.loads(res.out) == doc


def _reads(err: str) -> dict[str, int]:
    """The read calls `--debug` counted (lines `api: service.Operation xN`)."""
    counts = {}
    for line in err.splitlines():
        if line.startswith("api: "):
            op, n = line[5:].rsplit(" x", 1)
            if op.split(".", 1)[1].startswith(("Get", "Describe", "List", "Head")):
                counts[op] = int(n)
    return counts


def test_a_saved_plan_is_applied_without_reading_what_it_does_not_change(project, aws_endpoint, tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(EXAMPLES / "webapp", spec)
    project.stack = "webapp"
    assert project.run("apply", str(spec), "--auto-approve").code == 0
    text = (spec / "resources.yaml").read_text()
    (spec / "resources.yaml").write_text(text.replace("VisibilityTimeout: 60", "VisibilityTimeout: 90"))
    saved = tmp_path / "plan.json"
    res = project.run("plan", str(spec), "-o", str(saved))
    assert res.code == 0, res.err
    assert [a["name"] for a in json.loads(saved.read_text())["actions"] if a["action"] != "noop"] == ["WorkQueue"]

    applied = project.run("apply", str(saved), "--debug")
    assert applied.code == 0, applied.out + applied.err
    reads = _reads(applied.err)
    assert set(reads) <= {"sqs.GetQueueAttributes", "sqs.ListQueueTags", "sts.GetCallerIdentity"}, reads
    assert reads["sqs.GetQueueAttributes"] == 1  # the fingerprint check of the one resource it changes
    url = project.physical_id("WorkQueue")
    attrs = boto("sqs", aws_endpoint).get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"]["VisibilityTimeout"] == "90"
    project.assert_clean()


def test_a_saved_plan_is_refused_when_what_it_changes_changed_outside_it(project, aws_endpoint, tmp_path):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "stale-q", "DelaySeconds": 1}}})
    project.apply()
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "stale-q", "DelaySeconds": 2}}})
    saved = tmp_path / "plan.json"
    assert project.run("plan", str(project.spec_dir), "-o", str(saved)).code == 0
    boto("sqs", aws_endpoint).set_queue_attributes(QueueUrl=project.physical_id("Q"),
                                                   Attributes={"VisibilityTimeout": "99"})
    res = project.run("apply", str(saved))
    assert res.code == 1
    assert "the saved plan is stale" in res.err and "Q changed outside this plan" in res.err


def test_a_malformed_saved_plan_is_a_clear_error(project, tmp_path):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {}}})
    saved = tmp_path / "plan.json"
    assert project.run("plan", str(project.spec_dir), "-o", str(saved)).code == 0
    doc = json.loads(saved.read_text())
    doc["actions"][0]["apply"]["op"] = "explode"
    saved.write_text(json.dumps(doc))
    res = project.run("apply", str(saved))
    assert res.code == 1 and "the saved plan is malformed" in res.err and "Traceback" not in res.err
