"""A state is used only for what it was made for (deployer/state/identity.py): its stack, account
and endpoint; a newer format is refused; a corrupt one gets advice that works; the sandbox keeps
its own states; a saved plan applies only against what it was made for."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from deployer import sandbox
from tests.conftest import boto
from tests.integration.harness import Project

BUCKET = {"type": "AWS::S3::Bucket", "properties": {"BucketName": "identity-first-bucket"}}


def two_stacks_one_key(tmp_path, endpoint) -> tuple[Project, Project]:
    boto("s3", endpoint).create_bucket(Bucket="shared-state")
    backend = {"type": "s3", "bucket": "shared-state", "key": "stacks/app.json"}  # copy-pasted into both
    first, second = Project(tmp_path / "first", stack="first"), Project(tmp_path / "second", stack="second")
    first.write({"Data": BUCKET}, extra={"backend": backend})
    second.write({"Queue": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "identity-second"}}},
                 extra={"backend": backend})
    return first, second


def test_a_second_stack_on_the_same_backend_key_is_refused_and_deletes_nothing(tmp_path, aws_endpoint):
    first, second = two_stacks_one_key(tmp_path, aws_endpoint)
    first.apply()
    for command in (["plan"], ["apply", "--auto-approve"], ["destroy", "--auto-approve"]):
        res = second.run(*command, str(second.spec_dir))
        assert res.code == 1, res.out
        assert "is the state of stack 'first'" in res.err and "runs for stack 'second'" in res.err
    boto("s3", aws_endpoint).head_bucket(Bucket="identity-first-bucket")
    assert "Queue" not in json.loads(boto("s3", aws_endpoint).get_object(
        Bucket="shared-state", Key="stacks/app.json")["Body"].read())["resources"]


def test_a_copied_local_state_is_refused(project, aws_endpoint):
    project.write({"Data": BUCKET})
    project.apply()
    other = Project(project.root / "other", stack="other")
    other.write({"Data": BUCKET})
    (other.state_dir / "state").mkdir(parents=True)
    shutil.copy(project.state_dir / "state" / "itest.json", other.state_dir / "state" / "other.json")
    res = other.run("destroy", str(other.spec_dir), "--auto-approve")
    assert res.code == 1 and "is the state of stack 'itest'" in res.err
    boto("s3", aws_endpoint).head_bucket(Bucket="identity-first-bucket")


@pytest.fixture
def second_server(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("second-server"))
    info = sandbox.start(root)
    yield info["url"]
    sandbox.stop(root)


def test_a_state_made_against_one_endpoint_is_refused_against_another(project, aws_endpoint, second_server):
    project.write({"Data": BUCKET})
    project.apply()
    recorded = project.state()
    assert recorded["endpoint"] == aws_endpoint and recorded["account"] == "123456789012"
    res = project.run("plan", str(project.spec_dir), env={"AWS_ENDPOINT_URL": second_server})
    assert res.code == 1 and res.out == ""
    assert f"endpoint {aws_endpoint}" in res.err and f"endpoint {second_server}" in res.err
    saved = project.root / "plan.json"
    assert project.run("plan", str(project.spec_dir), "-o", str(saved)).code == 0
    res = project.run("apply", str(saved), env={"AWS_ENDPOINT_URL": second_server})
    assert res.code == 1 and "the saved plan was made for" in res.err and "not applied" in res.err


def test_the_sandbox_keeps_its_own_states(tmp_path, aws_endpoint, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = Project(tmp_path, stack="both")
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "both-q"}}})
    state_dir = tmp_path / "states"
    try:
        res = project.run("apply", str(project.spec_dir), "--auto-approve", "--sandbox", "--state-dir", str(state_dir))
        assert res.code == 0, res.err
        assert (state_dir / "sandbox" / "state" / "both.json").exists()
        assert not (state_dir / "state" / "both.json").exists()
        res = project.run("plan", str(project.spec_dir), "--state-dir", str(state_dir), "--format", "json")
        assert res.code == 0, res.err
        assert [a["action"] for a in res.json()["actions"]] == ["create"]  # against AWS_ENDPOINT_URL: nothing yet
        saved = tmp_path / "p.json"
        res = project.run("plan", str(project.spec_dir), "--sandbox", "--state-dir", str(state_dir), "-o", str(saved))
        assert f"apply it with `deployer apply {saved} --sandbox --state-dir {state_dir}`" in res.out
    finally:
        sandbox.stop(str(state_dir))


def write_state(project: Project, doc) -> None:
    path = project.state_dir / "state" / "itest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))


@pytest.mark.parametrize("doc, message", [
    ({"format_version": 2, "stack": "itest", "resources": {}}, "written by a newer deployer (state format 2"),
    ('{"format_version": 1, "stack": "itest", "resour', "the state is corrupt"),
    ({"format_version": 1, "resources": {}}, "the state is corrupt (missing 'stack')"),
    ({"format_version": "1", "stack": "itest"}, "format_version is '1', not a number"),
    ({"format_version": 1, "stack": "itest", "resources": []}, "resources is not a map"),
    ({"format_version": 1, "stack": "itest", "resources": {"Q": {"type": "AWS::SQS::Queue"}}}, "missing 'region'"),
    ("\xff\xfe garbage", "the state is corrupt"),
    ([1, 2], "the document is a list"),
])
def test_a_tampered_state_is_refused_naming_the_file(project, aws_endpoint, doc, message):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "tampered-q"}}})
    write_state(project, doc)
    before = (project.state_dir / "state" / "itest.json").read_bytes()
    res = project.run("apply", str(project.spec_dir), "--auto-approve")
    assert res.code == 1 and "Traceback" not in res.err
    (line,) = res.err.splitlines()
    assert line.startswith(str(project.state_dir / "state" / "itest.json")) and message in line, line
    assert (project.state_dir / "state" / "itest.json").read_bytes() == before  # never rewritten
    assert boto("sqs", aws_endpoint).list_queues().get("QueueUrls", []) == []


def test_the_advice_for_a_corrupt_state_works(project, aws_endpoint):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "rebuilt-q"}}})
    project.apply()
    write_state(project, "{ not json")
    res = project.run("plan", str(project.spec_dir))
    assert res.code == 1 and "`deployer state rebuild PATH`" in res.err
    res = project.run("state", "rebuild", str(project.spec_dir))
    assert res.code == 0, res.err
    assert "the unreadable state was kept as" in res.out and "found Q:" in res.out
    assert list((project.state_dir / "state").glob("itest.json.corrupt-*"))
    project.assert_clean()


def test_a_resource_whose_tags_name_another_stack_is_not_deleted(project, aws_endpoint):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "owned-elsewhere"}}})
    project.apply()
    sqs = boto("sqs", aws_endpoint)
    url = project.physical_id("Q")
    sqs.tag_queue(QueueUrl=url, Tags={"deployer:stack": "payments", "deployer:logical-id": "Jobs"})
    project.write({})
    res = project.run("apply", str(project.spec_dir), "--auto-approve")
    assert res.code == 1 and "ownership tags name stack 'payments' as Jobs" in res.err
    assert sqs.get_queue_url(QueueName="owned-elsewhere")["QueueUrl"] == url


def test_state_documents_record_what_they_were_made_for(project, aws_endpoint):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "recorded-q"}}})
    project.apply()
    doc = project.state()
    assert {k: doc.get(k) for k in ("stack", "account", "endpoint")} == {
        "stack": "itest", "account": "123456789012", "endpoint": aws_endpoint}
    assert yaml.safe_load(json.dumps(doc))["format_version"] == 1
