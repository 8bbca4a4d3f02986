"""Test helper: a loaded deployer spec as the CloudFormation template that means the same, so
CloudFormation's own linter (cfn-lint) can judge the examples.

- resources -> Resources with Type, Properties, DependsOn;
- a string that is one `${X}` / `${X.Attr}` / `${AWS::...}` -> Ref / Fn::GetAtt; a longer one ->
  Fn::Sub (a literal `$${` is Fn::Sub's `${!`); `${ssm:...}` and `${secret:...}` -> the dynamic
  references `{{resolve:ssm:...}}` and `{{resolve:secretsmanager:...}}`;
- deletion_policy -> DeletionPolicy and UpdateReplacePolicy; the RDS extension SkipFinalSnapshot ->
  Delete (true) or Snapshot (false); lifecycle, per-resource region and stack tags have no
  CloudFormation counterpart and are dropped;
- a deployer local-path property (`localPath` in the schema: a function's code directory) -> an S3
  location, which is what it becomes before AWS sees it;
- outputs -> Outputs with Value and Description.
"""

from __future__ import annotations

from typing import Any

from deployer.schemas_loader import local_path_pointers
from deployer.spec.model import Stack
from deployer.spec.refs import Ref, parse

POLICIES = {"delete": "Delete", "retain": "Retain", "snapshot": "Snapshot"}
EXTENSIONS = {("AWS::RDS::DBInstance", "SkipFinalSnapshot")}  # deployer's own top-level properties
CODE_BUCKET = "deployer-code-bucket"


def to_template(stack: Stack) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for name, res in stack.resources.items():
        props = _local_paths(res.type, name, res.properties)
        entry: dict[str, Any] = {"Type": res.type}
        policy = POLICIES.get(res.deletion_policy)
        if "SkipFinalSnapshot" in props and (res.type, "SkipFinalSnapshot") in EXTENSIONS:
            policy = "Delete" if props["SkipFinalSnapshot"] else "Snapshot"
        props = {k: v for k, v in props.items() if (res.type, k) not in EXTENSIONS}
        if props:
            entry["Properties"] = intrinsic(props)
        if res.depends_on:
            entry["DependsOn"] = list(res.depends_on)
        if policy and policy != "Delete":
            entry["DeletionPolicy"] = entry["UpdateReplacePolicy"] = policy
        resources[name] = entry
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if stack.outputs:
        template["Outputs"] = {name: _output(value) for name, value in stack.outputs.items()}
    return template


def _output(value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and "value" in value:
        out = {"Value": intrinsic(value["value"])}
        if value.get("description"):
            out["Description"] = value["description"]
        return out
    return {"Value": intrinsic(value)}


def _local_paths(type_name: str, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """A local file or directory property as the S3 object it is uploaded to."""
    out = dict(props)
    for pointer in local_path_pointers(type_name):
        parts = pointer.split("/")[2:]
        parent = out
        for part in parts[:-1]:
            if not isinstance(parent.get(part), dict):
                break
            parent[part] = dict(parent[part])
            parent = parent[part]
        else:
            if parts[-1] in parent:
                del parent[parts[-1]]
                parent.update({"S3Bucket": CODE_BUCKET, "S3Key": f"{name}.zip"})
    return out


def intrinsic(value: Any) -> Any:
    """deployer's ${...} references as CloudFormation intrinsic functions, throughout a value."""
    if isinstance(value, dict):
        return {k: intrinsic(v) for k, v in value.items()}
    if isinstance(value, list):
        return [intrinsic(v) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    parts = parse(value)
    if len(parts) == 1 and isinstance(parts[0], Ref) and parts[0].kind in ("resource", "pseudo"):
        ref = parts[0]
        return {"Fn::GetAtt": [ref.target, ref.attr]} if ref.attr else {"Ref": ref.target}
    text, substituted = "", False
    for part in parts:
        if isinstance(part, str):
            text += part.replace("${", "${!")
        elif part.kind in ("resource", "pseudo"):
            text += str(part)
            substituted = True
        elif part.kind == "ssm":
            text += "{{resolve:ssm:" + part.target + "}}"
        else:
            key = f":SecretString:{part.key}" if part.key else ""
            text += "{{resolve:secretsmanager:" + part.target + key + "}}"
    if substituted:
        return {"Fn::Sub": text}
    return text.replace("${!", "${")
