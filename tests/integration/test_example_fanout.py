"""The fan-out example: validates, applies into a moto server, re-plans clean, destroys to nothing."""

from __future__ import annotations

import shutil

from tests.conftest import EXAMPLES, boto
from tests.integration.harness import Project


def test_fanout_example(tmp_path, aws_endpoint):
    project = Project(tmp_path / "w", stack="fanout")
    shutil.copytree(EXAMPLES / "fanout", project.spec_dir, dirs_exist_ok=True)
    assert project.run("validate", str(project.spec_dir)).code == 0
    project.apply()
    project.assert_clean()

    sns, sqs, lam = boto("sns", aws_endpoint), boto("sqs", aws_endpoint), boto("lambda", aws_endpoint)
    topic = project.physical_id("OrdersTopic")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["Endpoint"].rsplit(":", 1)[1] for s in subs) == ["fanout-billing-dev", "fanout-shipping-dev"]
    mappings = lam.list_event_source_mappings(FunctionName="fanout-billing-dev")["EventSourceMappings"]
    assert len(mappings) == 1
    sns.publish(TopicArn=topic, Message='{"order": 1}')
    msgs = sqs.receive_message(QueueUrl=project.physical_id("ShippingQueue")).get("Messages", [])
    assert msgs and msgs[0]["Body"] == '{"order": 1}'

    secret_value = boto("secretsmanager", aws_endpoint).get_secret_value(SecretId=project.physical_id("ApiToken"))
    token = secret_value["SecretString"]
    state_text = (project.state_dir / "state" / "fanout.json").read_text()
    assert token not in state_text

    project.destroy()
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert sns.list_topics()["Topics"] == []
    assert lam.list_functions()["Functions"] == []
    assert boto("logs", aws_endpoint).describe_log_groups()["logGroups"] == []
    assert boto("secretsmanager", aws_endpoint).list_secrets()["SecretList"] == []
    keys = boto("kms", aws_endpoint).list_keys()["Keys"]
    states = {boto("kms", aws_endpoint).describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in keys}
    assert states <= {"PendingDeletion"}
    assert project.state()["resources"] == {}
