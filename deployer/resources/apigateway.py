"""API Gateway REST API handlers: RestApi, Resource, Method, Deployment and Stage.

Identity. Only a RestApi has an id of its own. The others live inside an API, so their physical
ids are composite, "|"-separated, the API id first, so that read() and delete() (which get only the
physical id) can find them:

    RestApi     RESTAPIID
    Resource    RESTAPIID|RESOURCEID
    Method      RESTAPIID|RESOURCEID|HTTPMETHOD
    Deployment  RESTAPIID|DEPLOYMENTID        (RESTAPIID|DEPLOYMENTID|STAGENAME with StageName)
    Stage       RESTAPIID|STAGENAME

`${Name}` gives what CloudFormation's Ref gives (Handler.ref_value): the ResourceId, the
DeploymentId, the StageName; a Method's Ref is opaque in CloudFormation, here it is the composite
id. Each part is also an attribute (`${Items.ResourceId}`, `${Deploy.DeploymentId}`...).

Methods are a draft. Nothing a Method says reaches clients until a Deployment snapshots the API and
a Stage serves that snapshot. So:
- Method.update rewrites the method whole (DeleteMethod, then PutMethod, responses, integration):
  it is safe (the draft is not live) and it works where UpdateMethod/UpdateIntegration do not (moto).
- Deployment is immutable (every property create-only) and carries a deployer-computed property,
  `Snapshot`: one digest per method of the draft ("GET /items": "sha256:..."), plus the API's binary
  media types. desired_view reads the draft as it is now; the state keeps the Snapshot taken right
  after the deployment was created. When they differ, the plan replaces the Deployment: a new
  deployment is created, every Stage that refers to it (`DeploymentId: ${Deploy}`) moves to it,
  and the old one is deleted. The plan shows which methods changed (Snapshot."GET /items").
  Replacing needs `lifecycle.create_before_destroy: true` on the Deployment (a deployment a stage
  still serves cannot be deleted): delete() refuses with that advice instead of half-working.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from deployer.aws import error_code
from deployer.errors import AwsError, DeployerError
from deployer.normalize import canon
from deployer.resources.base import Context, Handler, Live, TagApi, owner_of, user_tags, with_ownership
from deployer.spec.refs import UNKNOWN, contains_unknown

SEP = "|"
NOT_FOUND = frozenset({"NotFoundException"})
CONFLICT = frozenset({"ConflictException"})
APIGW_TAGS = TagApi("apigateway", add="tag_resource", remove="untag_resource", id_param="resourceArn",
                    tags_param="tags", keys_param="tagKeys", shape="map")
DEFAULT_ENDPOINT = {"Types": ["EDGE"]}
INTEGRATION_DEFAULTS = {"PassthroughBehavior": "WHEN_NO_MATCH", "TimeoutInMillis": 29000}
SNAPSHOT = "Snapshot"


# --- ids, patches, errors -----------------------------------------------------------------------

def join_id(*parts: str) -> str:
    return SEP.join(parts)


def split_id(physical_id: str, count: int) -> list[str]:
    """The parts of a composite physical id; a malformed one (hand-edited state) is a clear error."""
    parts = physical_id.split(SEP)
    if len(parts) < count or not all(parts):
        raise DeployerError(f"'{physical_id}' is not an API Gateway id of the form "
                            f"{SEP.join(['PART'] * count)}")
    return parts


def _plain(*values: Any) -> bool:
    """Every value is a known string without references (a physical id can be built from them)."""
    return all(isinstance(v, str) and v and "${" not in v for v in values)


def _escape(text: str) -> str:
    """A JSON Pointer segment: API Gateway patch paths escape ~ and / (RFC 6901)."""
    return text.replace("~", "~0").replace("/", "~1")


def _op(op: str, path: str, value: Any = None) -> dict[str, str]:
    out = {"op": op, "path": path}
    if value is not None:
        out["value"] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _gone(call: Callable[..., Any], **kwargs: Any) -> bool:
    """Run a call; True when it says the target does not exist (already gone is success for deletes)."""
    try:
        call(**kwargs)
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            return True
        raise
    return False


def _digest(value: Any) -> str:
    data = json.dumps(canon(value), sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()[:16]


def _arn(ctx: Context, path: str) -> str:
    return f"arn:{ctx.partition}:apigateway:{ctx.region}::{path}"


# --- RestApi ------------------------------------------------------------------------------------

class RestApi(Handler):
    """AWS::ApiGateway::RestApi; the physical id is the RestApiId (CloudFormation's Ref)."""

    type_name = "AWS::ApiGateway::RestApi"
    name_property = "Name"
    name_max_length = 128
    defaults: ClassVar[dict[str, Any]] = {
        "Description": "", "EndpointConfiguration": DEFAULT_ENDPOINT, "BinaryMediaTypes": [], "Tags": [],
    }
    not_found_codes = NOT_FOUND
    tag_api = APIGW_TAGS

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Unknown before create: API Gateway assigns the id (names need not be unique)."""
        return None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Binary media types are a set to API Gateway: sorted, as read() returns them."""
        view = dict(props)
        if isinstance(props.get("BinaryMediaTypes"), list):
            view["BinaryMediaTypes"] = sorted(props["BinaryMediaTypes"], key=str)
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetRestApi: it carries the tags too."""
        api = self.absent(lambda: ctx.client("apigateway").get_rest_api(restApiId=physical_id))
        if api is None:
            return None
        props = {
            "Name": api.get("name"),
            "Description": api.get("description") or "",
            "EndpointConfiguration": {"Types": list((api.get("endpointConfiguration") or {}).get("types") or [])},
            "BinaryMediaTypes": sorted(api.get("binaryMediaTypes") or []),
            "Tags": user_tags(api.get("tags")),
        }
        return Live(properties=self.trim(props, wanted), attributes=_api_attributes(api),
                    owner=owner_of(api.get("tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateRestApi with the ownership tags; binary media types follow as patches (one path for
        create and update: some implementations ignore them on create)."""
        client = ctx.client("apigateway")
        args: dict[str, Any] = {"name": props["Name"], "tags": with_ownership(ctx, props.get("Tags"))}
        if props.get("Description"):
            args["description"] = props["Description"]
        if props.get("EndpointConfiguration"):
            args["endpointConfiguration"] = {"types": list(props["EndpointConfiguration"].get("Types") or [])}
        api = client.create_rest_api(**args)
        media = _media_ops([], props.get("BinaryMediaTypes") or [])
        if media:
            api = client.update_rest_api(restApiId=api["id"], patchOperations=media)
        return api["id"], _api_attributes(api)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Settings in one UpdateRestApi (patch operations), then tags."""
        client = ctx.client("apigateway")
        ops = self._settings_ops(before, after, changed)
        api = client.update_rest_api(restApiId=physical_id, patchOperations=ops) if ops else \
            client.get_rest_api(restApiId=physical_id)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _api_attributes(api)

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        return _arn(ctx, f"/restapis/{physical_id}")

    def _settings_ops(self, before: dict[str, Any], after: dict[str, Any],
                      changed: frozenset[str]) -> list[dict[str, str]]:
        """Patch operations for what differs; a removed property goes back to its default."""
        ops: list[dict[str, str]] = []
        for key, path in (("Name", "/name"), ("Description", "/description")):
            if key in changed:
                ops.append(_op("replace", path, after.get(key, self.defaults.get(key, ""))))
        if "EndpointConfiguration" in changed:
            old = _endpoint_types(before.get("EndpointConfiguration"))
            new = _endpoint_types(after.get("EndpointConfiguration"))
            ops.append(_op("replace", f"/endpointConfiguration/types/{_escape(old[0])}", new[0]))
        if "BinaryMediaTypes" in changed:
            ops += _media_ops(before.get("BinaryMediaTypes") or [], after.get("BinaryMediaTypes") or [])
        return ops

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteRestApi (it takes every resource, method, deployment and stage with it). Existence is
        checked first: some implementations (moto) fail with a server error on an unknown id."""
        client = ctx.client("apigateway")
        if not _gone(client.get_rest_api, restApiId=physical_id):
            _gone(client.delete_rest_api, restApiId=physical_id)

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """APIs tagged as this stack's logical id (GetRestApis lists tags; the tagging API does not
        cover API Gateway everywhere)."""
        wanted = ctx.ownership_tags()
        pages = ctx.client("apigateway").get_paginator("get_rest_apis").paginate()
        return [api["id"] for page in pages for api in page.get("items", [])
                if all((api.get("tags") or {}).get(k) == v for k, v in wanted.items())]


def _api_attributes(api: dict[str, Any]) -> dict[str, Any]:
    return {"RestApiId": api["id"], "RootResourceId": api.get("rootResourceId")}


def _endpoint_types(config: Any) -> list[str]:
    types = (config or {}).get("Types") if isinstance(config, dict) else None
    return list(types or DEFAULT_ENDPOINT["Types"])


def _media_ops(before: list[str], after: list[str]) -> list[dict[str, str]]:
    """add/remove per media type. The value rides along on both: RFC 6902 says AWS ignores it on
    remove, and moto needs it to know which type to add or remove."""
    removed = [_op("remove", f"/binaryMediaTypes/{_escape(t)}", t) for t in sorted(set(before) - set(after))]
    added = [_op("add", f"/binaryMediaTypes/{_escape(t)}", t) for t in sorted(set(after) - set(before))]
    return removed + added


# --- Resource -----------------------------------------------------------------------------------

class Resource(Handler):
    """AWS::ApiGateway::Resource: a path part under a parent. Every property is create-only."""

    type_name = "AWS::ApiGateway::Resource"
    tags_property = None
    not_found_codes = NOT_FOUND
    already_exists_codes = CONFLICT

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        return split_id(physical_id, 2)[1]

    def lookup(self, ctx: Context, props: dict[str, Any]) -> str | None:
        """The resource of that path part under that parent, if the API has one already."""
        found = self.find_owned(ctx, props)
        return found[0] if found else None

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Resources carry no tags: after a lost answer, the one of that path part under that parent."""
        api, parent, part = props.get("RestApiId"), props.get("ParentId"), props.get("PathPart")
        if not _plain(api, parent, part):
            return []
        client = ctx.client("apigateway")
        pages = self.absent(lambda: list(client.get_paginator("get_resources").paginate(restApiId=api)))
        if pages is None:
            return []
        return [join_id(api, r["id"]) for page in pages for r in page.get("items", [])
                if r.get("parentId") == parent and r.get("pathPart") == part]

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        api_id, resource_id = split_id(physical_id, 2)
        res = self.absent(lambda: ctx.client("apigateway").get_resource(restApiId=api_id, resourceId=resource_id))
        if res is None:
            return None
        props = {"RestApiId": api_id, "ParentId": res.get("parentId"), "PathPart": res.get("pathPart")}
        return Live(properties=self.trim(props, wanted), attributes=_resource_attributes(api_id, resource_id))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        res = ctx.client("apigateway").create_resource(restApiId=props["RestApiId"], parentId=props["ParentId"],
                                                       pathPart=props["PathPart"])
        return join_id(props["RestApiId"], res["id"]), _resource_attributes(props["RestApiId"], res["id"])

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Nothing changes in place (every property is create-only): the attributes stay as they are."""
        return _resource_attributes(*split_id(physical_id, 2))

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteResource (child resources and methods go with it); checked first, as for the API."""
        api_id, resource_id = split_id(physical_id, 2)
        client = ctx.client("apigateway")
        if not _gone(client.get_resource, restApiId=api_id, resourceId=resource_id):
            _gone(client.delete_resource, restApiId=api_id, resourceId=resource_id)


def _resource_attributes(api_id: str, resource_id: str) -> dict[str, Any]:
    return {"ResourceId": resource_id, "RestApiId": api_id}


# --- Method -------------------------------------------------------------------------------------

class Method(Handler):
    """AWS::ApiGateway::Method with its integration and responses (see the module docstring)."""

    type_name = "AWS::ApiGateway::Method"
    tags_property = None
    not_found_codes = NOT_FOUND
    already_exists_codes = CONFLICT
    defaults: ClassVar[dict[str, Any]] = {
        "AuthorizationType": "NONE", "ApiKeyRequired": False, "RequestParameters": {}, "MethodResponses": [],
    }

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Known before create: the API, the resource and the verb identify a method."""
        ids = (props.get("RestApiId"), props.get("ResourceId"), props.get("HttpMethod"))
        return join_id(*ids) if _plain(*ids) else None

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec in read() shape: responses sorted by status code, integration defaults folded."""
        view = dict(props)
        if isinstance(props.get("MethodResponses"), list):
            view["MethodResponses"] = _sorted_responses(props["MethodResponses"])
        if isinstance(props.get("Integration"), dict) and not contains_unknown(props["Integration"]):
            view["Integration"] = _integration_view(props["Integration"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetMethod: it embeds the integration and both kinds of responses."""
        api_id, resource_id, verb = split_id(physical_id, 3)
        raw = self.absent(lambda: ctx.client("apigateway").get_method(restApiId=api_id, resourceId=resource_id, httpMethod=verb))
        if raw is None:
            return None
        props = _method_props(raw)
        props.update(RestApiId=api_id, ResourceId=resource_id, HttpMethod=raw.get("httpMethod", verb))
        return Live(properties=self.trim(props, wanted), attributes=_method_attributes(api_id, resource_id, verb))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ids = (props["RestApiId"], props["ResourceId"], props["HttpMethod"])
        _put_method(ctx.client("apigateway"), *ids, props)
        return join_id(*ids), _method_attributes(*ids)

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """The method rewritten whole: DeleteMethod, then everything PutMethod & co. set at create.
        The draft is not served until a deployment, so nothing is briefly missing for clients."""
        ids = split_id(physical_id, 3)
        client = ctx.client("apigateway")
        client.delete_method(restApiId=ids[0], resourceId=ids[1], httpMethod=ids[2])
        _put_method(client, *ids, after)
        return _method_attributes(*ids)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        api_id, resource_id, verb = split_id(physical_id, 3)
        _gone(ctx.client("apigateway").delete_method, restApiId=api_id, resourceId=resource_id, httpMethod=verb)


def _method_attributes(api_id: str, resource_id: str, verb: str) -> dict[str, Any]:
    return {"RestApiId": api_id, "ResourceId": resource_id, "HttpMethod": verb}


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Without absent and empty values (API Gateway omits empty maps; "" selection patterns too)."""
    return {k: v for k, v in mapping.items() if v not in (None, "", {}, [])}


def _sorted_responses(responses: list[Any]) -> list[Any]:
    shaped = [_compact(r) if isinstance(r, dict) else r for r in responses]
    return sorted(shaped, key=lambda r: str(r.get("StatusCode")) if isinstance(r, dict) else str(r))


def _integration_view(integration: dict[str, Any]) -> dict[str, Any]:
    """An integration without its service defaults, so a spec that states them equals one that does not.
    A MOCK integration has no backend verb: IntegrationHttpMethod is meaningless there."""
    view = _compact(integration)
    for key, default in INTEGRATION_DEFAULTS.items():
        if key in view and canon(view[key]) == canon(default):
            del view[key]
    if view.get("Type") == "MOCK":
        view.pop("IntegrationHttpMethod", None)
    if "IntegrationResponses" in view:
        view["IntegrationResponses"] = _sorted_responses(view["IntegrationResponses"])
    return view


def _method_props(raw: dict[str, Any]) -> dict[str, Any]:
    """GetMethod's answer in spec shape (identity excluded)."""
    responses = [{"StatusCode": code, "ResponseModels": r.get("responseModels"),
                  "ResponseParameters": r.get("responseParameters")}
                 for code, r in (raw.get("methodResponses") or {}).items()]
    props: dict[str, Any] = {
        "AuthorizationType": raw.get("authorizationType", "NONE"),
        "ApiKeyRequired": bool(raw.get("apiKeyRequired", False)),
        "RequestParameters": raw.get("requestParameters") or {},
        "MethodResponses": _sorted_responses(responses),
    }
    if raw.get("methodIntegration"):
        props["Integration"] = _integration_view(_integration_props(raw["methodIntegration"]))
    return props


def _integration_props(raw: dict[str, Any]) -> dict[str, Any]:
    responses = [{"StatusCode": code, "SelectionPattern": r.get("selectionPattern"),
                  "ResponseTemplates": r.get("responseTemplates"), "ResponseParameters": r.get("responseParameters")}
                 for code, r in (raw.get("integrationResponses") or {}).items()]
    return {
        "Type": raw.get("type"), "IntegrationHttpMethod": raw.get("httpMethod"), "Uri": raw.get("uri"),
        "Credentials": raw.get("credentials"), "PassthroughBehavior": raw.get("passthroughBehavior"),
        "RequestTemplates": raw.get("requestTemplates"), "TimeoutInMillis": raw.get("timeoutInMillis"),
        "IntegrationResponses": responses,
    }


def _put_method(client: Any, api_id: str, resource_id: str, verb: str, props: dict[str, Any]) -> None:
    """PutMethod, its responses, the integration and its responses, in the order API Gateway needs
    (an integration response refers to a method response's status code)."""
    ids = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": verb}
    args: dict[str, Any] = {"authorizationType": props.get("AuthorizationType") or "NONE",
                            "apiKeyRequired": canon(props.get("ApiKeyRequired")) is True}
    if props.get("RequestParameters"):
        args["requestParameters"] = {k: canon(v) is True for k, v in props["RequestParameters"].items()}
    client.put_method(**ids, **args)
    for response in props.get("MethodResponses") or []:
        client.put_method_response(**ids, **_method_response_args(response))
    integration = props.get("Integration")
    if not integration:
        return
    client.put_integration(**ids, **_integration_args(integration))
    for response in integration.get("IntegrationResponses") or []:
        client.put_integration_response(**ids, **_integration_response_args(response))


def _method_response_args(response: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {"statusCode": str(response["StatusCode"])}
    if response.get("ResponseModels"):
        args["responseModels"] = response["ResponseModels"]
    if response.get("ResponseParameters"):
        args["responseParameters"] = {k: canon(v) is True for k, v in response["ResponseParameters"].items()}
    return args


def _integration_args(integration: dict[str, Any]) -> dict[str, Any]:
    names = {"Type": "type", "IntegrationHttpMethod": "integrationHttpMethod", "Uri": "uri",
             "Credentials": "credentials", "PassthroughBehavior": "passthroughBehavior",
             "RequestTemplates": "requestTemplates"}
    args = {api: integration[key] for key, api in names.items() if integration.get(key) not in (None, "", {})}
    if integration.get("TimeoutInMillis") is not None:
        args["timeoutInMillis"] = int(canon(integration["TimeoutInMillis"]))
    return args


def _integration_response_args(response: dict[str, Any]) -> dict[str, Any]:
    names = {"SelectionPattern": "selectionPattern", "ResponseTemplates": "responseTemplates",
             "ResponseParameters": "responseParameters"}
    args = {api: response[key] for key, api in names.items() if response.get(key) not in (None, {})}
    args["statusCode"] = str(response["StatusCode"])
    return args


# --- Deployment ---------------------------------------------------------------------------------

class Deployment(Handler):
    """AWS::ApiGateway::Deployment: an immutable snapshot of the API (see the module docstring)."""

    snapshot_property = SNAPSHOT
    replace_before_destroy = True

    type_name = "AWS::ApiGateway::Deployment"
    tags_property = None
    defaults: ClassVar[dict[str, Any]] = {"Description": ""}
    not_found_codes = NOT_FOUND

    @property
    def create_only(self) -> set[str]:
        """The schema's, plus the Snapshot: a changed draft is served only by a new deployment."""
        return super().create_only | {SNAPSHOT}

    @property
    def write_only(self) -> set[str]:
        """The schema's, plus the Snapshot: what a deployment serves cannot be read back, so the plan
        compares the draft with the Snapshot the last apply recorded."""
        return super().write_only | {SNAPSHOT}

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        return split_id(physical_id, 2)[1]

    def plan_reads(self, ctx: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The Snapshot of the API's draft as it is now (unknown while the API is)."""
        api_id = props.get("RestApiId")
        return {SNAPSHOT: api_snapshot(ctx.client("apigateway"), api_id) if _plain(api_id) else UNKNOWN}

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """The spec plus the Snapshot its plan read found (left out when there was no read)."""
        view = dict(props)
        if reads and SNAPSHOT in reads:
            view[SNAPSHOT] = reads[SNAPSHOT]
        return view

    def find_owned(self, ctx: Context, props: dict[str, Any]) -> list[str]:
        """Deployments carry no tags: after a lost answer, those of the API with this description (the
        engine leaves out any the state records)."""
        api = props.get("RestApiId")
        if not _plain(api):
            return []
        client = ctx.client("apigateway")
        pages = self.absent(lambda: list(client.get_paginator("get_deployments").paginate(restApiId=api)))
        if pages is None:
            return []
        tail = [props["StageName"]] if _plain(props.get("StageName")) else []
        return [join_id(api, d["id"], *tail) for page in pages for d in page.get("items", [])
                if (d.get("description") or "") == (props.get("Description") or "")]

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """The deployment from GetDeployments (GetDeployment on an unknown id is a server error in moto)."""
        parts = split_id(physical_id, 2)
        api_id, deployment_id = parts[0], parts[1]
        found = _find_deployment(ctx.client("apigateway"), api_id, deployment_id)
        if found is None:
            return None
        props = {"RestApiId": api_id, "Description": found.get("description") or ""}
        if len(parts) > 2:
            props["StageName"] = parts[2]
        return Live(properties=self.trim(props, wanted), attributes=_deployment_attributes(api_id, deployment_id))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """CreateDeployment (with StageName, it also creates or moves that stage, as in CloudFormation)."""
        args: dict[str, Any] = {"restApiId": props["RestApiId"]}
        if props.get("Description"):
            args["description"] = props["Description"]
        if props.get("StageName"):
            args["stageName"] = props["StageName"]
        deployment = ctx.client("apigateway").create_deployment(**args)
        parts = [props["RestApiId"], deployment["id"]] + ([props["StageName"]] if props.get("StageName") else [])
        return join_id(*parts), _deployment_attributes(props["RestApiId"], deployment["id"])

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """The engine replaces a deployment rather than updating it (every property is create-only);
        asked anyway, the description is the one thing API Gateway changes in place."""
        api_id, deployment_id = split_id(physical_id, 2)[:2]
        if "Description" in changed:
            ctx.client("apigateway").update_deployment(
                restApiId=api_id, deploymentId=deployment_id,
                patchOperations=[_op("replace", "/description", after.get("Description", ""))])
        return _deployment_attributes(api_id, deployment_id)

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        """DeleteDeployment. The stage it created itself (StageName) goes first; any other stage that
        still serves it is an error with advice (API Gateway refuses; moto would not check)."""
        parts = split_id(physical_id, 2)
        client = ctx.client("apigateway")
        serving = [s["stageName"] for s in _stages(client, parts[0]) if s.get("deploymentId") == parts[1]]
        own = parts[2] if len(parts) > 2 else None
        if own in serving:
            _gone(client.delete_stage, restApiId=parts[0], stageName=own)
            serving.remove(own)
        if serving:
            raise AwsError(ctx.logical_id, f"deployment {parts[1]} is still served by stage(s) {', '.join(serving)}; "
                           "set lifecycle.create_before_destroy: true on the Deployment so that its replacement "
                           "exists (and the stages move to it) before it is deleted", "BadRequestException")
        _gone(client.delete_deployment, restApiId=parts[0], deploymentId=parts[1])


def _deployment_attributes(api_id: str, deployment_id: str) -> dict[str, Any]:
    return {"DeploymentId": deployment_id, "RestApiId": api_id}


def _find_deployment(client: Any, api_id: str, deployment_id: str) -> dict[str, Any] | None:
    try:
        for page in client.get_paginator("get_deployments").paginate(restApiId=api_id):
            for deployment in page.get("items", []):
                if deployment.get("id") == deployment_id:
                    return deployment
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            return None
        raise
    return None


def _stages(client: Any, api_id: str) -> list[dict[str, Any]]:
    try:
        return client.get_stages(restApiId=api_id).get("item", [])
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            return []
        raise


def api_snapshot(client: Any, api_id: str) -> Any:
    """What a deployment made now would serve: a digest per method ("GET /items") of everything
    GetResources embeds for it (settings, integration, responses), and the binary media types."""
    snapshot: dict[str, Any] = {}
    try:
        for page in client.get_paginator("get_resources").paginate(restApiId=api_id, embed=["methods"]):
            for res in page.get("items", []):
                for verb, method in (res.get("resourceMethods") or {}).items():
                    snapshot[f"{verb} {res.get('path')}"] = _digest(method)
        media = client.get_rest_api(restApiId=api_id).get("binaryMediaTypes") or []
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND:
            return UNKNOWN
        raise
    if media:
        snapshot["BinaryMediaTypes"] = sorted(media)
    return snapshot


# --- Stage --------------------------------------------------------------------------------------

class Stage(Handler):
    """AWS::ApiGateway::Stage: a name serving one deployment, with variables, tracing and tags."""

    type_name = "AWS::ApiGateway::Stage"
    name_property = "StageName"
    name_max_length = 128
    defaults: ClassVar[dict[str, Any]] = {"Description": "", "Variables": {}, "TracingEnabled": False, "Tags": []}
    not_found_codes = NOT_FOUND
    already_exists_codes = CONFLICT
    tag_api = APIGW_TAGS

    def physical_id_for(self, props: dict[str, Any]) -> str | None:
        """Known before create once the API id is: a crashed create is found again by it."""
        ids = (props.get("RestApiId"), props.get("StageName"))
        return join_id(*ids) if _plain(*ids) else None

    def ref_value(self, physical_id: str, attributes: dict[str, Any]) -> Any:
        return split_id(physical_id, 2)[1]

    def desired_view(self, props: dict[str, Any], reads: dict[str, Any] | None = None) -> dict[str, Any]:
        """Stage variables are text to API Gateway; an access log group's ARN without the ":*" that
        CloudFormation's LogGroup.Arn ends with (API Gateway answers the ARN without it)."""
        view = dict(props)
        if isinstance(props.get("Variables"), dict):
            view["Variables"] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in props["Variables"].items()}
        if isinstance(props.get("AccessLogSetting"), dict):
            view["AccessLogSetting"] = _access_log(props["AccessLogSetting"])
        return view

    def read(self, ctx: Context, physical_id: str, wanted: set[str]) -> Live | None:
        """One GetStage: it carries the tags too."""
        api_id, name = split_id(physical_id, 2)
        stage = self.absent(lambda: ctx.client("apigateway").get_stage(restApiId=api_id, stageName=name))
        if stage is None:
            return None
        props = {
            "RestApiId": api_id, "StageName": name, "DeploymentId": stage.get("deploymentId"),
            "Description": stage.get("description") or "", "Variables": stage.get("variables") or {},
            "TracingEnabled": bool(stage.get("tracingEnabled", False)), "Tags": user_tags(stage.get("tags")),
            "AccessLogSetting": _access_log({"DestinationArn": (stage.get("accessLogSettings") or {}).get("destinationArn"),
                                             "Format": (stage.get("accessLogSettings") or {}).get("format")}) or None,
        }
        return Live(properties=self.trim(props, wanted), attributes=_stage_attributes(api_id, name),
                    owner=owner_of(stage.get("tags")))

    def create(self, ctx: Context, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        view = self.desired_view(props)
        args: dict[str, Any] = {"restApiId": props["RestApiId"], "stageName": props["StageName"],
                                "tags": with_ownership(ctx, props.get("Tags"))}
        if props.get("DeploymentId"):
            args["deploymentId"] = props["DeploymentId"]  # required by the API: botocore names it if absent
        if props.get("Description"):
            args["description"] = props["Description"]
        if view.get("Variables"):
            args["variables"] = view["Variables"]
        if props.get("TracingEnabled") is not None:
            args["tracingEnabled"] = canon(props["TracingEnabled"]) is True
        client = ctx.client("apigateway")
        client.create_stage(**args)
        access_log = _access_log_ops({}, view.get("AccessLogSetting") or {})
        if access_log:  # CreateStage has no access log argument
            client.update_stage(restApiId=props["RestApiId"], stageName=props["StageName"], patchOperations=access_log)
        return join_id(props["RestApiId"], props["StageName"]), _stage_attributes(props["RestApiId"], props["StageName"])

    def update(self, ctx: Context, physical_id: str, before: dict[str, Any], after: dict[str, Any],
               changed: frozenset[str]) -> dict[str, Any]:
        """Settings in one UpdateStage (patch operations), then tags."""
        api_id, name = split_id(physical_id, 2)
        ops = self._settings_ops(self.desired_view(before), self.desired_view(after), changed)
        if ops:
            ctx.client("apigateway").update_stage(restApiId=api_id, stageName=name, patchOperations=ops)
        self.sync_tags(ctx, physical_id, before, after, changed)
        return _stage_attributes(api_id, name)

    def tag_target(self, ctx: Context, physical_id: str) -> str:
        api_id, name = split_id(physical_id, 2)
        return _arn(ctx, f"/restapis/{api_id}/stages/{name}")

    def _settings_ops(self, before: dict[str, Any], after: dict[str, Any],
                      changed: frozenset[str]) -> list[dict[str, str]]:
        ops: list[dict[str, str]] = []
        for key, path in (("DeploymentId", "/deploymentId"), ("Description", "/description"),
                          ("TracingEnabled", "/tracingEnabled")):
            if key in changed:
                ops.append(_op("replace", path, after.get(key, self.defaults.get(key))))
        if "Variables" in changed:
            ops += _variable_ops(before.get("Variables") or {}, after.get("Variables") or {})
        if "AccessLogSetting" in changed:
            ops += _access_log_ops(before.get("AccessLogSetting") or {}, after.get("AccessLogSetting") or {})
        return ops

    def delete(self, ctx: Context, physical_id: str, props: dict[str, Any]) -> None:
        api_id, name = split_id(physical_id, 2)
        _gone(ctx.client("apigateway").delete_stage, restApiId=api_id, stageName=name)



def _stage_attributes(api_id: str, name: str) -> dict[str, Any]:
    return {"RestApiId": api_id, "StageName": name}


ACCESS_LOG_PATHS = {"DestinationArn": "destinationArn", "Format": "format"}


def _access_log(setting: dict[str, Any]) -> dict[str, Any]:
    """AccessLogSetting as GetStage answers it: set fields only, a log group ARN without ":*"."""
    out = {k: v for k, v in setting.items() if v not in (None, "")}
    if isinstance(out.get("DestinationArn"), str):
        out["DestinationArn"] = out["DestinationArn"].removesuffix(":*")
    return out


def _access_log_ops(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """Patch operations from one access log setting to another: none left removes the setting (access
    logging off, API Gateway's default); a field dropped from it clears the setting before the rest is set."""
    if not after:
        return [_op("remove", "/accessLogSettings")] if before else []
    ops = [_op("remove", "/accessLogSettings")] if set(before) - set(after) else []
    return ops + [_op("replace", f"/accessLogSettings/{ACCESS_LOG_PATHS[k]}", v) for k, v in sorted(after.items())
                  if k in ACCESS_LOG_PATHS and (ops or before.get(k) != v)]


def _variable_ops(before: dict[str, str], after: dict[str, str]) -> list[dict[str, str]]:
    ops = [_op("remove", f"/variables/{_escape(k)}") for k in sorted(set(before) - set(after))]
    ops += [_op("replace", f"/variables/{_escape(k)}", v) for k, v in sorted(after.items()) if before.get(k) != v]
    return ops

