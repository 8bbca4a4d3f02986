"""EC2 network resources are found again when deployer loses track of them, through the CLI.

- The state is lost: `state rebuild` finds every taggable resource by its ownership tags and the three
  untaggable kinds (attachment, route, association) by their natural keys, so every physical id is
  what it was and the next plan is clean.
- A create's answer is lost (the VPC is made, the caller never hears): the apply fails, finds the VPC
  by the tags it was created with and removes it, so a re-apply leaves exactly one VPC."""

from __future__ import annotations

import shutil

from botocore.exceptions import EndpointConnectionError

from deployer import aws as aws_module
from tests.conftest import EXAMPLES, boto


def network_only(project) -> str:
    """The example's network (stack.yaml alone: other files of the example add other kinds)."""
    shutil.copy(EXAMPLES / "network" / "stack.yaml", project.spec_dir / "stack.yaml")
    return str(project.spec_dir)


def changes(project, spec: str) -> dict[str, str]:
    doc = project.run("plan", spec, "--format", "json").json()
    return {a["name"]: a["action"] for a in doc["actions"] if a["action"] != "noop"}


def test_a_lost_state_is_rebuilt_and_converges_on_the_same_resources(project, aws_endpoint):
    project.stack = "network"
    spec = network_only(project)
    assert project.run("apply", spec, "--auto-approve").code == 0
    before = {name: r["physical_id"] for name, r in project.state()["resources"].items()}
    (project.state_dir / "state" / "network.json").unlink()

    res = project.run("state", "rebuild", spec)
    assert res.code == 0, res.err
    assert "not found" not in res.out
    assert {name: r["physical_id"] for name, r in project.state()["resources"].items()} == before
    assert changes(project, spec) == {}


def test_a_create_whose_answer_is_lost_leaves_no_orphan(project, aws_endpoint, monkeypatch):
    project.write({"Net": {"type": "AWS::EC2::VPC", "properties": {"CidrBlock": "10.0.0.0/16"}}})

    made, removed = [], []

    def answer_lost(parsed=None, **_):
        made.append(parsed["Vpc"]["VpcId"])
        raise EndpointConnectionError(endpoint_url=aws_endpoint)

    def deleted(params=None, **_):
        removed.append(params["VpcId"])

    monkeypatch.setattr(aws_module, "GLOBAL_HOOKS", [("after-call.ec2.CreateVpc", answer_lost),
                                                     ("provide-client-params.ec2.DeleteVpc", deleted)])
    res = project.run("apply", str(project.spec_dir), "--auto-approve", "--no-color")
    assert res.code == 1
    assert len(made) == 1 and removed == made
    ec2 = boto("ec2", aws_endpoint)
    mine = [{"Name": "tag:deployer:stack", "Values": [project.stack]}]
    assert ec2.describe_vpcs(Filters=mine)["Vpcs"] == []  # found by its tags and removed

    monkeypatch.setattr(aws_module, "GLOBAL_HOOKS", [])
    project.apply()
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=mine)["Vpcs"]] == [project.physical_id("Net")]
    project.assert_clean()
