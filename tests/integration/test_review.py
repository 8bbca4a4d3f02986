"""The review and GitOps loop: Markdown plans for PR comments, drift, rebuild, import."""

from __future__ import annotations

import shutil

from tests.conftest import EXAMPLES, boto
from tests.integration.harness import Project
from tests.markdown_check import check_markdown


def webapp(tmp_path) -> Project:
    project = Project(tmp_path / "w", stack="webapp")
    shutil.copytree(EXAMPLES / "webapp", project.spec_dir, dirs_exist_ok=True)
    return project


def test_markdown_webapp_from_empty(tmp_path, aws_endpoint):
    project = webapp(tmp_path)
    res = project.run("plan", str(project.spec_dir), "--format", "markdown")
    assert res.code == 0, res.err
    check_markdown(res.out)
    assert "```mermaid" in res.out and "5 to create" in res.out


def test_markdown_with_replace_and_delete(project):
    q = {"type": "AWS::SQS::Queue", "properties": {"QueueName": "md-a"}}
    project.write({"A": q, "B": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "md-b"}}})
    project.apply()
    project.write({"A": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "md-a2"},
                         "lifecycle": {"allow_replace": True}}})
    res = project.run("plan", str(project.spec_dir), "--format", "markdown")
    check_markdown(res.out, destructive=["A", "B"])
    assert "QueueName cannot be changed in place" in res.out
    text = project.run("plan", str(project.spec_dir), "--no-color").out
    assert text.index("B (AWS::SQS::Queue)") < text.index("Plan:") and "\x1b[" not in text


def test_markdown_of_a_2000_resource_stack(project):
    project.write({f"Q{i}": {"type": "AWS::SQS::Queue",
                             "properties": {"QueueName": f"big-{i}", "Tags": [{"Key": "k", "Value": "v" * 250}]}}
                   for i in range(2000)})
    res = project.run("plan", str(project.spec_dir), "--format", "markdown")
    assert res.code == 0, res.err
    check_markdown(res.out)
    assert "Folded to fit the comment" in res.out and "create(s) outside IAM are not listed" in res.out


def test_drift_exit_codes(project, aws_endpoint):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "drift-q", "DelaySeconds": 1}},
                   "R": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "drift-r"}}})
    project.apply()
    assert project.run("drift", str(project.spec_dir), "--detailed-exitcode").code == 0
    sqs = boto("sqs", aws_endpoint)
    sqs.set_queue_attributes(QueueUrl=project.physical_id("Q"), Attributes={"DelaySeconds": "7"})
    res = project.run("drift", str(project.spec_dir), "--detailed-exitcode")
    assert res.code == 2 and "Q" in res.out and "DelaySeconds" in res.out
    sqs.delete_queue(QueueUrl=project.physical_id("R"))
    doc = project.run("drift", str(project.spec_dir), "--detailed-exitcode", "--format", "json")
    assert doc.code == 2
    actions = {a["name"]: a for a in doc.json()["actions"]}
    assert actions["R"]["action"] == "delete" and actions["Q"]["changes"][0]["path"] == "DelaySeconds"
    md = project.run("drift", str(project.spec_dir), "--format", "markdown")
    check_markdown(md.out)


def test_state_rebuild_after_losing_the_state(tmp_path, aws_endpoint):
    project = webapp(tmp_path)
    project.apply()
    (project.state_dir / "state" / "webapp.json").unlink()
    res = project.run("state", "rebuild", str(project.spec_dir))
    assert res.code == 0, res.err
    assert "with 5 of 5 resources" in res.out
    plan = project.run("plan", str(project.spec_dir), "--detailed-exitcode")
    assert plan.code == 0, plan.out


def test_import_shows_only_the_differences(project, aws_endpoint):
    s3 = boto("s3", aws_endpoint)
    s3.create_bucket(Bucket="imported-bucket")
    s3.put_bucket_versioning(Bucket="imported-bucket", VersioningConfiguration={"Status": "Enabled"})
    project.write({"B": {"type": "AWS::S3::Bucket", "properties": {
        "BucketName": "imported-bucket", "VersioningConfiguration": {"Status": "Enabled"},
        "Tags": [{"Key": "team", "Value": "x"}]}}})
    res = project.run("import", str(project.spec_dir), "B", "imported-bucket")
    assert res.code == 0, res.err
    doc = project.plan()
    (action,) = doc["actions"]
    assert action["action"] == "update"
    assert [c["path"] for c in action["changes"]] == ["Tags[team]"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="imported-bucket")["TagSet"]}
    assert tags["deployer:stack"] == "itest" and tags["deployer:logical-id"] == "B"
    project.apply()
    project.assert_clean()


def test_schema_command_validates_the_examples(project):
    import json

    import jsonschema
    import yaml

    res = project.run("schema")
    schema = json.loads(res.out)
    validator = jsonschema.Draft202012Validator(schema)
    doc = yaml.safe_load((EXAMPLES / "webapp" / "resources.yaml").read_text().replace("{{ var.memory }}", "256")
                         .replace("{{ var.env }}", "dev"))
    doc["stack"] = "webapp"
    assert list(validator.iter_errors(doc)) == []
    doc["resources"]["AssetsBucket"]["properties"]["BucketNam"] = "x"
    assert any("BucketNam" in e.message for e in validator.iter_errors(doc))
