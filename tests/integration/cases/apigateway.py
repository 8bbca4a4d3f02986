"""Cases for the API Gateway REST API types: API, resource, method, deployment, stage.

What moto cannot do is left out here and covered by tests/unit/test_handlers_apigateway.py:
- TagResource/UntagResource on a REST API (moto parses every ARN as a stage's): the RestApi case sets
  no tags, so neither a tag update nor a tag removal is asked of moto.
- UpdateResource, UpdateMethod, UpdateIntegration, UpdateDeployment are not implemented: drift on a
  resource or a deployment is made by deleting it out of band; drift on a method by overwriting its
  integration (PutIntegration).
"""

from __future__ import annotations

from tests.integration.cases import Case

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:itest-{}"
URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + FUNCTION + "/invocations"
API = {"type": "AWS::ApiGateway::RestApi", "properties": {"Name": "itest-api"}}
ITEMS = {"type": "AWS::ApiGateway::Resource",
         "properties": {"RestApiId": "${Api}", "ParentId": "${Api.RootResourceId}", "PathPart": "items"}}
GET = {"type": "AWS::ApiGateway::Method",
       "properties": {"RestApiId": "${Api}", "ResourceId": "${Api.RootResourceId}", "HttpMethod": "GET",
                      "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": URI.format("a")}}}


def deployment(description: str) -> dict:
    """A deployment after the GET method (it must exist before the API can be deployed)."""
    return {"type": "AWS::ApiGateway::Deployment", "depends_on": ["Get"],
            "properties": {"RestApiId": "${Api}", "Description": description}}


def _missing(call) -> bool:
    try:
        call()
        return False
    except Exception as exc:  # botocore ClientError
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return "NotFound" in code


def api_exists(c, pid):
    return not _missing(lambda: c("apigateway").get_rest_api(restApiId=pid))


def resource_exists(c, pid):
    api, res = pid.split("|")
    return not _missing(lambda: c("apigateway").get_resource(restApiId=api, resourceId=res))


def method_exists(c, pid):
    api, res, verb = pid.split("|")
    return not _missing(lambda: c("apigateway").get_method(restApiId=api, resourceId=res, httpMethod=verb))


def deployment_exists(c, pid):
    api, dep = pid.split("|")[:2]
    if _missing(lambda: c("apigateway").get_rest_api(restApiId=api)):
        return False
    return any(d["id"] == dep for d in c("apigateway").get_deployments(restApiId=api)["items"])


def stage_exists(c, pid):
    api, name = pid.split("|")
    return not _missing(lambda: c("apigateway").get_stage(restApiId=api, stageName=name))


def _drift_method(c, pid):
    api, res, verb = pid.split("|")
    c("apigateway").put_integration(restApiId=api, resourceId=res, httpMethod=verb, type="HTTP",
                                    integrationHttpMethod="GET", uri="https://drift.example.com")


def _delete_deployment(c, pid):
    api, dep = pid.split("|")[:2]
    c("apigateway").delete_deployment(restApiId=api, deploymentId=dep)


CASES = [
    Case(
        id="apigateway-restapi",
        type="AWS::ApiGateway::RestApi",
        props={"Name": "itest-api", "Description": "first", "EndpointConfiguration": {"Types": ["EDGE"]},
               "BinaryMediaTypes": ["image/png"]},
        updates=[
            {"Name": "itest-api-two", "Description": "second"},
            {"EndpointConfiguration": {"Types": ["REGIONAL"]}},
            {"BinaryMediaTypes": ["image/gif", "application/octet-stream"]},
            # Tags: moto cannot tag a REST API after create (see the module docstring)
        ],
        replace=None,  # nothing about a REST API is create-only
        remove=["Description", "EndpointConfiguration", "BinaryMediaTypes"],
        drift=lambda c, pid: c("apigateway").update_rest_api(
            restApiId=pid, patchOperations=[{"op": "replace", "path": "/description", "value": "by hand"}]),
        exists=api_exists,
    ),
    Case(
        id="apigateway-resource",
        type="AWS::ApiGateway::Resource",
        support={"Api": API},
        props={"RestApiId": "${Api}", "ParentId": "${Api.RootResourceId}", "PathPart": "items"},
        updates=[],  # every property is create-only
        replace={"PathPart": "things"},
        drift=lambda c, pid: c("apigateway").delete_resource(restApiId=pid.split("|")[0],
                                                             resourceId=pid.split("|")[1]),
        exists=resource_exists,
    ),
    Case(
        id="apigateway-method",
        type="AWS::ApiGateway::Method",
        support={"Api": API, "Items": ITEMS},
        props={"RestApiId": "${Api}", "ResourceId": "${Items.ResourceId}", "HttpMethod": "GET",
               "AuthorizationType": "NONE",
               "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": URI.format("a")}},
        updates=[
            {"Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": URI.format("b"),
                             "TimeoutInMillis": 10000}},
            {"AuthorizationType": "AWS_IAM", "ApiKeyRequired": True,
             "RequestParameters": {"method.request.querystring.q": True}},
            {"MethodResponses": [{"StatusCode": "200", "ResponseModels": {"application/json": "Empty"}}],
             "Integration": {"Type": "MOCK", "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                             "IntegrationResponses": [{"StatusCode": "200",
                                                       "ResponseTemplates": {"application/json": "{}"}}]}},
        ],
        replace={"HttpMethod": "POST"},
        remove=["MethodResponses", "RequestParameters", "ApiKeyRequired"],
        drift=_drift_method,
        exists=method_exists,
    ),
    Case(
        id="apigateway-deployment",
        type="AWS::ApiGateway::Deployment",
        support={"Api": API, "Get": GET},
        props={"RestApiId": "${Api}", "Description": "first"},
        depends_on=["Get"],
        updates=[],  # a deployment is immutable: every change is a new one
        replace={"Description": "second"},
        drift=_delete_deployment,
        exists=deployment_exists,
    ),
    Case(
        id="apigateway-stage",
        type="AWS::ApiGateway::Stage",
        support={"Api": API, "Get": GET, "First": deployment("first"), "Second": deployment("second"),
                 "AccessLogs": {"type": "AWS::Logs::LogGroup", "properties": {}}},
        props={"RestApiId": "${Api}", "StageName": "itest", "DeploymentId": "${First}", "Description": "first",
               "Variables": {"alias": "one"},
               "AccessLogSetting": {"DestinationArn": "${AccessLogs.Arn}", "Format": "$context.requestId"}},
        updates=[
            {"DeploymentId": "${Second.DeploymentId}"},
            {"Description": "second", "TracingEnabled": True},
            {"Variables": {"alias": "two", "extra": "3"}},
            {"AccessLogSetting": {"DestinationArn": "${AccessLogs.Arn}",
                                  "Format": "$context.requestId $context.httpMethod $context.status"}},
            {"Tags": [{"Key": "team", "Value": "api"}]},
        ],
        replace={"StageName": "itest-two"},
        remove=["Variables", "Description", "TracingEnabled", "AccessLogSetting", "Tags"],
        drift=lambda c, pid: c("apigateway").update_stage(
            restApiId=pid.split("|")[0], stageName=pid.split("|")[1],
            patchOperations=[{"op": "replace", "path": "/description", "value": "by hand"}]),
        exists=stage_exists,
    ),
]
