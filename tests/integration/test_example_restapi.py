"""The restapi example through the CLI against a moto server: it validates, applies, re-plans clean,
serves the method through the prod stage, redeploys when the method changes, and destroys to nothing."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import EXAMPLES, boto

EXAMPLE = EXAMPLES / "restapi"


@pytest.fixture
def aws_endpoint(aws_endpoint_with_managed_policies):
    """This example attaches AWS-managed IAM policies: use the server that has them."""
    return aws_endpoint_with_managed_policies


@pytest.fixture
def example(project):
    """The example copied into the project's spec directory (its ./src travels with it)."""
    shutil.copytree(EXAMPLE, project.spec_dir, dirs_exist_ok=True)
    project.stack = "restapi"  # the example's own stack name (where the state is kept)
    return project


def client(endpoint: str, service: str = "apigateway"):
    return boto(service, endpoint)


def ids(project) -> dict[str, str]:
    """Physical ids by logical name, from the state."""
    return {name: entry["physical_id"] for name, entry in project.state()["resources"].items()}


def test_example_validates(project):
    res = project.run("validate", str(EXAMPLE))
    assert res.code == 0, res.err


def test_example_applies_replans_clean_and_destroys(example, aws_endpoint):
    assert set(example.actions().values()) == {"create"}
    example.apply()
    example.assert_clean()
    pid = ids(example)
    api = pid["Api"]
    apigw = client(aws_endpoint)
    deployment = pid["Deployment"].split("|")[1]
    assert apigw.get_stage(restApiId=api, stageName="prod")["deploymentId"] == deployment
    resource = pid["Items"].split("|")[1]
    assert apigw.get_resource(restApiId=api, resourceId=resource)["path"] == "/items"
    method = apigw.get_method(restApiId=api, resourceId=resource, httpMethod="GET")
    function_arn = example.state()["resources"]["ItemsFunction"]["attributes"]["Arn"]
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert method["methodIntegration"]["uri"].endswith(f"/functions/{function_arn}/invocations")
    policy = client(aws_endpoint, "lambda").get_policy(FunctionName=function_arn)["Policy"]
    assert f":{api}/*/*/items" in policy and "apigateway.amazonaws.com" in policy
    outputs = example.run("outputs", str(example.spec_dir), "--json").json()
    assert outputs["InvokeUrl"] == f"https://{api}.execute-api.us-east-1.amazonaws.com/prod"

    example.destroy()
    assert example.state()["resources"] == {}
    assert apigw.get_rest_apis()["items"] == []
    assert client(aws_endpoint, "lambda").list_functions()["Functions"] == []


def test_a_method_change_reaches_the_stage_through_a_new_deployment(example, aws_endpoint, monkeypatch):
    """GET -> POST in one apply: the method changes in this plan, so the Deployment's Snapshot is
    unknown at plan time (the planner's snapshot_property rule) and the Deployment is replaced,
    created before the old one is deleted, and the stage moves to it."""
    example.apply()
    first = ids(example)
    api, resource = first["Items"].split("|")
    apigw = client(aws_endpoint)

    monkeypatch.setenv("DEPLOYER_VAR_method", "POST")
    plan = {a["name"]: a for a in example.plan()["actions"]}
    assert plan["ItemsMethod"]["action"] == "replace"
    assert plan["Deployment"]["action"] == "replace"
    example.apply()
    assert apigw.get_method(restApiId=api, resourceId=resource, httpMethod="POST")["httpMethod"] == "POST"
    example.assert_clean()

    new = ids(example)["Deployment"].split("|")[1]
    assert new != first["Deployment"].split("|")[1]
    assert apigw.get_stage(restApiId=api, stageName="prod")["deploymentId"] == new
    assert [d["id"] for d in apigw.get_deployments(restApiId=api)["items"]] == [new]  # the old one deleted
    example.destroy()
    assert apigw.get_rest_apis()["items"] == []


def test_a_lost_state_is_rebuilt_with_every_resource(example, aws_endpoint):
    """API Gateway resources, methods, the deployment and the stage are found by their parent and path,
    the Lambda permission by its statement id: the rebuilt state plans clean."""
    example.apply()
    applied = ids(example)
    (example.state_dir / "state" / "restapi.json").unlink()
    res = example.run("state", "rebuild", str(example.spec_dir))
    assert res.code == 0, res.err
    assert "not found" not in res.out and f"with {len(applied)} of {len(applied)} resources" in res.out
    assert ids(example) == applied
    plan = example.run("plan", str(example.spec_dir), "--detailed-exitcode")
    assert plan.code == 0, plan.out
