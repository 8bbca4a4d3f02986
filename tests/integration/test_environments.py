"""Environments (SPEC §9) through the CLI against the moto server: one spec, a state, a lock and
resources per environment; per-environment variables, region, tags and backend; `--env` required
where the spec declares environments, refused where it does not; validate checks every one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deployer.state.locks import FileLock
from tests.conftest import boto, make_state_backend
from tests.integration.harness import Project

ENVIRONMENTS = {
    "dev": {"variables": {"delay": 1}},
    "prod": {"region": "eu-west-1", "variables": {"delay": 5, "tier": "gold"}, "tags": {"cost-centre": "prod-7"}},
}
SPEC = {
    "stack": "notes",
    "region": "us-east-1",
    "tags": {"team": "core"},
    "variables": {"delay": {"type": "integer", "default": 0}, "tier": {"type": "string", "default": "basic"}},
    "environments": ENVIRONMENTS,
    "resources": {
        "Queue": {"type": "AWS::SQS::Queue", "properties": {
            "DelaySeconds": "${var.delay}",
            "Tags": [{"Key": "env", "Value": "{{ env }}"}, {"Key": "tier", "Value": "${var.tier}"}]}},
        "Topic": {"type": "AWS::SNS::Topic", "properties": {"DisplayName": "notes {{ env }}"}},
    },
    "outputs": {"QueueUrl": "${Queue}", "StackName": "${AWS::StackName}"},
}


@pytest.fixture
def project(tmp_path, aws_endpoint) -> Project:
    p = Project(tmp_path, stack="notes")
    write(p, SPEC)
    return p


def write(project: Project, doc: dict) -> None:
    (project.spec_dir / "stack.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def queues(endpoint: str, region: str) -> dict[str, dict]:
    sqs = boto("sqs", endpoint, region)
    return {url.rsplit("/", 1)[1]: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
            for url in sqs.list_queues().get("QueueUrls", [])}


def test_each_environment_has_its_own_state_lock_and_resources(project: Project, aws_endpoint):
    spec = str(project.spec_dir)
    res = project.run("plan", spec)
    assert res.code == 1 and "declares environments (dev, prod): choose one with --env NAME (or DEPLOYER_ENV)" in res.err
    assert "Traceback" not in res.err

    assert set(project.actions("--env", "dev").values()) == {"create"}
    project.apply("--env", "dev")
    dev_state = project.state_dir / "state" / "notes-dev.json"
    assert json.loads(dev_state.read_text())["environment"] == "dev"
    before = dev_state.read_text()
    dev_queues = queues(aws_endpoint, "us-east-1")
    assert len(dev_queues) == 1 and next(iter(dev_queues)).startswith("notes-dev-")

    # prod plans only creates, and reading it neither touches dev's state nor its resources
    prod = project.plan("--env", "prod")
    assert {a["action"] for a in prod["actions"]} == {"create"} and prod["stack"] == "notes-prod"
    project.apply("--env", "prod")
    assert dev_state.read_text() == before
    assert queues(aws_endpoint, "us-east-1") == dev_queues
    assert (project.state_dir / "state" / "notes-prod.json").exists()
    for env in ("dev", "prod"):
        assert set(project.actions("--env", env).values()) == {"noop"}

    # a lock per environment: dev held by another command, prod still plans and applies
    held = FileLock(project.state_dir / "state" / "notes-dev.lock", "notes-dev")
    held.acquire("apply (the test)")
    try:
        locked = project.run("apply", spec, "--env", "dev", "--auto-approve")
        assert locked.code == 1 and "locked" in locked.err
        project.apply("--env", "prod")
    finally:
        held.release()

    res = project.run("destroy", spec, "--env", "dev", "--auto-approve")
    assert res.code == 0, res.err
    assert queues(aws_endpoint, "us-east-1") == {}
    assert len(queues(aws_endpoint, "eu-west-1")) == 1  # prod's is untouched
    assert set(project.actions("--env", "prod").values()) == {"noop"}


def test_an_environment_sets_variables_region_tags_and_the_stack_name(project: Project, aws_endpoint):
    project.apply("--env", "prod")
    (name, attrs), = queues(aws_endpoint, "eu-west-1").items()
    assert name.startswith("notes-prod-") and attrs["DelaySeconds"] == "5"
    sqs = boto("sqs", aws_endpoint, "eu-west-1")
    tags = sqs.list_queue_tags(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])["Tags"]
    assert {k: tags[k] for k in ("env", "tier", "team", "cost-centre", "deployer:stack")} == {
        "env": "prod", "tier": "gold", "team": "core", "cost-centre": "prod-7", "deployer:stack": "notes-prod"}
    assert queues(aws_endpoint, "us-east-1") == {}
    out = project.run("outputs", str(project.spec_dir), "--env", "prod", "--json")
    assert out.code == 0 and json.loads(out.out)["QueueUrl"].endswith(name)
    assert json.loads(out.out)["StackName"] == "notes-prod"
    # the command line still wins over the environment (SPEC §2), --region over its region
    plan = project.plan("--env", "prod", "--var", "delay=7")
    (queue,) = [a for a in plan["actions"] if a["name"] == "Queue"]
    assert queue["action"] == "update" and [c["after"] for c in queue["changes"]] == [7]


def test_env_from_deployer_env_and_names_checked(project: Project, aws_endpoint, tmp_path):
    spec = str(project.spec_dir)
    assert project.run("plan", spec, "--format", "json", env={"DEPLOYER_ENV": "dev"}).json()["stack"] == "notes-dev"
    res = project.run("plan", spec, "--env", "prd")
    assert res.code == 1 and "--env prd: stack 'notes' declares no environment 'prd' (did you mean 'prod'?); " \
                              "declared: dev, prod" in res.err
    plain = Project(tmp_path / "plain", stack="plain")
    plain.write({"Q": {"type": "AWS::SQS::Queue"}})
    res = plain.run("plan", str(plain.spec_dir), "--env", "dev")
    assert res.code == 1 and "declares no environments" in res.err and "Traceback" not in res.err
    bad = dict(SPEC, environments={"Prod": {}})
    write(project, bad)
    res = project.run("validate", spec)
    assert res.code == 1 and "environments.Prod: 'Prod' is not an environment name" in res.err


def test_validate_without_env_checks_every_environment(project: Project):
    spec = str(project.spec_dir)
    res = project.run("validate", spec)
    assert res.code == 0 and res.out.splitlines() == ["notes-dev: valid (2 resources, 2 outputs)",
                                                      "notes-prod: valid (2 resources, 2 outputs)"]
    broken = json.loads(json.dumps(SPEC))
    broken["environments"]["prod"]["variables"]["delay"] = 9000  # over SQS's 900 seconds, in prod only
    write(project, broken)
    res = project.run("validate", spec)
    assert res.code == 1
    (line,) = [x for x in res.err.splitlines() if "DelaySeconds" in x]
    assert line.endswith("(environment 'prod')")
    assert project.run("validate", spec, "--env", "dev").code == 0


def test_a_shared_s3_backend_keeps_one_state_per_environment(project: Project, aws_endpoint):
    make_state_backend(aws_endpoint)
    doc = dict(SPEC, backend={"type": "s3", "bucket": "deployer-state", "key": "notes.json",
                              "lock_table": "deployer-locks"})
    doc["environments"] = json.loads(json.dumps(ENVIRONMENTS))
    doc["environments"]["prod"]["backend"] = {"type": "s3", "bucket": "deployer-state", "key": "prod/notes.json"}
    write(project, doc)
    project.apply("--env", "dev")
    project.apply("--env", "prod")
    keys = {o["Key"] for o in boto("s3", aws_endpoint).list_objects_v2(Bucket="deployer-state")["Contents"]}
    assert keys == {"env:/dev/notes.json", "prod/notes.json"}
    assert not (project.state_dir / "state").exists() or not list((project.state_dir / "state").glob("*.json"))
    for env in ("dev", "prod"):
        assert set(project.actions("--env", env).values()) == {"noop"}


def test_a_typed_variable_reference_passes_the_published_schema_unrendered(tmp_path, aws_endpoint):
    """SPEC §2 / issue 14 check 2: `MemorySize: ${var.memory}` is valid YAML that editors' schema
    check accepts as written, validates as an integer, applies, and the typed --var beats a stale
    DEPLOYER_VAR_ of the same name."""
    project = Project(tmp_path, stack="typed")
    (project.spec_dir / "stack.yaml").write_text("""\
stack: typed
region: us-east-1
variables:
  memory: {type: integer, default: 256}
resources:
  Role:
    type: AWS::IAM::Role
    properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]
  Fn:
    type: AWS::Lambda::Function
    properties:
      Role: ${Role.Arn}
      Runtime: python3.12
      Handler: index.handler
      MemorySize: ${var.memory}
      Code: {ZipFile: "def handler(event, context):\\n    return 1\\n"}
""")
    schema = project.run("schema")
    assert schema.code == 0
    (tmp_path / "deployer.schema.json").write_text(schema.out)
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert checker, "check-jsonschema is a dev dependency"
    checked = subprocess.run([checker, "--schemafile", str(tmp_path / "deployer.schema.json"),
                              str(project.spec_dir / "stack.yaml")], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    res = project.run("plan", str(project.spec_dir), "--format", "json", "--var", "memory=512",
                      env={"DEPLOYER_VAR_memory": "1024"})
    assert res.code == 0, res.err
    (fn,) = [a for a in res.json()["actions"] if a["name"] == "Fn"]
    assert [c["after"] for c in fn["changes"] if c["path"] == "MemorySize"] == [512]
    assert "note: variable 'memory': 512 from --var memory=... overrides 1024 from DEPLOYER_VAR_memory" in res.err
    project.apply("--var", "memory=512")
    lam = boto("lambda", aws_endpoint)
    assert lam.get_function_configuration(FunctionName=project.physical_id("Fn"))["MemorySize"] == 512
    assert set(project.actions("--var", "memory=512").values()) == {"noop"}


def test_the_documented_example_validates_in_every_environment(tmp_path, aws_endpoint):
    """docs/environments.md's example, as written: every environment valid; prod's plan is in its
    region, under its name, with its variables."""
    text = (Path(__file__).parents[2] / "docs" / "environments.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    project = Project(tmp_path, stack="notes")
    (project.spec_dir / "stack.yaml").write_text(example)
    res = project.run("validate", str(project.spec_dir))
    assert res.code == 0 and res.out.splitlines() == [f"notes-{e}: valid (2 resources, 0 outputs)"
                                                      for e in ("dev", "staging", "prod")], res.err
    graph = project.run("graph", str(project.spec_dir))
    assert graph.code == 1 and "choose one with --env NAME" in graph.err
