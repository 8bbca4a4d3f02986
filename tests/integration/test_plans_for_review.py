"""Plans a reviewer can trust (SPEC §5), through the CLI against the moto server: each change at its
own path in text, Markdown and JSON; policies line by line; nothing elided; what a destructive
step destroys, read only when one is planned. The examples in docs/commands.md are written by
`plan_examples()` below: a test fails when the doc no longer shows what deployer prints."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from deployer.schemas_loader import plan_schema
from tests.conftest import EXAMPLES, ROOT, boto
from tests.integration.harness import Project
from tests.markdown_check import ELISION_MARKERS, check_markdown

COMMANDS_DOC = ROOT / "docs" / "commands.md"
FORMATS = ("text", "markdown", "json")


def plans(project: Project, *extra: str) -> dict[str, str]:
    """The plan in each format (and the JSON checked against the published schema)."""
    out = {}
    for fmt in FORMATS:
        res = project.run("plan", str(project.spec_dir), "--format", fmt, "--no-color", *extra)
        assert res.code == 0, res.err
        out[fmt] = res.out
    jsonschema.validate(json.loads(out["json"]), plan_schema())
    check_markdown(out["markdown"])
    return out


def change_paths(plan_json: str) -> list[str]:
    return [c["path"] for a in json.loads(plan_json)["actions"] for c in a["changes"]]


# --- a policy widened ------------------------------------------------------------------------------

def role(actions: list[str] | str, resource: str) -> dict:
    return {"Role": {"type": "AWS::IAM::Role", "properties": {
        "RoleName": "review-app",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "AssetsAccess", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": resource}]}}]}}}


def widened_policy(project: Project) -> dict[str, str]:
    project.write(role(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::review-assets/*"))
    project.apply()
    project.write(role("s3:*", "*"))
    return plans(project)


def test_a_widened_inline_policy_shows_each_removed_and_added_line_at_its_path(project):
    out = widened_policy(project)
    statement = "Policies[AssetsAccess].PolicyDocument.Statement[0]"
    assert change_paths(out["json"]) == [f"{statement}.Action", f"{statement}.Resource"]
    for fmt in ("text", "markdown"):
        lines = [line.strip() for line in out[fmt].splitlines()]
        assert f"~ {statement}.Action:" in lines, out[fmt]
        assert '-     "s3:GetObject"' in out[fmt] and '-     "s3:PutObject"' in out[fmt]
        assert '+     "s3:*"' in out[fmt]
        # the normalised form: Action and Resource are sets, so a scalar reads as a one-item list
        resource = lines.index(f"~ {statement}.Resource:")
        assert lines[resource + 1:resource + 3] == ['-     "arn:aws:s3:::review-assets/*"', '+     "*"']
        for marker in ELISION_MARKERS:
            assert marker not in out[fmt], (fmt, marker)
        assert "Identity and policy changes" in out[fmt]


# --- a GSI projection ------------------------------------------------------------------------------

def table(projection: str) -> dict:
    return {"Table": {"type": "AWS::DynamoDB::Table", "properties": {
        "TableName": "review-orders", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                 {"AttributeName": "owner", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by-owner",
                                    "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": projection}}]}}}


def gsi_projection(project: Project) -> dict[str, str]:
    project.write(table("ALL"))
    project.apply()
    project.write(table("KEYS_ONLY"))
    return plans(project)


def test_a_gsi_projection_change_is_one_change_at_its_index_in_every_format(project):
    out = gsi_projection(project)
    path = "GlobalSecondaryIndexes[by-owner].Projection.ProjectionType"
    assert change_paths(out["json"]) == [path]
    for fmt in ("text", "markdown"):
        assert f'~ {path}: "ALL" -> "KEYS_ONLY"' in out[fmt]


# --- every example's create plan -------------------------------------------------------------------

@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_create_plan_shows_every_value_whole(tmp_path, aws_endpoint_with_managed_policies, example):
    project = Project(tmp_path, stack=example)
    shutil.copytree(EXAMPLES / example, project.spec_dir, dirs_exist_ok=True)
    out = plans(project)
    doc = json.loads(out["json"])
    for fmt in ("text", "markdown"):
        for marker in ELISION_MARKERS:
            assert marker not in out[fmt], (fmt, marker)
    assert len(out["markdown"]) < 60_000
    for action in doc["actions"]:
        assert action["action"] == "create"
        for change in action["changes"]:
            value = change["after"]
            shown = json.dumps(value) if not isinstance(value, dict | list) else \
                json.dumps(value, indent=2).splitlines()[1].strip() if value else json.dumps(value)
            assert shown in out["text"] and shown in out["markdown"], (action["name"], change["path"])


# --- what a destructive step destroys --------------------------------------------------------------

DATA = {
    "Bucket": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "review-data"},
               "lifecycle": {"force_destroy": True, "allow_replace": True}},
    "Orders": {"type": "AWS::DynamoDB::Table", "lifecycle": {"allow_replace": True}, "properties": {
        "TableName": "review-data-orders", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}},
    "Jobs": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "review-data-jobs"},
             "lifecycle": {"allow_replace": True}},
    "Db": {"type": "AWS::RDS::DBInstance", "lifecycle": {"allow_replace": True}, "properties": {
        "DBInstanceIdentifier": "review-data-db", "Engine": "postgres", "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": 20, "MasterUsername": "app", "ManageMasterUserPassword": True}},
}
RENAMED = {"Bucket": ("BucketName", "review-data-2"), "Orders": ("TableName", "review-data-orders-2"),
           "Jobs": ("QueueName", "review-data-jobs-2"), "Db": ("DBInstanceIdentifier", "review-data-db-2")}


def holding_data(project: Project, endpoint: str, resources: dict | None = None) -> None:
    """The data stack applied, then 3 objects, 5 items and 2 messages put in it (what it has of them)."""
    resources = resources or DATA
    project.write(resources)
    project.apply()
    s3, ddb, sqs = boto("s3", endpoint), boto("dynamodb", endpoint), boto("sqs", endpoint)
    for i in range(3):
        s3.put_object(Bucket="review-data", Key=f"k{i}", Body=b"x" * 1024 * (i + 1))
    for i in range(5):
        ddb.put_item(TableName="review-data-orders", Item={"id": {"S": str(i)}})
    if "Jobs" in resources:
        url = sqs.get_queue_url(QueueName="review-data-jobs")["QueueUrl"]
        for _ in range(2):
            sqs.send_message(QueueUrl=url, MessageBody="job")


def api_calls(project: Project, *args: str) -> Counter:
    res = project.run(*args, "--debug")
    assert res.code in (0, 2), res.err
    return Counter({m[1]: int(m[2]) for m in re.finditer(r"^api: (\S+) x(\d+)$", res.err, re.M)})


EXPECTED = {"Bucket": "3 objects, 6.0 KiB", "Orders": "5 items", "Jobs": "2 queued messages",
            "Db": "database, 20 GiB; final snapshot review-data-db-final-"}


def assert_destroys(out: dict[str, str]) -> None:
    actions = {a["name"]: a for a in json.loads(out["json"])["actions"]}
    for name, expected in EXPECTED.items():
        assert expected in actions[name]["destroys"], actions[name]
        for fmt in ("text", "markdown"):
            assert expected in out[fmt]
    text = out["text"]
    assert text.index("Destructive:") < text.index("destroys: 3 objects") < text.index("Plan:")


def test_a_destroy_plan_says_what_each_data_bearing_resource_holds(project, aws_endpoint):
    holding_data(project, aws_endpoint)
    noop = api_calls(project, "plan", str(project.spec_dir))
    destroy = api_calls(project, "plan", str(project.spec_dir), "--destroy")
    # one read per data-bearing resource, only when its delete is planned
    assert destroy - noop == Counter({"s3.ListObjectVersions": 1, "dynamodb.DescribeTable": 1,
                                      "sqs.GetQueueAttributes": 1, "rds.DescribeDBInstances": 1}), destroy - noop
    assert not {"s3.ListObjectVersions"} & set(noop)
    assert_destroys(plans(project, "--destroy"))
    res = project.run("destroy", str(project.spec_dir), "--auto-approve")
    assert res.code == 0, res.err
    assert "destroys: 5 items" in res.out


def test_a_replace_plan_says_what_each_replaced_resource_holds(project, aws_endpoint):
    holding_data(project, aws_endpoint)
    renamed = json.loads(json.dumps(DATA))
    for name, (prop, value) in RENAMED.items():
        renamed[name]["properties"][prop] = value
    project.write(renamed)
    out = plans(project)
    assert {a["name"]: a["action"] for a in json.loads(out["json"])["actions"]} == dict.fromkeys(DATA, "replace")
    assert_destroys(out)
    assert "the old one is deleted first" in out["text"]


def test_a_non_empty_bucket_without_force_destroy_is_planned_but_never_deleted(project, aws_endpoint):
    kept = {"Bucket": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "review-data"}},
            "Orders": DATA["Orders"], "Jobs": DATA["Jobs"]}
    project.write(kept)
    project.apply()
    boto("s3", aws_endpoint).put_object(Bucket="review-data", Key="k", Body=b"x")
    out = plans(project, "--destroy")
    bucket = next(a for a in json.loads(out["json"])["actions"] if a["name"] == "Bucket")
    assert bucket["destroys"] == "1 object, 1 B" and "force_destroy" in bucket["blocked"]
    res = project.run("destroy", str(project.spec_dir), "--auto-approve")
    assert res.code == 1 and "nothing was changed" in res.err and "force_destroy" in res.err
    assert set(project.state()["resources"]) == set(kept)
    boto("dynamodb", aws_endpoint).describe_table(TableName="review-data-orders")


# --- the examples in docs/commands.md --------------------------------------------------------------

def destructive_summary(project: Project, endpoint: str) -> dict[str, str]:
    holding_data(project, endpoint, {k: DATA[k] for k in ("Bucket", "Orders")} | role(["s3:GetObject"], "*"))
    return plans(project, "--destroy")


DOC_EXAMPLES = {
    "policy-change": (widened_policy, ("text", "markdown")),
    "gsi-change": (gsi_projection, ("text",)),
    "destructive-summary": (destructive_summary, ("text", "markdown")),
}


def doc_block(name: str, out: dict[str, str], formats: tuple[str, ...]) -> str:
    parts = [f"<!-- generated by tests/integration/test_plans_for_review.py: {name} -->"]
    for fmt in formats:
        body = out[fmt].rstrip("\n")
        fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
        parts += ["", f"{fmt.capitalize()}:" if len(formats) > 1 else "", fence + ("markdown" if fmt == "markdown"
                                                                               else "text"), body, fence]
    parts.append(f"<!-- end: {name} -->")
    return "\n".join(p for i, p in enumerate(parts) if p or parts[i - 1] != "")


@pytest.mark.parametrize("name", DOC_EXAMPLES)
def test_the_examples_in_the_commands_doc_are_what_deployer_prints(tmp_path, aws_endpoint, name):
    make, formats = DOC_EXAMPLES[name]
    project = Project(tmp_path, stack="review")
    args = (project, aws_endpoint) if make is destructive_summary else (project,)
    block = doc_block(name, make(*args), formats)
    doc = COMMANDS_DOC.read_text()
    pattern = re.compile(rf"<!-- generated by [^\n]*: {re.escape(name)} -->.*?<!-- end: {re.escape(name)} -->", re.S)
    assert pattern.search(doc), f"docs/commands.md has no generated block {name!r}"
    if os.environ.get("DEPLOYER_WRITE_DOCS"):
        COMMANDS_DOC.write_text(pattern.sub(lambda _: block, doc))
        return
    assert pattern.search(doc).group(0) == block, (
        f"docs/commands.md's {name!r} example is stale: run DEPLOYER_WRITE_DOCS=1 pytest {Path(__file__).name}")
