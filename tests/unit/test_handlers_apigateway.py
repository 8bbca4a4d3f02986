"""The API Gateway handlers against in-process moto: every property group created and read back in spec
shape, in-place changes made with the right calls, removed properties reset, composite ids and Ref
values, and the Deployment's Snapshot that turns a changed draft into a replacement.

Where moto lacks an operation AWS has (UpdateDeployment; TagResource on a REST API, which moto parses
as a stage ARN) the test short-circuits or teaches moto that one call, and checks what the handler sent.
moto also accepts a second resource of one path part under one parent and a second PutMethod of one verb,
where AWS answers ConflictException: those tests play AWS's answer."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.apigateway.responses import APIGatewayResponse

from deployer.diff import compare
from deployer.errors import AwsError, DeployerError
from deployer.resources import apigateway, handler_for
from deployer.resources.base import Context, Handler
from deployer.spec.refs import UNKNOWN
from tests.unit.handler_support import apply_update, create_meets_existing, update, view

API = apigateway.RestApi()
RESOURCE = apigateway.Resource()
METHOD = apigateway.Method()
DEPLOYMENT = apigateway.Deployment()
STAGE = apigateway.Stage()
OWNER = ("teststack", "LogicalId")
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:items"
LAMBDA_URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"


@pytest.fixture
def restapi_tagging(monkeypatch):
    """moto's TagResource/UntagResource read every ARN as a stage's; AWS tags a REST API by its own
    ARN (arn:aws:apigateway:REGION::/restapis/ID). Teach moto that case, keep its stage handling."""
    original_tag, original_untag = APIGatewayResponse.tag_resource, APIGatewayResponse.untag_resource

    def api_of(self):
        arn = unquote(self.path.split("/tags/")[1])
        return None if "/stages/" in arn else self.backend.get_rest_api(arn.rsplit("/", 1)[-1])

    def tag_resource(self):
        api = api_of(self)
        if api is None:
            return original_tag(self)
        api.tags.update(self._get_param("tags") or {})
        return json.dumps({})

    def untag_resource(self):
        api = api_of(self)
        if api is None:
            return original_untag(self)
        for key in self.querystring.get("tagKeys") or []:
            api.tags.pop(key, None)
        return json.dumps({})

    monkeypatch.setattr(APIGatewayResponse, "tag_resource", tag_resource)
    monkeypatch.setattr(APIGatewayResponse, "untag_resource", untag_resource)


def short_circuit(ctx: Context, operation: str, answer: dict[str, Any]) -> None:
    """Answer one operation without sending it (moto does not implement it): a before-call hook."""
    ok = AWSResponse("https://apigateway", 200, {}, None)
    ctx.client("apigateway").meta.events.register(f"before-call.api-gateway.{operation}", lambda **_: (ok, answer))


def assert_matches(handler: Handler, ctx: Context, pid: str, props: dict[str, Any], removed: Any = ()):
    """read() shows exactly what was set, and the service default for each removed property: a plan
    right after would find no change."""
    live = handler.read(ctx, pid, set(props) | set(removed))
    assert live is not None
    desired = view(handler, ctx, props)
    keys = set(desired) | set(removed)
    assert compare(keys, desired, live.properties, handler.defaults, handler.create_only, set()) == []
    return live


def conflict_on(ctx: Context, operation: str) -> None:
    """Answer `operation` with AWS's ConflictException (moto accepts the duplicate)."""
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ConflictException", "Message": "already exists"}}, operation)

    ctx.client("apigateway").meta.events.register(f"before-call.api-gateway.{operation}", refuse)


def raw() -> Any:
    return boto3.client("apigateway", region_name="us-east-1")


def new_api(ctx: Context, **props: Any) -> tuple[str, str]:
    """(api id, root resource id) of a fresh API."""
    pid, attrs = API.create(ctx, {"Name": "shop", **props})
    return pid, attrs["RootResourceId"]


def proxy_method(api_id: str, resource_id: str, verb: str = "GET", uri: str = LAMBDA_URI, **extra: Any):
    return {"RestApiId": api_id, "ResourceId": resource_id, "HttpMethod": verb,
            "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri}, **extra}


def deployable(ctx: Context) -> tuple[str, str]:
    """An API with GET / on a Lambda proxy integration: (api id, method physical id)."""
    api_id, root = new_api(ctx)
    pid, _ = METHOD.create(ctx, proxy_method(api_id, root))
    return api_id, pid


# --- registry and identity -------------------------------------------------------------------------

def test_handlers_are_registered_with_their_create_only_sets():
    for name in ("RestApi", "Resource", "Method", "Deployment", "Stage"):
        assert type(handler_for(f"AWS::ApiGateway::{name}")).__name__ == name
    assert API.create_only == set() and API.taggable
    assert RESOURCE.create_only == {"RestApiId", "ParentId", "PathPart"} and not RESOURCE.taggable
    assert METHOD.create_only == {"RestApiId", "ResourceId", "HttpMethod"} and not METHOD.taggable
    assert DEPLOYMENT.create_only == {"RestApiId", "Description", "StageName", "Snapshot"}
    assert DEPLOYMENT.write_only == {"StageName", "Snapshot"}
    assert STAGE.create_only == {"RestApiId", "StageName"} and STAGE.taggable


def test_composite_ids_give_cloudformation_ref_values():
    assert RESOURCE.ref_value("api1|res1", {}) == "res1"
    assert DEPLOYMENT.ref_value("api1|dep1", {}) == "dep1"
    assert DEPLOYMENT.ref_value("api1|dep1|prod", {}) == "dep1"
    assert STAGE.ref_value("api1|prod", {}) == "prod"
    assert METHOD.ref_value("api1|res1|GET", {}) == "api1|res1|GET"
    assert API.ref_value("api1", {}) == "api1"
    with pytest.raises(DeployerError, match="not an API Gateway id"):
        RESOURCE.read(None, "api1", set())  # type: ignore[arg-type]


def test_physical_ids_known_before_create_only_where_aws_does_not_assign_them():
    assert API.physical_id_for({"Name": "shop"}) is None
    assert METHOD.physical_id_for({"RestApiId": "a", "ResourceId": "r", "HttpMethod": "GET"}) == "a|r|GET"
    assert METHOD.physical_id_for({"RestApiId": "${Api}", "ResourceId": "r", "HttpMethod": "GET"}) is None
    assert STAGE.physical_id_for({"RestApiId": "a", "StageName": "prod"}) == "a|prod"
    assert STAGE.physical_id_for({"RestApiId": UNKNOWN, "StageName": "prod"}) is None


# --- RestApi -------------------------------------------------------------------------------------------

def full_api() -> dict[str, Any]:
    return {"Name": "shop", "Description": "the shop", "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "BinaryMediaTypes": ["image/png", "application/octet-stream"], "Tags": [{"Key": "team", "Value": "web"}]}


def test_rest_api_create_reads_back_every_group(ctx):
    props = full_api()
    pid, attrs = API.create(ctx, props)
    assert set(attrs) == {"RestApiId", "RootResourceId"} and attrs["RestApiId"] == pid
    live = assert_matches(API, ctx, pid, props)
    assert live.owner == OWNER
    assert live.attributes == attrs
    assert raw().get_rest_api(restApiId=pid)["tags"] == {"team": "web", "deployer:stack": "teststack",
                                                         "deployer:logical-id": "LogicalId"}


def test_rest_api_read_is_one_call_and_trims_defaults(ctx):
    pid, _ = API.create(ctx, {"Name": "plain"})
    ctx.aws.log.calls.clear()
    live = API.read(ctx, pid, {"Name"})
    assert dict(ctx.aws.log.counts()) == {"apigateway.GetRestApi": 1}
    assert live.properties == {"Name": "plain"}


def test_rest_api_settings_change_in_one_call_and_reset_when_removed(ctx, calls):
    props = full_api()
    pid, _ = API.create(ctx, props)
    new = {**props, "Name": "shop2", "Description": "changed", "EndpointConfiguration": {"Types": ["EDGE"]},
           "BinaryMediaTypes": ["image/gif", "image/png"]}
    calls.clear()
    apply_update(API, ctx, pid, props, new)
    assert len(calls.of("UpdateRestApi")) == 1
    assert {"op": "replace", "path": "/endpointConfiguration/types/REGIONAL", "value": "EDGE"} in \
        calls.of("UpdateRestApi")[0]["patchOperations"]
    assert_matches(API, ctx, pid, new)
    bare = {"Name": "shop2", "Tags": props["Tags"]}
    apply_update(API, ctx, pid, new, bare)
    live = assert_matches(API, ctx, pid, bare, removed=("Description", "EndpointConfiguration", "BinaryMediaTypes"))
    assert live.properties.get("BinaryMediaTypes", []) == []


def test_rest_api_tags_change_keeping_ownership(ctx, calls, restapi_tagging):
    props = full_api()
    pid, _ = API.create(ctx, props)
    new = {**props, "Tags": [{"Key": "cost", "Value": "1"}]}
    calls.clear()
    apply_update(API, ctx, pid, props, new)
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{pid}"
    assert calls.of("UntagResource") == [{"resourceArn": arn, "tagKeys": ["team"]}]
    assert calls.of("TagResource")[0]["tags"] == {"cost": "1", "deployer:stack": "teststack",
                                                  "deployer:logical-id": "LogicalId"}
    assert "UpdateRestApi" not in calls.names()
    live = assert_matches(API, ctx, pid, new)
    assert live.owner == OWNER


def test_rest_api_found_by_ownership_tags_and_tagged_on_import(ctx, restapi_tagging):
    pid, _ = API.create(ctx, {"Name": "mine"})
    raw().create_rest_api(name="theirs", tags={"deployer:stack": "other", "deployer:logical-id": "LogicalId"})
    assert API.find_owned(ctx, {"Name": "mine"}) == [pid]
    again, _ = API.create(ctx, {"Name": "mine"})  # CreateRestApi has no token: a repeated create
    assert sorted(API.find_owned(ctx, {"Name": "mine"})) == sorted([pid, again])
    adopted = raw().create_rest_api(name="adopted")["id"]
    other = Context(ctx.aws, "us-east-1", "teststack", "Adopted")
    API.tag_for_ownership(other, adopted)
    assert API.read(other, adopted, set()).owner == ("teststack", "Adopted")


def test_rest_api_delete_twice_is_fine(ctx):
    pid, _ = API.create(ctx, {"Name": "gone"})
    API.delete(ctx, pid, {})
    API.delete(ctx, pid, {})
    assert API.read(ctx, pid, set()) is None


# --- Resource ------------------------------------------------------------------------------------------

def test_resource_create_read_and_delete(ctx):
    api_id, root = new_api(ctx)
    props = {"RestApiId": api_id, "ParentId": root, "PathPart": "items"}
    pid, attrs = RESOURCE.create(ctx, props)
    resource_id = pid.split("|")[1]
    assert pid == f"{api_id}|{resource_id}"
    assert attrs == {"ResourceId": resource_id, "RestApiId": api_id}
    assert RESOURCE.ref_value(pid, attrs) == resource_id
    assert_matches(RESOURCE, ctx, pid, props)
    child, _ = RESOURCE.create(ctx, {"RestApiId": api_id, "ParentId": resource_id, "PathPart": "{id}"})
    assert update(RESOURCE, ctx, pid, props, props) == attrs
    RESOURCE.delete(ctx, child, {})
    RESOURCE.delete(ctx, child, {})
    assert RESOURCE.read(ctx, child, set()) is None
    API.delete(ctx, api_id, {})
    assert RESOURCE.read(ctx, pid, set()) is None
    RESOURCE.delete(ctx, pid, {})


def test_resource_lookup_and_find_owned_go_by_parent_and_path_part(ctx):
    """Resources carry no tags: the natural key (API, parent, path part) finds one for the plan and after a
    lost answer; a create over it answers ConflictException (played: moto makes a second one)."""
    api_id, root = new_api(ctx)
    props = {"RestApiId": api_id, "ParentId": root, "PathPart": "items"}
    assert RESOURCE.lookup(ctx, props) is None and RESOURCE.find_owned(ctx, props) == []
    pid, _ = RESOURCE.create(ctx, props)
    assert RESOURCE.lookup(ctx, props) == pid and RESOURCE.find_owned(ctx, props) == [pid]
    assert RESOURCE.lookup(ctx, {**props, "PathPart": "orders"}) is None
    assert RESOURCE.lookup(ctx, {**props, "ParentId": pid.split("|")[1]}) is None
    assert RESOURCE.lookup(ctx, {**props, "RestApiId": UNKNOWN}) is None
    assert RESOURCE.lookup(ctx, {**props, "RestApiId": "nosuchapi"}) is None
    conflict_on(ctx, "CreateResource")
    assert create_meets_existing(RESOURCE, ctx, props) == "ConflictException"


# --- Method --------------------------------------------------------------------------------------------

def test_lambda_proxy_method_reads_back(ctx):
    api_id, root = new_api(ctx)
    props = proxy_method(api_id, root, "ANY", AuthorizationType="NONE", ApiKeyRequired="false",
                         RequestParameters={"method.request.querystring.q": "true"})
    props["Integration"].update(TimeoutInMillis="29000", PassthroughBehavior="WHEN_NO_MATCH")  # the defaults
    pid, attrs = METHOD.create(ctx, props)
    assert pid == METHOD.physical_id_for(props) == f"{api_id}|{root}|ANY"
    assert attrs == {"RestApiId": api_id, "ResourceId": root, "HttpMethod": "ANY"}
    live = assert_matches(METHOD, ctx, pid, props)
    assert live.properties["Integration"] == {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": LAMBDA_URI}


def test_mock_method_with_responses_reads_back(ctx):
    api_id, root = new_api(ctx)
    props = {"RestApiId": api_id, "ResourceId": root, "HttpMethod": "GET", "ApiKeyRequired": True,
             "MethodResponses": [{"StatusCode": "500"},
                                 {"StatusCode": 200, "ResponseModels": {"application/json": "Empty"},
                                  "ResponseParameters": {"method.response.header.X-Id": False}}],
             "Integration": {"Type": "MOCK", "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                             "PassthroughBehavior": "NEVER", "TimeoutInMillis": 5000,
                             "IntegrationResponses": [
                                 {"StatusCode": "200", "ResponseTemplates": {"application/json": "{}"},
                                  "ResponseParameters": {"method.response.header.X-Id": "'1'"}},
                                 {"StatusCode": "500", "SelectionPattern": "error.*"}]}}
    pid, _ = METHOD.create(ctx, props)
    live = assert_matches(METHOD, ctx, pid, props)
    assert [r["StatusCode"] for r in live.properties["MethodResponses"]] == ["200", "500"]
    assert calls_in_order(ctx) == ["PutMethod", "PutMethodResponse", "PutMethodResponse", "PutIntegration",
                                   "PutIntegrationResponse", "PutIntegrationResponse"]


def calls_in_order(ctx: Context) -> list[str]:
    return [op for service, op in ctx.aws.log.calls if service == "apigateway" and op.startswith("Put")]


def test_method_update_rewrites_the_method(ctx, calls):
    api_id, root = new_api(ctx)
    old = proxy_method(api_id, root, MethodResponses=[{"StatusCode": "200"}])
    pid, _ = METHOD.create(ctx, old)
    other = LAMBDA_URI.replace(":items/", ":other/")
    new = proxy_method(api_id, root, uri=other, AuthorizationType="AWS_IAM", ApiKeyRequired=True,
                       RequestParameters={"method.request.header.X-Id": True})
    calls.clear()
    attrs = apply_update(METHOD, ctx, pid, old, new)
    assert attrs == {"RestApiId": api_id, "ResourceId": root, "HttpMethod": "GET"}
    assert calls.names() == ["GetMethod", "DeleteMethod", "PutMethod", "PutIntegration"]
    assert_matches(METHOD, ctx, pid, new, removed=("MethodResponses",))
    bare = {"RestApiId": api_id, "ResourceId": root, "HttpMethod": "GET"}
    apply_update(METHOD, ctx, pid, new, bare)
    live = assert_matches(METHOD, ctx, pid, bare, removed=("AuthorizationType", "ApiKeyRequired",
                                                           "RequestParameters", "Integration"))
    assert "Integration" not in live.properties


def test_method_create_over_an_existing_one_answers_conflict_and_lookup_is_its_id(ctx):
    api_id, pid = deployable(ctx)
    props = proxy_method(api_id, pid.split("|")[1])
    assert METHOD.lookup(ctx, props) == pid  # the id follows from the API, resource and verb
    conflict_on(ctx, "PutMethod")
    assert create_meets_existing(METHOD, ctx, props) == "ConflictException"


def test_method_delete_twice_is_fine(ctx):
    _, pid = deployable(ctx)
    METHOD.delete(ctx, pid, {})
    METHOD.delete(ctx, pid, {})
    assert METHOD.read(ctx, pid, set()) is None


# --- Deployment ----------------------------------------------------------------------------------------

def test_deployment_create_read_and_snapshot(ctx):
    api_id, method = deployable(ctx)
    props = {"RestApiId": api_id, "Description": "first"}
    pid, attrs = DEPLOYMENT.create(ctx, props)
    deployment_id = pid.split("|")[1]
    assert attrs == {"DeploymentId": deployment_id, "RestApiId": api_id}
    assert DEPLOYMENT.ref_value(pid, attrs) == deployment_id
    live = DEPLOYMENT.read(ctx, pid, {"RestApiId", "Description"})
    assert live.properties == {"RestApiId": api_id, "Description": "first"}
    reads = DEPLOYMENT.plan_reads(ctx, props)
    assert list(reads) == ["Snapshot"] and list(reads["Snapshot"]) == ["GET /"]
    assert reads["Snapshot"]["GET /"].startswith("sha256:")
    assert DEPLOYMENT.desired_view(props, reads) == {**props, "Snapshot": reads["Snapshot"]}
    assert DEPLOYMENT.desired_view(props) == props  # without the plan reads: nothing to add
    assert DEPLOYMENT.plan_reads(ctx, {"RestApiId": UNKNOWN}) == {"Snapshot": UNKNOWN}
    assert view(DEPLOYMENT, ctx, {"RestApiId": UNKNOWN})["Snapshot"] is UNKNOWN
    assert view(DEPLOYMENT, ctx, {"RestApiId": "nosuchapi"})["Snapshot"] is UNKNOWN


def test_a_changed_draft_replaces_the_deployment(ctx):
    """The plan compares the draft now with the Snapshot the state recorded at create."""
    api_id, method = deployable(ctx)
    props = {"RestApiId": api_id}
    DEPLOYMENT.create(ctx, props)
    recorded = view(DEPLOYMENT, ctx, props)
    assert compare(set(recorded), view(DEPLOYMENT, ctx, props), recorded, DEPLOYMENT.defaults,
                   DEPLOYMENT.create_only, set()) == []
    _, root = method.split("|")[:2]
    apply_update(METHOD, ctx, method, proxy_method(api_id, root),
                 proxy_method(api_id, root, uri=LAMBDA_URI.replace(":items/", ":v2/")))
    raw().update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "add", "path": "/binaryMediaTypes/image~1png", "value": "image/png"}])
    now = view(DEPLOYMENT, ctx, props)
    changes = compare(set(now), now, recorded, DEPLOYMENT.defaults, DEPLOYMENT.create_only, set())
    assert {c.path for c in changes} == {"Snapshot.GET /", "Snapshot.BinaryMediaTypes"}
    assert all(c.replace for c in changes)


def test_deployment_read_of_a_missing_one_is_none(ctx):
    api_id, _ = deployable(ctx)
    assert DEPLOYMENT.read(ctx, f"{api_id}|nope", set()) is None
    assert DEPLOYMENT.read(ctx, "nope|nope", set()) is None


def test_deployment_served_by_a_stage_is_not_deleted_until_the_stage_moves(ctx):
    api_id, _ = deployable(ctx)
    old, _ = DEPLOYMENT.create(ctx, {"RestApiId": api_id})
    STAGE.create(ctx, {"RestApiId": api_id, "StageName": "prod", "DeploymentId": DEPLOYMENT.ref_value(old, {})})
    with pytest.raises(AwsError, match="still served by stage.*prod.*create_before_destroy"):
        DEPLOYMENT.delete(ctx, old, {})
    new, _ = DEPLOYMENT.create(ctx, {"RestApiId": api_id})
    update(STAGE, ctx, f"{api_id}|prod", {"DeploymentId": DEPLOYMENT.ref_value(old, {})},
           {"DeploymentId": DEPLOYMENT.ref_value(new, {})})
    DEPLOYMENT.delete(ctx, old, {})
    DEPLOYMENT.delete(ctx, old, {})
    assert DEPLOYMENT.read(ctx, old, set()) is None
    assert DEPLOYMENT.read(ctx, new, set()) is not None


def test_deployment_with_stage_name_owns_that_stage(ctx):
    api_id, _ = deployable(ctx)
    props = {"RestApiId": api_id, "StageName": "beta"}
    pid, attrs = DEPLOYMENT.create(ctx, props)
    assert pid == f"{api_id}|{attrs['DeploymentId']}|beta"
    assert DEPLOYMENT.read(ctx, pid, {"StageName"}).properties["StageName"] == "beta"
    assert raw().get_stage(restApiId=api_id, stageName="beta")["deploymentId"] == attrs["DeploymentId"]
    DEPLOYMENT.delete(ctx, pid, {})
    assert raw().get_stages(restApiId=api_id)["item"] == []
    assert DEPLOYMENT.read(ctx, pid, set()) is None


def test_deployment_description_update_sends_the_patch(ctx, calls):
    """Never planned (every property is create-only) but implemented; moto lacks UpdateDeployment."""
    api_id, _ = deployable(ctx)
    pid, attrs = DEPLOYMENT.create(ctx, {"RestApiId": api_id, "Description": "a"})
    short_circuit(ctx, "UpdateDeployment", {"id": attrs["DeploymentId"]})
    assert update(DEPLOYMENT, ctx, pid, {"RestApiId": api_id, "Description": "a"},
                  {"RestApiId": api_id, "Description": "b"}) == attrs
    assert calls.of("UpdateDeployment") == [{"restApiId": api_id, "deploymentId": attrs["DeploymentId"],
                                             "patchOperations": [{"op": "replace", "path": "/description",
                                                                  "value": "b"}]}]


def test_deployment_find_owned_lists_the_apis_deployments_of_that_description(ctx):
    """Deployments carry no tags: after a lost answer, those of the API with the spec's description (the
    engine leaves out the ones its state records)."""
    api_id, _ = deployable(ctx)
    first, _ = DEPLOYMENT.create(ctx, {"RestApiId": api_id, "Description": "v1"})
    second, _ = DEPLOYMENT.create(ctx, {"RestApiId": api_id, "Description": "v1"})
    other, _ = DEPLOYMENT.create(ctx, {"RestApiId": api_id})
    assert sorted(DEPLOYMENT.find_owned(ctx, {"RestApiId": api_id, "Description": "v1"})) == sorted([first, second])
    assert DEPLOYMENT.find_owned(ctx, {"RestApiId": api_id}) == [other]
    staged_pid, _ = DEPLOYMENT.create(ctx, {"RestApiId": api_id, "Description": "s", "StageName": "beta"})
    assert DEPLOYMENT.find_owned(ctx, {"RestApiId": api_id, "Description": "s", "StageName": "beta"}) == [staged_pid]
    assert DEPLOYMENT.find_owned(ctx, {"RestApiId": UNKNOWN}) == []
    assert DEPLOYMENT.find_owned(ctx, {"RestApiId": "nosuchapi"}) == []


# --- Stage ---------------------------------------------------------------------------------------------

def staged(ctx: Context) -> tuple[str, str, str]:
    """(api id, deployment id, second deployment id)."""
    api_id, _ = deployable(ctx)
    first = DEPLOYMENT.create(ctx, {"RestApiId": api_id})[1]["DeploymentId"]
    second = DEPLOYMENT.create(ctx, {"RestApiId": api_id})[1]["DeploymentId"]
    return api_id, first, second


def test_stage_create_reads_back_every_group(ctx):
    api_id, first, _ = staged(ctx)
    props = {"RestApiId": api_id, "StageName": "prod", "DeploymentId": first, "Description": "live",
             "Variables": {"alias": "live", "n": 5}, "TracingEnabled": "true", "Tags": [{"Key": "env", "Value": "p"}]}
    pid, attrs = STAGE.create(ctx, props)
    assert pid == f"{api_id}|prod" and attrs == {"RestApiId": api_id, "StageName": "prod"}
    live = assert_matches(STAGE, ctx, pid, props)
    assert live.owner == OWNER
    assert raw().get_stage(restApiId=api_id, stageName="prod")["variables"] == {"alias": "live", "n": "5"}


def test_stage_settings_change_in_one_call_and_reset_when_removed(ctx, calls):
    api_id, first, second = staged(ctx)
    old = {"RestApiId": api_id, "StageName": "prod", "DeploymentId": first, "Description": "a",
           "Variables": {"keep": "1", "drop": "2"}, "Tags": [{"Key": "env", "Value": "p"}]}
    pid, _ = STAGE.create(ctx, old)
    new = {**old, "DeploymentId": second, "Description": "b", "Variables": {"keep": "one", "add": "3"},
           "TracingEnabled": True, "Tags": [{"Key": "env", "Value": "q"}]}
    calls.clear()
    apply_update(STAGE, ctx, pid, old, new)
    ops = calls.of("UpdateStage")[0]["patchOperations"]
    assert len(calls.of("UpdateStage")) == 1
    assert {"op": "replace", "path": "/deploymentId", "value": second} in ops
    assert {"op": "remove", "path": "/variables/drop"} in ops
    assert calls.of("TagResource")[0]["tags"]["env"] == "q"
    assert_matches(STAGE, ctx, pid, new)
    bare = {"RestApiId": api_id, "StageName": "prod", "DeploymentId": second}
    apply_update(STAGE, ctx, pid, new, bare)
    live = assert_matches(STAGE, ctx, pid, bare, removed=("Description", "Variables", "TracingEnabled", "Tags"))
    assert live.owner == OWNER


LOG_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:api-access"


def test_stage_access_log_setting_is_set_after_create_changed_and_removed(ctx, calls):
    """CreateStage takes no access log setting: one UpdateStage follows it. CloudFormation's LogGroup.Arn
    ends with ":*", which API Gateway does not answer: both forms compare equal."""
    api_id, first, _ = staged(ctx)
    props = {"RestApiId": api_id, "StageName": "prod", "DeploymentId": first,
             "AccessLogSetting": {"DestinationArn": LOG_ARN + ":*", "Format": "$context.requestId"}}
    pid, _ = STAGE.create(ctx, props)
    assert calls.of("UpdateStage")[0]["patchOperations"] == [
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_ARN},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"}]
    live = assert_matches(STAGE, ctx, pid, props)
    assert live.properties["AccessLogSetting"] == {"DestinationArn": LOG_ARN, "Format": "$context.requestId"}
    new = {**props, "AccessLogSetting": {"DestinationArn": LOG_ARN, "Format": "$context.requestId $context.status"}}
    calls.clear()
    apply_update(STAGE, ctx, pid, props, new)
    assert calls.of("UpdateStage")[0]["patchOperations"] == [
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId $context.status"}]
    assert_matches(STAGE, ctx, pid, new)
    bare = {k: v for k, v in new.items() if k != "AccessLogSetting"}
    calls.clear()
    apply_update(STAGE, ctx, pid, new, bare)
    assert calls.of("UpdateStage")[0]["patchOperations"] == [{"op": "remove", "path": "/accessLogSettings"}]
    assert_matches(STAGE, ctx, pid, bare, removed=("AccessLogSetting",))
    assert "accessLogSettings" not in raw().get_stage(restApiId=api_id, stageName="prod")


def test_stage_access_log_field_dropped_clears_the_setting_first(ctx, calls):
    api_id, first, _ = staged(ctx)
    both = {"RestApiId": api_id, "StageName": "beta", "DeploymentId": first,
            "AccessLogSetting": {"DestinationArn": LOG_ARN, "Format": "$context.requestId"}}
    pid, _ = STAGE.create(ctx, both)
    only_arn = {**both, "AccessLogSetting": {"DestinationArn": LOG_ARN}}
    calls.clear()
    apply_update(STAGE, ctx, pid, both, only_arn)
    assert calls.of("UpdateStage")[0]["patchOperations"] == [
        {"op": "remove", "path": "/accessLogSettings"},
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_ARN}]
    assert_matches(STAGE, ctx, pid, only_arn)


def test_stage_create_of_a_taken_name_answers_conflict_and_lookup_is_its_id(ctx, aws):
    api_id, first, _ = staged(ctx)
    props = {"RestApiId": api_id, "StageName": "prod", "DeploymentId": first}
    assert STAGE.lookup(ctx, props) == f"{api_id}|prod"
    STAGE.create(Context(aws, "us-east-1", "teststack", "Other"), props)
    assert create_meets_existing(STAGE, ctx, props) == "ConflictException"
    assert STAGE.read(ctx, f"{api_id}|prod", {"Tags"}).owner == ("teststack", "Other")  # for the engine


def test_stage_delete_twice_and_tag_for_ownership(ctx):
    api_id, first, _ = staged(ctx)
    raw().create_stage(restApiId=api_id, stageName="byhand", deploymentId=first)
    STAGE.tag_for_ownership(ctx, f"{api_id}|byhand")
    assert STAGE.read(ctx, f"{api_id}|byhand", set()).owner == OWNER
    STAGE.delete(ctx, f"{api_id}|byhand", {})
    STAGE.delete(ctx, f"{api_id}|byhand", {})
    assert STAGE.read(ctx, f"{api_id}|byhand", set()) is None
