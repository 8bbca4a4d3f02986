"""specs/examples/network through the CLI against the moto server: it validates, applies, plans clean
right after, and destroys to nothing (no resource of the stack left in the account, an empty state)."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLES, boto

EXAMPLE = str(EXAMPLES / "network")
OWNED = [{"Name": "tag:deployer:stack", "Values": ["network"]}]


@pytest.fixture
def aws_endpoint(aws_endpoint_with_managed_policies):
    """This example attaches AWS-managed IAM policies: use the server that has them."""
    return aws_endpoint_with_managed_policies


def leftovers(endpoint: str) -> dict[str, list]:
    """Everything in the account that still carries the stack's ownership tag, plus non-default VPCs."""
    ec2 = boto("ec2", endpoint)
    return {
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"]],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=OWNED)["Subnets"]],
        "gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=OWNED)["InternetGateways"]],
        "route tables": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=OWNED)["RouteTables"]],
        "groups": [g["GroupId"] for g in ec2.describe_security_groups(Filters=OWNED)["SecurityGroups"]],
    }


def test_network_example_applies_replans_clean_and_destroys_to_nothing(project, aws_endpoint):
    project.stack = "network"
    res = project.run("validate", EXAMPLE)
    assert res.code == 0, res.err

    res = project.run("apply", EXAMPLE, "--auto-approve")
    assert res.code == 0, res.out + res.err
    resources = project.state()["resources"]
    assert {"Vpc", "PublicSubnetA", "PrivateSubnetB", "PublicDefaultRoute", "DbSecurityGroup"} <= set(resources)
    live = leftovers(aws_endpoint)
    assert len(live["subnets"]) == 4 and len(live["groups"]) == 2 and len(live["route tables"]) == 2

    plan = project.run("plan", EXAMPLE, "--format", "json", "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # no changes right after apply
    assert plan.json()["outputs"]["VpcId"] == resources["Vpc"]["physical_id"]

    res = project.run("destroy", EXAMPLE, "--auto-approve")
    assert res.code == 0, res.out + res.err
    assert project.state()["resources"] == {}
    assert leftovers(aws_endpoint) == {"vpcs": [], "subnets": [], "gateways": [], "route tables": [], "groups": []}
