"""Our resource schemas against CloudFormation's official provider schemas (shipped by cfn-lint):
every property name and JSON type we accept must be CloudFormation's, so snippets carry over."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from deployer.resources import registry
from deployer.schemas_loader import envelope_schema, known_types, plan_schema, resource_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from schemagen import official  # noqa: E402

EXTENSIONS = {("AWS::Lambda::Function", "Code", "Path"),  # deployer's documented additions
              ("AWS::RDS::DBInstance", "", "SkipFinalSnapshot")}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].split("/")[-1]]
    return node


def _types(node: dict) -> set[str]:
    t = node.get("type")
    return set(t) if isinstance(t, list) else {t} if t else set()


def _walk(type_name, ours_root, ours, theirs_root, theirs, path, out):
    ours, theirs = _resolve(ours_root, ours), _resolve(theirs_root, theirs)
    if ours.get("type") == "array" and "items" in ours:
        _walk(type_name, ours_root, ours["items"], theirs_root, theirs.get("items", {}), path + ["[]"], out)
        return
    for name, sub in (ours.get("properties") or {}).items():
        if (type_name, path[-1] if path else "", name) in EXTENSIONS:
            continue
        their_props = theirs.get("properties") or {}
        if name not in their_props:
            out.append(f"{type_name}: {'.'.join(path + [name])} is not a CloudFormation property")
            continue
        ot, tt = _types(_resolve(ours_root, sub)), _types(_resolve(theirs_root, their_props[name]))
        if ot and tt and not ot <= tt | ({"number"} if "integer" in tt else set()) | ({"integer"} if "number" in tt else set()):
            out.append(f"{type_name}: {'.'.join(path + [name])} has type {ot}, CloudFormation says {tt}")
        _walk(type_name, ours_root, sub, theirs_root, their_props[name], path + [name], out)


@pytest.mark.parametrize("type_name", known_types())
def test_names_and_types_match_cloudformation(type_name):
    ours = resource_schema(type_name)
    theirs = official(type_name)
    problems: list[str] = []
    _walk(type_name, ours, ours, theirs, theirs, [], problems)
    assert problems == []


@pytest.mark.parametrize("type_name", known_types())
def test_schema_carries_registry_metadata(type_name):
    s = resource_schema(type_name)
    for key in ("primaryIdentifier", "createOnlyProperties", "readOnlyProperties", "refValue"):
        assert key in s, key
    assert s["additionalProperties"] is False
    jsonschema.Draft7Validator.check_schema(s)
    for pointer in s["createOnlyProperties"] + s["readOnlyProperties"]:
        assert pointer.split("/")[2] in s["properties"]


def test_every_schema_has_a_handler_and_back():
    assert set(registry()) == set(known_types())


def test_envelope_and_plan_schemas_are_valid():
    jsonschema.Draft202012Validator.check_schema(envelope_schema())
    jsonschema.Draft202012Validator.check_schema(plan_schema())
    example = json.loads((Path(__file__).resolve().parents[2] / "tests" / "unit" / "plan_example.json").read_text())
    jsonschema.Draft202012Validator(plan_schema()).validate(example)
