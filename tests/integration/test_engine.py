"""Engine behaviour through the CLI: saved plans, read-only plans, ownership, lifecycle options."""

from __future__ import annotations

import json

from tests.conftest import boto

QUEUE = {"type": "AWS::SQS::Queue", "properties": {"QueueName": "engine-q", "VisibilityTimeout": 30}}
TABLE = {"type": "AWS::DynamoDB::Table", "properties": {
    "TableName": "engine-t", "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}


def test_saved_plan_refused_after_out_of_band_change_then_applied(project, aws_endpoint, tmp_path):
    project.write({"Q": QUEUE})
    project.apply()
    project.write({"Q": {**QUEUE, "properties": {**QUEUE["properties"], "VisibilityTimeout": 45}}})
    planfile = tmp_path / "p.json"
    assert project.run("plan", str(project.spec_dir), "-o", str(planfile)).code == 0
    boto("sqs", aws_endpoint).set_queue_attributes(QueueUrl=project.physical_id("Q"), Attributes={"DelaySeconds": "9"})
    refused = project.run("apply", str(planfile))
    assert refused.code == 1 and "stale" in refused.err and "Q changed" in refused.err
    attrs = boto("sqs", aws_endpoint).get_queue_attributes(QueueUrl=project.physical_id("Q"),
                                                          AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30", "a refused plan must change nothing"
    project.write({"Q": {**QUEUE, "properties": {**QUEUE["properties"], "VisibilityTimeout": 45, "DelaySeconds": 9}}})
    assert project.run("plan", str(project.spec_dir), "-o", str(planfile)).code == 0
    applied = project.run("apply", str(planfile))
    assert applied.code == 0, applied.err
    project.assert_clean()


def test_saved_plan_refused_when_state_changed(project, tmp_path):
    project.write({"Q": QUEUE})
    planfile = tmp_path / "p.json"
    assert project.run("plan", str(project.spec_dir), "-o", str(planfile)).code == 0
    project.apply()
    refused = project.run("apply", str(planfile))
    assert refused.code == 1 and "state changed" in refused.err


def test_plan_makes_no_mutating_call(project):
    project.write({"Q": QUEUE, "T": TABLE})
    project.apply()
    project.write({"Q": {**QUEUE, "properties": {"QueueName": "engine-q", "VisibilityTimeout": 60}}, "T": TABLE})
    res = project.run("plan", str(project.spec_dir), "--debug")
    assert res.code == 0
    calls = [line.split()[1] for line in res.err.splitlines() if line.startswith("api: ")]
    assert calls, res.err
    from deployer.aws import is_mutating

    assert [c for c in calls if is_mutating(c.split(".")[1])] == []


def test_detailed_exitcode(project):
    project.write({"Q": QUEUE})
    assert project.run("plan", str(project.spec_dir), "--detailed-exitcode").code == 2
    project.apply()
    assert project.run("plan", str(project.spec_dir), "--detailed-exitcode").code == 0


def test_name_taken_outside_the_stack_fails_the_plan(project, aws_endpoint):
    boto("dynamodb", aws_endpoint).create_table(
        TableName="engine-t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    project.write({"T": TABLE})
    res = project.run("plan", str(project.spec_dir))
    assert res.code == 1
    assert "already exists outside this stack" in res.err and "deployer import" in res.err


def test_apply_folds_the_existence_read_and_refuses_a_name_taken_outside(project, aws_endpoint):
    """`deployer apply` makes no read before a create that fails on a taken name by itself (the
    table's): the clash comes from CreateTable, the queue it already made is rolled back, the table
    someone else owns is left as it was."""
    ddb = boto("dynamodb", aws_endpoint)
    ddb.create_table(TableName="engine-t", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], Tags=[{"Key": "team", "Value": "x"}])
    project.write({"Q": QUEUE, "T": TABLE, "After": {**QUEUE, "properties": {"QueueName": "engine-after"},
                                                     "depends_on": ["T"]}})
    res = project.run("apply", str(project.spec_dir), "--auto-approve", "--parallelism", "1")
    assert res.code == 1
    assert "T: a AWS::DynamoDB::Table of that name already exists and is not this stack's; use `deployer " \
           "import`" in res.err, res.err
    assert "Traceback" not in res.err
    assert boto("sqs", aws_endpoint).list_queues().get("QueueUrls", []) == [], "the queue made first is rolled back"
    arn = ddb.describe_table(TableName="engine-t")["Table"]["TableArn"]
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "x"}]
    assert project.state()["resources"] == {}


def test_apply_after_a_lost_state_adopts_what_carries_its_tags(project, aws_endpoint):
    """The create meets the table this stack made before its state was lost, and adopts it."""
    project.write({"T": TABLE})
    calls = project.apply("--debug").err
    assert "api: dynamodb.CreateTable x1" in calls and "DescribeTable" not in calls, "no read before the create"
    arn = project.state()["resources"]["T"]["attributes"]["Arn"]
    import shutil

    shutil.rmtree(project.state_dir)
    project.write({"T": {**TABLE, "properties": {**TABLE["properties"], "Tags": [{"Key": "k", "Value": "v"}]}}})
    project.apply()
    assert project.state()["resources"]["T"]["attributes"]["Arn"] == arn
    tags = boto("dynamodb", aws_endpoint).list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "k", "Value": "v"} in tags
    project.assert_clean()


def test_prevent_destroy_and_retain(project, aws_endpoint):
    project.write({"Q": {**QUEUE, "lifecycle": {"prevent_destroy": True}}, "T": {**TABLE, "deletion_policy": "retain"}})
    project.apply()
    res = project.run("destroy", str(project.spec_dir), "--auto-approve")
    assert res.code == 1 and "prevent_destroy" in res.err
    project.write({"Q": QUEUE, "T": {**TABLE, "deletion_policy": "retain"}})
    project.destroy()
    assert "engine-t" in boto("dynamodb", aws_endpoint).list_tables()["TableNames"], "retain keeps the table"
    assert project.state()["resources"] == {}


def test_ignore_changes(project, aws_endpoint):
    q = {**QUEUE, "lifecycle": {"ignore_changes": ["VisibilityTimeout"]}}
    project.write({"Q": q})
    project.apply()
    boto("sqs", aws_endpoint).set_queue_attributes(QueueUrl=project.physical_id("Q"),
                                                   Attributes={"VisibilityTimeout": "99"})
    project.assert_clean()


def test_create_before_destroy_replacement(project, aws_endpoint):
    q = {"type": "AWS::SQS::Queue", "lifecycle": {"create_before_destroy": True, "allow_replace": True},
         "properties": {"QueueName": "cbd-one"}}
    project.write({"Q": q})
    project.apply()
    old = project.physical_id("Q")
    q["properties"]["QueueName"] = "cbd-two"
    project.write({"Q": q})
    out = project.apply().out
    assert out.index("Q: done (replacing") < out.index("Q#deposed: done")
    urls = boto("sqs", aws_endpoint).list_queues().get("QueueUrls", [])
    assert old not in urls and project.physical_id("Q") in urls
    project.assert_clean()


def test_generated_names_are_stable_and_recorded(project):
    project.write({"Q": {"type": "AWS::SQS::Queue", "properties": {"VisibilityTimeout": 40}}})
    project.apply()
    assert project.physical_id("Q").rsplit("/", 1)[1].startswith("itest-Q-")
    project.assert_clean()


def test_target_makes_a_partial_plan(project):
    project.write({"Q": QUEUE, "T": TABLE})
    doc = project.plan("--target", "Q")
    assert [a["name"] for a in doc["actions"]] == ["Q"]
    assert any("partial" in w for w in doc["warnings"])


def test_apply_without_terminal_needs_auto_approve(project):
    project.write({"Q": QUEUE})
    res = project.run("apply", str(project.spec_dir))
    assert res.code == 1 and "--auto-approve" in res.err


def test_outputs(project):
    project.write({"Q": QUEUE}, outputs={"Url": "${Q}", "Arn": {"value": "${Q.Arn}", "description": "the arn"}})
    doc = project.plan()
    assert doc["outputs"]["Url"] == "(known after apply)"
    project.apply()
    res = project.run("outputs", str(project.spec_dir), "--json")
    out = json.loads(res.out)
    assert out["Arn"].endswith(":engine-q") and out["Url"] == project.physical_id("Q")


def test_unknown_attribute_reference_is_known_after_apply(project):
    project.write({"Q": QUEUE, "D": {"type": "AWS::SQS::Queue", "properties": {
        "QueueName": "engine-d", "RedrivePolicy": {"deadLetterTargetArn": "${Q.Arn}", "maxReceiveCount": 3}}}})
    doc = project.plan()
    d = next(a for a in doc["actions"] if a["name"] == "D")
    change = next(c for c in d["changes"] if c["path"] == "RedrivePolicy")
    assert change["after"]["deadLetterTargetArn"] == "(known after apply)"
    project.apply()
    project.assert_clean()


def test_local_lock_names_its_holder_and_is_released_with_it(project):
    """A running holder's lock is never broken (the kernel releases it when that process ends);
    a lock file a dead process left is free at once."""
    from deployer.state.local import LocalBackend

    project.write({"Q": QUEUE})
    holder = LocalBackend(str(project.state_dir), "itest")
    holder.lock("apply (another terminal)")
    res = project.run("apply", str(project.spec_dir), "--auto-approve")
    assert res.code == 1 and "locked by `apply (another terminal)`" in res.err
    lock_id = json.loads(holder.lock_path.read_text())["id"]
    assert lock_id in res.err and "released when that process ends" in res.err
    unlock = ("state", "unlock", lock_id, "--path", str(project.spec_dir), "--state-dir", str(project.state_dir))
    refused = project.run(*unlock)
    assert refused.code == 1 and "a running process" in refused.err
    holder.unlock()
    assert not holder.lock_path.exists()
    holder.lock_path.write_text(json.dumps({"id": "dead-1", "pid": 999999, "host": "elsewhere"}))  # a killed holder's
    project.apply()
    assert not holder.lock_path.exists()
    holder.lock_path.write_text("")  # a full disk at lock time leaves an empty file
    assert project.run(*unlock[:2], "dead-1", *unlock[3:]).code == 0
    project.apply()


def test_partial_destroy(project, aws_endpoint):
    dlq = {"type": "AWS::SQS::Queue", "properties": {"QueueName": "partial-dlq"}}
    main = {"type": "AWS::SQS::Queue", "properties": {
        "QueueName": "partial-main", "RedrivePolicy": {"deadLetterTargetArn": "${Dlq.Arn}", "maxReceiveCount": 2}}}
    other = {"type": "AWS::SQS::Queue", "properties": {"QueueName": "partial-other"}}
    project.write({"Dlq": dlq, "Main": main, "Other": other})
    project.apply()
    res = project.run("destroy", str(project.spec_dir), "--auto-approve", "--exclude", "Main")
    assert res.code == 0 and "partial" in res.out
    assert sorted(project.state()["resources"]) == ["Dlq", "Main"]
    res = project.run("destroy", str(project.spec_dir), "--auto-approve", "--target", "Dlq")
    assert res.code == 0 and project.state()["resources"] == {}


def _api_calls(res) -> list[str]:
    return [line.split()[1] for line in res.err.splitlines() if line.startswith("api: ")]


def test_a_create_asks_again_only_when_its_plan_was_read_earlier(project, tmp_path):
    """A bucket in us-east-1 (where CreateBucket answers 200 for a bucket the account owns): the apply
    that just planned it found it absent and creates it at once; a saved plan's read may be old, so
    its apply asks first (HeadBucket)."""
    project.write({"B": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "engine-fresh-read"}}})
    applied = project.run("apply", str(project.spec_dir), "--auto-approve", "--debug")
    assert applied.code == 0, applied.err
    assert "s3.CreateBucket" in _api_calls(applied) and "s3.HeadBucket" not in _api_calls(applied)
    project.write({"B": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "engine-fresh-read"}},
                   "C": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "engine-saved-read"}}})
    planfile = tmp_path / "p.json"
    assert project.run("plan", str(project.spec_dir), "-o", str(planfile)).code == 0
    saved = project.run("apply", str(planfile), "--debug")
    assert saved.code == 0, saved.err
    assert "s3.HeadBucket" in _api_calls(saved) and "s3.CreateBucket" in _api_calls(saved)
    project.assert_clean()
